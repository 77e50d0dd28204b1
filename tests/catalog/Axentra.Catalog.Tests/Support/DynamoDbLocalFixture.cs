using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Containers;

namespace Axentra.Catalog.Tests.Support;

/// <summary>
/// A real DynamoDB Local for the adapter tests, found in this order: <c>AXENTRA_DYNAMODB_URL</c> (an endpoint
/// somebody already runs); a container through Testcontainers when a Docker engine answers; the DynamoDB Local jar
/// shipped in npm package <c>amplify-dynamodb-simulator</c> (<c>scripts/install-test-tools.sh</c> puts it in
/// <c>.tools/</c>; <c>AXENTRA_DYNAMODB_LOCAL_DIR</c> points elsewhere) run with <c>java</c> on a free loopback port.
/// With none of them the tests are skipped with the reason, never passed.
/// </summary>
/// <remarks>
/// Lives in the catalog test project because Axentra.TestSupport (the Dapr sidecar stand-in) is not on this
/// branch yet; it can move there unchanged.
/// </remarks>
public sealed class DynamoDbLocalFixture : IAsyncLifetime
{
    public const string StoresTable = "axentra-stores";
    public const string ProductsTable = "Product-kbtwy4tflncitfudusepuzm4nq-NONE";

    private IContainer? _container;
    private Process? _process;

    public string? ServiceUrl { get; private set; }

    /// <summary>Which of the three sources is in use, or why none is.</summary>
    public string Source { get; private set; } = "none";

    public string? SkipReason { get; private set; }

    public async ValueTask InitializeAsync()
    {
        var reasons = new List<string>();
        if (Environment.GetEnvironmentVariable("AXENTRA_DYNAMODB_URL") is { Length: > 0 } url)
        {
            (ServiceUrl, Source) = (url, "AXENTRA_DYNAMODB_URL");
        }
        else
        {
            reasons.Add("AXENTRA_DYNAMODB_URL is not set");
            ServiceUrl = await TryContainerAsync(reasons) ?? await TryJarAsync(reasons);
        }

        if (ServiceUrl is null)
        {
            SkipReason = "No DynamoDB Local available: " + string.Join("; ", reasons) + ". Run scripts/install-test-tools.sh (needs npm and java).";
            return;
        }

        using var client = Client();
        await CreateTableAsync(client, StoresTable, "store_id");
        await CreateTableAsync(client, ProductsTable, "productId");
    }

    public AmazonDynamoDBClient Client() =>
        new(new Amazon.Runtime.BasicAWSCredentials("test", "test"), new AmazonDynamoDBConfig { ServiceURL = ServiceUrl, AuthenticationRegion = "us-east-1" });

    public async ValueTask DisposeAsync()
    {
        if (_container is not null)
        {
            await _container.DisposeAsync();
        }

        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
    }

