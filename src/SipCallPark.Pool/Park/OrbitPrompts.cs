using Microsoft.Extensions.Logging;
using SipCallPark.Sip.Rtp;

namespace SipCallPark.Pool.Park;

/// <summary>
/// The recorded words the attended park speaks its orbit with (docs/design.md §5 "Attended park"): a lead-in
/// ("orbit") and one prompt per digit, each a WAV of the music's shape (8 kHz mono 16-bit), encoded to PCMU once at
/// start and shared by every call. <see cref="For"/> hands out the sequence for one orbit; the streamer plays it
/// before the hold music.
/// </summary>
internal sealed class OrbitPrompts
{
    public const string LeadInFile = "lead-in.wav";

    /// <summary>Where the prompts are looked for when <c>Park:PromptDirectory</c> is not set (made by make-prompts.sh).</summary>
    public const string DefaultDirectory = "config/music/prompts";

    private readonly MusicSource _leadIn;
    private readonly MusicSource[] _digits;

    internal OrbitPrompts(MusicSource leadIn, MusicSource[] digits)
    {
        ArgumentNullException.ThrowIfNull(leadIn);
        if (digits is not { Length: 10 }) throw new ArgumentException("one prompt per digit 0-9", nameof(digits));
        _leadIn = leadIn;
        _digits = digits;
    }

    /// <summary>The files a prompt directory must hold: the lead-in, then 0.wav to 9.wav.</summary>
    public static IEnumerable<string> FileNames => [LeadInFile, .. Enumerable.Range(0, 10).Select(d => $"{d}.wav")];

    /// <summary>
    /// Loads the prompts of <paramref name="directory"/>; when one is missing or unreadable, says so once (the park then
    /// plays music only: the 200's <c>X-Park-Orbit</c> and the MESSAGE still name the orbit) and returns null.
    /// </summary>
    public static OrbitPrompts? Load(string directory, ILogger logger)
    {
        try
        {
            var leadIn = MusicSource.FromWavFile(Path.Combine(directory, LeadInFile));
            var digits = new MusicSource[10];
            for (int d = 0; d < 10; d++) digits[d] = MusicSource.FromWavFile(Path.Combine(directory, $"{d}.wav"));
            logger.LogInformation("The attended park speaks its orbits with the prompts of {Directory}", directory);
            return new OrbitPrompts(leadIn, digits);
        }
        catch (Exception e) when (e is MusicFileException or IOException or UnauthorizedAccessException)
        {
            // An unreadable prompt costs the spoken orbit, never the pool's start.
            logger.LogWarning("The attended park will not speak its orbits (music only): {Reason}", e.Message);
            return null;
        }
    }

    /// <summary>The lead-in, then the prompt of each digit of <paramref name="orbit"/> in order (anything else is skipped).</summary>
    public MusicSource[] For(string orbit)
    {
        int count = 1;
        foreach (var c in orbit) if (char.IsAsciiDigit(c)) count++;
        var sequence = new MusicSource[count];
        sequence[0] = _leadIn;
        int i = 1;
        foreach (var c in orbit) if (char.IsAsciiDigit(c)) sequence[i++] = _digits[c - '0'];
        return sequence;
    }
}
