using System.Net;

namespace SipCallPark.Pool.Replication;

/// <summary>The backup answered a replication request with an error status; retried like a network failure.</summary>
internal sealed class ReplicationRefusedException(HttpStatusCode status, string body)
    : Exception($"the backup answered {(int)status} {status}: {body}")
{
    public HttpStatusCode Status { get; } = status;
}
