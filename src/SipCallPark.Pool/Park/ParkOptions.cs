namespace SipCallPark.Pool.Park;

/// <summary>
/// The park application's settings, with Lync's names, defaults and ranges (Set-CsCpsConfiguration). Invalid
/// values refuse to start, naming the key.
/// </summary>
public sealed partial class ParkOptions
{
    /// <summary>User part of the park service URI: <c>sip:park@domain</c>.</summary>
    public string ServiceName { get; init; } = "park";

    /// <summary>Other user parts that reach the park service, e.g. <c>*70</c>.</summary>
    public List<string> Aliases { get; init; } = ["*70"];

    /// <summary>How long a call stays parked before the parker is rung back (10 s – 10 min).</summary>
    public TimeSpan CallPickupTimeout { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>How many ringbacks before the fallback (1–10).</summary>
    public int MaxCallPickupAttempts { get; init; } = 1;

    /// <summary>Where an unanswered call goes at the end; null = disconnect.</summary>
    public string? OnTimeoutUri { get; init; }

    public bool EnableMusicOnHold { get; init; } = true;

    /// <summary>How long a ringback rings before it counts as unanswered.</summary>
    public TimeSpan RingbackTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public OrbitAssignment OrbitAssignment { get; init; } = OrbitAssignment.Random;

    /// <summary>WAV file (8 kHz mono 16-bit PCM) for music on hold; null plays a generated tone.</summary>
    public string? MusicFile { get; init; }

    /// <summary>
    /// Directory of the prompts the attended park speaks its orbit with (lead-in.wav, 0.wav-9.wav, 8 kHz mono 16-bit);
    /// null looks in <c>config/music/prompts</c> and plays music only when they are not there. A directory named here
    /// must hold all of them.
    /// </summary>
    public string? PromptDirectory { get; init; }

    /// <summary>RTP ports for music on hold, <c>first-last</c>.</summary>
    public string MediaPorts { get; init; } = "40000-40999";

    /// <summary>How often each parked party gets an in-dialog OPTIONS; one that stops answering is dropped.</summary>
    public TimeSpan KeepaliveInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a step that another party must complete may take before the park app gives up on it: the parked
    /// party answering the park INVITE, the final NOTIFY of a transfer out, the retriever's ACK or BYE.
    /// </summary>
    public TimeSpan CompletionTimeout { get; init; } = TimeSpan.FromSeconds(32);

    /// <summary>The orbit lamps: SUBSCRIBE to an orbit with <c>Event: dialog</c> (docs/design.md §5 "Orbit lamps").</summary>
    public BlfOptions Blf { get; init; } = new();

    public void Validate(string prefix = "Park")
    {
        if (KeepaliveInterval < TimeSpan.FromSeconds(1) || KeepaliveInterval > TimeSpan.FromMinutes(10))
            throw new OptionsValidationError($"{prefix}:KeepaliveInterval", $"must be between 1 s and 10 min (was {KeepaliveInterval})");
        if (CompletionTimeout < TimeSpan.FromSeconds(1) || CompletionTimeout > TimeSpan.FromMinutes(5))
            throw new OptionsValidationError($"{prefix}:CompletionTimeout", $"must be between 1 s and 5 min (was {CompletionTimeout})");
        if (Aliases.Any(a => string.IsNullOrWhiteSpace(a)))
            throw new OptionsValidationError($"{prefix}:Aliases", "must not contain an empty name");
        ValidateFeatureCodes(prefix);
        if (string.IsNullOrWhiteSpace(ServiceName) || !ServiceName.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '*' or '#'))
            throw new OptionsValidationError($"{prefix}:ServiceName", $"must be a user name (was '{ServiceName}')");
        if (CallPickupTimeout < TimeSpan.FromSeconds(10) || CallPickupTimeout > TimeSpan.FromMinutes(10))
            throw new OptionsValidationError($"{prefix}:CallPickupTimeout", $"must be between 10 s and 10 min (was {CallPickupTimeout})");
        if (MaxCallPickupAttempts is < 1 or > 10)
            throw new OptionsValidationError($"{prefix}:MaxCallPickupAttempts", $"must be between 1 and 10 (was {MaxCallPickupAttempts})");
        if (RingbackTimeout < TimeSpan.FromSeconds(1) || RingbackTimeout > TimeSpan.FromMinutes(5))
            throw new OptionsValidationError($"{prefix}:RingbackTimeout", $"must be between 1 s and 5 min (was {RingbackTimeout})");
        if (OnTimeoutUri is { } uri && !Sip.Message.SipUri.TryParse(uri, out _))
            throw new OptionsValidationError($"{prefix}:OnTimeoutUri", $"is not a SIP URI (was '{uri}')");
        if (!TryParsePorts(MediaPorts, out _, out _))
            throw new OptionsValidationError($"{prefix}:MediaPorts", $"must be first-last within 1024–65535, first even (was '{MediaPorts}')");
        if (MusicFile is { } file && !File.Exists(file))
            throw new OptionsValidationError($"{prefix}:MusicFile", $"file not found: {file}");
        (Blf ?? throw new OptionsValidationError($"{prefix}:Blf", "must be a section")).Validate($"{prefix}:Blf");
        if (PromptDirectory is { } prompts)
        {
            if (string.IsNullOrWhiteSpace(prompts) || !Directory.Exists(prompts))
                throw new OptionsValidationError($"{prefix}:PromptDirectory", $"directory not found: '{prompts}'");
            if (OrbitPrompts.FileNames.FirstOrDefault(name => !File.Exists(Path.Combine(prompts, name))) is { } missing)
                throw new OptionsValidationError($"{prefix}:PromptDirectory", $"{missing} is missing in {prompts} (config/music/prompts/make-prompts.sh makes them)");
        }
    }

    public static bool TryParsePorts(string text, out int first, out int last)
    {
        first = last = 0;
        var parts = text.Split('-');
        return parts.Length == 2 && int.TryParse(parts[0], out first) && int.TryParse(parts[1], out last)
               && first is >= 1024 and <= 65535 && last >= first + 1 && last <= 65535 && first % 2 == 0;
    }
}
