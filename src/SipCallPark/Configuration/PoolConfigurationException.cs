namespace SipCallPark.Configuration;

/// <summary>
/// The pool cannot start because of its configuration. Each error is a complete sentence for the operator that
/// names the file or key at fault; the host prints them and exits with <see cref="Hosting.ExitCodes.ConfigurationError"/>.
/// </summary>
internal sealed class PoolConfigurationException : Exception
{
    public PoolConfigurationException(string error, Exception? innerException = null)
        : base(error, innerException)
    {
        Errors = [error];
    }

    public PoolConfigurationException(IEnumerable<string> errors)
        : this([.. errors])
    {
    }

    private PoolConfigurationException(string[] errors)
        : base(string.Join(Environment.NewLine, errors))
    {
        Errors = errors;
    }

    public IReadOnlyList<string> Errors { get; }
}
