using Amazon.DynamoDBv2;
using Axentra.BuildingBlocks.PubSub;
using Axentra.Catalog.Apis;
using Axentra.Catalog.Projection;
using Axentra.Catalog.Validation;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Axentra.Catalog;

/// <summary>
/// Wires the catalog into a host: the distributed service (Dapr adapters) and the standalone host (embedded
/// ones) call the same two methods. The building blocks (state, pub/sub, buckets, registry) must be added first.
/// </summary>
public static class CatalogModule
{
    /// <param name="builder">The host being built.</param>
    /// <param name="sourceOfTruthRequired">
    /// True for the distributed service: Ben's tables are always consulted. The standalone host consults them only
    /// when an endpoint is configured (<c>Catalog:Validation:ServiceUrl</c>, e.g. DynamoDB Local) or
    /// <c>Catalog:Validation:Enabled</c> is true, and otherwise validates against our buckets alone, saying so at start-up.
    /// </param>
    public static IHostApplicationBuilder AddCatalog(this IHostApplicationBuilder builder, bool sourceOfTruthRequired = true)
    {
        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<CatalogBucketOptions>().BindConfiguration("Buckets").ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ValidationOptions>().BindConfiguration(ValidationOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        var validation = builder.Configuration.GetSection(ValidationOptions.Section);
        var consult = validation.GetValue<bool?>(nameof(ValidationOptions.Enabled))
            ?? (sourceOfTruthRequired || !string.IsNullOrEmpty(validation[nameof(ValidationOptions.ServiceUrl)]));
        if (consult)
        {
            services.TryAddSingleton<IAmazonDynamoDB>(sp => DynamoDbSourceOfTruth.CreateClient(sp.GetRequiredService<IOptions<ValidationOptions>>().Value));
            services.AddSingleton<ISourceOfTruth, DynamoDbSourceOfTruth>();
        }
        else
        {
            services.AddSingleton<ISourceOfTruth, UnconsultedSourceOfTruth>();
        }

        services.AddHostedService<ValidationStartupReport>();
        services.AddSingleton<CatalogMetrics>();
        services.AddSingleton<ExistenceValidator>();
        services.AddSingleton(sp => new CatalogEntries(
            sp.GetRequiredService<BuildingBlocks.State.IStateStore>(),
            sp.GetRequiredService<BuildingBlocks.Bindings.IObjectBuckets>().Open(sp.GetRequiredService<IOptions<CatalogBucketOptions>>().Value.Processed),
            sp.GetRequiredService<CatalogMetrics>()));
        services.AddSingleton<KbRefreshAnnouncer>();
        services.AddSingleton<CatalogProjection>();
        services.AddSingleton<CatalogProjector>();
        services.AddSingleton<IMessageHandler>(sp => sp.GetRequiredService<CatalogProjector>());
        services.AddSingleton<Replay.CatalogReplay>();
        return builder;
    }

    /// <summary>Maps the ops read API; the returned group lets the host put the ops credential check in front of it.</summary>
    public static RouteGroupBuilder MapCatalog(this IEndpointRouteBuilder endpoints) => endpoints.MapCatalogApi();
}

/// <summary>Says at start-up what validation will be checked against, so nobody assumes Ben's tables are consulted when they are not.</summary>
internal sealed partial class ValidationStartupReport(ISourceOfTruth sourceOfTruth, IOptions<ValidationOptions> options, ILogger<ValidationStartupReport> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (sourceOfTruth is UnconsultedSourceOfTruth)
        {
            LogFallbackOnly();
        }
        else
        {
            LogConsulted(options.Value.StoresTable, options.Value.ProductsTable, options.Value.ServiceUrl ?? "AWS");
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Catalog validation: Ben's tables are not configured (no Catalog:Validation:ServiceUrl); stores and products are validated against our own buckets only, and an event's misses are counted and recorded on the event, not logged per event")]
    private partial void LogFallbackOnly();

    [LoggerMessage(Level = LogLevel.Information, Message = "Catalog validation: Ben's tables {StoresTable} and {ProductsTable} at {Endpoint}, falling back to our buckets")]
    private partial void LogConsulted(string storesTable, string productsTable, string endpoint);
}
