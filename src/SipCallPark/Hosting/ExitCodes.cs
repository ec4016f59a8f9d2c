namespace SipCallPark.Hosting;

/// <summary>The process exit codes scripts can rely on.</summary>
internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The pool failed while running; the log says why.</summary>
    public const int Failure = 1;

    /// <summary>The pool refused to start: a bad command line or configuration, named on standard error.</summary>
    public const int ConfigurationError = 2;
}
