namespace SipCallPark.Lab;

/// <summary>A row of the seed table (docs/design.md §6): the state the call is in.</summary>
internal enum CallState { NotYetParked, ParkedNotYetRetrieved, ParkedAndRetrieved }

/// <summary>A column of the seed table: the DR phase the call meets.</summary>
internal enum DrMoment { Outage, Failover, Failback }

/// <summary>One cell of the seed table with the outcome docs/design.md §6 expects, word for word.</summary>
internal sealed record SeedCell(CallState Row, DrMoment Column, string Expected, string Name)
{
    /// <summary>The nine cells, row by row, as in docs/design.md §6.</summary>
    public static IReadOnlyList<SeedCell> All { get; } =
    [
        new(CallState.NotYetParked, DrMoment.Outage, "call stays up; it cannot be parked",
            "Not_yet_parked__outage__the_call_stays_up_and_cannot_be_parked"),
        new(CallState.NotYetParked, DrMoment.Failover,
            "cannot be parked while the user is in resiliency mode (hold and transfer still work); after failover completes it can be parked and retrieved",
            "Not_yet_parked__failover__no_park_in_resiliency_mode_then_park_and_retrieve_on_the_backups_orbits"),
        new(CallState.NotYetParked, DrMoment.Failback,
            "the same as failover: no park while in resiliency mode; after failback completes, park works",
            "Not_yet_parked__failback__no_park_in_resiliency_mode_then_park_works_after_failback"),
        new(CallState.ParkedNotYetRetrieved, DrMoment.Outage, "the call is disconnected",
            "Parked_not_yet_retrieved__outage__the_call_is_disconnected"),
        new(CallState.ParkedNotYetRetrieved, DrMoment.Failover, "no calls in this state",
            "Parked_not_yet_retrieved__failover__no_calls_in_this_state"),
        new(CallState.ParkedNotYetRetrieved, DrMoment.Failback, "the call stays parked",
            "Parked_not_yet_retrieved__failback__the_call_stays_parked_and_is_retrievable_after_failback"),
        new(CallState.ParkedAndRetrieved, DrMoment.Outage, "the call stays up",
            "Parked_and_retrieved__outage__the_call_stays_up"),
        new(CallState.ParkedAndRetrieved, DrMoment.Failover, "the call stays up",
            "Parked_and_retrieved__failover__the_call_stays_up"),
        new(CallState.ParkedAndRetrieved, DrMoment.Failback, "the call stays up",
            "Parked_and_retrieved__failback__the_call_stays_up"),
    ];

    public string RowText => Row switch
    {
        CallState.NotYetParked => "not yet parked",
        CallState.ParkedNotYetRetrieved => "parked, not yet retrieved",
        _ => "parked and already retrieved",
    };

    public string ColumnText => Column switch
    {
        DrMoment.Outage => "when the outage occurs",
        DrMoment.Failover => "during failover",
        _ => "during failback",
    };

    /// <summary>A short name for files and <c>--cell</c>: <c>parked-not-yet-retrieved.outage</c>.</summary>
    public string Slug => $"{Row switch { CallState.NotYetParked => "not-yet-parked", CallState.ParkedNotYetRetrieved => "parked-not-retrieved", _ => "parked-retrieved" }}.{Column.ToString().ToLowerInvariant()}";

    public static SeedCell Named(string name) =>
        All.FirstOrDefault(c => c.Name == name || c.Slug == name) ?? throw new ArgumentException($"no seed-table cell named {name}");
}

/// <summary>Milliseconds measured in one cell; null where the cell has no such step.</summary>
internal sealed record CellTimings(double? OutageDetected, double? OrphansByed, double? Failover, double? Failback);

/// <summary>What one cell observed: each check as the phones (or the admin API) saw it, and whether all held.</summary>
/// <param name="Folder">The cell's temporary folder (topology, each pool's data and logs); gone after the run unless kept.</param>
internal sealed record CellResult(SeedCell Cell, IReadOnlyList<Observation> Observations, CellTimings Timings, string? Error, string PoolOutput, string Folder)
{
    public bool Passed => Error is null && Observations.All(o => o.Held);

    public string Observed => string.Join("; ", Observations.Select(o => o.Held ? o.What : $"**{o.What}**"))
                              + (Error is null ? "" : $"; **{Error}**");
}

/// <summary>One thing a cell checked: what was seen, and whether that is what the seed table wants.</summary>
internal sealed record Observation(string What, bool Held);
