using System.Text;
using Axentra.Classification;
using Axentra.Contracts;
using Axentra.Intake.Domain;

namespace Axentra.Intake.Tests;

public sealed class WebhookClassifierTests
{
    private static (ClassifiedWebhook? Webhook, WebhookRejection? Rejection) Classify(string json, string? webhookId = null) =>
        WebhookClassifier.Classify(Encoding.UTF8.GetBytes(json), webhookId);

    [Theory]
    [InlineData("""{"store_id":"s1"}""", "s1", null)]
    [InlineData("""{"store_id":12345}""", "12345", null)]
    [InlineData("""{"products":{"store_id":"s2","product_id":"p2"}}""", "s2", "p2")]
    [InlineData("""{"products":{"store_id":"s2","id":"p3"}}""", "s2", "p3")]
    [InlineData("""{"product":{"store_id":"s2","product_id":"p4"}}""", "s2", "p4")]
    [InlineData("""{"store":{"id":"s5"}}""", "s5", null)]
    [InlineData("""{"store":{"store_id":"s6","id":"other"}}""", "s6", null)]
    [InlineData("""{"id":"s7","store_domain":"a.example"}""", "s7", null)]
    [InlineData("""{"id":"p8","store_id":"s8","product_variants":[]}""", "s8", "p8")]
    [InlineData("""{"store_id":"top","products":{"store_id":"inner","product_id":"p9"}}""", "top", "p9")]
    [InlineData("""{"product_id":"top","products":{"product_id":"inner","store_id":"s"}}""", "s", "top")]
    [InlineData("""{"type":"INSERT","table":"products","record":{"id":"p10","store_id":"s10"},"old_record":null}""", "s10", "p10")]
    [InlineData("""{"type":"DELETE","table":"products","record":null,"old_record":{"id":"p11","store_id":"s11"}}""", "s11", "p11")]
    [InlineData("""{"type":"DELETE","table":"stores","record":null,"old_record":{"id":"s12"}}""", "s12", null)]
    [InlineData("""{"type":"INSERT","table":"orders","record":{"id":"o1","store_id":"s13","product_id":"p13"},"old_record":null}""", "s13", "p13")]
    [InlineData("""{"store_id":null,"products":{"store_id":"s14","product_id":""}}""", "s14", null)]
    public void Ids_are_found_in_every_shape_by_documented_precedence(string json, string storeId, string? productId)
    {
        var (webhook, rejection) = Classify(json);
        Assert.Null(rejection);
        Assert.Equal(storeId, webhook!.StoreId);
        if (productId is not null || !EventTypes.IsProductEvent(webhook.EventType))
        {
            Assert.Equal(productId, webhook.ProductId);
        }
    }

    [Fact]
    public void Missing_ids_are_generated_deterministically_from_the_dedupe_key_and_flagged()
    {
        var json = """{"event_type":"new_product","products":{"name":"No ids"}}""";
        var (first, _) = Classify(json);
        var (again, _) = Classify("""{ "products": { "name": "No ids" }, "event_type": "new_product" }""");
        Assert.Equal(first!.StoreId, again!.StoreId);
        Assert.Equal(first.ProductId, again.ProductId);
        Assert.Equal(["store_id", "product_id"], first.GeneratedIds);
        Assert.True(Guid.TryParse(first.StoreId, out _));

        var (withWebhookId, _) = Classify(json, "msg_1");
        Assert.NotEqual(first.StoreId, withWebhookId!.StoreId);
        Assert.Equal(DeterministicIds.StoreId("webhook-id:msg_1"), withWebhookId.StoreId);
    }

    [Fact]
    public void Product_ids_are_generated_only_for_product_events()
    {
        var (store, _) = Classify("""{"event_type":"new_store","store_domain":"a.example"}""");
        Assert.Null(store!.ProductId);
        Assert.Equal(["store_id"], store.GeneratedIds);
    }

