using Axentra.BuildingBlocks;
using Axentra.Contracts;
using Axentra.Intake.Apis;
using Axentra.ServiceDefaults;

namespace Axentra.Intake;

/// <summary>The distributed intake service: Dapr adapters, credentials required.</summary>
public sealed class Program
{
    public static async Task Main(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddServiceDefaults(PlatformNames.AppIds.Intake);
        builder.Services.AddDaprBuildingBlocks(builder.Configuration);
        builder.AddIntake(requireCredentials: true);
        builder.Services.AddOpenApi();
        builder.Services.AddOpsEdgeProxy(builder.Configuration);

        var app = builder.Build();
        app.UseServiceDefaults();
        app.UseOpsEdge();
        app.MapDefaultEndpoints();
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapIntake();
        app.MapReverseProxy();
        await app.RunAsync().ConfigureAwait(false);
    }
}
