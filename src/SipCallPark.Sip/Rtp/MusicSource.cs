namespace SipCallPark.Sip.Rtp;

/// <summary>
/// The music on hold, encoded to PCMU once at start and handed out as 20 ms frames by position, looping. Read
/// only after construction, so every stream shares one instance.
/// </summary>
internal sealed class MusicSource
{
    /// <summary>Samples (and PCMU bytes) in one 20 ms frame at 8 kHz.</summary>
    public const int FrameSize = 160;

    private readonly byte[] _pcmu;

    private MusicSource(ReadOnlySpan<short> samples, string description)
    {
        // Pad the end with silence to a whole number of frames so every frame is a slice of the same array.
        int frames = (samples.Length + FrameSize - 1) / FrameSize;
        _pcmu = new byte[frames * FrameSize];
        MuLaw.Encode(samples, _pcmu);
        _pcmu.AsSpan(samples.Length).Fill(MuLaw.Encode(0));
        Description = description;
    }

    /// <summary>How many 20 ms frames before the music starts again.</summary>
    public int FrameCount => _pcmu.Length / FrameSize;

    public TimeSpan Duration => TimeSpan.FromMilliseconds(20.0 * FrameCount);

    /// <summary>The file it came from, or that it is the built-in melody; for logs.</summary>
    public string Description { get; }

    /// <summary>Loads a WAV file: 8000 Hz, mono, 16-bit PCM, or a <see cref="MusicFileException"/> naming the problem.</summary>
    public static MusicSource FromWavFile(string path) => new(WavFile.ReadPcm16Mono8k(path), path);

    /// <summary>The built-in melody (the same one as <c>config/music/default-hold.wav</c>).</summary>
    public static MusicSource Generated() => new(HoldMelody.Render(), "built-in melody");

    /// <summary>The configured file when there is one, else the built-in melody.</summary>
    public static MusicSource FromFileOrGenerated(string? path) => path is null ? Generated() : FromWavFile(path);

    internal static MusicSource FromSamples(ReadOnlySpan<short> samples, string description)
    {
        if (samples.IsEmpty)
        {
            throw new ArgumentException("music needs at least one sample", nameof(samples));
        }

        return new MusicSource(samples, description);
    }

    /// <summary>The PCMU bytes of frame <paramref name="position"/>, counted from the start and wrapping around.</summary>
    public ReadOnlySpan<byte> Frame(long position)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        int index = (int)(position % FrameCount);
        return _pcmu.AsSpan(index * FrameSize, FrameSize);
    }
}
