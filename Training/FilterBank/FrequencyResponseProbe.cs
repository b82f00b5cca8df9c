using EnvNet.Network;

namespace EnvNet.Training.FilterBank;

/// <summary>
/// Measures the learned filter bank: feeds every tone of a <see cref="ToneSweep"/> through the model's feature_conv
/// (conv1, conv2, pool2) in eval mode, <see cref="NetworkModel.MaxBatch"/> tones per pass, and averages each
/// filter's (filters × frames) output over the frames. The weights and <see cref="NetworkModel.Step"/> are untouched.
/// <para>Cost: one feature_conv forward pass per tone. For envnet, 200 × 315 M multiply-adds = 63 G, against 3.5 T for
/// an ESC-50 epoch (1600 training clips at ~3 forward passes of 393 M each, 400 validation clips × 10 crops): 1.8 %.
/// envnet-v2: 123 G against 14.2 T, 0.9 %. On the embedded default's small synthetic set (160 training clips, 40
/// validation clips) the same 200 tones weigh more, about a fifth of an envnet-tiny epoch.</para>
/// </summary>
public static class FrequencyResponseProbe
{
    /// <summary>The default sweep for a model: 200 log-spaced tones from 10 Hz to its Nyquist frequency, each a full
    /// input window at its sample rate, amplitude <see cref="ToneSweep.DefaultAmplitude"/>.</summary>
    public static ToneSweep DefaultSweep(ModelConfig config) => ToneSweep.LogSpaced(config.SampleRate, config.InputLength);

    /// <param name="frontEnd">Which of the model's <see cref="NetworkModel.FrontEnds"/> to measure.</param>
    public static FilterBankResponse Measure(NetworkModel model, ToneSweep sweep, int frontEnd = 0)
    {
        var config = model.Config;
        if (sweep.SampleRate != config.SampleRate || sweep.InputLength != config.InputLength)
            throw new ArgumentException(
                $"The sweep has {sweep.InputLength} samples at {sweep.SampleRate} Hz; {config.Name} takes {config.InputLength} at {config.SampleRate} Hz.",
                nameof(sweep));

        var built = model.FrontEnds[frontEnd];
        int filters = built.Filters, frames = built.Frames, batch = model.MaxBatch;
        var inputs = new float[batch * config.InputLength];
        var features = new float[batch * filters * frames];
        var response = new float[filters * sweep.Count];
        for (var first = 0; first < sweep.Count; first += batch)
        {
            var tones = Math.Min(batch, sweep.Count - first);
            sweep.Write(first, tones, inputs);
            model.FrontEndResponse(frontEnd, inputs.AsSpan(0, tones * config.InputLength), tones, features.AsSpan(0, tones * filters * frames));
            for (var t = 0; t < tones; t++)
                for (var i = 0; i < filters; i++)
                {
                    double sum = 0;
                    foreach (var v in features.AsSpan((t * filters + i) * frames, frames)) sum += v;
                    response[i * sweep.Count + first + t] = (float)(sum / frames);
                }
        }
        return new FilterBankResponse(sweep.FrequenciesHz, filters, response);
    }
}
