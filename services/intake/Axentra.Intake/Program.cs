using Axentra.BuildingBlocks;
using Axentra.Contracts;
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

        var app = builder.Build();
        app.UseServiceDefaults();
        app.MapDefaultEndpoints();
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapIntake();
        await app.RunAsync().ConfigureAwait(false);
    }
}
