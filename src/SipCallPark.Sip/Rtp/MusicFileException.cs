namespace SipCallPark.Sip.Rtp;

/// <summary>A music-on-hold file that cannot be played; the message names the file and what is wrong with it.</summary>
public sealed class MusicFileException(string filePath, string problem)
    : Exception($"Music on hold file '{filePath}': {problem}")
{
    public string FilePath { get; } = filePath;

    public string Problem { get; } = problem;
}
