using System.Text.RegularExpressions;
using Axentra.Contracts;

namespace Axentra.Deploy.Tests;

/// <summary>
/// The images cannot be built here (no Docker), so their Dockerfiles are checked for what the chart relies on:
/// multi-stage .NET 10, non-root, port 8080, the right project and entry point.
/// </summary>
public sealed partial class DockerfileTests
{
    public static TheoryData<string, string> Services() => new()
    {
        { PlatformNames.AppIds.Intake, "Axentra.Intake" },
        { PlatformNames.AppIds.Audit, "Axentra.Audit" },
        { PlatformNames.AppIds.Catalog, "Axentra.Catalog" },
    };

    [Theory]
    [MemberData(nameof(Services))]
    public void Dockerfile_builds_the_service_project_into_a_non_root_image_on_port_8080(string appId, string project)
    {
        var dockerfile = File.ReadAllText(Repository.PathOf("services", appId, "Dockerfile"));
        var instructions = dockerfile.Split('\n').Where(l => !l.TrimStart().StartsWith('#')).ToArray();
        var from = instructions.Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)).ToArray();

        Assert.Equal(2, from.Length);
        Assert.StartsWith("FROM mcr.microsoft.com/dotnet/sdk:10.0 ", from[0], StringComparison.Ordinal);
        Assert.StartsWith("FROM mcr.microsoft.com/dotnet/aspnet:10.0", from[1], StringComparison.Ordinal);
        Assert.Contains($"services/{appId}/{project}/{project}.csproj", dockerfile, StringComparison.Ordinal);
        Assert.Contains("ENV ASPNETCORE_HTTP_PORTS=8080", instructions);
        Assert.Contains("EXPOSE 8080", instructions);
        Assert.Equal("USER $APP_UID", instructions.Last(l => l.StartsWith("USER ", StringComparison.Ordinal)));
        Assert.Equal($"ENTRYPOINT [\"dotnet\", \"{project}.dll\"]", instructions.Last(l => l.Length > 0));
    }

    [Theory]
    [MemberData(nameof(Services))]
    public void The_dockerfile_and_the_project_agree_once_the_project_exists(string appId, string project)
    {
        var projectFile = Repository.PathOf("services", appId, project, $"{project}.csproj");
        if (!File.Exists(projectFile))
        {
            Assert.Skip($"{projectFile} does not exist yet (being written in another branch).");
        }

        // The entry point is the assembly name: a project that renames its assembly must update its Dockerfile.
        var assemblyName = AssemblyNamePattern().Match(File.ReadAllText(projectFile)) is { Success: true } m ? m.Groups[1].Value : project;
        Assert.Equal(project, assemblyName);
    }

    [Fact]
    public void The_build_context_never_carries_local_tools_data_or_git_history()
    {
        var ignored = File.ReadAllLines(Repository.PathOf(".dockerignore")).Select(l => l.Trim()).ToHashSet(StringComparer.Ordinal);

        foreach (var entry in new[] { ".git/", ".tools/", "data/", "**/bin/", "**/obj/" })
        {
            Assert.Contains(entry, ignored);
        }
    }

    [GeneratedRegex("<AssemblyName>([^<]+)</AssemblyName>")]
    private static partial Regex AssemblyNamePattern();
}
