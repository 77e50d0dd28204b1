using System.Text.Json.Nodes;
using Axentra.BuildingBlocks.PubSub;
using Axentra.BuildingBlocks.Registry;
using Axentra.Catalog.Domain;
using Axentra.Catalog.Tests.Support;
using Axentra.Contracts;
using static Axentra.Catalog.Tests.Support.CatalogHarness;

namespace Axentra.Catalog.Tests.Projection;

public sealed class CatalogProjectorTests
{
    private const string Master = "master/products/p-1.json";
    private const string Copy = "stores/s-1/products/p-1.json";

    [Fact]
    public async Task A_new_product_lands_stripped_in_the_master_and_the_store_catalog_with_one_kb_refresh()
    {
        await using var catalog = new CatalogHarness();
        var envelope = Envelope("e-1", EventTypes.ProductCreate, Samples.Bytes("supabase_insert_product.json").AsString(), productId: "7d3f2c1a-9b8e-4f6d-a5c4-3b2a1f0e9d8c");

        Assert.Equal(DeliveryOutcome.Success, await catalog.DeliverAsync(envelope));

        var master = JsonNode.Parse((await catalog.ReadAsync("master/products/7d3f2c1a-9b8e-4f6d-a5c4-3b2a1f0e9d8c.json"))!)!.AsObject();
        var copy = JsonNode.Parse((await catalog.ReadAsync("stores/s-1/products/7d3f2c1a-9b8e-4f6d-a5c4-3b2a1f0e9d8c.json"))!)!.AsObject();
        Domain.FieldStrippingTests.AssertStripped(master, "master");
        Domain.FieldStrippingTests.AssertStripped(copy, "store copy");
        Assert.False(master.ContainsKey("store_id"));
        Assert.Equal(24.5, copy["product_variants"]![0]!["price"]!.GetValue<double>());
        var message = Assert.Single(catalog.KbRefresh);
        Assert.Equal(("s-1", KbRefreshChanges.Upsert, "stores/s-1/products/", PlatformNames.Buckets.Processed), (message.StoreId, message.Change, message.CatalogPrefix, message.Bucket));
        Assert.Equal(["7d3f2c1a-9b8e-4f6d-a5c4-3b2a1f0e9d8c"], message.ProductIds);
        Assert.Equal(["e-1"], message.EventIds);
        var stage = await catalog.StageAsync("e-1", Stages.Catalogued);
        Assert.NotNull(stage);
        Assert.Contains("KB refresh published", stage.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Catalog_objects_keep_their_text_as_written_not_escaped()
    {
        // The knowledge bases take these objects in as they are: "Caf\u00E9" there is not the word a shopper types.
        await using var catalog = new CatalogHarness();
        const string name = "Nature's Café™ <50mg> & more +";
        var payload = Product(EventTypes.ProductCreate, name, updatedMinute: 1).Replace("\"name\":", "\"note\":\"line\\none \\\"quoted\\\"\",\"name\":", StringComparison.Ordinal);

        Assert.Equal(DeliveryOutcome.Success, await catalog.DeliverAsync(Envelope("e-1", EventTypes.ProductCreate, payload)));

        foreach (var key in new[] { Master, Copy })
        {
            var text = (await catalog.ReadAsync(key))!;
            Assert.Contains("\"name\":\"Nature's Café™ <50mg> & more +\"", text, StringComparison.Ordinal);
            Assert.Contains("\"note\":\"line\\none \\\"quoted\\\"\"", text, StringComparison.Ordinal); // what JSON itself requires is still escaped
            Assert.Equal(name, JsonNode.Parse(text)!["name"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Update_delete_then_an_older_update_leaves_the_product_deleted_and_announces_only_real_changes()
    {
        await using var catalog = new CatalogHarness();

        await catalog.DeliverAsync(Envelope("e-1", EventTypes.ProductCreate, Product("new_product", "v1", updatedMinute: 1)));
        await catalog.DeliverAsync(Envelope("e-2", EventTypes.ProductUpdate, Product("product_update", "v2", updatedMinute: 2)));
        await catalog.DeliverAsync(Envelope("e-3", EventTypes.ProductDelete, Samples.Bytes("product_deletion.json").AsString(), receivedMinute: 3));
        var older = Envelope("e-0", EventTypes.ProductUpdate, Product("product_update", "v0", updatedMinute: 0), receivedMinute: 4);
        await catalog.DeliverAsync(older);

        Assert.Null(await catalog.ReadAsync(Copy));
        Assert.Contains("\"v2\"", await catalog.ReadAsync(Master), StringComparison.Ordinal); // master kept, and not rolled back
        Assert.Equal(
            [(KbRefreshChanges.Upsert, "e-1"), (KbRefreshChanges.Upsert, "e-2"), (KbRefreshChanges.Delete, "e-3")],
            catalog.KbRefresh.Select(m => (m.Change, Assert.Single(m.EventIds))));
        var stale = await catalog.StageAsync("e-0", Stages.Catalogued);
        Assert.Contains("stale", stale!.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_redelivery_changes_nothing_and_announces_nothing()
    {
        await using var catalog = new CatalogHarness();
        var envelope = Envelope("e-1", EventTypes.ProductCreate, Product("new_product", "v1", updatedMinute: 1));

        await catalog.DeliverAsync(envelope);
        var before = await catalog.ReadAsync(Copy);
        Assert.Equal(DeliveryOutcome.Success, await catalog.DeliverAsync(envelope, attempt: 2));

        Assert.Equal(before, await catalog.ReadAsync(Copy));
        Assert.Single(catalog.KbRefresh);
    }

    [Fact]
    public async Task A_newer_event_with_the_same_store_content_is_recorded_but_not_announced()
    {
        await using var catalog = new CatalogHarness();

        await catalog.DeliverAsync(Envelope("e-1", EventTypes.ProductCreate, Product("new_product", "same", updatedMinute: 1)));
        // Only a stripped field differs (updated_at): the catalog copy is identical.
        await catalog.DeliverAsync(Envelope("e-2", EventTypes.ProductUpdate, Product("product_update", "same", updatedMinute: 2)));

        Assert.Single(catalog.KbRefresh);
        Assert.Contains("unchanged", (await catalog.StageAsync("e-2", Stages.Catalogued))!.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Events_arriving_newest_first_end_with_the_newest()
    {
        await using var catalog = new CatalogHarness();

        await catalog.DeliverAsync(Envelope("e-2", EventTypes.ProductUpdate, Product("product_update", "v2", updatedMinute: 2, price: 20)));
        await catalog.DeliverAsync(Envelope("e-1", EventTypes.ProductCreate, Product("new_product", "v1", updatedMinute: 1, price: 10)));

        Assert.Contains("\"price\":20", await catalog.ReadAsync(Copy), StringComparison.Ordinal);
        Assert.Contains("\"v2\"", await catalog.ReadAsync(Master), StringComparison.Ordinal);
        Assert.Single(catalog.KbRefresh);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Of_two_changes_with_the_same_updated_at_the_one_received_later_wins_in_any_arrival_order(bool laterArrivesFirst)
    {
        // A price change that did not bump updated_at. Event ids as intake makes them (hash prefix + receipt seconds):
        // the later one's hash sorts first, which alone used to decide, and dropped the newer price as stale.
        await using var catalog = new CatalogHarness();
        var earlier = Envelope("f3a1c0d2e4b5a697-1765296180", EventTypes.ProductUpdate, Product("product_update", "n", updatedMinute: 2, price: 20), receivedMinute: 3);
        var later = Envelope("0b9e8d7c6f5a4b3c-1765296240", EventTypes.ProductUpdate, Product("product_update", "n", updatedMinute: 2, price: 30), receivedMinute: 4);

        foreach (var envelope in laterArrivesFirst ? new[] { later, earlier } : [earlier, later])
        {
            Assert.Equal(DeliveryOutcome.Success, await catalog.DeliverAsync(envelope));
        }

        Assert.Contains("\"price\":30", await catalog.ReadAsync(Copy), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_newer_update_after_a_delete_brings_the_product_back()
    {
        await using var catalog = new CatalogHarness();

        await catalog.DeliverAsync(Envelope("e-1", EventTypes.ProductCreate, Product("new_product", "v1", updatedMinute: 1)));
        await catalog.DeliverAsync(Envelope("e-2", EventTypes.ProductDelete, Samples.Bytes("product_deletion.json").AsString(), receivedMinute: 2));
        await catalog.DeliverAsync(Envelope("e-3", EventTypes.ProductUpdate, Product("product_update", "v3", updatedMinute: 3)));

        Assert.Contains("\"v3\"", await catalog.ReadAsync(Copy), StringComparison.Ordinal);
        Assert.Equal([KbRefreshChanges.Upsert, KbRefreshChanges.Delete, KbRefreshChanges.Upsert], catalog.KbRefresh.Select(m => m.Change));
    }

    [Fact]
    public async Task Supabase_archiving_removes_the_store_copy_and_keeps_the_master()
    {
        await using var catalog = new CatalogHarness();
        const string productId = "7d3f2c1a-9b8e-4f6d-a5c4-3b2a1f0e9d8c";

        await catalog.DeliverAsync(Envelope("e-1", EventTypes.ProductCreate, Samples.Bytes("supabase_insert_product.json").AsString(), productId: productId));
        await catalog.DeliverAsync(Envelope("e-2", EventTypes.ProductDelete, Samples.Bytes("supabase_update_product_archived.json").AsString(), productId: productId));

        Assert.Null(await catalog.ReadAsync($"stores/s-1/products/{productId}.json"));
        Assert.NotNull(await catalog.ReadAsync($"master/products/{productId}.json"));
        Assert.Equal(KbRefreshChanges.Delete, catalog.KbRefresh[^1].Change);
    }

    [Fact]
    public async Task Concurrent_events_for_one_product_converge_on_the_newest()
    {
        await using var catalog = new CatalogHarness();
        var envelopes = Enumerable.Range(1, 24)
            .Select(i => Envelope($"e-{i:D2}", EventTypes.ProductUpdate, Product("product_update", $"v{i}", updatedMinute: i, price: i)))
            .Reverse()
            .ToList();

        await Parallel.ForEachAsync(envelopes, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (e, _) => await catalog.DeliverAsync(e));

        Assert.Contains("\"v24\"", await catalog.ReadAsync(Master), StringComparison.Ordinal);
        Assert.Contains("\"price\":24", await catalog.ReadAsync(Copy), StringComparison.Ordinal);
        Assert.Contains(catalog.KbRefresh, m => m.EventIds.Contains("e-24"));
    }

    [Fact]
    public async Task A_kb_refresh_that_could_not_be_published_is_published_by_the_redelivery()
    {
        await using var catalog = new CatalogHarness();
        var envelope = Envelope("e-1", EventTypes.ProductCreate, Product("new_product", "v1", updatedMinute: 1));
        catalog.Publisher.FailNext(PlatformNames.Topics.KbRefresh, 1);

        Assert.Equal(DeliveryOutcome.Retry, await catalog.DeliverAsync(envelope));
        Assert.Empty(catalog.KbRefresh);
        Assert.NotNull(await catalog.ReadAsync(Copy));

        Assert.Equal(DeliveryOutcome.Success, await catalog.DeliverAsync(envelope, attempt: 2));
        Assert.Equal(["e-1"], Assert.Single(catalog.KbRefresh).EventIds);
        await catalog.DeliverAsync(envelope, attempt: 3);
        Assert.Single(catalog.KbRefresh);
    }

    [Fact]
    public async Task A_store_deletion_stops_serving_its_catalog_until_the_store_comes_back()
    {
        await using var catalog = new CatalogHarness();
        foreach (var p in new[] { "p-1", "p-2", "p-3" })
        {
            await catalog.DeliverAsync(Envelope($"c-{p}", EventTypes.ProductCreate, Product("new_product", p, 1, productId: p), productId: p));
        }

        await catalog.DeliverAsync(Envelope("d-1", EventTypes.StoreDelete, """{"event_type":"deleted_store","store_id":"s-1"}""", productId: null, receivedMinute: 5));

        var listing = await catalog.Processed.ListAsync("stores/s-1/", null, 10, CancellationToken.None);
        Assert.Empty(listing.Keys);
        Assert.NotNull(await catalog.ReadAsync("master/products/p-2.json"));
        var removal = catalog.KbRefresh[^1];
        Assert.Equal((KbRefreshChanges.Delete, 3), (removal.Change, removal.ProductIds.Count));
        Assert.Equal(["d-1"], removal.EventIds);

        // While deleted, product events change the master only.
        await catalog.DeliverAsync(Envelope("u-1", EventTypes.ProductUpdate, Product("product_update", "later", 6)));
        Assert.Null(await catalog.ReadAsync(Copy));
        Assert.Contains("\"later\"", await catalog.ReadAsync(Master), StringComparison.Ordinal);
        Assert.Contains((await catalog.StageAsync("u-1", Stages.Catalogued))!.Warnings, w => w.Contains("is deleted", StringComparison.Ordinal));

        // A redelivered deletion announces nothing new.
        var messages = catalog.KbRefresh.Count;
        await catalog.DeliverAsync(Envelope("d-1", EventTypes.StoreDelete, """{"event_type":"deleted_store","store_id":"s-1"}""", productId: null, receivedMinute: 5));
        Assert.Equal(messages, catalog.KbRefresh.Count);

        // Re-created: new product events are catalogued again.
        await catalog.DeliverAsync(Envelope("n-1", EventTypes.StoreCreate, Samples.Bytes("new_store.json").AsString(), productId: null, receivedMinute: 7));
        await catalog.DeliverAsync(Envelope("u-2", EventTypes.ProductUpdate, Product("product_update", "back", 8)));
        Assert.Contains("\"back\"", await catalog.ReadAsync(Copy), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_events_are_not_catalogued_but_the_stage_says_so()
    {
        await using var catalog = new CatalogHarness();

        Assert.Equal(DeliveryOutcome.Success, await catalog.DeliverAsync(Envelope("x-1", EventTypes.Unknown, """{"hello":"world"}""", productId: null)));

        Assert.Empty((await catalog.Processed.ListAsync("", null, 10, CancellationToken.None)).Keys);
        Assert.Empty(catalog.KbRefresh);
        Assert.StartsWith("skipped", (await catalog.StageAsync("x-1", Stages.Catalogued))!.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_event_with_a_routing_target_is_forwarded_once()
    {
        await using var catalog = new CatalogHarness();
        var envelope = Envelope("e-1", EventTypes.ProductCreate, Product("new_product", "v1", 1), routingTarget: "downstream-products");

        await catalog.DeliverAsync(envelope);
        await catalog.DeliverAsync(envelope, attempt: 2);

        var forwarded = Assert.Single(catalog.Publisher.On("downstream-products"));
        Assert.Equal("e-1", System.Text.Json.JsonSerializer.Deserialize(forwarded, ContractsJsonContext.Default.WebhookEnvelope)!.EventId);
        Assert.Contains("routed to downstream-products", (await catalog.StageAsync("e-1", Stages.Catalogued))!.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Poison_input_is_dropped_with_the_reason_recorded()
    {
        await using var catalog = new CatalogHarness();

        Assert.Equal(DeliveryOutcome.Drop, await catalog.DeliverAsync(Envelope("e-1", EventTypes.ProductUpdate, "[1,2,3]")));
        Assert.Equal(DeliveryOutcome.Drop, await catalog.Projector.HandleAsync("not json"u8.ToArray(), new DeliveryContext("m", 1), CancellationToken.None));

        var stage = await catalog.StageAsync("e-1", EventRegistry.DeadLetterStage(PlatformNames.AppIds.Catalog));
        Assert.Contains("not a JSON object", stage!.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_payload_with_a_member_name_twice_is_dropped_at_once_not_retried()
    {
        // Intake refuses these now (RFC 8785 takes I-JSON only); an event audited before it did must not fail on
        // every redelivery until its retries run out.
        await using var catalog = new CatalogHarness();

        var outcome = await catalog.DeliverAsync(Envelope("e-dup", EventTypes.ProductUpdate, """{"products":{"product_id":"p","store_id":"s","name":"a","name":"b"}}"""));

        Assert.Equal(DeliveryOutcome.Drop, outcome);
        var stage = await catalog.StageAsync("e-dup", EventRegistry.DeadLetterStage(PlatformNames.AppIds.Catalog));
        Assert.Contains("each member name once", stage!.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task When_bens_tables_are_down_the_event_is_retried_and_nothing_is_written()
    {
        await using var catalog = new CatalogHarness();
        catalog.SourceOfTruth.Down = true;
        var envelope = Envelope("e-1", EventTypes.ProductCreate, Product("new_product", "v1", 1));

        Assert.Equal(DeliveryOutcome.Retry, await catalog.DeliverAsync(envelope));
        Assert.Null(await catalog.ReadAsync(Master));

        catalog.SourceOfTruth.Down = false;
        catalog.SourceOfTruth.Stores.Add("s-1");
        catalog.SourceOfTruth.Products.Add("p-1");
        Assert.Equal(DeliveryOutcome.Success, await catalog.DeliverAsync(envelope, attempt: 2));
        Assert.Empty((await catalog.StageAsync("e-1", Stages.Catalogued))!.Warnings);
    }

    /// <summary>Ben's tables consulted?, in Ben's?, in our buckets?, expected warning fragment (null = none).</summary>
    public static TheoryData<bool, bool, bool, string?> ValidationCases => new()
    {
        { true, true, false, null },
        { true, false, true, "is not in axentra-stores; known from our store_create audit records" },
        { true, false, false, "not found in axentra-stores nor in our buckets" },
        { false, false, true, null },
        { false, false, false, "not found in our buckets" },
    };

    [Theory]
    [MemberData(nameof(ValidationCases))]
    public async Task Missing_stores_are_warned_about_and_processing_continues(bool consulted, bool inBens, bool inOurBuckets, string? warning)
    {
        await using var catalog = new CatalogHarness();
        catalog.SourceOfTruth.Consulted = consulted;
        catalog.SourceOfTruth.Products.Add("p-1");
        if (inBens)
        {
            catalog.SourceOfTruth.Stores.Add("s-1");
        }

        if (inOurBuckets)
        {
            await catalog.RawAudit.PutAsync("s-1/store_create/2025/12/01/e-0.metadata.json", "{}"u8.ToArray(), CancellationToken.None);
        }

        Assert.Equal(DeliveryOutcome.Success, await catalog.DeliverAsync(Envelope("e-1", EventTypes.ProductCreate, Product("new_product", "v1", 1))));

        Assert.NotNull(await catalog.ReadAsync(Copy));
        var warnings = (await catalog.StageAsync("e-1", Stages.Catalogued))!.Warnings.Where(w => w.StartsWith("store", StringComparison.Ordinal)).ToList();
        if (warning is null)
        {
            Assert.Empty(warnings);
        }
        else
        {
            Assert.Contains(warning, Assert.Single(warnings), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_product_is_known_from_the_master_catalog_when_bens_table_lacks_it()
    {
        await using var catalog = new CatalogHarness();
        catalog.SourceOfTruth.Stores.Add("s-1");

        await catalog.DeliverAsync(Envelope("e-1", EventTypes.ProductCreate, Product("new_product", "v1", 1)));
        await catalog.DeliverAsync(Envelope("e-2", EventTypes.ProductUpdate, Product("product_update", "v2", 2)));

        Assert.Contains("not found in Product-kbtwy4tflncitfudusepuzm4nq-NONE nor in our buckets", Assert.Single((await catalog.StageAsync("e-1", Stages.Catalogued))!.Warnings), StringComparison.Ordinal);
        Assert.Contains("known from our master catalog", Assert.Single((await catalog.StageAsync("e-2", Stages.Catalogued))!.Warnings), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, "not found in axentra-stores nor in our buckets")]
    [InlineData(false, "not found in our buckets")]
    public async Task A_store_create_never_vouches_for_itself_through_its_own_audit_record(bool consulted, string warning)
    {
        // Audit handles the same delivery beside catalog; when it got there first, the event's own raw copy and metadata
        // file are in the bucket already.
        await using var catalog = new CatalogHarness();
        catalog.SourceOfTruth.Consulted = consulted;
        var envelope = Envelope("e-1", EventTypes.StoreCreate, """{"event_type":"new_store","store_id":"s-new","store_domain":"x.myshopify.com"}""",
            storeId: "s-new", productId: null);
        await catalog.RawAudit.PutAsync(envelope.S3Key, envelope.Payload, CancellationToken.None);
        await catalog.RawAudit.PutAsync(StorageKeys.RawAuditMetadata(envelope.S3Key), "{}"u8.ToArray(), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Success, await catalog.DeliverAsync(envelope));

        Assert.Contains(warning, Assert.Single((await catalog.StageAsync("e-1", Stages.Catalogued))!.Warnings), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_generated_product_id_is_carried_by_the_catalog_objects_not_by_the_audit_copy()
    {
        await using var catalog = new CatalogHarness();
        const string Generated = "751eeedc-d507-512a-a59b-b3a79ded3c7f";
        var envelope = Envelope("e-1", EventTypes.ProductCreate, """{"event_type":"new_product","products":{"name":"No id","store_id":"s-1","product_variants":[{"price":5}]}}""",
            productId: Generated);
        envelope = envelope with { GeneratedIds = ["product_id"] };

        Assert.Equal(DeliveryOutcome.Success, await catalog.DeliverAsync(envelope));

        var master = JsonNode.Parse((await catalog.ReadAsync($"master/products/{Generated}.json"))!)!;
        var copy = JsonNode.Parse((await catalog.ReadAsync($"stores/s-1/products/{Generated}.json"))!)!;
        Assert.Equal(Generated, (string?)master["product_id"]);
        Assert.Equal(Generated, (string?)copy["product_id"]);
        Assert.Equal(5, (int)copy["product_variants"]![0]!["price"]!);
        Assert.DoesNotContain("product_id", System.Text.Encoding.UTF8.GetString(envelope.Payload), StringComparison.Ordinal); // the envelope's payload is not changed
    }
}
