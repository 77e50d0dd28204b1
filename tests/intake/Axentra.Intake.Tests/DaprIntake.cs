using Axentra.BuildingBlocks.Dapr;
using Axentra.Contracts;
using Axentra.TestSupport.Dapr;
using Dapr.Client;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Axentra.Intake.Tests;

/// <summary>
/// The distributed intake service (its real Program, Dapr adapters) on the in-process sidecar stand-in, which has
/// intake's components loaded: its DaprClient and its HTTP side (service invocation) are the app's.
/// </summary>
internal sealed class DaprIntake : IAsyncDisposable
{
    private DaprIntake(DaprSidecarStandIn sidecar, WebApplicationFactory<Program> app)
    {
        Sidecar = sidecar;
        App = app;
        Client = app.CreateClient();
    }

    public DaprSidecarStandIn Sidecar { get; }

    public WebApplicationFactory<Program> App { get; }

    public HttpClient Client { get; }

    /// <summary>Starts the sidecar stand-in and intake on it; <paramref name="services"/>, when given, replaces app services (a clock, say).</summary>
    public static async Task<DaprIntake> StartAsync(IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken, Action<IServiceCollection>? services = null)
    {
        var sidecar = await DaprSidecarStandIn.StartAsync(new DaprSidecarStandInOptions
        {
            AppId = PlatformNames.AppIds.Intake,
            StateStores = [PlatformNames.Components.RegistryStateStore],
            PubSubs = [PlatformNames.Components.PubSub],
        }, cancellationToken);
        var app = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseSetting("Intake:RateLimit:PermitsPerSecond", "0");
            builder.UseSetting("Logging:LogLevel:Default", "Warning");
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }

            builder.ConfigureTestServices(collection =>
            {
                collection.AddSingleton<DaprClient>(sidecar.Client);
                collection.AddHttpClient(DaprDirectDelivery.HttpClientName).ConfigurePrimaryHttpMessageHandler(sidecar.CreateHttpHandler);
                services?.Invoke(collection);
            });
        });
        return new DaprIntake(sidecar, app);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.DisposeAsync();
        await Sidecar.DisposeAsync();
    }
}
