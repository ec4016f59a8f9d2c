using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace SipCallPark.Pool.State;

/// <summary>
/// Group commit for a store that reads from memory and writes through to SQLite: one writer loop takes every
/// pending change, applies them in one transaction and only then completes their tasks, so a caller that awaits
/// its write knows it is durable without paying one fsync per change.
/// </summary>
internal sealed class GroupCommitQueue<T> : IAsyncDisposable
{
    private sealed record Pending(T Item, TaskCompletionSource Done);

    private readonly StateDatabase _database;
    private readonly Action<SqliteConnection, SqliteTransaction, T> _apply;
    private readonly ILogger _logger;
    private readonly string _what;
    private readonly Channel<Pending> _writes = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;

    /// <param name="what">What the changes are, for the log (<c>binding</c>, <c>parked dialog</c>).</param>
    public GroupCommitQueue(StateDatabase database, Action<SqliteConnection, SqliteTransaction, T> apply, ILogger logger, string what)
    {
        _database = database;
        _apply = apply;
        _logger = logger;
        _what = what;
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>Queues a change; the task completes once it is committed (or faults with the commit's error).</summary>
    public Task EnqueueAsync(T item)
    {
        var pending = new Pending(item, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_writes.Writer.TryWrite(pending)) pending.Done.TrySetException(new ObjectDisposedException(nameof(GroupCommitQueue<T>)));
        return pending.Done.Task;
    }

    private async Task WriteLoopAsync()
    {
        using var connection = _database.Open();
        var batch = new List<Pending>();
        while (await _writes.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < 1000 && _writes.Reader.TryRead(out var write)) batch.Add(write);
            try
            {
                using (var tx = connection.BeginTransaction())
                {
                    foreach (var write in batch) _apply(connection, tx, write.Item);
                    tx.Commit();
                }
                foreach (var write in batch) write.Done.TrySetResult();
            }
            catch (Exception e) when (e is SqliteException or JsonException)
            {
                _logger.LogError(e, "Writing {Count} {What} changes to {Path} failed", batch.Count, _what, _database.Path);
                foreach (var write in batch) write.Done.TrySetException(e);
            }
        }
    }

    /// <summary>Stops taking changes and waits until every queued one is written.</summary>
    public async ValueTask DisposeAsync()
    {
        _writes.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
    }
}
