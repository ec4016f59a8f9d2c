using System.CommandLine;

namespace SipCallPark.CallParkCtl;

/// <summary><c>--admin</c> and <c>--token</c>, valid on every command; the environment fills what is not given.</summary>
internal sealed class GlobalOptions
{
    public const string DefaultAdmin = "http://127.0.0.1:8060";
    public const string AdminVariable = "CALLPARK_ADMIN";
    public const string TokenVariable = "CALLPARK_TOKEN";

    public Option<string[]> Admin { get; } = new("--admin")
    {
        Description = $"Admin API URL of the pool (default: ${AdminVariable} or {DefaultAdmin}); status accepts it several times",
        HelpName = "URL",
        Recursive = true,
        Arity = ArgumentArity.OneOrMore,
    };

    public Option<string> Token { get; } = new("--token")
    {
        Description = $"Bearer token of the admin API (default: ${TokenVariable})",
        Recursive = true,
    };

    /// <summary>The admin URLs to talk to: the options given, else the environment, else the lab default.</summary>
    public IReadOnlyList<Uri> Admins(ParseResult parse, CliEnvironment env, bool allowSeveral)
    {
        var given = parse.GetValue(Admin) ?? [];
        if (given.Length == 0)
            given = [env.GetVariable(AdminVariable) is { Length: > 0 } fromEnv ? fromEnv : DefaultAdmin];
        if (given.Length > 1 && !allowSeveral)
            throw new UsageException("only 'status' accepts several --admin values");
        return given.Select(ParseAdmin).ToArray();
    }

    public string? TokenValue(ParseResult parse, CliEnvironment env) =>
        parse.GetValue(Token) is { Length: > 0 } token ? token : env.GetVariable(TokenVariable) is { Length: > 0 } fromEnv ? fromEnv : null;

    public AdminClient Client(ParseResult parse, CliEnvironment env) => new(Admins(parse, env, allowSeveral: false)[0], TokenValue(parse, env));

    internal static Uri ParseAdmin(string text)
    {
        if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            return uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri + "/");
        throw new UsageException($"--admin '{text}' is not an http URL like {DefaultAdmin}");
    }
}
