namespace SipCallPark.Pool.Blf;

/// <summary>
/// One orbit lamp subscription as the journal keeps it: the dialog (enough to send it a NOTIFY after a restart), what
/// it watches, who holds it, the last <c>version</c> sent and when it expires.
/// </summary>
/// <param name="Resource">The orbit watched, or the park service name for the whole lot.</param>
/// <param name="Subscriber">The subscriber's address of record, as the per-user limit counts it.</param>
/// <param name="EventId">The <c>id</c> parameter of the SUBSCRIBE's <c>Event</c>, echoed in every NOTIFY.</param>
internal sealed record SubscriptionRecord(string CallId, string LocalTag, string RemoteTag, string LocalUri, string RemoteUri,
    string RemoteTarget, IReadOnlyList<string> RouteSet, long LocalCSeq, long? RemoteCSeq, string Resource, string Subscriber,
    string? EventId, long Version, DateTimeOffset ExpiresAt)
{
    public string Key => $"{CallId}\n{LocalTag}";
}

/// <summary>Where the pool keeps its lamp subscriptions so that they outlive a restart (docs/design.md §5 "Orbit lamps").</summary>
internal interface ISubscriptionJournal
{
    /// <summary>Every subscription kept, expired ones included (the caller drops those).</summary>
    IReadOnlyList<SubscriptionRecord> Load();

    Task UpsertAsync(SubscriptionRecord record);

    Task RemoveAsync(string callId, string localTag);
}

/// <summary>The journal of a pool without a state store (tests): nothing outlives the process.</summary>
internal sealed class InMemorySubscriptionJournal : ISubscriptionJournal
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, SubscriptionRecord> _records = new(StringComparer.Ordinal);

    public IReadOnlyList<SubscriptionRecord> Load() => _records.Values.ToArray();

    public Task UpsertAsync(SubscriptionRecord record)
    {
        _records[record.Key] = record;
        return Task.CompletedTask;
    }

    public Task RemoveAsync(string callId, string localTag)
    {
        _records.TryRemove($"{callId}\n{localTag}", out _);
        return Task.CompletedTask;
    }
}
