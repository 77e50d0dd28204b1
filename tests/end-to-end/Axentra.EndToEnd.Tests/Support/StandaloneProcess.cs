using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Axentra.TestSupport;

namespace Axentra.EndToEnd.Tests.Support;

/// <summary>
/// One real <c>axentra-standalone</c> process on a free loopback port and a temporary data directory, configured
/// the way an operator would (environment variables), stopped by PID. <see cref="RestartAsync"/> starts a new
/// process on the same data directory, as after a crash.
/// </summary>
public sealed partial class StandaloneProcess : IAsyncDisposable
{
    public const string WebhookKey = "e2e-webhook-key";
    public const string OpsKey = "e2e-ops-key";
    public const string WebhookPath = "/webhooks/supabase";

    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);
    private readonly PublishedStandalone _build;
    private readonly IReadOnlyDictionary<string, string> _settings;
    private readonly ConcurrentQueue<string> _output = new();
    private Process? _process;

    private StandaloneProcess(PublishedStandalone build, string dataDirectory, IReadOnlyDictionary<string, string> settings)
    {
        _build = build;
        DataDirectory = dataDirectory;
        _settings = settings;
    }

    public string DataDirectory { get; }

    public HttpClient Http { get; private set; } = new();

    public Uri BaseAddress { get; private set; } = new("http://127.0.0.1/");

    public int? ProcessId => _process?.Id;

    /// <summary>What the process printed (last lines), for failure messages.</summary>
    public string RecentOutput => string.Join('\n', _output.TakeLast(60));

    /// <summary>The process's last 200 output lines: its log stream (JSON lines).</summary>
    public IReadOnlyList<string> OutputLines => [.. _output];

    /// <param name="build">The published host.</param>
    /// <param name="settings">Configuration keys in the <c>Section:Key</c> form, passed as environment variables.</param>
    public static async Task<StandaloneProcess> StartAsync(PublishedStandalone build, IReadOnlyDictionary<string, string>? settings = null)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "axentra-e2e-data-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDirectory);
        var host = new StandaloneProcess(build, dataDirectory, settings ?? new Dictionary<string, string>());
        try
        {
            await host.LaunchAsync();
        }
        catch
        {
            await host.DisposeAsync(); // a host that never got ready is nobody's to stop otherwise
            throw;
        }

        return host;
    }

    public async Task RestartAsync()
    {
        if (_process is { HasExited: false })
        {
            throw new InvalidOperationException("Stop or kill the process before restarting it.");
        }

        await LaunchAsync();
    }

    /// <summary>kill -9: no shutdown hooks, no flush, exactly what a crash or an OOM kill does.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: false);
            await process.WaitForExitAsync();
        }
    }

    /// <summary>A graceful stop (SIGTERM), falling back to kill -9 after 15 s.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            await GracefulStop.StopAsync(process, TimeSpan.FromSeconds(15));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
        Http.Dispose();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    public Task<HttpResponseMessage> PostWebhookAsync(byte[] body, string contentType = "application/json", string? apiKey = WebhookKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, WebhookPath) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (apiKey is not null)
        {
            request.Headers.Add("x-api-key", apiKey);
        }

        return Http.SendAsync(request, TestContext.Current.CancellationToken);
    }

    public async Task<JsonObject> AcceptAsync(byte[] body)
    {
        using var response = await PostWebhookAsync(body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"expected 202, got {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    public Task<HttpResponseMessage> OpsAsync(HttpMethod method, string path, string? apiKey = OpsKey)
    {
        var request = new HttpRequestMessage(method, path);
        if (apiKey is not null)
        {
            request.Headers.Add("x-api-key", apiKey);
        }

        return Http.SendAsync(request, TestContext.Current.CancellationToken);
    }

    public async Task<JsonObject?> GetEventAsync(string eventId)
    {
        using var response = await OpsAsync(HttpMethod.Get, $"/events/{eventId}");
        return response.StatusCode == HttpStatusCode.NotFound ? null : JsonNode.Parse(await response.EnsureSuccessStatusCode().Content.ReadAsStringAsync())!.AsObject();
    }

    /// <summary>Polls <c>GET /events/{id}</c> until the computed status is <paramref name="status"/>.</summary>
    public async Task<JsonObject> WaitForStatusAsync(string eventId, string status = "completed", TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        JsonObject? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = await GetEventAsync(eventId);
            if ((string?)last?["status"] == status)
            {
                return last;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"event {eventId} never reached '{status}'; last record: {last?.ToJsonString()}\nhost output:\n{RecentOutput}");
    }

    public string PathOf(string bucket, string key) => Path.Combine(DataDirectory, bucket, key);

    public IReadOnlyList<JsonObject> KbRefreshMessages()
    {
        var path = Path.Combine(DataDirectory, "topics", "axentra-kb-refresh.jsonl");
        return File.Exists(path)
            ? File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).ToList()
            : [];
    }

    /// <summary>Runs a CLI command of the host (e.g. <c>replay</c>) on this data directory; the exit code and stdout.</summary>
    public async Task<(int ExitCode, string Output)> RunCommandAsync(params string[] arguments)
    {
        var start = NewStartInfo();
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var (exited, exitCode, output) = await BoundedProcess.RunAsync(start, TimeSpan.FromSeconds(60));
        return exited ? (exitCode, output) : throw new OperationCanceledException($"the command did not exit within 60 s:\n{output}");
    }

    private ProcessStartInfo NewStartInfo()
    {
        var start = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = DataDirectory,
        };
        start.ArgumentList.Add(_build.AssemblyPath);
        var environment = new Dictionary<string, string>
        {
            ["Standalone:DataDir"] = DataDirectory,
            ["Intake:Auth:ApiKeys:0"] = WebhookKey,
            ["Ops:Auth:ApiKeys:0"] = OpsKey,
            ["Intake:RateLimit:PermitsPerSecond"] = "0",
            ["Ops:RateLimit:PermitsPerSecond"] = "100000",
            ["Ops:RateLimit:Burst"] = "100000",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in _settings)
        {
            environment[key] = value;
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        return start;
    }

    /// <remarks>
    /// The host binds port 0 and the test reads the port it got from its "Now listening on" line: a port picked here
    /// and released before the host binds it could be taken meanwhile, and the readiness probe would then find
    /// whatever else listens there.
    /// </remarks>
    private async Task LaunchAsync()
    {
        var start = NewStartInfo();
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add("http://127.0.0.1:0");
        start.Environment["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        process.OutputDataReceived += (_, e) => Remember(e.Data, listening);
        process.ErrorDataReceived += (_, e) => Remember(e.Data, listening);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process?.Dispose();
        _process = process;
        BaseAddress = await ListeningAddressAsync(process, listening.Task);
        Http.Dispose();
        Http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(20) };
        await WaitReadyAsync(process);
    }

    private async Task<Uri> ListeningAddressAsync(Process process, Task<Uri> listening)
    {
        var deadline = DateTime.UtcNow + ReadyTimeout;
        while (!listening.IsCompleted)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"the standalone host exited with {process.ExitCode} before it listened:\n{RecentOutput}");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the standalone host did not listen within {ReadyTimeout}:\n{RecentOutput}");
            }

            await Task.WhenAny(listening, Task.Delay(50));
        }

        return await listening;
    }

    private async Task WaitReadyAsync(Process process)
    {
        var deadline = DateTime.UtcNow + ReadyTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"the standalone host exited with {process.ExitCode} before it was ready:\n{RecentOutput}");
            }

            try
            {
                using var response = await Http.GetAsync("/readyz");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"the standalone host was not ready within {ReadyTimeout}:\n{RecentOutput}");
    }

    private void Remember(string? line, TaskCompletionSource<Uri> listening)
    {
        if (line is null)
        {
            return;
        }

        if (ListeningLine().Match(line) is { Success: true } match)
        {
            listening.TrySetResult(new Uri(match.Groups[1].Value + "/"));
        }

        _output.Enqueue(line);
        while (_output.Count > 200)
        {
            _output.TryDequeue(out _);
        }
    }

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningLine();

    public static byte[] Json(string text) => System.Text.Encoding.UTF8.GetBytes(text);

    public static string Serialize(JsonNode node) => node.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
}
