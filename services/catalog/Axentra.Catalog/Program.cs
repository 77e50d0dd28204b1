using Axentra.BuildingBlocks;
using Axentra.BuildingBlocks.Dapr;
using Axentra.Contracts;
using Axentra.ServiceDefaults;

namespace Axentra.Catalog;

/// <summary>The distributed catalog service: Dapr adapters, a subscription to webhook-events, Ben's tables consulted.</summary>
public sealed class Program
{
    /// <returns>0, or 78 when a setting is refused at start (<see cref="ConfigurationRefusal"/>), which also covers building
    /// the host and mapping its endpoints.</returns>
    public static Task<int> Main(string[] args) => ConfigurationRefusal.RunOrRefuseAsync(() => RunAsync(args));

    private static async Task RunAsync(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddServiceDefaults(PlatformNames.AppIds.Catalog);
        builder.Services.AddDaprBuildingBlocks(builder.Configuration);
        builder.AddCatalog(sourceOfTruthRequired: true);
        builder.Services.AddOpenApi();

        var app = builder.Build();
        app.UseServiceDefaults();
        app.UseDaprAppToken(path => !ServiceDefaultsExtensions.IsOperationalPath(path)); // only the sidecar (and probes, Prometheus) call this app
        app.UseDaprSubscriptionCloudEvents(); // Dapr delivers CloudEvents; the handler reads their data (the envelope) and id
        app.MapDefaultEndpoints();
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapDaprSubscribers(PlatformNames.Components.PubSub);
        app.MapCatalog();
        await app.RunAsync().ConfigureAwait(false);
    }
}