    [Fact]
    public void Dedupe_key_is_the_webhook_id_when_present_else_the_payload_hash()
    {
        var (hashed, _) = Classify("""{"a":1}""");
        Assert.Equal($"payload-hash:{hashed!.PayloadHash}", hashed.DedupeKey);
        var (identified, _) = Classify("""{"a":1}""", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W");
        Assert.Equal("webhook-id:msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", identified!.DedupeKey);
        Assert.Equal(hashed.PayloadHash, identified.PayloadHash);
    }

    [Theory]
    [InlineData("{", "malformed_json")]
    [InlineData("", "malformed_json")]
    [InlineData("{\"a\":1} trailing", "malformed_json")]
    [InlineData("[1,2]", "not_an_object")]
    [InlineData("\"text\"", "not_an_object")]
    [InlineData("null", "not_an_object")]
    [InlineData("""{"store_id":"../x"}""", "invalid_id")]
    [InlineData("""{"store_id":"a/b"}""", "invalid_id")]
    [InlineData("""{"store_id":".."}""", "invalid_id")]
    [InlineData("""{"store_id":"."}""", "invalid_id")]
    [InlineData("""{"store_id":"a b"}""", "invalid_id")]
    [InlineData("""{"store_id":{"x":1}}""", "invalid_id")]
    [InlineData("""{"store_id":true}""", "invalid_id")]
    [InlineData("""{"store_id":1.5}""", "invalid_id")]
    [InlineData("""{"products":{"product_id":"..\\..\\etc"}}""", "invalid_id")]
    [InlineData("""{"type":"INSERT","table":"products","record":{"id":"p/1"},"old_record":null}""", "invalid_id")]
    public void Bad_bodies_are_refused_with_a_reason(string json, string code)
    {
        var (webhook, rejection) = Classify(json);
        Assert.Null(webhook);
        Assert.Equal(code, rejection!.Code);
    }

    [Theory]
    [InlineData("""{"event_type":"new_store","store_id":"d","x":1,"x":2}""", "duplicate_member")]
    [InlineData("""{"event_type":"new_store","store_id":"d","event_type":"deleted_store"}""", "duplicate_member")]
    [InlineData("""{"store_id":"d","products":{"product_id":"p","name":"a","name":"b"}}""", "duplicate_member")]
    [InlineData("""{"store_id":"d","caf\u00e9":1,"café":2}""", "duplicate_member")]
    [InlineData("""{"store_id":"d","n":"\ud800"}""", "invalid_unicode")]
    [InlineData("""{"store_id":"d","\udc00x":1}""", "invalid_unicode")]
    [InlineData("""{"store_id":"\ud800"}""", "invalid_unicode")]
    [InlineData("""{"store_id":"d","n":1e400}""", "number_out_of_range")]
    [InlineData("""{"store_id":"d","n":-1e309}""", "number_out_of_range")]
    public void Json_that_is_not_I_JSON_has_no_canonical_hash_and_is_refused_not_a_server_error(string json, string code)
    {
        var (webhook, rejection) = Classify(json);
        Assert.Null(webhook);
        Assert.Equal(code, rejection!.Code);
    }

    [Theory]
    [InlineData(new byte[] { 0xff })]
    [InlineData(new byte[] { 0xc3 })]
    [InlineData(new byte[] { 0xed, 0xa0, 0x80 })] // a UTF-8-encoded surrogate
    public void Invalid_utf8_in_a_string_or_a_member_name_is_refused_not_a_server_error(byte[] bad)
    {
        foreach (var (before, after) in new[] { ("{\"store_id\":\"d\",\"n\":\"", "\"}"), ("{\"store_id\":\"", "\"}"), ("{\"store_id\":\"d\",\"", "\":1}") })
        {
            var body = Encoding.UTF8.GetBytes(before).Concat(bad).Concat(Encoding.UTF8.GetBytes(after)).ToArray();
            var (webhook, rejection) = WebhookClassifier.Classify(body, webhookId: null);
            Assert.Null(webhook);
            Assert.Equal("invalid_unicode", rejection!.Code); // System.Text.Json parses invalid UTF-8; the canonical form refuses it
        }
    }

    [Fact]
    public void An_eventbridge_event_is_classified_hashed_and_deduped_by_its_detail()
    {
        const string detail = """{"type":"UPDATE","table":"products","schema":"public","record":{"id":"p-eb","store_id":"s-eb","name":"Vitamin D3"},"old_record":{"id":"p-eb","store_id":"s-eb"}}""";
        var envelope = $$"""{"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","detail-type":"Supabase Webhook","source":"supabase.products","account":"111122223333","time":"2026-12-05T10:00:00Z","region":"us-east-1","resources":[],"detail":{{detail}}}""";
        var direct = Classify(detail).Webhook!;

        var wrapped = Classify(envelope).Webhook!;

        Assert.Equal(EventTypes.ProductUpdate, wrapped.EventType);
        Assert.Equal("s-eb", wrapped.StoreId);
        Assert.Equal("p-eb", wrapped.ProductId);
        Assert.Equal(direct.PayloadHash, wrapped.PayloadHash); // the same change, posted directly or through EventBridge, is one event
        Assert.Equal(direct.DedupeKey, wrapped.DedupeKey);
        var retried = Classify(envelope.Replace("6a7e8feb", "0b1c2d3e", StringComparison.Ordinal).Replace("10:00:00", "10:00:07", StringComparison.Ordinal)).Webhook!;
        Assert.Equal(wrapped.PayloadHash, retried.PayloadHash);
    }

    [Theory]
    [InlineData("""{"version":"0","id":"x","detail-type":"t","source":"s","detail":"not an object","store_id":"top"}""")]
    [InlineData("""{"id":"x","detail-type":"t","source":"s","detail":{"store_id":"inner"},"store_id":"top"}""")]
    [InlineData("""{"version":0,"id":"x","detail-type":"t","source":"s","detail":{"store_id":"inner"},"store_id":"top"}""")]
    public void A_body_that_only_looks_like_an_eventbridge_event_is_read_as_it_is(string json) =>
        Assert.Equal("top", Classify(json).Webhook!.StoreId);

    [Fact]
    public void An_eventbridge_event_with_a_member_name_twice_outside_its_detail_is_refused_too()
    {
        const string json = """{"version":"0","id":"x","detail-type":"t","source":"s","region":"a","region":"b","detail":{"store_id":"s"}}""";
        Assert.Equal("duplicate_member", Classify(json).Rejection!.Code);
    }

    [Fact]
    public void Ids_at_the_safe_key_limit_pass_and_one_longer_fails()
    {
        var limit = new string('a', SafeKeySegment.MaxLength);
        Assert.Equal(limit, Classify($$"""{"store_id":"{{limit}}"}""").Webhook!.StoreId);
        Assert.Equal("invalid_id", Classify($$"""{"store_id":"{{limit}}a"}""").Rejection!.Code);
    }

    [Fact]
    public void Nesting_up_to_64_levels_is_accepted_and_65_refused()
    {
        static string Nested(int depth) => string.Concat(Enumerable.Repeat("{\"a\":", depth - 1)) + "{}" + new string('}', depth - 1);
        Assert.Null(Classify(Nested(64)).Rejection);
        Assert.Equal("too_deep", Classify(Nested(65)).Rejection!.Code);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("tab\t")]
    [InlineData("é")]
    public void Unusable_webhook_ids_are_refused(string webhookId) =>
        Assert.Equal("invalid_webhook_id", Classify("""{"a":1}""", webhookId).Rejection!.Code);

    [Fact]
    public void Event_id_is_the_hash_prefix_and_unix_seconds_and_the_audit_key_uses_the_utc_date()
    {
        var (webhook, _) = Classify("""{"event_type":"new_store","store_id":"s1"}""");
        var receivedAt = new DateTimeOffset(2025, 12, 9, 23, 59, 59, 999, TimeSpan.Zero);
        var identity = EventIdentity.Create(webhook!, receivedAt);
        Assert.Equal($"{webhook!.PayloadHash[..16]}-{receivedAt.ToUnixTimeSeconds()}", identity.EventId);
        Assert.Equal($"s1/store_create/2025/12/09/{identity.EventId}.json", identity.S3Key);

        var nextDay = EventIdentity.Create(webhook, new DateTimeOffset(2025, 12, 10, 1, 0, 0, TimeSpan.FromHours(2)));
        Assert.StartsWith("s1/store_create/2025/12/09/", nextDay.S3Key, StringComparison.Ordinal);
    }
}
