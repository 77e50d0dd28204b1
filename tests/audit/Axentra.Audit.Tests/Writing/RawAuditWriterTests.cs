using System.Text;
using Axentra.Audit.Tests.Support;
using Axentra.BuildingBlocks.PubSub;
using Axentra.Contracts;

namespace Axentra.Audit.Tests.Writing;

/// <summary>The writer on the standalone adapters: files for the bucket, SQLite for the registry.</summary>
public sealed class RawAuditWriterTests : IAsyncLifetime
{
    private readonly AuditRig _rig = AuditRig.Embedded();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _rig.DisposeAsync();

    [Fact]
    public async Task A_payload_is_written_byte_for_byte_at_its_key_and_the_event_reported_audited()
    {
        var payload = Encoding.UTF8.GetBytes("{ \"event_type\" : \"new_product\",\n  \"products\": {\"name\":\"Vitamin D3 \\u2013 5000 IU\"} }\n");
        var envelope = Envelopes.For(payload, EventTypes.ProductCreate);

        Assert.Equal(DeliveryOutcome.Success, await _rig.DeliverAsync(envelope));

        Assert.Equal(payload, await File.ReadAllBytesAsync(_rig.FileOf(envelope.S3Key), TestContext.Current.CancellationToken));
        var audited = await _rig.StageAsync(envelope.EventId, Stages.Audited);
        Assert.Equal(envelope.S3Key, audited!.S3Key);
        Assert.Equal(1, _rig.Metrics["axentra.audit.writes"]);
        Assert.Equal(0, _rig.Metrics["axentra.audit.duplicates"]);
        Assert.Equal(1, _rig.Metrics["axentra.audit.bucket.duration"]); // one create-if-absent
    }

    [Fact]
    public async Task A_store_create_gets_its_metadata_file_beside_the_payload()
    {
        var envelope = Envelopes.For("""{"event_type":"new_store","store_id":"223e4567-e89b-12d3-a456-426614174000","store_domain":"sunrise-wellness.myshopify.com"}""",
            EventTypes.StoreCreate);

        Assert.Equal(DeliveryOutcome.Success, await _rig.DeliverAsync(envelope));

        var metadataKey = StorageKeys.RawAuditMetadata(envelope.S3Key);
        Assert.EndsWith($"/{envelope.EventId}.metadata.json", metadataKey, StringComparison.Ordinal);
        Assert.Equal(
            """{"metadataAttributes":{"store":"sunrise-wellness.myshopify.com","store_id":"223e4567-e89b-12d3-a456-426614174000"}}""",
            await File.ReadAllTextAsync(_rig.FileOf(metadataKey), TestContext.Current.CancellationToken));
        Assert.Equal(2, _rig.Metrics["axentra.audit.writes"]);
    }

