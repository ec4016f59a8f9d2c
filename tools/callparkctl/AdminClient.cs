using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text.Json;
using SipCallPark.Pool.Admin;

namespace SipCallPark.CallParkCtl;

/// <summary>
/// The admin API of one pool over HTTP. Every failure becomes an <see cref="AdminApiException"/> whose message says
/// which pool and why: unreachable, wrong token, or the pool's own <c>{"error"}</c>.
/// </summary>
internal sealed class AdminClient : IDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private readonly HttpClient _http;

    /// <summary>For the trace stream, which stays open: no overall timeout (the headers still get <see cref="Timeout"/>).</summary>
    private readonly HttpClient _stream;

    public AdminClient(Uri baseAddress, string? token)
    {
        BaseAddress = baseAddress;
        _http = new HttpClient { BaseAddress = baseAddress, Timeout = Timeout };
        _stream = new HttpClient { BaseAddress = baseAddress, Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        if (token is not null)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            _stream.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    public Uri BaseAddress { get; }

    /// <summary>The base address as the operator typed it, without the trailing slash.</summary>
    public string Display => BaseAddress.GetLeftPart(UriPartial.Authority);

    public Task<PoolStatusDto> StatusAsync(CancellationToken ct) => GetAsync<PoolStatusDto>("status", ct);

    public Task<RegistrationDto[]> RegistrationsAsync(CancellationToken ct) => GetAsync<RegistrationDto[]>("registrations", ct);

    public Task<ParkedCallDto[]> ParkedAsync(CancellationToken ct) => GetAsync<ParkedCallDto[]>("parked", ct);

    public Task<CommandResult> UnparkAsync(string orbit, CancellationToken ct) =>
        SendAsync<CommandResult>(new HttpRequestMessage(HttpMethod.Delete, "parked/" + Uri.EscapeDataString(orbit)), ct);

    public Task<CommandResult> FailoverAsync(string pool, CancellationToken ct) => DrAsync("dr/failover", pool, ct);

    public Task<CommandResult> FailbackAsync(string pool, CancellationToken ct) => DrAsync("dr/failback", pool, ct);

    /// <summary>
    /// <c>GET /trace</c>: the pool's SIP messages as they pass, until <paramref name="ct"/> is cancelled or the pool
    /// closes the stream. Yields each <c>sip</c> event, and each <c>dropped</c> event as a count.
    /// </summary>
    public async IAsyncEnumerable<TraceItem> TraceAsync(string? callId, string? user, bool full, [EnumeratorCancellation] CancellationToken ct)
    {
        var query = new List<string>();
        if (callId is not null) query.Add("callId=" + Uri.EscapeDataString(callId));
        if (user is not null) query.Add("user=" + Uri.EscapeDataString(user));
        if (full) query.Add("body=true");
        var path = query.Count == 0 ? "trace" : "trace?" + string.Join('&', query);

        using var response = await OpenStreamAsync(path, ct);
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        var parser = SseParser.Create(body, (type, data) => type switch
        {
            "sip" => new TraceItem(JsonSerializer.Deserialize<TraceMessageDto>(data, AdminJson.Options), 0),
            "dropped" => new TraceItem(null, JsonSerializer.Deserialize<TraceDroppedDto>(data, AdminJson.Options)?.Count ?? 0),
            _ => new TraceItem(null, 0),   // an event type from a newer pool: skipped
        });
        await foreach (var item in parser.EnumerateAsync(ct))
        {
            if (item.Data.Message is not null || item.Data.Dropped > 0) yield return item.Data;
        }
    }

    private async Task<HttpResponseMessage> OpenStreamAsync(string path, CancellationToken ct)
    {
        using var headers = CancellationTokenSource.CreateLinkedTokenSource(ct);
        headers.CancelAfter(Timeout);
        HttpResponseMessage response;
        try
        {
            response = await _stream.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, headers.Token);
        }
        catch (HttpRequestException ex)
        {
            throw new AdminApiException($"cannot reach pool admin API at {Display}: {Reason(ex)} — is the pool running?", ex);
        }
        catch (OperationCanceledException ex) when (!ct.IsCancellationRequested)
        {
            throw new AdminApiException($"cannot reach pool admin API at {Display}: no answer within {Timeout.TotalSeconds:0} s — is the pool running?", ex);
        }
        try
        {
            await EnsureSuccess(response, ct);
        }
        catch
        {
            response.Dispose();
            throw;
        }
        return response;
    }

    private Task<CommandResult> DrAsync(string path, string pool, CancellationToken ct) =>
        SendAsync<CommandResult>(new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(new DrCommandDto(pool), options: AdminJson.Options) }, ct);

    private Task<T> GetAsync<T>(string path, CancellationToken ct) => SendAsync<T>(new HttpRequestMessage(HttpMethod.Get, path), ct);

    private async Task<T> SendAsync<T>(HttpRequestMessage request, CancellationToken ct)
    {
        using var _ = request;
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, ct);
        }
        catch (HttpRequestException ex)
        {
            throw new AdminApiException($"cannot reach pool admin API at {Display}: {Reason(ex)} — is the pool running?", ex);
        }
        catch (TaskCanceledException ex) when (!ct.IsCancellationRequested)
        {
            throw new AdminApiException($"cannot reach pool admin API at {Display}: no answer within {Timeout.TotalSeconds:0} s — is the pool running?", ex);
        }

        using (response)
        {
            await EnsureSuccess(response, ct);
            try
            {
                return await response.Content.ReadFromJsonAsync<T>(AdminJson.Options, ct)
                       ?? throw new AdminApiException($"pool admin API at {Display} answered an empty body");
            }
            catch (JsonException ex)
            {
                throw new AdminApiException($"pool admin API at {Display} answered something that is not its JSON: {ex.Message}", ex);
            }
        }
    }

    private async Task EnsureSuccess(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.StatusCode == HttpStatusCode.Unauthorized)
            throw new AdminApiException($"pool admin API at {Display} refused the request (401): pass --token or set CALLPARK_TOKEN");
        if (!response.IsSuccessStatusCode)
            throw new AdminApiException($"pool admin API at {Display} answered {(int)response.StatusCode}: {await ErrorText(response, ct)}");
    }

    private static async Task<string> ErrorText(HttpResponseMessage response, CancellationToken ct)
    {
        var body = await response.Content.ReadAsStringAsync(ct);
        try
        {
            var error = JsonSerializer.Deserialize<ErrorDto>(body, AdminJson.Options)?.Error;
            if (!string.IsNullOrEmpty(error)) return error;
        }
        catch (JsonException)
        {
            // Not the API's error shape (a proxy, another server on that port): show what came back.
        }
        return string.IsNullOrWhiteSpace(body) ? response.ReasonPhrase ?? "no reason given" : body.Trim();
    }

    private static string Reason(HttpRequestException ex)
    {
        var socket = ex.InnerException as SocketException;
        return socket?.SocketErrorCode switch
        {
            SocketError.ConnectionRefused => "connection refused",
            SocketError.HostNotFound or SocketError.NoData => "host not found",
            SocketError.TimedOut => "connection timed out",
            SocketError.NetworkUnreachable or SocketError.HostUnreachable => "network unreachable",
            _ => socket?.Message ?? ex.Message,
        };
    }

    public void Dispose()
    {
        _http.Dispose();
        _stream.Dispose();
    }
}

/// <summary>One item of the trace stream: a SIP message, or the number of messages the pool dropped before the next.</summary>
internal sealed record TraceItem(TraceMessageDto? Message, long Dropped);
