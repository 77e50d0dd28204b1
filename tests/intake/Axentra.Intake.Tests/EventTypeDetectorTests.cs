using System.Text.Json;
using Axentra.Classification;
using Axentra.Contracts;
using Axentra.TestSupport;

namespace Axentra.Intake.Tests;

/// <summary>One case (at least) per row of the detection table in docs/event-types.md.</summary>
public sealed class EventTypeDetectorTests
{
    public static TheoryData<string, string, string> Cases => new()
    {
        { "explicit", """{"event_type":"product_update","products":{"product_id":"p1"}}""", EventTypes.ProductUpdate },
        { "explicit", """{"event_type":"product_deletion","products":{"product_id":"p1"}}""", EventTypes.ProductDelete },
        { "explicit", """{"event_type":"new_product","products":{"product_id":"p1"}}""", EventTypes.ProductCreate },
        { "explicit", """{"event_type":"new_store","store_id":"s1"}""", EventTypes.StoreCreate },
        { "explicit", """{"event_type":"deleted_store","store_id":"s1"}""", EventTypes.StoreDelete },
        { "explicit", """{"event_type":"updated_store","store_id":"s1"}""", EventTypes.StoreUpdate },
        { "explicit", """{"event_type":"product_create"}""", EventTypes.ProductCreate },
        { "explicit", """{"event_type":"store_delete"}""", EventTypes.StoreDelete },
        { "explicit", """{"event_type":"order_placed","products":{"product_id":"p1"}}""", EventTypes.Unknown },
        { "explicit", """{"event_type":42,"store_domain":"x.example"}""", EventTypes.Unknown },
        { "supabase-product-delete", """{"type":"DELETE","table":"products","schema":"public","record":null,"old_record":{"id":"p1","store_id":"s1"}}""", EventTypes.ProductDelete },
        { "supabase-product-archived", """{"type":"UPDATE","table":"products","schema":"public","record":{"id":"p1","archived_at":"2025-12-10T09:00:00Z"},"old_record":{"id":"p1","archived_at":null}}""", EventTypes.ProductDelete },
        { "supabase-product-archived", """{"type":"INSERT","table":"products","schema":"public","record":{"id":"p1","archived_at":"2025-12-10T09:00:00Z"},"old_record":null}""", EventTypes.ProductDelete },
        { "supabase-product-insert", """{"type":"INSERT","table":"products","schema":"public","record":{"id":"p1","archived_at":null},"old_record":null}""", EventTypes.ProductCreate },
        { "supabase-product-update", """{"type":"UPDATE","table":"products","schema":"public","record":{"id":"p1","name":"B"},"old_record":{"id":"p1","name":"A"}}""", EventTypes.ProductUpdate },
        { "supabase-store-delete", """{"type":"DELETE","table":"stores","schema":"public","record":null,"old_record":{"id":"s1"}}""", EventTypes.StoreDelete },
        { "supabase-store-delete", """{"type":"UPDATE","table":"stores","schema":"public","record":{"id":"s1","deleted_at":"2025-12-10T09:00:00Z"},"old_record":{"id":"s1"}}""", EventTypes.StoreDelete },
        { "supabase-store-insert", """{"type":"INSERT","table":"stores","schema":"public","record":{"id":"s1"},"old_record":null}""", EventTypes.StoreCreate },
        { "supabase-store-update", """{"type":"UPDATE","table":"stores","schema":"public","record":{"id":"s1","store_domain":"b"},"old_record":{"id":"s1","store_domain":"a"}}""", EventTypes.StoreUpdate },
        { "supabase-other-table", """{"type":"INSERT","table":"orders","schema":"public","record":{"id":"o1"},"old_record":null}""", EventTypes.Unknown },
        { "full-product-archived", """{"id":"p1","store_id":"s1","product_variants":[],"archived_at":"2025-12-10T09:00:00Z"}""", EventTypes.ProductDelete },
        { "full-product-archived", """{"products":{"product_id":"p1","archived_at":"2025-12-10T09:00:00Z"}}""", EventTypes.ProductDelete },
        { "full-product-new", """{"products":{"name":"A","store_id":"s1"}}""", EventTypes.ProductCreate },
        { "full-product-new", """{"id":"p1","product_variants":[],"created_at":"2025-12-09T16:20:00Z","updated_at":"2025-12-09T16:20:00Z"}""", EventTypes.ProductCreate },
        { "full-product-changed", """{"id":"p1","product_variants":[],"created_at":"2025-12-09T16:20:00Z","updated_at":"2025-12-10T08:00:00Z"}""", EventTypes.ProductUpdate },
        { "full-product-new", """{"products":{"product_id":"p1","created_at":"2025-12-09T16:20:00.000Z","updated_at":"2025-12-09T16:20:00Z"}}""", EventTypes.ProductCreate }, // one instant, two spellings
        { "full-product-new", """{"products":{"product_id":"p1","created_at":"2025-12-09T16:20:00Z"}}""", EventTypes.ProductCreate }, // only ever created
        { "full-product-changed", """{"product":{"product_id":"p1","name":"A"}}""", EventTypes.ProductUpdate },
        { "full-store-deleted", """{"store":{"store_id":"s1","deleted_at":"2025-12-10T09:00:00Z"}}""", EventTypes.StoreDelete },
        { "full-store-deleted", """{"store_id":"s1","store_domain":"a.example","archived_at":"2025-12-10T09:00:00Z"}""", EventTypes.StoreDelete },
        { "full-store-new", """{"store_domain":"harbor-pharmacy.myshopify.com"}""", EventTypes.StoreCreate },
        { "full-store-new", """{"store":{"id":"s1","created_at":"2025-12-01T10:00:00Z"}}""", EventTypes.StoreCreate },
        { "full-store-changed", """{"store_id":"s1","store_domain":"a.example"}""", EventTypes.StoreUpdate },
        { "full-store-changed", """{"store":{"id":"s1","created_at":"2025-12-01T10:00:00Z","updated_at":"2025-12-02T10:00:00Z"}}""", EventTypes.StoreUpdate },
        { "fallback", """{"hello":"world"}""", EventTypes.Unknown },
        { "fallback", """{}""", EventTypes.Unknown },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_rule_decides_its_rows(string ruleId, string json, string expected)
    {
        using var document = JsonDocument.Parse(json);
        var (eventType, matchedRule) = EventTypeDetector.DetectWithRule(document.RootElement);
        Assert.Equal((expected, ruleId), (eventType, matchedRule));
    }

    [Fact]
    public void Every_rule_has_a_test_case()
    {
        var covered = Cases.Select(row => row.Data.Item1).ToHashSet();
        Assert.All(EventTypeDetector.Rules, rule => Assert.Contains(rule.Id, covered));
    }

    [Fact]
    public void Every_rule_and_explicit_name_is_documented_in_the_event_types_doc()
    {
        var doc = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "docs", "event-types.md"));
        Assert.All(EventTypeDetector.Rules, rule => Assert.Contains($"`{rule.Id}`", doc, StringComparison.Ordinal));
        Assert.All(EventTypeDetector.ExplicitNames.Keys, name => Assert.Contains($"`{name}`", doc, StringComparison.Ordinal));
        Assert.All(IdExtractor.StoreIdLocations.Concat(IdExtractor.ProductIdLocations), location => Assert.Contains($"`{location.Path}`", doc, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("new_product.json", EventTypes.ProductCreate)]
    [InlineData("new_store.json", EventTypes.StoreCreate)]
    [InlineData("new_store_without_id.json", EventTypes.StoreCreate)]
    [InlineData("product_deletion.json", EventTypes.ProductDelete)]
    [InlineData("product_update.json", EventTypes.ProductUpdate)]
    [InlineData("supabase_delete_store.json", EventTypes.StoreDelete)]
    [InlineData("supabase_insert_product.json", EventTypes.ProductCreate)]
    [InlineData("supabase_update_product_archived.json", EventTypes.ProductDelete)]
    public void The_shared_samples_are_detected_as_their_names_say(string sample, string expected)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(RepositoryRoot.Samples, sample)));
        Assert.Equal(expected, EventTypeDetector.Detect(document.RootElement));
    }
}
