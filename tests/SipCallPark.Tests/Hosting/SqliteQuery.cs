using System.Globalization;
using Microsoft.Data.Sqlite;

namespace SipCallPark.Tests.Hosting;

/// <summary>Reads a pool's SQLite file from a test, after the pool has stopped or been killed.</summary>
internal static class SqliteQuery
{
    /// <summary>The first column of the first row of <paramref name="sql"/> as text ("" for null).</summary>
    public static string Scalar(string databasePath, string sql)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(command.ExecuteScalar(), CultureInfo.InvariantCulture) ?? "";
    }
}
