using Axentra.BuildingBlocks.Bindings;
using Axentra.BuildingBlocks.Dapr;
using Axentra.BuildingBlocks.Embedded;
using Axentra.BuildingBlocks.PubSub;
using Axentra.BuildingBlocks.State;
using Axentra.BuildingBlocks.Telemetry;
using Axentra.Contracts;
using Dapr.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Axentra.BuildingBlocks;

public static class BuildingBlocksServiceCollectionExtensions
{
    /// <summary>
    /// The distributed adapters: state, pub/sub and bucket bindings through the Dapr sidecar. Component names
    /// default to <see cref="PlatformNames.Components"/>; bucket bindings are configured under
    /// <c>Dapr:Buckets:{bucket}:Binding</c> and <c>:Type</c> (<c>bindings.aws.s3</c> or <c>bindings.localstorage</c>).
    /// </summary>
    public static IServiceCollection AddDaprBuildingBlocks(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddDaprClient();
        // Readiness: the sidecar answers and has the state store and pub/sub loaded (bindings are per app).
        services.AddHealthChecks().Add(new HealthCheckRegistration(
            "dapr-sidecar",
            sp => new DaprSidecarHealthCheck(sp.GetRequiredService<DaprClient>(), [
                configuration["Dapr:StateStore"] ?? PlatformNames.Components.RegistryStateStore,
                configuration["Dapr:PubSub"] ?? PlatformNames.Components.PubSub]),
            HealthStatus.Unhealthy,
            [HealthTags.Ready]));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<Registry.EventRegistry>();
        services.AddSingleton<IStateStore>(sp => new DaprStateStore(
            sp.GetRequiredService<DaprClient>(), configuration["Dapr:StateStore"] ?? PlatformNames.Components.RegistryStateStore));
        services.AddSingleton<IMessagePublisher>(sp => new DaprMessagePublisher(
            sp.GetRequiredService<DaprClient>(), configuration["Dapr:PubSub"] ?? PlatformNames.Components.PubSub));
        services.AddSingleton<IObjectBuckets>(sp =>
        {
            var bindings = new Dictionary<string, (string, BucketBindingType)>(StringComparer.Ordinal)
            {
                [configuration["Buckets:RawAudit"] ?? PlatformNames.Buckets.RawAudit] = Binding(configuration, "RawAudit", PlatformNames.Components.RawAuditBucketBinding),
                [configuration["Buckets:Processed"] ?? PlatformNames.Buckets.Processed] = Binding(configuration, "Processed", PlatformNames.Components.ProcessedBucketBinding),
            };
            return new DaprObjectBuckets(sp.GetRequiredService<DaprClient>(), bindings);
        });
        services.AddHttpClient(DaprDirectDelivery.HttpClientName, client => client.BaseAddress = DaprDirectDelivery.SidecarHttpEndpoint(configuration));
        services.AddSingleton<IDirectDelivery, DaprDirectDelivery>();
        services.AddSingleton<DeliveryTelemetry>();
        services.AddAdapterInstrumentation();
        return services;
    }

    private static (string, BucketBindingType) Binding(IConfiguration configuration, string bucket, string defaultBinding)
    {
        var type = configuration[$"Dapr:Buckets:{bucket}:Type"] ?? "bindings.aws.s3";
        return (configuration[$"Dapr:Buckets:{bucket}:Binding"] ?? defaultBinding, type switch
        {
            "bindings.aws.s3" => BucketBindingType.AwsS3,
            "bindings.localstorage" => BucketBindingType.LocalStorage,
            _ => throw new InvalidOperationException($"Dapr:Buckets:{bucket}:Type '{type}' is not supported (bindings.aws.s3, bindings.localstorage)."),
        });
    }

    /// <summary>
    /// The standalone adapters: SQLite state and durable queue in <c>{dataDirectory}/axentra.db</c>, buckets as
    /// directories, and mirrored topics appended to <c>{dataDirectory}/topics/{topic}.jsonl</c>.
    /// </summary>
    public static IServiceCollection AddEmbeddedBuildingBlocks(
        this IServiceCollection services, string dataDirectory, bool syncWrites, IReadOnlySet<string> mirroredTopics, IConfiguration? queueConfiguration = null)
    {
        services.TryAddSingleton(TimeProvider.System);
        var queueOptions = services.AddOptions<LocalPubSubOptions>();
        if (queueConfiguration is not null)
        {
            queueOptions.Bind(queueConfiguration);
        }

        queueOptions.ValidateDataAnnotations().ValidateOnStart();

        services.AddSingleton(sp => new EmbeddedDatabase(
            Path.Combine(dataDirectory, EmbeddedDatabase.FileName), syncWrites, sp.GetRequiredService<ILogger<EmbeddedDatabase>>()));
        services.AddSingleton<SqliteStateStore>();
        services.AddSingleton<IStateStore>(sp => sp.GetRequiredService<SqliteStateStore>());
        services.AddSingleton(sp => new LocalPubSub(
            sp.GetRequiredService<EmbeddedDatabase>(), sp.GetRequiredService<TimeProvider>(), HandlersOf(sp)));
        services.AddSingleton<ITransactionalOutbox, EmbeddedOutbox>();
        services.AddSingleton<LocalDeadLetters>();
        services.AddSingleton<IDeadLetters>(sp => sp.GetRequiredService<LocalDeadLetters>());
        services.AddSingleton<IMessagePublisher>(sp => new TopicFileMirror(sp.GetRequiredService<LocalPubSub>(), dataDirectory, mirroredTopics));
        services.AddSingleton<IObjectBuckets>(new FileObjectBuckets(dataDirectory, syncWrites));
        services.AddSingleton<Registry.EventRegistry>();
        services.AddSingleton<IDeadLetterRecorder>(sp => sp.GetRequiredService<Registry.EventRegistry>());
        services.AddSingleton<DeliveryTelemetry>();
        services.TryAddSingleton<DeadLetterMetrics>();
        services.AddSingleton<LocalQueueMetrics>();
        services.AddSingleton<IHostedService, LocalPubSubDispatcher>();
        services.AddHostedService<ExpiredStateSweeper>();
        services.AddAdapterInstrumentation();
        return services;
    }

    /// <summary>The registered subscribers, resolved only when enumerated (see <see cref="LocalPubSub"/>).</summary>
    private static IEnumerable<IMessageHandler> HandlersOf(IServiceProvider services)
    {
        foreach (var handler in services.GetServices<IMessageHandler>())
        {
            yield return handler;
        }
    }
}
