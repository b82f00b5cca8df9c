using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace EnvNet.Training.Checkpoints;

/// <summary>The element types this project stores: float32 tensors and the int64 BatchNorm step counter.</summary>
public enum SafeTensorDType { F32, I64 }

/// <summary>One named tensor of a safetensors file: raw little-endian bytes plus dtype and shape.</summary>
public sealed record SafeTensor(string Name, SafeTensorDType DType, int[] Shape, byte[] Data)
{
    public static SafeTensor FromFloats(string name, int[] shape, ReadOnlySpan<float> values) =>
        new(name, SafeTensorDType.F32, shape, MemoryMarshal.AsBytes(values).ToArray());

    public static SafeTensor FromInt64(string name, long value)
    {
        var data = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(data, value);
        return new SafeTensor(name, SafeTensorDType.I64, [], data);
    }

    public float[] ToFloats() => DType == SafeTensorDType.F32
        ? MemoryMarshal.Cast<byte, float>(Data).ToArray()
        : throw new InvalidDataException($"Tensor '{Name}' is {DType}, expected F32.");

    public long ToInt64() => DType == SafeTensorDType.I64 && Data.Length == 8
        ? BinaryPrimitives.ReadInt64LittleEndian(Data)
        : throw new InvalidDataException($"Tensor '{Name}' is {DType} with shape {FormatShape(Shape)}, expected an I64 scalar.");

    public static string FormatShape(int[] shape) => "[" + string.Join(",", shape) + "]";
}

/// <summary>A safetensors file in memory: tensors in file order and the string metadata.</summary>
public sealed record SafeTensorsContent(IReadOnlyList<SafeTensor> Tensors, IReadOnlyDictionary<string, string> Metadata)
{
    public SafeTensor this[string name] => Tensors.FirstOrDefault(t => t.Name == name)
        ?? throw new KeyNotFoundException($"No tensor '{name}'.");

    public string RequireMetadata(string key, string path) => Metadata.TryGetValue(key, out var value)
        ? value
        : throw new CheckpointException($"{path}: metadata has no '{key}' entry; is this an envnet checkpoint?");
}

/// <summary>A checkpoint file that cannot be used, with a message that names the file and the problem.</summary>
public sealed class CheckpointException(string message) : Exception(message);

/// <summary>
/// Reader and writer for the safetensors format (https://github.com/huggingface/safetensors): an 8-byte
/// little-endian header length, a JSON header mapping each tensor name to dtype, shape and [begin, end) byte offsets
/// into the data section plus a string-to-string <c>__metadata__</c> map, then the raw little-endian data.
/// Every file written here carries the SHA-256 of its data section as metadata "sha256", which <see cref="Read"/>
/// checks, so a truncated or altered file is refused instead of loading silently wrong weights.
/// </summary>
public static class SafeTensors
{
    public const string ChecksumKey = "sha256";
    private const int MaxHeaderBytes = 100 << 20; // the limit the reference implementation enforces

