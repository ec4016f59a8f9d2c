using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using SipCallPark.Pool.Metrics;
using SipCallPark.Pool.Replication;
using SipCallPark.Pool.Admin.WebConsole;

namespace SipCallPark.Pool.Admin;

/// <summary>The routes of the admin API (docs/design.md §8) and the two rules every request passes first: the bearer token
/// when one is configured, and errors answered as JSON <c>{"error": "..."}</c> rather than an empty 500.</summary>
internal static class AdminEndpoints
{
    public static void Map(WebApplication app, AdminOptions options, IAdminBackend backend, SipMetrics metrics, ConsoleEvents console, TimeProvider time,
        ILogger logger)
    {
        var token = options.Token;
        var tickets = new ConsoleTickets(time);
        var streams = new SseClientGate(options.MaxStreams);
        app.Use(async (context, next) =>
        {
            try
            {
                // Replication takes the partner pool's signature instead (checked in Replicate), never the operator's token.
                // The console's page and files hold no data; an event stream may be opened with a one-time ticket
                // instead of the header, which a browser's EventSource cannot send (docs/design.md §8 "Web console").
                if (token is not null && !IsReplication(context.Request) && !ConsoleEndpoints.IsPublicFile(context.Request)
                    && !HasToken(context.Request, token) && !HasTicket(context.Request, tickets))
                {
                    context.Response.Headers.WWWAuthenticate = "Bearer";
                    await Error(StatusCodes.Status401Unauthorized, "missing or wrong bearer token (Authorization: Bearer <token>)").ExecuteAsync(context);
                    return;
                }
                await next(context);
            }
            catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted)
            {
                // The exception's text stays in the log (it may name files, keys, internals); the caller gets an id
                // to quote that finds the log line.
                var correlation = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
                logger.LogError(ex, "Admin request {Method} {Path} failed (correlation id {CorrelationId})", context.Request.Method,
                    context.Request.Path.Value, correlation);
                await Error(StatusCodes.Status500InternalServerError, $"internal error (correlation id {correlation})").ExecuteAsync(context);
            }
        });

