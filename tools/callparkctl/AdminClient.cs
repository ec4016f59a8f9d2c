using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
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

    public AdminClient(Uri baseAddress, string? token)
    {
        BaseAddress = baseAddress;
        _http = new HttpClient { BaseAddress = baseAddress, Timeout = Timeout };
        if (token is not null) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
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
            if (response.StatusCode == HttpStatusCode.Unauthorized)
                throw new AdminApiException($"pool admin API at {Display} refused the request (401): pass --token or set CALLPARK_TOKEN");
            if (!response.IsSuccessStatusCode)
                throw new AdminApiException($"pool admin API at {Display} answered {(int)response.StatusCode}: {await ErrorText(response, ct)}");
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

    public void Dispose() => _http.Dispose();
}
