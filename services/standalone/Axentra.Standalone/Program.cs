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
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == ReplayCommand.Name)
        {
            return await ReplayCommand.RunAsync(args[1..]).ConfigureAwait(false);
        }

        var (builder, dataDirectory) = CreateBuilder(args, provisionCredentials: true);
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"])
            && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_HTTP_PORTS"]))
        {
            builder.WebHost.UseUrls("http://localhost:8080");
        }

        var app = builder.Build();
        app.UseServiceDefaults();
        app.UseOpsEdge();
        app.MapDefaultEndpoints();
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapIntake();

        // The ops routes below (and intake's /events and /admin/dead-letters) sit behind UseOpsEdge: ops credential,
        // rate limit and access log, as in the distributed edge.
        app.MapAudit();
        app.MapCatalog();
        app.Lifetime.ApplicationStarted.Register(() =>
            app.Logger.LogInformation("Axentra standalone host ready on {Urls}; data in {DataDirectory}", string.Join(", ", app.Urls), dataDirectory));
        await app.RunAsync().ConfigureAwait(false);
        return 0;
    }

    /// <summary>The three services on the embedded adapters: the same wiring for the server and the CLI commands.</summary>
    internal static (WebApplicationBuilder Builder, string DataDirectory) CreateBuilder(string[] args, bool provisionCredentials)
    {
        // No reload of appsettings on change: it would watch the content root (the caller's directory) recursively,
        // and ./data, where every webhook writes files, is usually inside it (docs/performance.md).
        var builder = WebApplication.CreateBuilder([.. args, "--hostBuilder:reloadConfigOnChange=false"]);
        var dataDirectory = Path.GetFullPath(builder.Configuration["Standalone:DataDir"] ?? "./data");
        Directory.CreateDirectory(dataDirectory);
        if (provisionCredentials)
        {
            StandaloneCredentials.Provision(builder.Configuration, dataDirectory, Console.Out);
        }

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
        return (builder, dataDirectory);
    }
}
