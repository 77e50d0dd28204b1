using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Axentra.BuildingBlocks;
using Axentra.BuildingBlocks.Bindings;
using Axentra.BuildingBlocks.PubSub;
using Axentra.BuildingBlocks.Registry;
using Axentra.Catalog.Domain;
using Axentra.Catalog.Projection;
using Axentra.Catalog.Validation;
using Axentra.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Axentra.Catalog.Tests.Support;

/// <summary>
/// The catalog as the hosts wire it (AddCatalog) over the real embedded adapters (SQLite state, file buckets) in
/// a temporary directory, with a recording publisher and a scripted stand-in for Ben's tables.
/// </summary>
internal sealed class CatalogHarness : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = new(2025, 12, 9, 16, 0, 0, TimeSpan.Zero);

    private readonly IHost _host;

    public CatalogHarness(ISourceOfTruth? sourceOfTruth = null, Action<IServiceCollection>? configure = null)
    {
        DataDirectory = Directory.CreateTempSubdirectory("axentra-catalog-tests-").FullName;
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<TimeProvider>(Time);
        builder.Services.AddEmbeddedBuildingBlocks(DataDirectory, syncWrites: false, new HashSet<string>());
        builder.AddCatalog(sourceOfTruthRequired: false);
        builder.Services.AddSingleton<IMessagePublisher>(Publisher);
        builder.Services.AddSingleton(sourceOfTruth ?? SourceOfTruth);
        configure?.Invoke(builder.Services);
        _host = builder.Build();
        Projector = _host.Services.GetRequiredService<CatalogProjector>();
        Registry = _host.Services.GetRequiredService<EventRegistry>();
        Processed = _host.Services.GetRequiredService<IObjectBuckets>().Open(PlatformNames.Buckets.Processed);
        RawAudit = _host.Services.GetRequiredService<IObjectBuckets>().Open(PlatformNames.Buckets.RawAudit);
    }

    public string DataDirectory { get; }

    public BuildingBlocks.State.IStateStore State => _host.Services.GetRequiredService<BuildingBlocks.State.IStateStore>();

    public FakeTimeProvider Time { get; } = new(Start);

    public RecordingPublisher Publisher { get; } = new();

    public ScriptedSourceOfTruth SourceOfTruth { get; } = new();

    public CatalogProjector Projector { get; }

    public EventRegistry Registry { get; }

    public IObjectBucket Processed { get; }

    public IObjectBucket RawAudit { get; }

    public IReadOnlyList<KbRefreshMessage> KbRefresh =>
        Publisher.On(PlatformNames.Topics.KbRefresh).Select(m => JsonSerializer.Deserialize(m, CatalogJsonContext.Default.KbRefreshMessage)!).ToList();

    public static WebhookEnvelope Envelope(
        string eventId, string eventType, string payload, string storeId = "s-1", string? productId = "p-1", int receivedMinute = 0, string? routingTarget = null) => new()
        {
            EventId = eventId,
            PayloadHash = new string('0', 64),
            EventType = eventType,
            StoreId = storeId,
            ProductId = productId,
            S3Key = $"{storeId}/{eventType}/2025/12/09/{eventId}.json",
            ReceivedAt = Start.AddMinutes(receivedMinute),
            DedupeKey = $"payload-hash:{eventId}",
            RoutingTarget = routingTarget,
            Payload = Encoding.UTF8.GetBytes(payload),
        };

    /// <summary>A seed-style product payload with an explicit updated_at (minutes after <see cref="Start"/>).</summary>
    public static string Product(string eventType, string name, int updatedMinute, double price = 10, string productId = "p-1", string storeId = "s-1") =>
        $$$"""{"event_type":"{{{eventType}}}","products":{"product_id":"{{{productId}}}","store_id":"{{{storeId}}}","name":"{{{name}}}","updated_at":"{{{Start.AddMinutes(updatedMinute):O}}}","product_variants":[{"price":{{{price.ToString(System.Globalization.CultureInfo.InvariantCulture)}}},"stock_quantity":3}]}}""";

    public ValueTask<DeliveryOutcome> DeliverAsync(WebhookEnvelope envelope, int attempt = 1) =>
        Projector.HandleAsync(JsonSerializer.SerializeToUtf8Bytes(envelope, ContractsJsonContext.Default.WebhookEnvelope), new DeliveryContext(envelope.EventId, attempt), CancellationToken.None);

    public async Task<string?> ReadAsync(string key) =>
        await Processed.GetAsync(key, CancellationToken.None) is { } bytes ? Encoding.UTF8.GetString(bytes) : null;

    public async Task<StageRecord?> StageAsync(string eventId, string stage)
    {
        var entry = await _host.Services.GetRequiredService<BuildingBlocks.State.IStateStore>().GetAsync(RegistryKeys.Stage(eventId, stage), CancellationToken.None);
        return entry is null ? null : JsonSerializer.Deserialize(entry.Value.Span, ContractsJsonContext.Default.StageRecord);
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }

        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Records every publish; can be told to fail the next publishes to a topic.</summary>
internal sealed class RecordingPublisher : IMessagePublisher
{
    private readonly ConcurrentQueue<(string Topic, byte[] Message)> _published = new();
    private readonly ConcurrentDictionary<string, int> _failures = new(StringComparer.Ordinal);

    public void FailNext(string topic, int times) => _failures[topic] = times;

    public IReadOnlyList<byte[]> On(string topic) => _published.Where(p => p.Topic == topic).Select(p => p.Message).ToList();

    public ValueTask PublishAsync(string topic, ReadOnlyMemory<byte> jsonMessage, CancellationToken cancellationToken)
    {
        if (_failures.TryGetValue(topic, out var left) && left > 0)
        {
            _failures[topic] = left - 1;
            throw new BackendUnavailableException($"topic {topic}", "injected failure");
        }

        _published.Enqueue((topic, jsonMessage.ToArray()));
        return ValueTask.CompletedTask;
    }
}

/// <summary>Ben's tables as a test says they are: known ids, or down.</summary>
internal sealed class ScriptedSourceOfTruth : ISourceOfTruth
{
    public HashSet<string> Stores { get; } = new(StringComparer.Ordinal);

    public HashSet<string> Products { get; } = new(StringComparer.Ordinal);

    public bool Consulted { get; set; } = true;

    public bool Down { get; set; }

    public string Describe(CatalogEntity entity) => entity == CatalogEntity.Store ? PlatformNames.Tables.Stores : PlatformNames.Tables.Products;

    public ValueTask<SourceOfTruthAnswer> LookupAsync(CatalogEntity entity, string id, CancellationToken cancellationToken)
    {
        if (Down)
        {
            throw new BackendUnavailableException(Describe(entity), "injected outage");
        }

        if (!Consulted)
        {
            return ValueTask.FromResult(SourceOfTruthAnswer.NotConsulted);
        }

        var known = entity == CatalogEntity.Store ? Stores : Products;
        return ValueTask.FromResult(known.Contains(id) ? SourceOfTruthAnswer.Found : SourceOfTruthAnswer.Absent);
    }
}
