using System.Security.Cryptography;

namespace SipCallPark.Sip.Transactions;

/// <summary>Makes the random identifiers of RFC 3261: Via branches (§8.1.1.7), tags (§19.3) and Call-IDs (§8.1.1.4).</summary>
public interface ISipIdGenerator
{
    /// <summary>A branch with the magic cookie, unique in space and time.</summary>
    string NewBranch();

    /// <summary>A From/To tag with at least 32 bits of randomness.</summary>
    string NewTag();

    /// <summary>A Call-ID, <c>random@host</c>.</summary>
    string NewCallId(string host);
}

/// <summary>
/// <see cref="ISipIdGenerator"/> over an injected random source: the cryptographic generator by default, a seeded
/// <see cref="Random"/> in tests (<c>new SipIdGenerator(new Random(1).NextBytes)</c>).
/// </summary>
public sealed class SipIdGenerator : ISipIdGenerator
{
    private readonly Action<Span<byte>> _fill;

    public SipIdGenerator() : this(RandomNumberGenerator.Fill)
    {
    }

    public SipIdGenerator(Action<Span<byte>> fill) => _fill = fill ?? throw new ArgumentNullException(nameof(fill));

    public string NewBranch() => Message.ViaHeader.MagicCookie + Random(10);

    public string NewTag() => Random(6);

    public string NewCallId(string host) => $"{Random(12)}@{host}";

    private string Random(int bytes)
    {
        Span<byte> buffer = stackalloc byte[bytes];
        _fill(buffer);
        return Convert.ToHexStringLower(buffer);
    }
}
