using System.Diagnostics;
using System.Text;
using Axentra.TestSupport;

namespace Axentra.Deploy.Tests;

/// <summary>
/// The external tools the deploy tests drive: helm and promtool (from <c>.tools/bin</c>), node and the npm packages in
/// <c>.tools/node/node_modules</c>. Installed by <c>scripts/install-deploy-tools.sh</c>; the location can be moved
/// with <c>AXENTRA_TOOLS_DIR</c>. A missing tool makes the test Skipped with the reason, never passed.
/// </summary>
internal static class DeployTools
{
    private static readonly string ToolsDir =
        Environment.GetEnvironmentVariable("AXENTRA_TOOLS_DIR") is { Length: > 0 } dir ? dir : Repository.PathOf(".tools");

    public static string NodeModules => Path.Combine(ToolsDir, "node", "node_modules");

    /// <summary>The helm binary, or a skip explaining how to install it.</summary>
    public static string RequireHelm() => RequireInstalled(Helm, "(or set AXENTRA_TOOLS_DIR)", "run scripts/install-deploy-tools.sh again");

    /// <summary>The promtool binary (Prometheus' rule checker and unit tester), or a skip explaining how to install it.</summary>
    public static string RequirePromtool() => RequireInstalled(
        Promtool,
        "(it extracts promtool from the distribution's prometheus package with apt-get download; or set AXENTRA_TOOLS_DIR)",
        "delete it and run scripts/install-deploy-tools.sh again");

    private static readonly InstalledTool Helm = new("helm", ["version", "--short"]);
    private static readonly InstalledTool Promtool = new("promtool", ["--version"]);

    /// <summary>A tool the install script puts in <c>.tools/bin</c>, and the command that shows it runs here.</summary>
    private sealed class InstalledTool(string name, string[] versionArguments)
    {
        public string Name => name;

        public string Path => System.IO.Path.Combine(ToolsDir, "bin", name);

        /// <summary>Why the installed tool cannot run here, once per test run; null when its version command answers.</summary>
        public Lazy<string?> Problem { get; } = new(() =>
        {
            var (exitCode, output, error) = Probe(System.IO.Path.Combine(ToolsDir, "bin", name), versionArguments);
            return error is null && exitCode == 0 ? null : error ?? $"exit code {exitCode}: {output.Trim()}";
        });
    }

    private static string RequireInstalled(InstalledTool tool, string installHint, string repairHint)
    {
        if (!File.Exists(tool.Path))
        {
            Assert.Skip($"{tool.Name} not found at {tool.Path}: run scripts/install-deploy-tools.sh {installHint}.");
        }

        if (tool.Problem.Value is { } problem)
        {
            Assert.Skip($"{tool.Name} at {tool.Path} does not run ({problem}): {repairHint}.");
        }

        return tool.Path;
    }

    /// <summary>Why the node on PATH cannot be used (it does not run, or is older than 20), once per test run.</summary>
    private static readonly Lazy<string?> NodeProblem = new(() =>
    {
        var (exitCode, output, error) = Probe(ExecutableSearch.FindOnPath("node")!, ["--version"]);
        if (error is not null || exitCode != 0)
        {
            return error ?? $"exit code {exitCode}";
        }

        // "v20.11.1"
        var version = output.Trim().TrimStart('v').Split('.');
        return int.TryParse(version[0], System.Globalization.CultureInfo.InvariantCulture, out var major) && major >= 20
            ? null
            : $"version {output.Trim()}, 20 or later is needed";
    });

    /// <summary>Runs a tool's version command: its exit code and output, or why it could not start.</summary>
    private static (int ExitCode, string Output, string? Error) Probe(string fileName, string[] arguments)
    {
        try
        {
            var result = Run(fileName, arguments);
            return (result.ExitCode, result.StandardOutput + result.StandardError, null);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException or TimeoutException)
        {
            return (-1, "", ex.Message);
        }
    }

    /// <summary>node on PATH with the kubernetes-models and yaml packages installed, or a skip.</summary>
    public static string RequireNode()
    {
        var node = ExecutableSearch.FindOnPath("node");
        if (node is null)
        {
            Assert.Skip("node is not on PATH: install Node.js 20+ and run scripts/install-deploy-tools.sh.");
        }

        if (NodeProblem.Value is { } problem)
        {
            Assert.Skip($"node at {node} cannot be used ({problem}): install Node.js 20+.");
        }

        foreach (var package in new[] { "kubernetes-models", "yaml" })
        {
            if (!Directory.Exists(Path.Combine(NodeModules, package)))
            {
                Assert.Skip($"npm package {package} not found in {NodeModules}: run scripts/install-deploy-tools.sh.");
            }
        }

        return node;
    }

    public static ToolResult Run(string fileName, IEnumerable<string> arguments, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Repository.Root,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { stdout.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { stderr.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', arguments)} did not finish in 2 minutes.");
        }

        process.WaitForExit();
        return new ToolResult(process.ExitCode, stdout.ToString(), stderr.ToString());
    }
}

internal sealed record ToolResult(int ExitCode, string StandardOutput, string StandardError)
{
    public string Describe() => $"exit code {ExitCode}\n--- stdout ---\n{StandardOutput}\n--- stderr ---\n{StandardError}";
}