    private async Task<string?> TryContainerAsync(List<string> reasons)
    {
        if (Environment.GetEnvironmentVariable("DOCKER_HOST") is null && !File.Exists("/var/run/docker.sock"))
        {
            reasons.Add("no Docker engine (no DOCKER_HOST, no /var/run/docker.sock)");
            return null;
        }

        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            var container = new ContainerBuilder("amazon/dynamodb-local:2.5.2")
                .WithCommand("-jar", "DynamoDBLocal.jar", "-inMemory", "-sharedDb")
                .WithPortBinding(8000, assignRandomHostPort: true)
                .WithWaitStrategy(Wait.ForUnixContainer().UntilInternalTcpPortIsAvailable(8000))
                .Build();
            await container.StartAsync(timeout.Token);
            _container = container;
            Source = "Testcontainers";
            return $"http://{container.Hostname}:{container.GetMappedPublicPort(8000)}";
        }
#pragma warning disable CA1031 // any failure to start a container means "try the next source"
        catch (Exception ex)
#pragma warning restore CA1031
        {
            reasons.Add($"Docker did not give a container ({ex.GetType().Name}: {ex.Message.Split('\n')[0]})");
            return null;
        }
    }

    private async Task<string?> TryJarAsync(List<string> reasons)
    {
        var directory = Environment.GetEnvironmentVariable("AXENTRA_DYNAMODB_LOCAL_DIR") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Axentra.TestSupport.RepositoryRoot.Path, ".tools", "node_modules", "amplify-dynamodb-simulator");
        var emulator = File.Exists(Path.Combine(directory, "DynamoDBLocal.jar")) ? directory : Path.Combine(directory, "emulator");
        if (!File.Exists(Path.Combine(emulator, "DynamoDBLocal.jar")))
        {
            reasons.Add($"no DynamoDBLocal.jar under {directory}");
            return null;
        }

        // The port is picked, released, then bound by java: another process may take it in between. DynamoDB Local
        // then prints "Failed to bind" and its JVM stays up, and a connection to the port reaches the other process.
        // So the server only counts once it answers a DynamoDB request, and a start that could not bind is tried
        // again on another port.
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var port = FreePort();
            try
            {
                _process = Process.Start(new ProcessStartInfo("java", ["-Djava.library.path=./DynamoDBLocal_lib", "-jar", "DynamoDBLocal.jar", "-inMemory", "-sharedDb", "-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)])
                {
                    WorkingDirectory = emulator,
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    UseShellExecute = false,
                });
            }
            catch (System.ComponentModel.Win32Exception ex)
            {
                reasons.Add($"cannot run java ({ex.Message})");
                return null;
            }

            var bindFailed = false;
            DataReceivedEventHandler watch = (_, e) => bindFailed |= e.Data?.Contains("Failed to bind", StringComparison.Ordinal) == true;
            _process!.OutputDataReceived += watch;
            _process.ErrorDataReceived += watch;
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();

            var url = $"http://127.0.0.1:{port}";
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (DateTime.UtcNow < deadline && !_process.HasExited && !bindFailed)
            {
                if (await AnswersAsync(url))
                {
                    await Task.Delay(300); // an answer from a server that took the port first, before java said it could not bind
                    if (bindFailed)
                    {
                        break;
                    }

                    Source = $"DynamoDB Local jar (pid {_process.Id})";
                    return url;
                }

                await Task.Delay(100);
            }

            if (!bindFailed && !_process.HasExited)
            {
                reasons.Add("DynamoDB Local did not answer within 30 s");
                return null;
            }

            reasons.Add(bindFailed ? $"DynamoDB Local could not bind port {port} (attempt {attempt})" : $"java exited with {_process.ExitCode}");
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            _process.Dispose();
            _process = null;
        }

        return null;
    }

    /// <summary>Whether <paramref name="url"/> answers a DynamoDB <c>ListTables</c>, not merely accepts connections.</summary>
    private static async Task<bool> AnswersAsync(string url)
    {
        using var client = new AmazonDynamoDBClient(
            new Amazon.Runtime.BasicAWSCredentials("test", "test"),
            new AmazonDynamoDBConfig { ServiceURL = url, AuthenticationRegion = "us-east-1", MaxErrorRetry = 0, Timeout = TimeSpan.FromSeconds(2) });
        try
        {
            await client.ListTablesAsync(new ListTablesRequest());
            return true;
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TimeoutException or OperationCanceledException or Amazon.Runtime.AmazonServiceException or Amazon.Runtime.AmazonClientException)
        {
            return false;
        }
    }

    private static async Task CreateTableAsync(AmazonDynamoDBClient client, string table, string key)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await client.CreateTableAsync(new CreateTableRequest
                {
                    TableName = table,
                    KeySchema = [new KeySchemaElement(key, KeyType.HASH)],
                    AttributeDefinitions = [new AttributeDefinition(key, ScalarAttributeType.S)],
                    BillingMode = BillingMode.PAY_PER_REQUEST,
                });
                return;
            }
            catch (ResourceInUseException)
            {
                return; // an endpoint shared with other runs already has it
            }
            catch (Exception ex) when (attempt < 50 && ex is HttpRequestException or Amazon.Runtime.AmazonServiceException)
            {
                await Task.Delay(100); // the server listens a moment before it answers
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
