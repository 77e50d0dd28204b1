namespace Axentra.TestSupport;

/// <summary>Finds the repository (and <c>../shared</c> beside it) from the test's output directory.</summary>
public static class RepositoryRoot
{
    public static string Path { get; } = Find();

    public static string Samples => System.IO.Path.Combine(Path, "..", "shared", "samples");

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
