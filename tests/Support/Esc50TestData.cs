using System.Buffers.Binary;
using System.Text;

namespace EnvNet.Tests;

/// <summary>Where the test data is, scratch folders, and WAV files built byte by byte (good and damaged).</summary>
internal static class Esc50TestData
{
    /// <summary>The repository root: the folder holding EnvNet.Gpu.sln.</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "EnvNet.Gpu.sln"))) return dir.FullName;
            throw new DirectoryNotFoundException($"no folder above {AppContext.BaseDirectory} holds EnvNet.Gpu.sln");
        }
    }

    /// <summary>tests/data/esc10-sample in the repository: ten real ESC-10 clips, dog and clock_tick, one of each per
    /// fold, with their rows of the real meta/esc50.csv.</summary>
    public static string SampleDir => Path.Combine(RepositoryRoot, "tests", "data", "esc10-sample");

    public const short FormatPcm = 1;
    public const short FormatFloat = 3;
    public const short FormatExtensible = unchecked((short)0xFFFE);
    public static readonly Guid SubFormatPcm = new("00000001-0000-0010-8000-00aa00389b71");
    public static readonly Guid SubFormatFloat = new("00000003-0000-0010-8000-00aa00389b71");

    /// <summary>A WAV file of <paramref name="frames"/> (frames x channels values in [-1, 1]) encoded as asked.
    /// <paramref name="declaredDataBytes"/> overrides the data chunk size in the header (to make truncated files).</summary>
    public static byte[] Wav(float[,] frames, int sampleRate, short formatTag, int bits, Guid? subFormat = null, long? declaredDataBytes = null)
    {
        int channels = frames.GetLength(1), count = frames.GetLength(0), bytesPerSample = bits / 8;
        var data = new byte[count * channels * bytesPerSample];
        bool isFloat = formatTag == FormatFloat || subFormat == SubFormatFloat;
        for (int f = 0, at = 0; f < count; f++)
            for (int c = 0; c < channels; c++, at += bytesPerSample)
                EncodeSample(data.AsSpan(at, bytesPerSample), frames[f, c], bits, isFloat);
        return Wav(data, channels, sampleRate, formatTag, bits, subFormat, declaredDataBytes);
    }

    public static byte[] Wav(byte[] data, int channels, int sampleRate, short formatTag, int bits, Guid? subFormat = null, long? declaredDataBytes = null)
    {
        using var stream = new MemoryStream();
        using var w = new BinaryWriter(stream);
        bool extensible = formatTag == FormatExtensible;
        int fmtBytes = extensible ? 40 : 16;
        w.Write("RIFF"u8); w.Write(4 + 8 + fmtBytes + 8 + data.Length); w.Write("WAVE"u8);
        w.Write("fmt "u8); w.Write(fmtBytes);
        w.Write(formatTag); w.Write((short)channels); w.Write(sampleRate);
        w.Write(sampleRate * channels * bits / 8); w.Write((short)(channels * bits / 8)); w.Write((short)bits);
        if (extensible)
        {
            w.Write((short)22); w.Write((short)bits); w.Write((1 << channels) - 1); w.Write((subFormat ?? SubFormatPcm).ToByteArray());
        }
        w.Write("data"u8); w.Write((uint)(declaredDataBytes ?? data.Length)); w.Write(data);
        return stream.ToArray();
    }

    public static float[,] MonoFrames(float[] samples)
    {
        var frames = new float[samples.Length, 1];
        for (int i = 0; i < samples.Length; i++)
            frames[i, 0] = samples[i];
        return frames;
    }

    public static float[] Sine(double hz, int sampleRate, int count, double amplitude)
    {
        var x = new float[count];
        for (int i = 0; i < count; i++)
            x[i] = (float)(amplitude * Math.Sin(2 * Math.PI * hz * i / sampleRate));
        return x;
    }

    private static void EncodeSample(Span<byte> to, float value, int bits, bool isFloat)
    {
        if (isFloat && bits == 32) BinaryPrimitives.WriteSingleLittleEndian(to, value);
        else if (isFloat) BinaryPrimitives.WriteDoubleLittleEndian(to, value);
        else if (bits == 8) to[0] = (byte)Math.Clamp(Math.Round(value * 128 + 128), 0, 255);
        else
        {
            long full = (long)Math.Clamp(Math.Round(value * (1L << (bits - 1))), -(1L << (bits - 1)), (1L << (bits - 1)) - 1);
            for (int b = 0; b < bits / 8; b++)
                to[b] = (byte)(full >> (8 * b));
        }
    }
}

/// <summary>A fresh folder under the temp directory, deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "envnet-tests", Guid.NewGuid().ToString("N"));

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        if (Directory.Exists(Path))
            Directory.Delete(Path, recursive: true);
    }
}

/// <summary>A small ESC-50 style folder written by a test: rows and WAV bytes of its choosing.</summary>
internal static class Esc50Folder
{
    public const string Header = "filename,fold,target,category,esc10,src_file,take";

    public static void Write(string dir, IEnumerable<string> csvRows, IEnumerable<(string Name, byte[] Bytes)> files, string header = Header)
    {
        Directory.CreateDirectory(System.IO.Path.Combine(dir, "meta"));
        Directory.CreateDirectory(System.IO.Path.Combine(dir, "audio"));
        File.WriteAllText(System.IO.Path.Combine(dir, "meta", "esc50.csv"), string.Join("\n", csvRows.Prepend(header)) + "\n", Encoding.UTF8);
        foreach (var (name, bytes) in files)
            File.WriteAllBytes(System.IO.Path.Combine(dir, "audio", name), bytes);
    }

    /// <summary>An ESC-50 folder as far as option checks look: meta/esc50.csv with its header and no rows.</summary>
    public static string WriteMetadataOnly(string dir)
    {
        Write(dir, [], []);
        return dir;
    }

    /// <summary>The CSV row of a clip named as ESC-50 does: {fold}-{src}-A-{target}.wav.</summary>
    public static string Row(string name, int fold, int target, string category) => $"{name},{fold},{target},{category},False,{name.Split('-')[1]},A";
}
