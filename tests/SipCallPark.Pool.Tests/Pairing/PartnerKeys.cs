using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using SipCallPark.Pool.Admin;
using SipCallPark.Pool.Pairing;
using SipCallPark.Pool.Tests.Admin;
using SipCallPark.Pool.Topology;

namespace SipCallPark.Pool.Tests.Pairing;

/// <summary>The paired pools' signing as tests use it: the lab topology on loopback and one shared test secret.</summary>
internal static class PartnerKeys
{
    public const string Secret = FakeAdminBackend.PartnerSecret;

    /// <summary>The lab pair on loopback (pool-a 5060, pool-b 5062), plus a pool-c that backs up nobody.</summary>
    public static PoolTopology Topology => FakeAdminBackend.PartnerTopology;

    public static PartnerAuthenticator For(string pool, TimeProvider? time = null, string secret = Secret, PoolTopology? topology = null) =>
        new(pool, topology ?? Topology, new PartnerOptions { Secret = secret }, time ?? TimeProvider.System, NullLogger<PartnerAuthenticator>.Instance);

    /// <summary>A replication request with <paramref name="body"/> as JSON, signed by <paramref name="signer"/> when given.</summary>
    public static HttpRequestMessage Replication(HttpMethod method, string path, object body, PartnerAuthenticator? signer, string? operatorToken = null)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(body, body.GetType(), AdminJson.Options);
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var request = new HttpRequestMessage(method, path) { Content = content };
        if (signer?.SignHttp(method.Method, path, bytes) is { } signature) request.Headers.TryAddWithoutValidation(PoolAuthHeader.Name, signature);
        if (operatorToken is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", operatorToken);
        return request;
    }
}
