using Axentra.Audit;
using Axentra.BuildingBlocks;
using Axentra.BuildingBlocks.Embedded;
using Axentra.Catalog;
using Axentra.Contracts;
using Axentra.Intake;
using Axentra.ServiceDefaults;

namespace Axentra.Standalone;

/// <summary>All three services in one process on embedded adapters (design.md §2, "standalone").</summary>
public sealed class Program
{
    public static async Task Main(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"])
            && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_HTTP_PORTS"]))
        {
            builder.WebHost.UseUrls("http://localhost:8080");
        }

        var dataDirectory = Path.GetFullPath(builder.Configuration["Standalone:DataDir"] ?? "./data");
        Directory.CreateDirectory(dataDirectory);
        StandaloneCredentials.Provision(builder.Configuration, dataDirectory, Console.Out);

        builder.AddServiceDefaults("axentra-standalone");
        builder.Services.AddEmbeddedBuildingBlocks(
            dataDirectory,
            syncWrites: builder.Configuration.GetValue("Standalone:SyncWrites", false),
            mirroredTopics: new HashSet<string>(StringComparer.Ordinal) { PlatformNames.Topics.KbRefresh },
            builder.Configuration.GetSection("Standalone:Queue"));
        builder.Services.AddHealthChecks().AddCheck<EmbeddedDatabaseHealthCheck>("embedded-database", tags: [ServiceDefaultsExtensions.ReadyTag]);
        builder.AddIntake(requireCredentials: false);
        builder.AddAudit();
        builder.AddCatalog(sourceOfTruthRequired: false);
        builder.Services.AddOpenApi();

        var app = builder.Build();
        app.UseServiceDefaults();
        app.UseOpsEdge();
        app.MapDefaultEndpoints();
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapIntake();

        // The ops routes below sit behind UseOpsEdge: ops credential, rate limit and access log, as in the
        // distributed edge.
        app.MapDeadLettersApi();
        app.MapAudit();
        app.MapCatalog();
        app.Lifetime.ApplicationStarted.Register(() =>
            app.Logger.LogInformation("Axentra standalone host ready on {Urls}; data in {DataDirectory}", string.Join(", ", app.Urls), dataDirectory));
        await app.RunAsync().ConfigureAwait(false);
    }
}
