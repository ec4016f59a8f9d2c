namespace SipCallPark.Tests;

/// <summary>Files of the repository the tests read, found from the test assembly's folder.</summary>
internal static class RepositoryPaths
{
    private const int MaxDepth = 10;

    public static string Root { get; } = FindRoot();

    public static string Config(string fileName) => Path.Combine(Root, "config", fileName);

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        for (var depth = 0; depth < MaxDepth && directory is not null; depth++, directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "SipCallPark.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"SipCallPark.sln not found above {TestContext.CurrentContext.TestDirectory}");
    }
}
