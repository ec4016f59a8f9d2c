using System.Collections.Frozen;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace SipCallPark.Pool.Admin.WebConsole;

/// <summary>
/// The web console (docs/design.md §8 "Web console"): its page at <c>/</c> and files under <c>/console/</c>, served from
/// the assembly; <c>POST /console/tickets</c>, which trades the admin token for a one-time stream ticket; and
/// <c>GET /events</c>, the pool's events as SSE. The page and its files hold no data and need no token; every
/// answer that holds data does.
/// </summary>
internal static class ConsoleEndpoints
{
    private const string ResourcePrefix = "console/";

    /// <summary>Scripts and styles from this origin only, no inline script, no framing, no plugins: a SIP header value
    /// that slipped past the page's escaping still could not run.</summary>
    internal const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private static readonly FrozenDictionary<string, (string Resource, string ContentType)> Files = LoadFiles();

    public static bool IsPublicFile(HttpRequest request) =>
        (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
        && (request.Path == "/" || (request.Path.StartsWithSegments("/console", out var rest) && Files.ContainsKey(rest.Value?.TrimStart('/') ?? "")));

    public static void Map(WebApplication app, IAdminBackend backend, ConsoleEvents events, ConsoleTickets tickets, SseClientGate gate, TimeProvider time)
    {
        app.MapGet("/", (HttpContext context) => ServeAsync(context, "index.html"));
        app.MapGet("/console/{file}", (HttpContext context, string file) => ServeAsync(context, file));
        app.MapPost("/console/tickets", (HttpContext context) =>
        {
            context.Response.Headers.CacheControl = "no-store";
            return Results.Json(new ConsoleTicketDto(tickets.Issue(), (int)ConsoleTickets.Lifetime.TotalSeconds), AdminJson.Options);
        });
        app.MapGet("/events", (HttpContext context) => RunAsync(context, backend, events, gate, time, app.Lifetime.ApplicationStopping));
    }

    private static async Task ServeAsync(HttpContext context, string file)
    {
        if (!Files.TryGetValue(file, out var entry))
        {
            await Results.Json(new ErrorDto($"no such console file: {file}"), AdminJson.Options, statusCode: StatusCodes.Status404NotFound).ExecuteAsync(context);
            return;
        }
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-cache";
        context.Response.ContentType = entry.ContentType;
        await using var stream = typeof(ConsoleEndpoints).Assembly.GetManifestResourceStream(entry.Resource)
                                 ?? throw new InvalidOperationException($"console resource {entry.Resource} is missing");
        await stream.CopyToAsync(context.Response.Body, context.RequestAborted);
    }

    /// <summary>
    /// The stream: a <c>snapshot</c> event first, then <c>orbit</c>, <c>registration</c>, <c>dr</c> and <c>metrics</c>
    /// events as they happen, a comment line after a quiet <see cref="TraceEventStream.Heartbeat"/>. It subscribes
    /// before reading the snapshot, so no change falls between the two (one may show twice; the page's updates are
    /// idempotent). A client dropped for reading too slowly sees its stream end.
    /// </summary>
    private static async Task RunAsync(HttpContext context, IAdminBackend backend, ConsoleEvents events, SseClientGate gate, TimeProvider time,
        CancellationToken stopping)
    {
        if (!gate.TryEnter(out var lease))
        {
            await TooManyStreams(context);
            return;
        }
        using var _ = lease;
        using var subscription = events.Subscribe();
        var snapshot = new ConsoleSnapshotDto(backend.Status(), events.OrbitRanges, backend.Parked(), backend.Registrations(), events.Timeline(),
            events.Samples(), events.SampleInterval.TotalSeconds);
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        var ct = ending.Token;
        var response = context.Response;
        response.ContentType = TraceEventStream.ContentType;
        response.Headers.CacheControl = "no-store";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        try
        {
            await WriteAsync(response, ConsoleEvents.Frame("snapshot", snapshot), ct);
            var batch = new System.Text.StringBuilder();
            while (await WaitAsync(subscription, time, ct))
            {
                for (var i = 0; i < 64 && subscription.Frames.TryRead(out var frame); i++) batch.Append(frame);
                if (batch.Length == 0) batch.Append(": heartbeat\n\n");
                await WriteAsync(response, batch.ToString(), ct);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (IOException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
    }

    internal static Task TooManyStreams(HttpContext context)
    {
        context.Response.Headers.RetryAfter = "5";
        return Results.Json(new ErrorDto($"too many event streams open (at most {AdminOptions.Section}:MaxStreams)"), AdminJson.Options,
            statusCode: StatusCodes.Status503ServiceUnavailable).ExecuteAsync(context);
    }

    private static async Task<bool> WaitAsync(ConsoleSubscription subscription, TimeProvider time, CancellationToken ct)
    {
        using var quiet = new CancellationTokenSource(TraceEventStream.Heartbeat, time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(ct, quiet.Token);
        try
        {
            return await subscription.Frames.WaitToReadAsync(either.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return true;
        }
    }

    private static async Task WriteAsync(HttpResponse response, string text, CancellationToken ct)
    {
        await response.WriteAsync(text, System.Text.Encoding.UTF8, ct);
        await response.Body.FlushAsync(ct);
    }

    private static FrozenDictionary<string, (string, string)> LoadFiles() =>
        typeof(ConsoleEndpoints).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            .ToFrozenDictionary(n => n[ResourcePrefix.Length..], n => (n, ContentTypeOf(n)), StringComparer.Ordinal);

    private static string ContentTypeOf(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };
}