    static SafeTensors()
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("safetensors stores little-endian data; this machine is big-endian.");
    }

    /// <summary>The hex SHA-256 of the tensors' bytes in order: what "sha256" in the metadata holds.</summary>
    public static string Checksum(IEnumerable<SafeTensor> tensors)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var t in tensors) hash.AppendData(t.Data);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Writes the file (data in the given order) with the data checksum added to the metadata.</summary>
    public static void Write(Stream stream, IReadOnlyList<SafeTensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        var names = new HashSet<string>();
        foreach (var t in tensors)
        {
            if (!names.Add(t.Name)) throw new ArgumentException($"Tensor name '{t.Name}' appears twice.");
            if (t.Name == "__metadata__") throw new ArgumentException("'__metadata__' is reserved.");
            var expected = ElementCount(t.Shape) * ElementSize(t.DType);
            if (t.Data.Length != expected)
                throw new ArgumentException($"Tensor '{t.Name}' has {t.Data.Length} bytes, its shape {SafeTensor.FormatShape(t.Shape)} needs {expected}.");
        }

        var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            json.WriteStartObject("__metadata__");
            foreach (var (key, value) in metadata.Where(m => m.Key != ChecksumKey)) json.WriteString(key, value);
            json.WriteString(ChecksumKey, Checksum(tensors));
            json.WriteEndObject();
            long offset = 0;
            foreach (var t in tensors)
            {
                json.WriteStartObject(t.Name);
                json.WriteString("dtype", t.DType.ToString());
                json.WriteStartArray("shape");
                foreach (var d in t.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + t.Data.Length);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += t.Data.Length;
            }
            json.WriteEndObject();
        }
        // Pad the header with spaces to a multiple of 8 so the data section is aligned, as the reference writer does.
        while (header.Length % 8 != 0) header.WriteByte((byte)' ');

        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        header.Position = 0;
        header.CopyTo(stream);
        foreach (var t in tensors) stream.Write(t.Data);
    }

    /// <summary>Writes <paramref name="path"/> atomically (see <see cref="AtomicFile"/>).</summary>
    public static void WriteFile(string path, IReadOnlyList<SafeTensor> tensors, IReadOnlyDictionary<string, string> metadata) =>
        AtomicFile.Write(path, stream => Write(stream, tensors, metadata));

    /// <summary>Reads and verifies a file: structure, offsets, sizes and the data checksum.</summary>
    public static SafeTensorsContent ReadFile(string path)
    {
        if (!File.Exists(path)) throw new CheckpointException($"{path}: file not found.");
        using var stream = File.OpenRead(path);
        return Read(stream, path);
    }

    public static SafeTensorsContent Read(Stream stream, string path)
    {
        Span<byte> lengthBytes = stackalloc byte[8];
        if (stream.ReadAtLeast(lengthBytes, 8, throwOnEndOfStream: false) < 8)
            throw new CheckpointException($"{path}: shorter than the 8-byte header length; not a safetensors file or truncated.");
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength == 0 || headerLength > MaxHeaderBytes)
            throw new CheckpointException($"{path}: header length {headerLength} is not plausible; not a safetensors file.");

        var headerBytes = new byte[headerLength];
        if (stream.ReadAtLeast(headerBytes, headerBytes.Length, throwOnEndOfStream: false) < headerBytes.Length)
            throw new CheckpointException($"{path}: truncated inside the JSON header.");

        var (entries, metadata) = ParseHeader(headerBytes, path);
        var dataLength = entries.Count == 0 ? 0 : entries.Max(e => e.End);
        if (stream.CanSeek)
        {
            var available = stream.Length - 8 - (long)headerLength;
            if (available < dataLength)
                throw new CheckpointException($"{path}: truncated: the header describes {dataLength} data bytes, the file holds {available}.");
            if (available > dataLength)
                throw new CheckpointException($"{path}: {available - dataLength} unexpected bytes after the tensor data.");
        }

        var tensors = new List<SafeTensor>(entries.Count);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var e in entries.OrderBy(e => e.Begin))
        {
            var data = new byte[e.End - e.Begin];
            if (stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false) < data.Length)
                throw new CheckpointException($"{path}: truncated inside tensor '{e.Name}'.");
            hash.AppendData(data);
            tensors.Add(new SafeTensor(e.Name, e.DType, e.Shape, data));
        }

        if (!metadata.TryGetValue(ChecksumKey, out var expected))
            throw new CheckpointException($"{path}: metadata has no '{ChecksumKey}' checksum; it was not written by envnet.");
        var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
        if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
            throw new CheckpointException($"{path}: checksum mismatch (metadata {expected}, data {actual}); the file is damaged or was altered.");
        return new SafeTensorsContent(tensors, metadata);
    }

    private sealed record HeaderEntry(string Name, SafeTensorDType DType, int[] Shape, long Begin, long End);

    private static (List<HeaderEntry>, Dictionary<string, string>) ParseHeader(byte[] headerBytes, string path)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(headerBytes);
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"{path}: the header is not valid JSON ({e.Message}).");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new CheckpointException($"{path}: the header is not a JSON object.");
            var metadata = new Dictionary<string, string>();
            var entries = new List<HeaderEntry>();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    foreach (var m in property.Value.EnumerateObject())
                        metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String
                            ? m.Value.GetString()!
                            : throw new CheckpointException($"{path}: metadata '{m.Name}' is not a string.");
                    continue;
                }
                entries.Add(ParseEntry(property, path));
            }

            // The data section must be covered exactly once: contiguous ranges from 0 without gaps or overlaps.
            long expectedBegin = 0;
            foreach (var e in entries.OrderBy(e => e.Begin))
            {
                if (e.Begin != expectedBegin)
                    throw new CheckpointException($"{path}: tensor '{e.Name}' starts at byte {e.Begin}, expected {expectedBegin} (gap or overlap).");
                expectedBegin = e.End;
            }
            return (entries, metadata);
        }
    }

    private static HeaderEntry ParseEntry(JsonProperty property, string path)
    {
        var name = property.Name;
        CheckpointException Bad(string what) => new($"{path}: tensor '{name}': {what}.");
        try
        {
            var value = property.Value;
            var dtypeText = value.GetProperty("dtype").GetString();
            var dtype = dtypeText switch
            {
                "F32" => SafeTensorDType.F32,
                "I64" => SafeTensorDType.I64,
                _ => throw Bad($"dtype '{dtypeText}' is not supported (F32 or I64 expected)"),
            };
            var shape = value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
            if (shape.Any(d => d < 0)) throw Bad("negative dimension in shape");
            var offsets = value.GetProperty("data_offsets").EnumerateArray().Select(o => o.GetInt64()).ToArray();
            if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0])
                throw Bad("data_offsets must be [begin, end] with 0 <= begin <= end");
            var bytes = ElementCount(shape) * ElementSize(dtype);
            if (offsets[1] - offsets[0] != bytes)
                throw Bad($"shape {SafeTensor.FormatShape(shape)} needs {bytes} bytes but data_offsets span {offsets[1] - offsets[0]}");
            return new HeaderEntry(name, dtype, shape, offsets[0], offsets[1]);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw Bad($"malformed entry ({e.Message})");
        }
    }

    private static long ElementCount(int[] shape) => shape.Aggregate(1L, (n, d) => n * d);

    private static int ElementSize(SafeTensorDType dtype) => dtype switch
    {
        SafeTensorDType.F32 => 4,
        SafeTensorDType.I64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };
}
