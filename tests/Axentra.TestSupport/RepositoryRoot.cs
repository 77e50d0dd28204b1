namespace Axentra.TestSupport;

/// <summary>Finds the repository (and <c>../shared</c> beside it) from the test's output directory.</summary>
public static class RepositoryRoot
{
    public static string Path { get; } = Find();

    /// <summary>The example webhooks (tests/samples: copies of ../shared/samples, checked equal by a test).</summary>
    public static string Samples => System.IO.Path.Combine(Path, "tests", "samples");

    /// <summary><c>../shared/samples</c> beside the repository, when this checkout has it.</summary>
    public static string SharedSamples => System.IO.Path.Combine(Path, "..", "shared", "samples");

    private static string Find()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(System.IO.Path.Combine(directory.FullName, "Axentra.Platform.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Axentra.Platform.sln not found above " + AppContext.BaseDirectory);
    }
}