        app.MapGet("/healthz", () => Results.Text("ok", "text/plain; charset=utf-8"));
        app.MapGet("/status", () => Json(backend.Status()));
        app.MapGet("/registrations", () => Json(backend.Registrations()));
        app.MapGet("/parked", () => Json(backend.Parked()));
        app.MapDelete("/parked/{orbit}", async (string orbit, CancellationToken ct) =>
        {
            var result = await backend.UnparkAsync(orbit, ct);
            Log(logger, "unpark", orbit, result);
            return Answer(result);
        });
        app.MapPost("/dr/failover", (HttpRequest request, CancellationToken ct) => DrCommand(request, "failover", backend.FailoverAsync, logger, ct));
        app.MapPost("/dr/failback", (HttpRequest request, CancellationToken ct) => DrCommand(request, "failback", backend.FailbackAsync, logger, ct));
        app.MapPost("/replication/{pool}/changes", (string pool, HttpRequest request, CancellationToken ct) =>
            Replicate<ReplicationBatch>(request, pool, backend, backend.ReplicateChangesAsync, logger, ct));
        app.MapPut("/replication/{pool}/snapshot", (string pool, HttpRequest request, CancellationToken ct) =>
            Replicate<ReplicationSnapshot>(request, pool, backend, backend.ReplaceReplicaAsync, logger, ct));
        app.MapGet("/trace", async (HttpContext context) =>
        {
            if (!streams.TryEnter(out var lease))
            {
                await ConsoleEndpoints.TooManyStreams(context);
                return;
            }
            using (lease) await TraceEventStream.RunAsync(context, backend, time, app.Lifetime.ApplicationStopping);
        });
        ConsoleEndpoints.Map(app, backend, console, tickets, streams, time);
        app.MapGet("/metrics", () => Results.Text(metrics.Render(), PrometheusText.ContentType));
        app.MapFallback((HttpRequest request) =>
            Error(StatusCodes.Status404NotFound, $"no such endpoint: {request.Method} {request.Path}"));
    }

    private static async Task<IResult> DrCommand(HttpRequest request, string command,
        Func<string, CancellationToken, Task<CommandResult>> run, ILogger logger, CancellationToken ct)
    {
        DrCommandDto? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<DrCommandDto>(request.Body, AdminJson.Options, ct);
        }
        catch (JsonException ex)
        {
            return Error(StatusCodes.Status400BadRequest, $"the body must be JSON like {{\"pool\":\"pool-a\"}} ({Where(ex)})");
        }
        if (string.IsNullOrWhiteSpace(body?.Pool))
            return Error(StatusCodes.Status400BadRequest, "the body must name the pool: {\"pool\":\"pool-a\"}");

        var result = await run(body.Pool, ct);
        Log(logger, command, body.Pool, result);
        return Answer(result);
    }

    /// <summary>A replication request from a partner pool (its <see cref="Replication.ReplicationSender"/>), taken only
    /// with that pool's signature over method, path and body. Only refusals are logged: batches arrive several times a
    /// second.</summary>
    private static async Task<IResult> Replicate<T>(HttpRequest request, string pool, IAdminBackend backend,
        Func<string, T, CancellationToken, Task<CommandResult>> store, ILogger logger, CancellationToken ct) where T : class
    {
        var path = request.PathBase.Add(request.Path).Value ?? "";
        var signature = request.Headers[PartnerHeader].FirstOrDefault();
        if (signature is null) return Unsigned(request, path, logger);
        // A snapshot carries every binding and park of the partner: far above the limit meant for operator commands.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = MaxReplicationBody;
        byte[] bytes;
        using (var buffer = new MemoryStream())
        {
            await request.Body.CopyToAsync(buffer, ct);
            bytes = buffer.ToArray();
        }
        switch (backend.AuthenticatePartner(pool, request.Method, path, signature, bytes))
        {
            case PartnerCredentials.Missing:
                return Unsigned(request, path, logger);
            case PartnerCredentials.Invalid:
                logger.LogWarning("Admin replication {Path} refused: the partner signature does not hold", path);
                return Error(StatusCodes.Status403Forbidden, $"the {PartnerHeader} signature is not {pool}'s (wrong secret, too old, or replayed)");
        }
        T? body;
        try
        {
            body = JsonSerializer.Deserialize<T>(bytes, AdminJson.Options);
        }
        catch (JsonException ex)
        {
            return Error(StatusCodes.Status400BadRequest, $"the body must be a replication {typeof(T).Name} in JSON ({Where(ex)})");
        }
        if (body is null) return Error(StatusCodes.Status400BadRequest, $"the body must be a replication {typeof(T).Name} in JSON");

        var result = await store(pool, body, ct);
        if (result.Outcome != CommandOutcome.Done) Log(logger, $"replication {typeof(T).Name}", pool, result);
        return Answer(result);
    }

    private static IResult Unsigned(HttpRequest request, string path, ILogger logger)
    {
        request.HttpContext.Response.Headers.WWWAuthenticate = PartnerHeader;
        logger.LogWarning("Admin replication {Path} refused: not signed by a partner pool", path);
        return Error(StatusCodes.Status401Unauthorized, $"replication needs the partner pool's signature ({PartnerHeader}); the operator token is not enough");
    }

    /// <summary>The largest replication body accepted (64 MiB: some hundred thousand bindings).</summary>
    internal const long MaxReplicationBody = 64L * 1024 * 1024;

    private static void Log(ILogger logger, string command, string target, CommandResult result) =>
        logger.LogInformation("Admin {Command} {Target}: {Outcome} ({Message})", command, target, result.Outcome, result.Message);

    private static IResult Answer(CommandResult result) => result.Outcome switch
    {
        CommandOutcome.Done => Json(result),
        CommandOutcome.NotFound => Error(StatusCodes.Status404NotFound, result.Message),
        _ => Error(StatusCodes.Status409Conflict, result.Message),
    };

    /// <summary>Where a JSON body went wrong, without the parser's message (which may quote types and internals).</summary>
    private static string Where(JsonException ex) =>
        $"invalid at line {(ex.LineNumber ?? 0) + 1}, byte {(ex.BytePositionInLine ?? 0) + 1}{(ex.Path is { Length: > 0 } path ? $", path {path}" : "")}";

    private static IResult Json<T>(T value) => Results.Json(value, AdminJson.Options);

    private static IResult Error(int status, string message) => Results.Json(new ErrorDto(message), AdminJson.Options, statusCode: status);

    /// <summary>The header carrying the partner pool's signature on replication requests.</summary>
    internal const string PartnerHeader = "X-Pool-Auth";

    private static bool IsReplication(HttpRequest request) => request.Path.StartsWithSegments("/replication", StringComparison.OrdinalIgnoreCase);

    /// <summary>A one-time ticket of <c>POST /console/tickets</c> in the query of an event stream's GET (spent here).</summary>
    private static bool HasTicket(HttpRequest request, ConsoleTickets tickets) =>
        HttpMethods.IsGet(request.Method)
        && (request.Path == "/events" || request.Path == "/trace")
        && request.Query["ticket"] is { Count: 1 } ticket
        && tickets.Redeem(ticket[0]);

    private static bool HasToken(HttpRequest request, string token)
    {
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)) return false;
        var given = Encoding.UTF8.GetBytes(header[scheme.Length..].Trim());
        return CryptographicOperations.FixedTimeEquals(given, Encoding.UTF8.GetBytes(token));
    }
}
