using System.Diagnostics.Metrics;
using Axentra.Audit.Writing;
using Axentra.BuildingBlocks.Bindings;
using Axentra.BuildingBlocks.Embedded;
using Axentra.BuildingBlocks.PubSub;
using Axentra.BuildingBlocks.Registry;
using Axentra.BuildingBlocks.State;
using Axentra.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Axentra.Audit.Tests.Support;

/// <summary>
/// The real <see cref="RawAuditWriter"/> over real adapters (files + SQLite, or the Dapr ones against the sidecar
/// stand-in), with its metrics recorded.
/// </summary>
internal sealed class AuditRig : IAsyncDisposable
{
    private readonly ServiceProvider _metricsServices;
    private readonly IAsyncDisposable? _owned;
    private int _messages;

    private AuditRig(IObjectBuckets buckets, IStateStore state, IAsyncDisposable? owned)
    {
        _owned = owned;
        _metricsServices = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meterFactory = _metricsServices.GetRequiredService<IMeterFactory>();
        Metrics = new MetricRecorder(meterFactory);
        State = state;
        Registry = new EventRegistry(state, TimeProvider.System);
        Bucket = buckets.Open(PlatformNames.Buckets.RawAudit);
        Writer = new RawAuditWriter(buckets, Registry, new AuditMetrics(meterFactory), Options.Create(new AuditOptions()), TimeProvider.System, NullLogger<RawAuditWriter>.Instance);
    }

    public IStateStore State { get; }

    public EventRegistry Registry { get; }

    public IObjectBucket Bucket { get; }

    public RawAuditWriter Writer { get; }

    public MetricRecorder Metrics { get; }

    /// <summary>Set for the embedded rig: the data directory holding <c>axentra-webhook-raw-audit/</c>.</summary>
    public TempDirectory? Data { get; private init; }

    public static AuditRig Embedded()
    {
        var data = new TempDirectory();
        var database = new EmbeddedDatabase(Path.Combine(data.Path, "axentra.db"), synchronousFull: false, NullLogger<EmbeddedDatabase>.Instance);
        return new AuditRig(new FileObjectBuckets(data.Path, fsync: false), new SqliteStateStore(database, TimeProvider.System), database) { Data = data };
    }

    public static AuditRig Over(IObjectBuckets buckets, IStateStore state) => new(buckets, state, owned: null);

    /// <summary>Where the embedded bucket keeps <paramref name="key"/> on disk.</summary>
    public string FileOf(string key) => Path.Combine(Data!.Path, PlatformNames.Buckets.RawAudit, key);

    public ValueTask<DeliveryOutcome> DeliverAsync(WebhookEnvelope envelope, int attempt = 1) =>
        DeliverAsync(Envelopes.Serialize(envelope), attempt);

    public ValueTask<DeliveryOutcome> DeliverAsync(byte[] message, int attempt = 1) =>
        Writer.HandleAsync(message, new DeliveryContext($"m-{Interlocked.Increment(ref _messages)}", attempt), TestContext.Current.CancellationToken);

    public async Task<StageRecord?> StageAsync(string eventId, string stage)
    {
        var entry = await State.GetJsonAsync(RegistryKeys.Stage(eventId, stage), ContractsJsonContext.Default.StageRecord, TestContext.Current.CancellationToken);
        return entry?.Value;
    }

    /// <summary>The audit subscriber's dead-letter record of the event, or null.</summary>
    public Task<StageRecord?> DeadLetterAsync(string eventId) => StageAsync(eventId, EventRegistry.DeadLetterStage(PlatformNames.AppIds.Audit));

    public async ValueTask DisposeAsync()
    {
        Metrics.Dispose();
        await _metricsServices.DisposeAsync();
        if (_owned is not null)
        {
            await _owned.DisposeAsync();
        }

        Data?.Dispose();
    }
}
