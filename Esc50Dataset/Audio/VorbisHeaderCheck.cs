using System.Buffers.Binary;

namespace EnvNet.Esc50Dataset.Audio;

/// <summary>
/// Checks the sizes the Vorbis comment and setup headers declare before NVorbis sees them, because NVorbis 0.10.5
/// allocates what they declare before reading it: a comment string's length (up to 2 GiB), a codebook's entry and
/// lookup-value counts (up to 2^24 each), and loops over an ordered codebook's entries reading zeros past the end
/// of the packet, which never ends. Here every declared length must fit in the packet that declares it, every
/// codebook must be read within its packet, and the codebooks together may hold at most
/// <see cref="MaxCodebookValues"/> values (the books libvorbis writes hold a few thousand). The first three packets
/// of the first logical stream are reassembled from the Ogg pages as NVorbis does; what cannot be reassembled is
/// left to NVorbis, which then fails on its own.
/// </summary>
internal static class VorbisHeaderCheck
{
    /// <summary>Entries and lookup values of all codebooks together: far above libvorbis' books, far below memory trouble.</summary>
    public const int MaxCodebookValues = 1 << 20;

    private const int PageHeaderBytes = 27;
    private const int HeaderPackets = 3;
    private const uint CodebookSync = 0x564342;
    /// <summary>The largest block Vorbis allows; a packet gives at most half of it.</summary>
    public const int MaxBlockSize = 8192;
    private const byte EndOfStreamFlag = 4;
    /// <summary>The identification header: "\x01vorbis", version, channels (byte 11), rate, three bit rates, the two
    /// block sizes as exponents in one byte (28: blocksize0 low nibble, blocksize1 high), the framing bit.</summary>
    private const int IdentificationBytes = 30, ChannelsAt = 11, BlockSizesAt = 28;

    public static void Check(byte[] ogg, string name)
    {
        var packets = FirstPackets(ogg);
        if (packets.Count > 1)
            CheckComments(packets[1], name);
        if (packets.Count > 2)
            CheckCodebooks(packets[2], name);
    }

    /// <summary>
    /// The most samples (all channels together) the file's Vorbis packets can decode to. An audio packet gives at most
    /// half its stream's long block (blocksize1 of the identification header, read as NVorbis reads it: 2^0 to 2^15,
    /// unchecked) in every channel the header declares. The packets are counted as NVorbis splits each page: a run of
    /// segments ending in a lacing value under 255, and the run a page ends with, each counted when not empty (NVorbis
    /// drops empty packets). A file without an identification header decodes to nothing.
    /// </summary>
    public static long MaxSamples(byte[] ogg)
    {
        var packets = FirstPackets(ogg);
        if (packets.Count == 0 || packets[0].Length < IdentificationBytes || !IsHeader(packets[0], 1))
            return 0;
        int channels = packets[0][ChannelsAt], longBlock = 1 << (packets[0][BlockSizesAt] >> 4);
        long audioPackets = 0;
        foreach (var lacing in SegmentTables(ogg))
        {
            int size = 0;
            foreach (var value in lacing.Span)
            {
                size += value;
                if (value < 255)
                {
                    audioPackets += size > 0 ? 1 : 0;
                    size = 0;
                }
            }
            if (size > 0)
                audioPackets++;
        }
        return audioPackets * (longBlock / 2) * channels;
    }

