using System.Diagnostics;

namespace Axentra.TestSupport;

/// <summary>Runs a process for a bounded time, for tests of how a host starts or refuses to.</summary>
public static class BoundedProcess
{
    /// <summary>
    /// Runs <paramref name="start"/> (output redirected) for at most <paramref name="wait"/>, then stops it: whether it
    /// exited by itself, its exit code (-1 when stopped), and its output and error output.
    /// </summary>
    public static async Task<(bool Exited, int ExitCode, string Output)> RunAsync(ProcessStartInfo start, TimeSpan wait)
    {
        ArgumentNullException.ThrowIfNull(start);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(wait);
        var exited = true;
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            exited = false;
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        return (exited, exited ? process.ExitCode : -1, await output + await error);
    }

    /// <summary>
    /// Starts a distributed service from the test's own output folder (a referenced web project's assembly and runtime
    /// configuration are copied there), listening on a free loopback port, with <paramref name="arguments"/>. AWS's
    /// region chain is cut off at the environment (no profile, no instance metadata), so nothing leaves the machine.
    /// </summary>
    public static Task<(bool Exited, int ExitCode, string Output)> RunServiceAsync(string assemblyName, TimeSpan wait, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, assemblyName + ".dll"));
        start.ArgumentList.Add("--urls=http://127.0.0.1:0");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var name in new[] { "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE" })
        {
            start.Environment.Remove(name);
        }

        start.Environment["AWS_EC2_METADATA_DISABLED"] = "true";
        start.Environment["AWS_CONFIG_FILE"] = Path.Combine(AppContext.BaseDirectory, "no-aws-config");
        start.Environment["AWS_SHARED_CREDENTIALS_FILE"] = Path.Combine(AppContext.BaseDirectory, "no-aws-credentials");
        return RunAsync(start, wait);
    }
}
