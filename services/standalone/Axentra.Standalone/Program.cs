using Axentra.Audit;
using Axentra.BuildingBlocks;
using Axentra.BuildingBlocks.Embedded;
using Axentra.Catalog;
using Axentra.Contracts;
using Axentra.Intake;
using Axentra.Intake.Apis;
using Axentra.ServiceDefaults;

namespace Axentra.Standalone;

/// <summary>All three services in one process on embedded adapters (design.md §2, "standalone").</summary>
public sealed partial class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == ReplayCommand.Name)
        {
            return await ReplayCommand.RunAsync(args[1..]).ConfigureAwait(false);
        }

        // Anywhere on the line: "--urls=… --help" must print the usage, not start the pipeline and generate keys.
        if ((args.Length > 0 && args[0] == "help") || AsksForHelp(args))
        {
            await Console.Out.WriteAsync(Usage).ConfigureAwait(false);
            return 0;
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
        return await ConfigurationRefusal.RunOrRefuseAsync(() => app.RunAsync()).ConfigureAwait(false);
    }

    private const string Usage = """
        Axentra standalone host: intake, audit and catalog in one process, on SQLite and the file system.

        usage: axentra-standalone [--key=value ...]             run the pipeline (dotnet run --project services/standalone/Axentra.Standalone -- [--key=value ...])
               axentra-standalone replay --from yyyy-MM-dd --to yyyy-MM-dd [--store STORE_ID] [--recompute true]
                                                                re-apply the audit trail to the catalogs (UTC days of receipt), then exit
               axentra-standalone --help                        this text

        Settings (command line, environment with __ for :, or appsettings.json):
          --urls=http://localhost:8080          where to listen (default http://localhost:8080)
          --Standalone:DataDir=./data           the data directory: database, buckets, topics, generated credentials
          --Standalone:Queue:Deliver=false      hold deliveries: webhooks are accepted and queued, nothing is delivered
          --Intake:Auth:ApiKeys:0=KEY           a webhook sender's key; with any sender credential configured, the
                                                generated one in <data>/credentials/webhook-api-key is not used
          --Ops:Auth:ApiKeys:0=KEY              an ops key (else one is generated in <data>/credentials/ops-api-key)
          --Standalone:SyncWrites=true          fsync every commit and object: survive power loss, not only kill -9
          --Standalone:Queue:MaxAttempts=20     deliveries per subscriber before a message is dead-lettered
          --Standalone:Queue:InitialBackoff=00:00:00.5, --Standalone:Queue:MaxBackoff=00:01:00
                                                the retry backoff's bounds (exponential, with jitter)
          --Intake:RateLimit:PermitsPerSecond=2000
                                                webhooks per second per credential (0 = no limit); Intake:RateLimit:Burst
          --Intake:DedupeWindow=1.00:00:00      how long a redelivery is answered as a duplicate

        All settings: docs/intake.md ("Configuration"), docs/operations.md, docs/audit.md, docs/catalog.md, README.md.

        """;

    /// <summary>
    /// The data directory holds every payload the host received (the raw audit trail): created readable by its owner
    /// only, whatever the umask. An existing directory keeps the mode it has (it may be shared on purpose), with a
    /// warning when others can enter it.
    /// </summary>
    private static void CreatePrivateDirectory(string path)
    {
        if (Directory.Exists(path))
        {
            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & (UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0)
            {
                Console.WriteLine($"Warning: the data directory {path} can be entered by other users, and it holds every payload received; "
                    + $"make it private with: chmod 700 {path}");
            }

            return;
        }

        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    /// <summary>A help switch anywhere on the line (the server's and the commands' alike).</summary>
    internal static bool AsksForHelp(string[] args) => args.Any(a => a is "--help" or "-h" or "-?");

    /// <summary>The three services on the embedded adapters: the same wiring for the server and the CLI commands.</summary>
    internal static (WebApplicationBuilder Builder, string DataDirectory) CreateBuilder(string[] args, bool provisionCredentials, bool createDataDirectory = true)
    {
        // No reload of appsettings on change: it would watch the content root (the caller's directory) recursively,
        // and ./data, where every webhook writes files, is usually inside it (docs/performance.md).
        // First, not last: a switch given without a value at the end of the line would take it as its value.
        var builder = WebApplication.CreateBuilder(["--hostBuilder:reloadConfigOnChange=false", .. args]);
        var dataDirectory = Path.GetFullPath(builder.Configuration["Standalone:DataDir"] ?? "./data");
        if (createDataDirectory)
        {
            CreatePrivateDirectory(dataDirectory);
        }
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
        builder.Services.AddOpenApi(options => options.AddIntakeSecurity());
        return (builder, dataDirectory);
    }
}
