using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using SipCallPark.Pool.Tracing;

namespace SipCallPark.Pool.Admin;

/// <summary>
/// <c>GET /trace?callId=X&amp;user=alice&amp;body=true</c>: the pool's SIP messages as server-sent events
/// (<see href="https://html.spec.whatwg.org/multipage/server-sent-events.html">HTML §9.2</see>) until the client
/// goes away or the server stops. Event <c>sip</c> carries a <see cref="TraceMessageDto"/>, event <c>dropped</c> a
/// <see cref="TraceDroppedDto"/> before the messages that follow a gap; a comment line every
/// <see cref="Heartbeat"/> keeps proxies from closing an idle stream.
/// </summary>
internal static class TraceEventStream
{
    public static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(15);

    public const string ContentType = "text/event-stream";

    public static async Task RunAsync(HttpContext context, IAdminBackend backend, TimeProvider time, CancellationToken stopping)
    {
        var query = context.Request.Query;
        if (!TryReadBool(query["body"], out var withText))
        {
            await Results.Json(new ErrorDto("body must be true or false"), AdminJson.Options, statusCode: StatusCodes.Status400BadRequest)
                .ExecuteAsync(context);
            return;
        }
        var filter = new TraceFilter(NullIfBlank(query["callId"]), NullIfBlank(query["user"]));

        using var subscription = backend.SubscribeTrace(filter, withText);
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        var ct = ending.Token;
        var response = context.Response;
        response.ContentType = ContentType;
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";   // nginx: pass each event on at once
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        var batch = new StringBuilder();
        try
        {
            // Headers and a first line at once, so the client knows it is subscribed before the first message.
            await WriteAsync(response, batch.Append(": trace").Append(Describe(filter)).Append("\n\n"), ct);
            while (await WaitAsync(subscription, time, ct))
            {
                var dropped = subscription.TakeDropped();
                if (dropped > 0) AppendEvent(batch, "dropped", new TraceDroppedDto(dropped));
                // Bounded batch: a busy pool still gets its events flushed regularly.
                for (var i = 0; i < 256 && subscription.Messages.TryRead(out var message); i++) AppendEvent(batch, "sip", message);
                if (batch.Length == 0) batch.Append(": heartbeat\n\n");
                await WriteAsync(response, batch, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client left or the server is stopping: the subscription ends with the request.
        }
        catch (IOException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The connection was reset mid-write.
        }
    }

    /// <summary>True when messages are waiting; true with none after a quiet <see cref="Heartbeat"/>; false when the
    /// subscription ended.</summary>
    private static async Task<bool> WaitAsync(TraceSubscription subscription, TimeProvider time, CancellationToken ct)
    {
        using var quiet = new CancellationTokenSource(Heartbeat, time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(ct, quiet.Token);
        try
        {
            return await subscription.Messages.WaitToReadAsync(either.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return true;
        }
    }

    private static void AppendEvent<T>(StringBuilder batch, string name, T value) =>
        batch.Append("event: ").Append(name).Append("\ndata: ").Append(JsonSerializer.Serialize(value, AdminJson.Options)).Append("\n\n");

    private static async Task WriteAsync(HttpResponse response, StringBuilder batch, CancellationToken ct)
    {
        await response.WriteAsync(batch.ToString(), Encoding.UTF8, ct);
        batch.Clear();
        await response.Body.FlushAsync(ct);
    }

    private static string Describe(TraceFilter filter) =>
        (filter.CallId, filter.User) switch
        {
            (null, null) => " of every message",
            _ => $" of{(filter.CallId is { } c ? $" call-id {c}" : "")}{(filter.User is { } u ? $" user {u}" : "")}".Replace('\n', ' ').Replace('\r', ' '),
        };

    private static string? NullIfBlank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static bool TryReadBool(string? value, out bool result)
    {
        result = false;
        if (string.IsNullOrEmpty(value)) return true;
        if (value is "1") return result = true;
        if (value is "0") return true;
        return bool.TryParse(value, out result);
    }
}