    /// <summary>
    /// The file with the end-of-stream flag cleared on every page (and those pages' checksums recomputed), and the
    /// granule position of its last page (the stream's length in frames), or -1. NVorbis trims its last packet to
    /// the end-of-stream page's granule position without checking it against what it decoded: a granule position
    /// below that (a damaged one) makes its read loop spin forever. Without the flag NVorbis decodes every packet
    /// whole, and <see cref="OggVorbisDecoder"/> trims to this granule position itself when it is plausible.
    /// </summary>
    public static (byte[] Bytes, long EndGranule) WithoutEndOfStream(byte[] ogg)
    {
        var bytes = ogg;
        long endGranule = -1;
        foreach (var (page, length) in Pages(ogg))
        {
            endGranule = BinaryPrimitives.ReadInt64LittleEndian(ogg.AsSpan(page + 6));
            if ((ogg[page + 5] & EndOfStreamFlag) == 0)
                continue;
            if (ReferenceEquals(bytes, ogg))
                bytes = ogg.ToArray();
            bytes[page + 5] &= unchecked((byte)~EndOfStreamFlag);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(page + 22), 0);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(page + 22), OggCrc(bytes.AsSpan(page, length)));
        }
        return (bytes, endGranule);
    }

    /// <summary>The lacing values of each page header found (its segment table, cut short by the end of the file).</summary>
    private static IEnumerable<ReadOnlyMemory<byte>> SegmentTables(byte[] ogg)
    {
        for (int page = 0; page + PageHeaderBytes <= ogg.Length; page++)
            if (ogg.AsSpan(page).StartsWith("OggS"u8))
            {
                int table = page + PageHeaderBytes;
                yield return ogg.AsMemory(table, Math.Min(ogg[table - 1], ogg.Length - table));
            }
    }

    /// <summary>Each whole page: where it starts and its length, header and body.</summary>
    private static IEnumerable<(int Page, int Length)> Pages(byte[] ogg)
    {
        for (int page = 0; page + PageHeaderBytes <= ogg.Length; page++)
        {
            if (!ogg.AsSpan(page).StartsWith("OggS"u8))
                continue;
            int segments = ogg[page + PageHeaderBytes - 1], length = PageHeaderBytes + segments;
            if (page + length > ogg.Length)
                continue;
            for (int s = 0; s < segments; s++)
                length += ogg[page + PageHeaderBytes + s];
            if (page + length <= ogg.Length)
                yield return (page, length);
        }
    }

    /// <summary>Ogg's page checksum: CRC-32 with polynomial 0x04C11DB7, not reflected, initial value 0.</summary>
    internal static uint OggCrc(ReadOnlySpan<byte> page)
    {
        uint crc = 0;
        foreach (var b in page)
        {
            crc ^= (uint)b << 24;
            for (int bit = 0; bit < 8; bit++)
                crc = (crc & 0x80000000) != 0 ? (crc << 1) ^ 0x04C11DB7 : crc << 1;
        }
        return crc;
    }

    private static List<byte[]> FirstPackets(byte[] ogg)
    {
        var packets = new List<byte[]>();
        var current = new List<byte>();
        uint? serial = null;
        for (int page = 0; page + PageHeaderBytes <= ogg.Length && packets.Count < HeaderPackets;)
        {
            if (!ogg.AsSpan(page).StartsWith("OggS"u8))
                break;
            int segments = ogg[page + PageHeaderBytes - 1], body = page + PageHeaderBytes + segments;
            if (body > ogg.Length)
                break;
            uint pageSerial = BinaryPrimitives.ReadUInt32LittleEndian(ogg.AsSpan(page + 14));
            serial ??= pageSerial;
            int at = body;
            for (int s = 0; s < segments && packets.Count < HeaderPackets; s++)
            {
                int lacing = ogg[page + PageHeaderBytes + s], take = Math.Min(lacing, ogg.Length - at);
                if (pageSerial == serial)
                {
                    current.AddRange(ogg.AsSpan(at, take));
                    if (lacing < 255 && current.Count > 0) // NVorbis drops empty packets: the next one takes their place
                    {
                        packets.Add([.. current]);
                        current.Clear();
                    }
                }
                at += take;
            }
            page = at;
        }
        if (current.Count > 0 && packets.Count < HeaderPackets)
            packets.Add([.. current]); // cut short by the end of the file: NVorbis reads what there is
        return packets;
    }

    /// <summary>Type 3 "vorbis", the vendor string, the comment count and each comment, byte aligned.</summary>
    private static void CheckComments(byte[] packet, string name)
    {
        if (!IsHeader(packet, 3))
            return;
        long at = 7;
        long Length(string what)
        {
            if (at + 4 > packet.Length)
                throw Damaged(name, $"the comment header ends inside its {what}");
            long value = BinaryPrimitives.ReadUInt32LittleEndian(packet.AsSpan((int)at));
            at += 4;
            return value;
        }
        void Skip(long bytes, string what)
        {
            if (bytes > packet.Length - at)
                throw Damaged(name, $"the comment header declares a {what} of {bytes} bytes, {packet.Length - at} remain in it");
            at += bytes;
        }
        Skip(Length("vendor length"), "vendor string");
        long count = Length("comment count");
        if (count > (packet.Length - at) / 4)
            throw Damaged(name, $"the comment header declares {count} comments, {packet.Length - at} bytes remain in it");
        for (long c = 0; c < count; c++)
            Skip(Length("comment length"), "comment");
    }

    /// <summary>Type 5 "vorbis", then the codebooks as the Vorbis I specification (section 3.2.1) lays them out.</summary>
    private static void CheckCodebooks(byte[] packet, string name)
    {
        if (!IsHeader(packet, 5))
            return;
        var bits = new BitReader(packet, 7 * 8, name);
        int books = (int)bits.Read(8) + 1;
        long values = 0;
        for (int book = 0; book < books; book++)
        {
            if (bits.Read(24) != CodebookSync)
                return; // NVorbis names a bad codebook itself; only sizes are checked here
            long dimensions = bits.Read(16), entries = bits.Read(24);
            values += entries * (1 + dimensions);
            if (values > MaxCodebookValues)
                throw Damaged(name, $"codebook {book} of the setup header brings its codebooks to {values} entries and values, more than the {MaxCodebookValues} a stream may have");
            if (bits.Read(1) == 1)
            {
                bits.Read(5);
                for (long entry = 0; entry < entries;)
                {
                    entry += bits.Read(ILog(entries - entry));
                    if (entry > entries)
                        throw Damaged(name, $"codebook {book} of the setup header assigns lengths to {entry} of its {entries} entries");
                }
            }
            else
            {
                bool sparse = bits.Read(1) == 1;
                for (long entry = 0; entry < entries; entry++)
                    if (!sparse || bits.Read(1) == 1)
                        bits.Read(5);
            }
            long lookupType = bits.Read(4);
            if (lookupType == 0)
                continue;
            if (lookupType > 2)
                return;
            bits.Read(32);
            bits.Read(32);
            int valueBits = (int)bits.Read(4) + 1;
            bits.Read(1);
            long lookupValues = lookupType == 1 ? Lookup1Values(entries, dimensions) : entries * dimensions;
            bits.Skip(lookupValues * valueBits, $"codebook {book}'s {lookupValues} lookup values");
        }
    }

    private static bool IsHeader(byte[] packet, byte type) => packet.Length >= 7 && packet[0] == type && packet.AsSpan(1, 6).SequenceEqual("vorbis"u8);

    private static int ILog(long value) => value <= 0 ? 0 : 64 - (int)ulong.LeadingZeroCount((ulong)value);

    /// <summary>The greatest r with r^dimensions at most entries (the specification's lookup1_values).</summary>
    private static long Lookup1Values(long entries, long dimensions)
    {
        if (dimensions == 0)
            return 0;
        long r = (long)Math.Floor(Math.Pow(entries, 1.0 / dimensions));
        while (Math.Pow(r + 1, dimensions) <= entries)
            r++;
        while (r > 0 && Math.Pow(r, dimensions) > entries)
            r--;
        return r;
    }

    private static DatasetException Damaged(string name, string what) => new($"{name}: damaged {OggVorbisDecoder.FormatName} stream ({what})");

    /// <summary>Vorbis packs fields from the least significant bit of each byte; reading past the packet is damage.</summary>
    private sealed class BitReader(byte[] packet, long startBit, string name)
    {
        private long _bit = startBit;

        public long Read(int count)
        {
            if (count == 0)
                return 0;
            Skip(count, $"a {count}-bit field");
            long value = 0;
            for (int i = 0; i < count; i++)
            {
                long at = _bit - count + i;
                value |= (long)((packet[at >> 3] >> (int)(at & 7)) & 1) << i;
            }
            return value;
        }

        public void Skip(long count, string what)
        {
            if (count > (long)packet.Length * 8 - _bit)
                throw Damaged(name, $"the setup header ends inside {what}");
            _bit += count;
        }
    }
}
