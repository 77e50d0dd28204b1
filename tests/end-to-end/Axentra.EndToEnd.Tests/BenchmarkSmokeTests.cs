using System.Diagnostics;
using System.Text.Json.Nodes;
using Axentra.TestSupport;

namespace Axentra.EndToEnd.Tests;

/// <summary>
/// The benchmark harness (<c>bench/run.sh</c>) in its quick mode, one second per run: not a measurement (CI's numbers
/// mean nothing), a check that the harness still publishes, loads, drains and reports, so that it works the day
/// someone needs it. Its result file goes to a temporary directory, not <c>bench/results</c>. <c>scripts/test.sh</c>
/// runs it alone, after the other tests (<c>Category=BenchmarkSmoke</c>), so that its load does not land on them.
/// </summary>
[Trait("Category", "BenchmarkSmoke")]
public sealed class BenchmarkSmokeTests
{
    private static readonly string[] Tools = ["wrk", "sqlite3", "curl", "python3"];

    [Fact]
    public async Task The_harness_runs_in_quick_mode_and_reports_every_phase_with_nothing_lost()
    {
        if (Tools.FirstOrDefault(tool => ExecutableSearch.FindOnPath(tool) is null) is { } missing)
        {
            Assert.Skip($"'{missing}' is not installed (.ci/run installs {string.Join(", ", Tools)} with apt); the benchmark harness needs it");
        }

        var results = Directory.CreateTempSubdirectory("axentra-bench-smoke-");
        try
        {
            var start = new ProcessStartInfo("bash", [Path.Combine(RepositoryRoot.Path, "bench", "run.sh"), "--quick"])
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            start.Environment["BENCH_RESULTS_DIR"] = results.FullName;
            using var process = Process.Start(start) ?? throw new InvalidOperationException("bash did not start");
            var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken))
            {
                timeout.CancelAfter(TimeSpan.FromMinutes(10));
                try
                {
                    await process.WaitForExitAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    await GracefulStop.StopAsync(process, TimeSpan.FromSeconds(15)); // SIGTERM first: run.sh's exit trap stops what it started and removes its files
                    throw;
                }
            }

            var printed = await output + await error;
            Assert.True(process.ExitCode == 0, $"bench/run.sh --quick exited with {process.ExitCode}:\n{printed}");

            var result = JsonNode.Parse(await File.ReadAllTextAsync(Assert.Single(results.GetFiles("*-quick.json")).FullName, TestContext.Current.CancellationToken))!;
            Assert.True((bool)result["settings"]!["quick"]!);
            Assert.True((double)result["measured"]!["intake_accepted_per_s"]! > 0, printed);
            Assert.True((double)result["runs"]!["bare-throughput"]!["accepted_202"]! > 0, printed);
            foreach (var run in new[] { "host-throughput", "held-throughput" })
            {
                Assert.True((int)result["runs"]![run]!["accepted_202"]! > 0, $"{run}: nothing accepted\n{printed}");
                Assert.True((int)result["runs"]![run]!["other_status"]! == 0, $"{run}: answers other than 202/200\n{printed}");
            }

            // Every accepted webhook was audited (objects may exceed 202s by requests in flight when wrk stopped) and the
            // backlog the harness built with deliveries held drained completely, one raw-audit object per event.
            Assert.True((int)result["audit"]!["objects_minus_202s"]! >= 0, printed);
            var drain = result["backlog_drain"]!;
            Assert.True((int)drain["events"]! > 0, printed);
            Assert.Equal((int)drain["events"]!, (int)drain["raw_audit_objects"]!);
            Assert.Equal(0, (int)drain["deliveries_left"]!);
        }
        finally
        {
            results.Delete(recursive: true);
        }
    }
}
