using System.Security.Cryptography;
using System.Text;

namespace SipCallPark.Pool.Auth;

/// <summary>The digest hash functions of RFC 8760: MD5 and SHA-256 (the <c>-sess</c> variants are not offered).</summary>
public static class DigestAlgorithm
{
    public const string Md5 = "MD5";
    public const string Sha256 = "SHA-256";

    public static bool IsKnown(string name) => Normalize(name) is not null;

    /// <summary>The canonical name, or null for one we do not support. A missing algorithm means MD5 (RFC 2617).</summary>
    public static string? Normalize(string? name) => name switch
    {
        null or "" => Md5,
        _ when name.Equals(Md5, StringComparison.OrdinalIgnoreCase) => Md5,
        _ when name.Equals(Sha256, StringComparison.OrdinalIgnoreCase) => Sha256,
        _ => null,
    };

    public static string Hash(string algorithm, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var digest = algorithm == Sha256 ? SHA256.HashData(bytes) : MD5.HashData(bytes);
        return Convert.ToHexStringLower(digest);
    }
}
