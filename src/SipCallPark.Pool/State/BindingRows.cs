using Microsoft.Data.Sqlite;
using SipCallPark.Pool.Registrar;

namespace SipCallPark.Pool.State;

/// <summary>
/// How a <see cref="Binding"/> is written to a SQLite table: the pool's own <c>bindings</c> and the partner's
/// <c>replica_bindings</c> share the columns.
/// </summary>
internal static class BindingRows
{
    /// <summary>Makes <paramref name="command"/> the insert-or-replace of <paramref name="binding"/> into <paramref name="table"/> under <paramref name="pool"/>.</summary>
    public static void Upsert(SqliteCommand command, string table, string pool, Binding binding)
    {
        command.CommandText = $"""
            INSERT OR REPLACE INTO {table} (pool, aor, contact, expires_at, q, call_id, cseq, instance_id, reg_id, source, mode, nat)
            VALUES ($pool, $aor, $contact, $exp, $q, $cid, $cseq, $inst, $reg, $src, $mode, $nat)
            """;
        var p = command.Parameters;
        p.AddWithValue("$pool", pool);
        p.AddWithValue("$aor", binding.Aor);
        p.AddWithValue("$contact", binding.Contact);
        p.AddWithValue("$exp", binding.ExpiresAt.ToUnixTimeMilliseconds());
        p.AddWithValue("$q", binding.Q);
        p.AddWithValue("$cid", binding.CallId);
        p.AddWithValue("$cseq", binding.CSeq);
        p.AddWithValue("$inst", (object?)binding.InstanceId ?? DBNull.Value);
        p.AddWithValue("$reg", (object?)binding.RegId ?? DBNull.Value);
        p.AddWithValue("$src", (object?)binding.Source ?? DBNull.Value);
        p.AddWithValue("$mode", (int)binding.Mode);
        p.AddWithValue("$nat", binding.Nat is { } nat ? (int)nat : DBNull.Value);
    }

    /// <summary>The <c>nat</c> column at <paramref name="ordinal"/>: null for a row written before migration 5.</summary>
    public static NatSigns? ReadNat(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : (NatSigns)reader.GetInt32(ordinal);
}
