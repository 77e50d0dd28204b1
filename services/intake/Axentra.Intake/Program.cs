using Axentra.BuildingBlocks;
using Axentra.BuildingBlocks.Dapr;
using Axentra.Contracts;
using Axentra.Intake.Apis;
using Axentra.ServiceDefaults;

namespace Axentra.Intake;

/// <summary>
/// The distributed intake service: Dapr adapters, credentials required; the ops edge, and the subscriber of the
/// dead-letter topics (the dead letters' ops API).
/// </summary>
public sealed class Program
{
    /// <returns>0, or 78 when a setting is refused at start (<see cref="ConfigurationRefusal"/>), which also covers building
    /// the host and mapping its endpoints.</returns>
    public static Task<int> Main(string[] args) => ConfigurationRefusal.RunOrRefuseAsync(() => RunAsync(args));

    private static async Task RunAsync(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddServiceDefaults(PlatformNames.AppIds.Intake);
        builder.Services.AddDaprBuildingBlocks(builder.Configuration);
        builder.AddIntake(requireCredentials: true);
        builder.AddRegistryDeadLetters();
        builder.Services.AddOpenApi(options => options.AddIntakeSecurity());
        builder.Services.AddOpsEdgeProxy(builder.Configuration);

        var app = builder.Build();
        app.UseServiceDefaults();
        app.UseDaprAppToken(path => path.StartsWithSegments("/dapr")); // the subscription routes; the rest is the public edge
        app.UseOpsEdge();
        app.UseDaprSubscriptionCloudEvents(); // only the subscription routes: a webhook is never unwrapped
        app.MapDefaultEndpoints();
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapIntake();
        app.MapDaprSubscribers(PlatformNames.Components.PubSub);
        app.MapReverseProxy();
        await app.RunAsync().ConfigureAwait(false);
    }
}
