using System.Diagnostics;
using System.Text.Json.Nodes;
using Axentra.EndToEnd.Tests.Support;
using Axentra.TestSupport;

namespace Axentra.EndToEnd.Tests;

/// <summary>What an operator types at the published host, and what it answers: the usage, bad arguments, a redrive
/// with a dot segment for its message id, and a key file left empty by a first start that died.</summary>
public sealed class OperatorCommandLineTests(PublishedStandalone build)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string UtcDay() => DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("yes")]
    [InlineData("1")]
    public async Task Replay_with_a_recompute_that_is_not_a_boolean_exits_64(string value)
    {
        // docs/operations.md: "64 on bad arguments"; it was an unhandled exception (exit 134).
        await using var host = await StandaloneProcess.StartAsync(build);
        await host.StopAsync();
        var (exitCode, output) = await host.RunCommandAsync("replay", "--from", UtcDay(), "--to", UtcDay(), "--recompute", value);
        Assert.DoesNotContain("Unhandled exception", output, StringComparison.Ordinal);
        Assert.True(exitCode == 64, $"expected 64, got {exitCode}:\n{output}");
    }

    [Fact]
    public async Task Replay_reads_a_bare_recompute_as_a_flag()
    {
        // Last on the line it used to take the host's own trailing argument as its value, and crash.
        await using var host = await StandaloneProcess.StartAsync(build);
        await host.StopAsync();
        var (exitCode, output) = await host.RunCommandAsync("replay", "--from", UtcDay(), "--to", UtcDay(), "--recompute");
        Assert.True(exitCode == 0, $"expected 0, got {exitCode}:\n{output}");
        Assert.Contains("replayed 0 of 0 audited events", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replay_pointed_at_a_directory_without_pipeline_data_says_so_and_creates_nothing()
    {
        // A mistyped --Standalone:DataDir used to create an empty data directory and report "0 of 0 events", exit 0.
        await using var host = await StandaloneProcess.StartAsync(build);
        await host.StopAsync();
        var mistyped = Path.Combine(host.DataDirectory, "not-the-data-dir");
        var (exitCode, output) = await host.RunCommandAsync("replay", "--from", UtcDay(), "--to", UtcDay(), $"--Standalone:DataDir={mistyped}");
        Assert.True(exitCode == 66, $"expected 66, got {exitCode}:\n{output}");
        Assert.Contains($"no pipeline data in {mistyped}", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(mistyped));
    }

    [Fact]
    public async Task Redriving_one_dead_letter_with_a_dot_dot_message_id_is_a_400_not_a_redrive_of_every_subscriber()
    {
        await using var host = await StandaloneProcess.StartAsync(build, new Dictionary<string, string>
        {
            ["Standalone:Queue:MaxAttempts"] = "2",
            ["Standalone:Queue:InitialBackoff"] = "00:00:00.050",
            ["Standalone:Queue:MaxBackoff"] = "00:00:00.100",
        });
        var processed = Path.Combine(host.DataDirectory, "axentra-webhook-processed");
        Directory.Delete(processed, recursive: true);
        await File.WriteAllTextAsync(processed, "not a directory", Ct);
        var receipt = await host.AcceptAsync(Payloads.Product("new_product", Payloads.NewId("store"), Payloads.NewId("prod"), "x", 1m, "2025-12-01T10:00:00Z"));
        await host.WaitForStatusAsync((string)receipt["event_id"]!, "dead_lettered");

        // Kestrel resolves the dot segment to POST /admin/dead-letters/redrive: every dead letter of every subscriber.
        // Sent as curl sends it: HttpClient would resolve the dot segment itself before sending.
        using (var tcp = new System.Net.Sockets.TcpClient())
        {
            await tcp.ConnectAsync(host.BaseAddress.Host, host.BaseAddress.Port, Ct);
            var stream = tcp.GetStream();
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
                $"POST /admin/dead-letters/audit/%2e%2e/redrive HTTP/1.1\r\nHost: ops.example\r\nx-api-key: {StandaloneProcess.OpsKey}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), Ct);
            Assert.StartsWith("HTTP/1.1 400", await new StreamReader(stream).ReadToEndAsync(Ct), StringComparison.Ordinal);
        }

        using var list = await host.OpsAsync(HttpMethod.Get, "/admin/dead-letters?subscriber=catalog");
        Assert.Single(JsonNode.Parse(await list.Content.ReadAsStringAsync(Ct))!.AsArray()); // not redriven
    }

    [Fact]
    public async Task Help_after_a_setting_prints_the_usage_and_starts_nothing()
    {
        var directory = Directory.CreateTempSubdirectory("axentra-e2e-help-").FullName;
        try
        {
            var (exited, exitCode, output) = await RunInAsync(directory, TimeSpan.FromSeconds(15), "--urls=http://127.0.0.1:0", "--help");
            Assert.True(exited && exitCode == 0, $"the host started instead of printing its usage:\n{output}");
            Assert.Contains("usage: axentra-standalone", output, StringComparison.Ordinal);
            Assert.False(Directory.Exists(Path.Combine(directory, "data")), "--help generated credentials and a data directory");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private const string SharedKey = "the-same-key-for-senders-and-operators-0123";

    [Theory]
    [InlineData("the same key for a sender and operators", "senders", $"--Intake:Auth:ApiKeys:0={SharedKey}", $"--Ops:Auth:ApiKeys:0={SharedKey}")]
    [InlineData("that and a rate limit burst of 0: two options classes refused at once", "Burst", $"--Intake:Auth:ApiKeys:0={SharedKey}", $"--Ops:Auth:ApiKeys:0={SharedKey}", "--Intake:RateLimit:Burst=0")]
    [InlineData("a duration that is not a TimeSpan", "Intake:DedupeWindow", "--Intake:DedupeWindow=24h")]
    [InlineData("no delivery at a time (the host was ready and never delivered)", "Concurrency", "--Standalone:Queue:Concurrency=0")]
    [InlineData("no time to answer a webhook (every webhook was a 503)", "Intake:RequestBudget", "--Intake:RequestBudget=00:00:00")]
    [InlineData("a retry backoff whose ceiling is below its start", "MaxBackoff", "--Standalone:Queue:InitialBackoff=00:00:10", "--Standalone:Queue:MaxBackoff=00:00:01")]
    public async Task A_setting_refused_at_start_exits_78_with_the_reason_instead_of_aborting(string why, string named, params string[] settings)
    {
        var directory = Directory.CreateTempSubdirectory("axentra-e2e-config-").FullName;
        try
        {
            var (exited, exitCode, output) = await RunInAsync(directory, TimeSpan.FromSeconds(15), ["--urls=http://127.0.0.1:0", .. settings]);
            Assert.True(exited, $"the host started with {why}:\n{output}");
            Assert.Equal(78, exitCode);
            Assert.Contains("Configuration refused:", output, StringComparison.Ordinal);
            Assert.Contains(named, output, StringComparison.Ordinal);
            Assert.DoesNotContain("Unhandled exception", output, StringComparison.Ordinal); // not an abort (exit 134)
            Assert.DoesNotContain(SharedKey, output, StringComparison.Ordinal); // a secret is never echoed
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_generated_key_file_left_empty_by_a_first_start_that_died_is_replaced()
    {
        // It used to abort every later start with "An Intake:Auth:ApiKeys entry is empty", naming no file.
        var directory = Directory.CreateTempSubdirectory("axentra-e2e-cred-").FullName;
        var keyFile = Path.Combine(directory, "data", "credentials", "webhook-api-key");
        Directory.CreateDirectory(Path.GetDirectoryName(keyFile)!);
        await File.WriteAllTextAsync(keyFile, "", Ct);
        try
        {
            var (exited, exitCode, output) = await RunInAsync(directory, TimeSpan.FromSeconds(8), "--urls=http://127.0.0.1:0");
            Assert.False(exited, $"the host exited with {exitCode}:\n{output}");
            Assert.StartsWith("axk_webhook_", await File.ReadAllTextAsync(keyFile, Ct), StringComparison.Ordinal);
            Assert.Contains("Generated the webhook API key", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Runs the published host in <paramref name="directory"/> (its default ./data) for at most <paramref name="wait"/>, then stops it.</summary>
    private Task<(bool Exited, int ExitCode, string Output)> RunInAsync(string directory, TimeSpan wait, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = directory };
        start.ArgumentList.Add(build.AssemblyPath);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return BoundedProcess.RunAsync(start, wait);
    }
}
