using System.Security.Cryptography;
using System.Text;
using SipCallPark.Sip.Message;

namespace SipCallPark.Pool.Proxy;

/// <summary>
/// The proof that a dialog was set up through this pool (docs/design.md §11 "Trust"): the pool's Record-Route carries
/// an HMAC-SHA256 over the Call-ID and the dialog initiator's tag, keyed with a secret only this pool holds. An
/// in-dialog request is relayed only when one of our Route entries carries a token that verifies for its dialog, so a
/// stranger cannot make the pool forward anything by writing the pool's address into a Route header (RFC 3261 §16.4
/// loose routing would otherwise follow it). Requests in the reverse direction carry the tags swapped; the token
/// verifies for either one. The key lives in the data directory, so calls set up before a restart still pass after it.
/// </summary>
public sealed class RecordRouteToken
{
    /// <summary>The Record-Route URI parameter that carries the token.</summary>
    public const string Parameter = "cpt";

    private const int KeyBytes = 32;
    private const int TokenBytes = 16;

    private readonly byte[] _key;

    public RecordRouteToken(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length < 16) throw new ArgumentException("the Record-Route key needs at least 128 bits", nameof(key));
        _key = key.ToArray();
    }

    /// <summary>A pool with a fresh random key (tests, and pools that keep no state on disk).</summary>
    public static RecordRouteToken Random() => new(RandomNumberGenerator.GetBytes(KeyBytes));

    /// <summary>
    /// The key kept in <paramref name="path"/>, made (random, readable by the owner only) when the file does not exist
    /// yet. A file that holds no key of the right shape is an error naming the file, not silently replaced: replacing
    /// it would cut every call set up before.
    /// </summary>
    public static RecordRouteToken LoadOrCreate(string path)
    {
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var fresh = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(KeyBytes));
            var temporary = path + ".new";
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var stream = new FileStream(temporary, options))
            using (var writer = new StreamWriter(stream, Encoding.ASCII))
            {
                writer.Write(fresh);
            }
            try
            {
                // Two processes starting on one data directory: the first key written wins, the other reads it.
                File.Move(temporary, path, overwrite: false);
            }
            catch (IOException) when (File.Exists(path))
            {
                File.Delete(temporary);
            }
        }
        var text = File.ReadAllText(path).Trim();
        byte[] key;
        try
        {
            key = Convert.FromHexString(text);
        }
        catch (FormatException)
        {
            throw new InvalidDataException($"{path} does not hold a Record-Route key (hex); remove it to make a new one");
        }
        if (key.Length < 16) throw new InvalidDataException($"{path} holds a Record-Route key shorter than 128 bits; remove it to make a new one");
        return new RecordRouteToken(key);
    }

    /// <summary>The token for the dialog of <paramref name="callId"/> that the party tagged <paramref name="initiatorTag"/> opened.</summary>
    public string Mint(string callId, string? initiatorTag) => Convert.ToHexStringLower(Compute(callId, initiatorTag));

    /// <summary>
    /// True when <paramref name="route"/> carries a token minted for this dialog: the request's From tag (same direction
    /// as the request that set the dialog up) or its To tag (the other direction). Compared in constant time.
    /// </summary>
    public bool Verifies(SipUri route, string callId, string? fromTag, string? toTag)
    {
        if (route.GetParameter(Parameter) is not { Length: TokenBytes * 2 } text) return false;
        byte[] given;
        try
        {
            given = Convert.FromHexString(text);
        }
        catch (FormatException)
        {
            return false;
        }
        // Both compared every time, so the answer takes as long whichever direction the request goes.
        var forward = CryptographicOperations.FixedTimeEquals(given, Compute(callId, fromTag));
        var reverse = CryptographicOperations.FixedTimeEquals(given, Compute(callId, toTag));
        return forward | reverse;
    }

    private byte[] Compute(string callId, string? tag)
    {
        var message = Encoding.UTF8.GetBytes($"record-route\n{callId}\n{tag}");
        return HMACSHA256.HashData(_key, message)[..TokenBytes];
    }
}
