using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using SipCallPark.Pool.Admin;
using SipCallPark.Pool.Replication;

namespace SipCallPark.Pool.Tests.Replication;

/// <summary>
/// The backup's admin API as a <see cref="HttpMessageHandler"/>: records every request (with the fake clock's time)
/// and answers from a script — a status code, or null for a connection that fails — then 200 once the script is spent.
/// </summary>
internal sealed class FakeBackup(TimeProvider time) : HttpMessageHandler
{
    private readonly ConcurrentQueue<HttpStatusCode?> _script = new();
    private readonly ConcurrentQueue<Received> _requests = new();

    public sealed record Received(HttpMethod Method, string Path, string Body, string? Authorization, DateTimeOffset At)
    {
        public ReplicationSnapshot Snapshot => JsonSerializer.Deserialize<ReplicationSnapshot>(Body, AdminJson.Options)!;

        public ReplicationBatch Batch => JsonSerializer.Deserialize<ReplicationBatch>(Body, AdminJson.Options)!;
    }

    public IReadOnlyList<Received> Requests => _requests.ToArray();

    /// <summary>The next answers, in order; null stands for a refused connection.</summary>
    public void Answer(params HttpStatusCode?[] answers)
    {
        foreach (var answer in answers) _script.Enqueue(answer);
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
        _requests.Enqueue(new Received(request.Method, request.RequestUri!.AbsolutePath, body, request.Headers.Authorization?.ToString(), time.GetUtcNow()));
        var answer = _script.TryDequeue(out var scripted) ? scripted : HttpStatusCode.OK;
        if (answer is not { } status) throw new HttpRequestException("Connection refused (127.0.0.1:8062)");
        return new HttpResponseMessage(status) { Content = new StringContent(status == HttpStatusCode.OK ? "{}" : "{\"error\":\"scripted\"}") };
    }
}
