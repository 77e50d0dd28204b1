namespace Axentra.Deploy.Tests;

/// <summary>Paths of the repository under test (found by TestSupport's <c>RepositoryRoot</c>).</summary>
internal static class Repository
{
    public static string Root => Axentra.TestSupport.RepositoryRoot.Path;

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    public static string Chart => PathOf("charts", "axentra");
}
