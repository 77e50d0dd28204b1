namespace Axentra.Deploy.Tests;

/// <summary>Paths of the repository under test, found from the test assembly's location.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    public static string Chart => PathOf("charts", "axentra");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Axentra.Platform.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Axentra.Platform.sln above {AppContext.BaseDirectory}.");
    }
}
