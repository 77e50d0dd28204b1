using Axentra.Audit.Tests.Support;
using Axentra.BuildingBlocks;
using Axentra.BuildingBlocks.Embedded;
using Axentra.BuildingBlocks.PubSub;
using Axentra.BuildingBlocks.Registry;
using Axentra.BuildingBlocks.State;
using Axentra.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Axentra.Audit.Tests.Writing;

/// <summary>
/// The audit subscriber behind the standalone host's real durable queue and dispatcher: retries with backoff while
/// the bucket is down, and a dead letter (recorded on the event) once the attempt budget is spent.
/// </summary>
public sealed class LocalQueueDeliveryTests : IAsyncDisposable
{
    private readonly TempDirectory _data = new();
    private IHost? _host;

    [Fact]
    public async Task A_bucket_that_stays_down_dead_letters_the_event_after_the_attempt_budget()
    {
        var host = await StartAsync(maxAttempts: 3);
        var envelope = Envelopes.For("""{"a":1}""", EventTypes.ProductCreate);
        BlockStoreFolder(envelope);

        await PublishAsync(host, envelope);

        var deadLettered = await WaitForStageAsync(host, envelope.EventId, EventRegistry.DeadLetterStage(PlatformNames.AppIds.Audit));
        Assert.Equal(3, deadLettered.Attempts);
        Assert.False(string.IsNullOrEmpty(deadLettered.Reason));
        Assert.Equal((State: 2L, Attempts: 3L), Delivery(host));
        Assert.DoesNotContain((await Registry(host).GetAsync(envelope.EventId, TestContext.Current.CancellationToken))!.Stages, s => s.Stage == Stages.Audited);
    }

    [Fact]
    public async Task A_bucket_that_recovers_within_the_budget_ends_with_the_event_audited_once()
    {
        var host = await StartAsync(maxAttempts: 50);
        var envelope = Envelopes.For("""{"a":2}""", EventTypes.ProductCreate);
        var blocker = BlockStoreFolder(envelope);

        await PublishAsync(host, envelope);
        await WaitUntilAsync(() => Delivery(host) is { Attempts: >= 2 });
        File.Delete(blocker);

        var audited = await WaitForStageAsync(host, envelope.EventId, Stages.Audited);
        Assert.Equal(envelope.S3Key, audited.S3Key);
        Assert.Equal(envelope.Payload, await File.ReadAllBytesAsync(
            Path.Combine(_data.Path, PlatformNames.Buckets.RawAudit, envelope.S3Key), TestContext.Current.CancellationToken));
        await WaitUntilAsync(() => Delivery(host) is null); // acknowledged: the queue holds nothing more for audit
    }

    private async Task<IHost> StartAsync(int maxAttempts)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true }); // no environment, no appsettings
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Standalone:Queue:MaxAttempts"] = maxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Standalone:Queue:InitialBackoff"] = "00:00:00.010",
            ["Standalone:Queue:MaxBackoff"] = "00:00:00.040",
        });
        builder.Services.AddEmbeddedBuildingBlocks(_data.Path, syncWrites: false, new HashSet<string>(), builder.Configuration.GetSection("Standalone:Queue"));
        builder.AddAudit();
        _host = builder.Build();
        await _host.StartAsync(TestContext.Current.CancellationToken);
        return _host;
    }

    /// <summary>Registers and publishes the event as intake does.</summary>
    private static async Task PublishAsync(IHost host, WebhookEnvelope envelope)
    {
        await Envelopes.RegisterAsync(host.Services.GetRequiredService<IStateStore>(), envelope);
        await host.Services.GetRequiredService<IMessagePublisher>().PublishAsync(
            PlatformNames.Topics.WebhookEvents, Envelopes.Serialize(envelope), TestContext.Current.CancellationToken);
    }

    /// <summary>A file where the event's store folder belongs: every write below it fails until it is removed.</summary>
    private string BlockStoreFolder(WebhookEnvelope envelope)
    {
        var bucket = Path.Combine(_data.Path, PlatformNames.Buckets.RawAudit);
        Directory.CreateDirectory(bucket);
        var blocker = Path.Combine(bucket, envelope.StoreId);
        File.WriteAllText(blocker, "in the way");
        return blocker;
    }

    private static EventRegistry Registry(IHost host) => host.Services.GetRequiredService<EventRegistry>();

    /// <summary>The audit subscriber's delivery row of the only message: (state, attempts), or null once acknowledged.</summary>
    private static (long State, long Attempts)? Delivery(IHost host) =>
        host.Services.GetRequiredService<EmbeddedDatabase>().Read(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT state, attempts FROM queue_deliveries WHERE subscriber = 'audit'";
            using var reader = command.ExecuteReader();
            return reader.Read() ? (reader.GetInt64(0), reader.GetInt64(1)) : ((long, long)?)null;
        });

    private static async Task<StageRecord> WaitForStageAsync(IHost host, string eventId, string stage)
    {
        StageRecord? found = null;
        var registry = host.Services.GetRequiredService<IStateStore>();
        await WaitUntilAsync(() =>
        {
            var entry = registry.GetAsync(RegistryKeys.Stage(eventId, stage), CancellationToken.None).AsTask().GetAwaiter().GetResult();
            found = entry is null ? null : System.Text.Json.JsonSerializer.Deserialize(entry.Value.Span, ContractsJsonContext.Default.StageRecord);
            return found is not null;
        });
        return found!;
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for the queue");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.StopAsync(CancellationToken.None);
            _host.Dispose();
        }

        _data.Dispose();
    }
}
