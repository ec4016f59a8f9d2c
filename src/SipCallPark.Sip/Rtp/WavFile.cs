using System.Buffers.Binary;
using System.Text;

namespace SipCallPark.Sip.Rtp;

/// <summary>
/// The one WAV shape music on hold plays: RIFF/WAVE, PCM, 16-bit, mono, 8000 Hz — what PCMU carries, so nothing
/// needs resampling or mixing at run time. Anything else is refused with a message saying how to convert it.
/// </summary>
internal static class WavFile
{
    public const int SampleRate = 8000;

    /// <summary>Ten minutes of 8 kHz 16-bit mono, plus headers: a larger file is surely a mistake.</summary>
    public const long MaxFileBytes = 10L * 60 * SampleRate * 2 + 4096;

    private const ushort FormatPcm = 1;
    private const ushort FormatExtensible = 0xFFFE;
    private const string ConvertHint = "convert it with e.g. `sox in.wav -r 8000 -c 1 -b 16 -e signed-integer out.wav`";

    public static short[] ReadPcm16Mono8k(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new MusicFileException(path, "file not found");
        }

        if (info.Length > MaxFileBytes)
        {
            throw new MusicFileException(path, $"{info.Length} bytes is over the limit of {MaxFileBytes} (10 minutes of 8 kHz mono)");
        }

        return ParsePcm16Mono8k(File.ReadAllBytes(path), path);
    }

    /// <summary>Reads the samples of a WAV image; <paramref name="name"/> only names it in errors.</summary>
    public static short[] ParsePcm16Mono8k(ReadOnlySpan<byte> file, string name)
    {
        if (file.Length < 12 || !file[..4].SequenceEqual("RIFF"u8) || !file[8..12].SequenceEqual("WAVE"u8))
        {
            throw new MusicFileException(name, "not a RIFF/WAVE file");
        }

        ReadOnlySpan<byte> format = default;
        ReadOnlySpan<byte> data = default;
        bool haveFormat = false, haveData = false;

        // Chunks are id, little-endian size, body, padded to an even length (RIFF); at most one pass over the file.
        int offset = 12;
        while (offset + 8 <= file.Length && !(haveFormat && haveData))
        {
            var id = file.Slice(offset, 4);
            long size = BinaryPrimitives.ReadUInt32LittleEndian(file[(offset + 4)..]);
            int bodyStart = offset + 8;
            int bodyLength = (int)Math.Min(size, file.Length - bodyStart);
            if (id.SequenceEqual("fmt "u8))
            {
                format = file.Slice(bodyStart, bodyLength);
                haveFormat = true;
            }
            else if (id.SequenceEqual("data"u8))
            {
                // A truncated last chunk is common (writers that never patched the size): play what is there.
                data = file.Slice(bodyStart, bodyLength);
                haveData = true;
            }

            long next = bodyStart + size + (size & 1);
            if (next > file.Length)
            {
                break;
            }

            offset = (int)next;
        }

        if (!haveFormat || format.Length < 16)
        {
            throw new MusicFileException(name, "no valid 'fmt ' chunk");
        }

        CheckFormat(format, name);
        if (!haveData)
        {
            throw new MusicFileException(name, "no 'data' chunk");
        }

        int count = data.Length / 2;
        if (count == 0)
        {
            throw new MusicFileException(name, "the 'data' chunk holds no samples");
        }

        var samples = new short[count];
        for (int i = 0; i < count; i++)
        {
            samples[i] = BinaryPrimitives.ReadInt16LittleEndian(data[(2 * i)..]);
        }

        return samples;
    }

    private static void CheckFormat(ReadOnlySpan<byte> format, string name)
    {
        ushort tag = BinaryPrimitives.ReadUInt16LittleEndian(format);
        ushort channels = BinaryPrimitives.ReadUInt16LittleEndian(format[2..]);
        uint rate = BinaryPrimitives.ReadUInt32LittleEndian(format[4..]);
        ushort bits = BinaryPrimitives.ReadUInt16LittleEndian(format[14..]);

        // WAVE_FORMAT_EXTENSIBLE names the real format in the first two bytes of its sub-format GUID.
        if (tag == FormatExtensible && format.Length >= 26)
        {
            tag = BinaryPrimitives.ReadUInt16LittleEndian(format[24..]);
        }

        var problems = new List<string>();
        if (tag != FormatPcm)
        {
            problems.Add($"audio format {tag} instead of 1 (integer PCM)");
        }

        if (channels != 1)
        {
            problems.Add($"{channels} channels instead of mono");
        }

        if (rate != SampleRate)
        {
            problems.Add($"{rate} Hz instead of {SampleRate} Hz");
        }

        if (bits != 16)
        {
            problems.Add($"{bits}-bit samples instead of 16-bit");
        }

        if (problems.Count > 0)
        {
            throw new MusicFileException(name,
                $"{string.Join(", ", problems)}; music on hold needs 8000 Hz mono 16-bit PCM ({ConvertHint})");
        }
    }

    /// <summary>Writes 8 kHz mono 16-bit PCM as a canonical 44-byte-header WAV.</summary>
    public static void Write(Stream stream, ReadOnlySpan<short> samples)
    {
        int dataBytes = samples.Length * 2;
        Span<byte> header = stackalloc byte[44];
        Encoding.ASCII.GetBytes("RIFF", header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], (uint)(36 + dataBytes));
        Encoding.ASCII.GetBytes("WAVEfmt ", header[8..]);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], 16);
        BinaryPrimitives.WriteUInt16LittleEndian(header[20..], FormatPcm);
        BinaryPrimitives.WriteUInt16LittleEndian(header[22..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(header[24..], SampleRate);
        BinaryPrimitives.WriteUInt32LittleEndian(header[28..], SampleRate * 2);
        BinaryPrimitives.WriteUInt16LittleEndian(header[32..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(header[34..], 16);
        Encoding.ASCII.GetBytes("data", header[36..]);
        BinaryPrimitives.WriteUInt32LittleEndian(header[40..], (uint)dataBytes);
        stream.Write(header);

        Span<byte> buffer = stackalloc byte[2];
        foreach (var sample in samples)
        {
            BinaryPrimitives.WriteInt16LittleEndian(buffer, sample);
            stream.Write(buffer);
        }
    }
}