    [Fact]
    public async Task Redelivery_leaves_exactly_one_object_with_the_same_bytes()
    {
        var envelope = Envelopes.For("""{"event_type":"new_store","store_domain":"a.myshopify.com"}""", EventTypes.StoreCreate);
        var written = new List<DateTime>();

        for (var attempt = 1; attempt <= 3; attempt++)
        {
            Assert.Equal(DeliveryOutcome.Success, await _rig.DeliverAsync(envelope, attempt));
            written.Add(File.GetLastWriteTimeUtc(_rig.FileOf(envelope.S3Key)));
        }

        var folder = Path.GetDirectoryName(_rig.FileOf(envelope.S3Key))!;
        Assert.Equal(
            [$"{envelope.EventId}.json", $"{envelope.EventId}.metadata.json"],
            Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(envelope.Payload, await File.ReadAllBytesAsync(_rig.FileOf(envelope.S3Key), TestContext.Current.CancellationToken));
        Assert.Single(written.Distinct()); // never rewritten
        Assert.Equal(2, _rig.Metrics["axentra.audit.writes"]);
        Assert.Equal(4, _rig.Metrics["axentra.audit.duplicates"]);
    }

    [Fact]
    public async Task Different_bytes_at_an_audited_key_raise_the_alarm_and_never_replace_the_original()
    {
        var original = Envelopes.For("""{"price":19.99}""", EventTypes.ProductUpdate, eventId: "0123456789abcdef-1765281600");
        var conflicting = original with { Payload = Encoding.UTF8.GetBytes("""{"price":0.01}""") };
        Assert.Equal(DeliveryOutcome.Success, await _rig.DeliverAsync(original));

        Assert.Equal(DeliveryOutcome.Drop, await _rig.DeliverAsync(conflicting, attempt: 2));

        Assert.Equal(original.Payload, await File.ReadAllBytesAsync(_rig.FileOf(original.S3Key), TestContext.Current.CancellationToken));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(_rig.FileOf(original.S3Key))!));
        Assert.Equal(1, _rig.Metrics["axentra.audit.conflicts"]);
        var deadLettered = await _rig.DeadLetterAsync(original.EventId);
        Assert.StartsWith("conflict:", deadLettered!.Reason, StringComparison.Ordinal);
        Assert.Equal(original.S3Key, deadLettered.S3Key);
        Assert.Equal(2, deadLettered.Attempts);
        Assert.DoesNotContain("0.01", deadLettered.Reason, StringComparison.Ordinal); // no payload in the record
    }

    [Fact]
    public async Task A_conflicting_metadata_file_is_an_alarm_too()
    {
        var envelope = Envelopes.For("""{"store_domain":"a.myshopify.com"}""", EventTypes.StoreCreate);
        var metadataFile = _rig.FileOf(StorageKeys.RawAuditMetadata(envelope.S3Key));
        Directory.CreateDirectory(Path.GetDirectoryName(metadataFile)!);
        await File.WriteAllTextAsync(metadataFile, """{"metadataAttributes":{"store":"someone-else"}}""", TestContext.Current.CancellationToken);

        Assert.Equal(DeliveryOutcome.Drop, await _rig.DeliverAsync(envelope));

        Assert.Equal("""{"metadataAttributes":{"store":"someone-else"}}""", await File.ReadAllTextAsync(metadataFile, TestContext.Current.CancellationToken));
        Assert.Equal(1, _rig.Metrics["axentra.audit.conflicts"]);
        Assert.Null(await _rig.StageAsync(envelope.EventId, Stages.Audited));
    }

    [Fact]
    public async Task A_bucket_that_cannot_be_written_asks_for_redelivery_and_the_retry_succeeds_once_it_recovers()
    {
        var envelope = Envelopes.For("""{"a":1}""", EventTypes.ProductCreate);

        // A file where the store's folder belongs makes every write under it fail, even for root.
        var storeFolder = _rig.FileOf(envelope.StoreId);
        await File.WriteAllTextAsync(storeFolder, "in the way", TestContext.Current.CancellationToken);

        Assert.Equal(DeliveryOutcome.Retry, await _rig.DeliverAsync(envelope, attempt: 1));
        Assert.Equal(DeliveryOutcome.Retry, await _rig.DeliverAsync(envelope, attempt: 2));
        Assert.Null(await _rig.StageAsync(envelope.EventId, Stages.Audited));
        Assert.Equal(2, _rig.Metrics["axentra.audit.failures"]);

        File.Delete(storeFolder);
        Assert.Equal(DeliveryOutcome.Success, await _rig.DeliverAsync(envelope, attempt: 3));

        Assert.Equal(envelope.Payload, await File.ReadAllBytesAsync(_rig.FileOf(envelope.S3Key), TestContext.Current.CancellationToken));
        Assert.NotNull(await _rig.StageAsync(envelope.EventId, Stages.Audited));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(_rig.FileOf(envelope.S3Key))!, "*.tmp-*"));
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("[]")]
    [InlineData("""{"event_id":"abc-1"}""")]
    [InlineData("""{"event_id":"abc-1","payload_hash":"h","event_type":"unknown","store_id":"s","s3_key":"s/unknown/2025/12/09/abc-1.json","received_at":"2025-12-09T12:00:00Z","dedupe_key":"d","payload":"%%% not base64"}""")]
    [InlineData("""{"event_id":"abc-1","payload_hash":"h","event_type":"unknown","store_id":"s","s3_key":"s/unknown/2025/12/09/abc-1.json","received_at":"2025-12-09T12:00:00Z","dedupe_key":"d","payload":null}""")]
    public async Task A_malformed_envelope_is_dropped_and_recorded_when_it_names_an_event(string message)
    {
        Assert.Equal(DeliveryOutcome.Drop, await _rig.DeliverAsync(Encoding.UTF8.GetBytes(message)));

        var deadLettered = await _rig.DeadLetterAsync("abc-1");
        if (message.Contains("abc-1", StringComparison.Ordinal))
        {
            Assert.Equal("malformed_envelope: the message is not a webhook envelope", deadLettered!.Reason);
        }

        Assert.Equal(1, _rig.Metrics["axentra.audit.failures"]);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_rig.Data!.Path, PlatformNames.Buckets.RawAudit)));
    }

    [Fact]
    public async Task An_envelope_whose_key_is_not_the_layouts_is_dropped_without_writing_anywhere()
    {
        var envelope = Envelopes.For("""{"a":1}""", EventTypes.ProductCreate, eventId: "abc-2") with { S3Key = "elsewhere/abc-2.json" };

        Assert.Equal(DeliveryOutcome.Drop, await _rig.DeliverAsync(envelope));

        Assert.StartsWith("key_mismatch:", (await _rig.DeadLetterAsync("abc-2"))!.Reason, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_rig.Data!.Path, PlatformNames.Buckets.RawAudit)));
    }
}
