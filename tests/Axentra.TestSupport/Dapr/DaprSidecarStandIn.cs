using Dapr.Client;
using Grpc.AspNetCore.Server.Model;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Axentra.TestSupport.Dapr;

/// <summary>
/// An in-process Dapr sidecar for adapter tests: Dapr's real gRPC API (<c>dapr.proto.runtime.v1.Dapr</c> from
/// Dapr.Protos) served by TestServer, with in-memory components that behave like state.aws.dynamodb,
/// bindings.aws.s3 and bindings.localstorage where the adapters can tell, plus fault injection and a record of
/// every call. <see cref="Client"/> is a real <see cref="DaprClient"/> wired to it. Its HTTP side serves Dapr's
/// service invocation to apps registered with <see cref="AddApp"/> (reach it with <see cref="CreateHttpHandler"/>).
/// </summary>
public sealed class DaprSidecarStandIn : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly DaprRuntimeService _runtime;
    private readonly ServiceInvocationEmulator _invocation;

    private DaprSidecarStandIn(WebApplication app, DaprRuntimeService runtime, ServiceInvocationEmulator invocation, DaprClient client)
    {
        _app = app;
        _runtime = runtime;
        _invocation = invocation;
        Client = client;
    }

    /// <summary>A DaprClient talking gRPC to this sidecar (cancellation surfaces as OperationCanceledException).</summary>
    public DaprClient Client { get; }

    public SidecarFaults Faults => _runtime.Faults;

    /// <summary>Every call answered so far, in completion order.</summary>
    public IReadOnlyList<SidecarCall> Calls => [.. _runtime.Calls];

    /// <summary>Messages the sidecar accepted (an injected failure before applying leaves none).</summary>
    public IReadOnlyList<PublishedMessage> Published => [.. _runtime.Published];

    /// <summary>Every InvokeBinding request received, including those that then failed.</summary>
    public IReadOnlyList<BindingInvocation> BindingInvocations => [.. _runtime.BindingInvocations];

    /// <summary>Every service invocation received over HTTP, as forwarded to the app (or refused), in completion order.</summary>
    public IReadOnlyList<ServiceInvocation> Invocations => [.. _invocation.Invocations];

    public static async Task<DaprSidecarStandIn> StartAsync(DaprSidecarStandInOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new DaprSidecarStandInOptions();
        var runtime = new DaprRuntimeService(options);
        var invocation = new ServiceInvocationEmulator(options.AppId);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(runtime);
        builder.Services.AddSingleton<IServiceMethodProvider<DaprRuntimeService>, DaprProtoMethodProvider>();
        var app = builder.Build();
        app.MapGrpcService<DaprRuntimeService>();
        invocation.Map(app);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);

        // Replacing the channel options drops the builder's own cancellation default, so it is set again here.
        var client = new DaprClientBuilder()
            .UseGrpcEndpoint("http://localhost")
            .UseGrpcChannelOptions(new GrpcChannelOptions
            {
                HttpHandler = app.GetTestServer().CreateHandler(),
                ThrowOperationCanceledOnCancellation = true,
            })
            .Build();
        return new DaprSidecarStandIn(app, runtime, invocation, client);
    }

    /// <summary>Makes <paramref name="appId"/> invocable: the sidecar forwards its invocations to <paramref name="app"/>.</summary>
    public void AddApp(string appId, HttpMessageHandler app) => _invocation.AddApp(appId, app);

    /// <summary>A handler that reaches the sidecar's HTTP API (service invocation), for the app's HttpClient.</summary>
    public HttpMessageHandler CreateHttpHandler() => _app.GetTestServer().CreateHandler();

    public int CallCount(string method) => _runtime.Calls.Count(c => c.Method == method);

    /// <summary>The keys as stored in the table, with the runtime's <c>{appId}||</c> prefix.</summary>
    public IReadOnlyCollection<string> StoredStateKeys(string storeName) => _runtime.StateStores[storeName].Keys;

    /// <summary>Runs DynamoDB's lazy TTL deletion now: expired items stop blocking first-writes.</summary>
    public int SweepExpiredState(string storeName) => _runtime.StateStores[storeName].SweepExpired();

    /// <summary>The absolute <c>rootPath</c> a localstorage binding reports in its answers and errors.</summary>
    public string LocalStorageRoot(string bindingName) => ((LocalStorageEmulator)_runtime.Bindings[bindingName]).RootPath;

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
