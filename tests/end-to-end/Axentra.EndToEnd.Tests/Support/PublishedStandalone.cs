using System.Diagnostics;
using Axentra.TestSupport;

[assembly: AssemblyFixture(typeof(Axentra.EndToEnd.Tests.Support.PublishedStandalone))]

namespace Axentra.EndToEnd.Tests.Support;

/// <summary>
/// The published standalone host, once per test run: <c>AXENTRA_STANDALONE_DIR</c> when set (scripts/test.sh
/// publishes into <c>artifacts/standalone</c> before the tests), else a <c>dotnet publish</c> into a temporary folder.
/// </summary>
public sealed class PublishedStandalone : IAsyncLifetime
{
    public const string AssemblyFileName = "axentra-standalone.dll";
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(4);
    private string? _ownedDirectory;

    public string Directory { get; private set; } = "";

    public string AssemblyPath => Path.Combine(Directory, AssemblyFileName);

    public async ValueTask InitializeAsync()
    {
        var given = Environment.GetEnvironmentVariable("AXENTRA_STANDALONE_DIR");
        if (!string.IsNullOrEmpty(given))
        {
            Directory = Path.GetFullPath(given);
            if (!File.Exists(AssemblyPath))
            {
                throw new InvalidOperationException($"AXENTRA_STANDALONE_DIR={given} holds no {AssemblyFileName}.");
            }

            return;
        }

        _ownedDirectory = Path.Combine(Path.GetTempPath(), "axentra-e2e-publish-" + Guid.NewGuid().ToString("N"));
        Directory = _ownedDirectory;
        var project = Path.Combine(RepositoryRoot.Path, "services", "standalone", "Axentra.Standalone");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "publish", project, "-c", "Release", "-o", _ownedDirectory, "--nologo", "-v", "quiet" })
        {
            start.ArgumentList.Add(arg);
        }

        using var publish = Process.Start(start)!;
        var output = publish.StandardOutput.ReadToEndAsync();
        var error = publish.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(PublishTimeout);
        await publish.WaitForExitAsync(timeout.Token);
        if (publish.ExitCode != 0 || !File.Exists(AssemblyPath))
        {
            throw new InvalidOperationException($"dotnet publish failed ({publish.ExitCode}):\n{await output}\n{await error}");
        }
    }

    public ValueTask DisposeAsync()
    {
        if (_ownedDirectory is not null)
        {
            try
            {
                System.IO.Directory.Delete(_ownedDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }

        return ValueTask.CompletedTask;
    }
}
