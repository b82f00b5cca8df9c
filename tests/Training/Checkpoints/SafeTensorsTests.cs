using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using EnvNet.Training.Checkpoints;

namespace EnvNet.Tests;

[TestClass]
public sealed class SafeTensorsTests
{
    private static readonly SafeTensor[] Tensors =
    [
        SafeTensor.FromFloats("layer.weight", [2, 3], [1f, -2f, 3.5f, float.Epsilon, -0f, 1e30f]),
        SafeTensor.FromInt64("layer.num_batches_tracked", 42),
        SafeTensor.FromFloats("layer.bias", [2], [0.25f, -0.5f]),
    ];

    private static byte[] Bytes(IReadOnlyList<SafeTensor> tensors, Dictionary<string, string>? metadata = null)
    {
        using var stream = new MemoryStream();
        SafeTensors.Write(stream, tensors, metadata ?? new() { ["model"] = "test" });
        return stream.ToArray();
    }

    private static SafeTensorsContent Read(byte[] bytes) => SafeTensors.Read(new MemoryStream(bytes), "test.safetensors");

    [TestMethod]
    public void WriteThenReadGivesBackTensorsMetadataAndChecksum()
    {
        var content = Read(Bytes(Tensors));

        CollectionAssert.AreEqual(Tensors.Select(t => t.Name).ToArray(), content.Tensors.Select(t => t.Name).ToArray());
        CollectionAssert.AreEqual(new[] { 1f, -2f, 3.5f, float.Epsilon, -0f, 1e30f }, content["layer.weight"].ToFloats());
        CollectionAssert.AreEqual(new[] { 2, 3 }, content["layer.weight"].Shape);
        Assert.AreEqual(42L, content["layer.num_batches_tracked"].ToInt64());
        Assert.AreEqual(0, content["layer.num_batches_tracked"].Shape.Length);
        Assert.AreEqual("test", content.Metadata["model"]);
        Assert.AreEqual(SafeTensors.Checksum(Tensors), content.Metadata[SafeTensors.ChecksumKey]);
    }

    /// <summary>Pins the byte layout to the safetensors specification, independently of the reader: a u64
    /// little-endian header size, the JSON header padded with spaces to 8 bytes, then the raw little-endian data.</summary>
    [TestMethod]
    public void WriteProducesTheSpecifiedByteLayout()
    {
        var tensor = SafeTensor.FromFloats("w", [2], [1f, 2f]);
        var bytes = Bytes([tensor], new() { ["k"] = "v" });

        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.AreEqual(0, headerLength % 8, "data section aligned to 8 bytes");
        var header = Encoding.UTF8.GetString(bytes, 8, headerLength);
        var sha = SafeTensors.Checksum([tensor]);
        Assert.AreEqual(
            $"{{\"__metadata__\":{{\"k\":\"v\",\"sha256\":\"{sha}\"}},\"w\":{{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}}}",
            header.TrimEnd(' '));
        CollectionAssert.AreEqual(new byte[] { 0, 0, 0x80, 0x3F, 0, 0, 0, 0x40 }, bytes[(8 + headerLength)..]);
        Assert.AreEqual(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes[(8 + headerLength)..])), sha,
            "the checksum is the SHA-256 of the data section, so hashlib can verify it");
    }

    [TestMethod]
    public void ReadTruncatedAnywhereIsRefusedAsTruncated()
    {
        var bytes = Bytes(Tensors);
        var headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        foreach (var length in new[] { 0, 5, 8, 20, headerEnd, headerEnd + 3, bytes.Length - 1 })
        {
            var error = Assert.ThrowsExactly<CheckpointException>(() => Read(bytes[..length]), $"cut at {length}");
            StringAssert.Contains(error.Message, "test.safetensors");
            Assert.IsTrue(error.Message.Contains("truncated") || error.Message.Contains("shorter"), $"cut at {length}: {error.Message}");
        }
    }

    [TestMethod]
    public void ReadAnyFlippedDataByteIsRefusedByTheChecksum()
    {
        var bytes = Bytes(Tensors);
        var headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        for (var at = headerEnd; at < bytes.Length; at += 7)
        {
            var altered = (byte[])bytes.Clone();
            altered[at] ^= 0x10;
            StringAssert.Contains(Assert.ThrowsExactly<CheckpointException>(() => Read(altered)).Message, "checksum mismatch");
        }
    }

    [TestMethod]
    public void ReadAlteredHeaderIsRefused()
    {
        var bytes = Bytes(Tensors);
        var header = Encoding.UTF8.GetString(bytes, 8, (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes));

        byte[] WithHeader(string text)
        {
            var padded = text.PadRight(header.Length);
            Assert.AreEqual(header.Length, padded.Length, "the test keeps the header length");
            return [.. bytes[..8], .. Encoding.UTF8.GetBytes(padded), .. bytes[(8 + header.Length)..]];
        }

        StringAssert.Contains(Assert.ThrowsExactly<CheckpointException>(() => Read(WithHeader(header.Replace("\"shape\":[2,3]", "\"shape\":[3,3]")))).Message,
            "needs 36 bytes but data_offsets span 24");
        StringAssert.Contains(Assert.ThrowsExactly<CheckpointException>(() => Read(WithHeader(header.Replace("F32", "F16")))).Message,
            "dtype 'F16' is not supported");
        StringAssert.Contains(Assert.ThrowsExactly<CheckpointException>(() => Read(WithHeader(header.Replace("{\"__metadata__\"", "[\"__metadata__\"")))).Message,
            "not valid JSON");
        StringAssert.Contains(Assert.ThrowsExactly<CheckpointException>(() => Read(WithHeader(header.Replace("\"sha256\"", "\"sha999\"")))).Message,
            "no 'sha256' checksum");
    }

    [TestMethod]
    public void ReadOverlappingOffsetsAreRefused()
    {
        // Two 8-byte tensors that both claim bytes [0, 8): the data section would have a gap at [8, 16).
        var header = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["__metadata__"] = new Dictionary<string, string> { ["sha256"] = "00" },
            ["a"] = new { dtype = "F32", shape = new[] { 2 }, data_offsets = new[] { 0, 8 } },
            ["b"] = new { dtype = "F32", shape = new[] { 2 }, data_offsets = new[] { 0, 8 } },
        });
        var headerBytes = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + headerBytes.Length + 16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)headerBytes.Length);
        headerBytes.CopyTo(bytes, 8);

        StringAssert.Contains(Assert.ThrowsExactly<CheckpointException>(() => Read(bytes)).Message, "gap or overlap");
    }

    [TestMethod]
    public void WriteFileReplacesAtomicallyAndLeavesNoTemporaryFile()
    {
        using var dir = new TempDir();
        var path = dir.Sub("weights.safetensors");
        SafeTensors.WriteFile(path, Tensors, new Dictionary<string, string>());
        SafeTensors.WriteFile(path, [Tensors[1]], new Dictionary<string, string>());

        Assert.AreEqual(1, SafeTensors.ReadFile(path).Tensors.Count);
        Assert.IsFalse(File.Exists(AtomicFile.TemporaryPath(path)));
        StringAssert.Contains(Assert.ThrowsExactly<CheckpointException>(() => SafeTensors.ReadFile(dir.Sub("missing.safetensors"))).Message, "not found");
    }
}
