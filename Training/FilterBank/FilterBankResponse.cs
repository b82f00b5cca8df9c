namespace EnvNet.Training.FilterBank;

/// <summary>
/// The frequency response of the learned filter bank: for every filter of feature_conv and every probe frequency,
/// the filter's output for that tone averaged over time. Also each filter's centre frequency and its rank.
/// <para>
/// Centre frequency of filter i, with r_ik its response to tone k and f_k the tone's frequency:
/// <c>c_ik = max(0, r_ik - mean_k r_ik)</c>, <c>centre_i = exp( Σ_k c_ik ln f_k / Σ_k c_ik )</c>.
/// Subtracting the filter's mean keeps a constant floor (a DC offset from the bias, a broadband leak) from pulling
/// every centre to the middle of the sweep. Responses below the mean are clipped to zero rather than counted as
/// negative weights: a stop band says where the filter does not listen, which is no evidence for its pass band, and
/// negative weights could push the weighted mean outside the sweep. Because the tones are log-spaced, the sum
/// weights each octave equally. A filter whose response is constant across the sweep (a dead ReLU gives all
/// zeros) has no positive centred mass; it is marked flat and put at the sweep's geometric centre
/// <c>exp(mean_k ln f_k)</c> so ranks and statistics stay defined.
/// </para>
/// Ranks order filters by centre frequency, lowest first; ties keep the original filter order.
/// </summary>
public sealed class FilterBankResponse
{
    private readonly double[] _frequenciesHz;
    private readonly float[] _response;
    private readonly double[] _centreHz;
    private readonly bool[] _isFlat;
    private readonly int[] _filterAtRank;
    private readonly int[] _rankOf;

    /// <param name="frequenciesHz">The probe frequencies, ascending.</param>
    /// <param name="filters">Number of filters.</param>
    /// <param name="response">filters × frequencies, filter-major: response[i * frequencies + k].</param>
    public FilterBankResponse(IReadOnlyList<double> frequenciesHz, int filters, float[] response)
    {
        if (filters <= 0) throw new ArgumentOutOfRangeException(nameof(filters), filters, "A filter bank needs at least one filter.");
        if (frequenciesHz.Count < 2) throw new ArgumentException("A frequency response needs at least 2 frequencies.", nameof(frequenciesHz));
        for (var k = 0; k < frequenciesHz.Count; k++)
            if (!(frequenciesHz[k] > 0) || (k > 0 && !(frequenciesHz[k] > frequenciesHz[k - 1])))
                throw new ArgumentException($"Probe frequencies must be positive and strictly ascending; frequency {k} is {frequenciesHz[k]} Hz.", nameof(frequenciesHz));
        if (response.Length != filters * frequenciesHz.Count)
            throw new ArgumentException($"A response of {filters} filters × {frequenciesHz.Count} frequencies needs {filters * frequenciesHz.Count} values, got {response.Length}.", nameof(response));

        _frequenciesHz = frequenciesHz.ToArray();
        _response = response;
        Filters = filters;
        _centreHz = new double[filters];
        _isFlat = new bool[filters];
        for (var i = 0; i < filters; i++)
        {
            _centreHz[i] = CentreFrequency(Row(i), _frequenciesHz, out var flat);
            _isFlat[i] = flat;
        }
        _filterAtRank = Enumerable.Range(0, filters).OrderBy(i => _centreHz[i]).ToArray(); // OrderBy is stable
        _rankOf = new int[filters];
        for (var rank = 0; rank < filters; rank++) _rankOf[_filterAtRank[rank]] = rank;
    }

    public int Filters { get; }
    public int Frequencies => _frequenciesHz.Length;
    public IReadOnlyList<double> FrequenciesHz => _frequenciesHz;

    /// <summary>Time-averaged output of <paramref name="filter"/> (original index) for tone <paramref name="frequency"/>.</summary>
    public float this[int filter, int frequency] => _response[filter * Frequencies + frequency];

    /// <summary>The responses of one filter (original index) across the sweep.</summary>
    public ReadOnlySpan<float> Row(int filter) => _response.AsSpan(filter * Frequencies, Frequencies);

    /// <summary>Centre frequency by original filter index.</summary>
    public IReadOnlyList<double> CentreHz => _centreHz;

    /// <summary>Whether the filter's response is constant across the sweep (see the class remarks).</summary>
    public IReadOnlyList<bool> IsFlat => _isFlat;

    /// <summary>Original filter index at each rank, lowest centre frequency first.</summary>
    public IReadOnlyList<int> FilterAtRank => _filterAtRank;

    /// <summary>Rank of each filter by original index.</summary>
    public IReadOnlyList<int> RankOf => _rankOf;

    /// <summary>Centre frequencies in rank order (ascending).</summary>
    public double[] RankedCentresHz() => _filterAtRank.Select(i => _centreHz[i]).ToArray();

    /// <summary>The centre frequency of one filter's response (formula in the class remarks).</summary>
    public static double CentreFrequency(ReadOnlySpan<float> response, IReadOnlyList<double> frequenciesHz, out bool flat)
    {
        if (response.Length != frequenciesHz.Count)
            throw new ArgumentException($"{response.Length} responses for {frequenciesHz.Count} frequencies.", nameof(response));
        double mean = 0;
        foreach (var r in response) mean += r;
        mean /= response.Length;

        double mass = 0, weightedLog = 0, meanLog = 0;
        for (var k = 0; k < response.Length; k++)
        {
            var logF = Math.Log(frequenciesHz[k]);
            meanLog += logF;
            var centred = response[k] - mean;
            if (centred <= 0) continue;
            mass += centred;
            weightedLog += centred * logF;
        }
        flat = !(mass > 0);
        return Math.Exp(flat ? meanLog / response.Length : weightedLog / mass);
    }
}
