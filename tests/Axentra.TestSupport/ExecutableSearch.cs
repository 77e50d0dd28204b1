namespace Axentra.TestSupport;

/// <summary>Where a tool would be found on <c>PATH</c>, as a shell finds it.</summary>
public static class ExecutableSearch
{
    /// <summary>The first <paramref name="name"/> in a <c>PATH</c> directory, or null.</summary>
    public static string? FindOnPath(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
    }
}
