using System.Text;
using Axentra.Audit.Domain;
using Axentra.Audit.Tests.Support;
using Axentra.Contracts;

namespace Axentra.Audit.Tests.Domain;

/// <summary>Where each event's audit objects go, and which envelopes can never be audited.</summary>
public sealed class RawAuditLayoutTests
{
    private const string Store = "223e4567-e89b-12d3-a456-426614174000";

    public static TheoryData<string> EveryEventType => [.. EventTypes.All];

    [Theory]
    [MemberData(nameof(EveryEventType))]
    public void Every_event_type_including_unknown_is_audited_under_its_own_folder(string eventType)
    {
        var envelope = Envelopes.For("""{"a":1}""", eventType, eventId: "e8b78063c351200b-1765281600");

        var (plan, rejection) = RawAuditPlan.For(envelope);

        Assert.Null(rejection);
        Assert.Equal($"{Store}/{eventType}/2025/12/09/e8b78063c351200b-1765281600.json", plan!.ObjectKey);
        Assert.Equal(AuditObject.PayloadKind, plan.Objects[0].Kind);
        Assert.Equal(envelope.Payload, plan.Objects[0].Content.ToArray());
        Assert.Equal(eventType == EventTypes.StoreCreate ? 2 : 1, plan.Objects.Count);
    }

    [Theory]
    [InlineData("2025-12-31T23:59:59.999+00:00", "2025/12/31")]
    [InlineData("2026-01-01T00:00:00.000+00:00", "2026/01/01")]
    [InlineData("2026-01-01T00:59:59.999+01:00", "2025/12/31")] // receipt times are dated in UTC, whatever their offset
    [InlineData("2025-12-31T19:00:00.000-05:00", "2026/01/01")]
    [InlineData("2024-02-29T12:00:00.000+00:00", "2024/02/29")]
    public void The_date_folders_are_the_UTC_day_of_receipt(string receivedAt, string folders)
    {
        var at = DateTimeOffset.Parse(receivedAt, System.Globalization.CultureInfo.InvariantCulture);
        var envelope = Envelopes.For("""{"a":1}""", EventTypes.ProductUpdate, receivedAt: at, eventId: "abc-1");

        var (plan, _) = RawAuditPlan.For(envelope);

        Assert.Equal($"{Store}/product_update/{folders}/abc-1.json", plan!.ObjectKey);
    }

    [Fact]
    public void Generated_store_ids_partition_the_trail_like_given_ones()
    {
        var generated = "5b0a1d62-3f6e-5c9e-9a51-0d6c2f4b7e13";
        var envelope = Envelopes.For("""{"event_type":"new_store","store_domain":"harbor-pharmacy.myshopify.com"}""",
            EventTypes.StoreCreate, storeId: generated, generatedIds: ["store_id"]);

        var (plan, rejection) = RawAuditPlan.For(envelope);

        Assert.Null(rejection);
        Assert.StartsWith($"{generated}/store_create/2025/12/09/", plan!.ObjectKey, StringComparison.Ordinal);
    }

    [Fact]
    public void Ids_at_the_safe_key_limit_of_128_characters_are_audited()
    {
        var storeId = new string('s', SafeKeySegment.MaxLength);
        var eventId = new string('e', SafeKeySegment.MaxLength - 2) + "-1";
        var envelope = Envelopes.For("""{"a":1}""", EventTypes.StoreCreate, storeId: storeId, eventId: eventId);

        var (plan, rejection) = RawAuditPlan.For(envelope);

        Assert.Null(rejection);
        Assert.Equal($"{storeId}/store_create/2025/12/09/{eventId}.json", plan!.ObjectKey);
        Assert.Equal($"{storeId}/store_create/2025/12/09/{eventId}.metadata.json", plan.Objects[1].Key);
    }

    [Theory]
    [InlineData("event_id", "e-129", "unsafe_event_id")]
    [InlineData("event_id", "..", "unsafe_event_id")]
    [InlineData("event_id", "a/b", "unsafe_event_id")]
    [InlineData("event_id", "abc-1.metadata", "reserved_event_id")]
    [InlineData("store_id", "s-129", "unsafe_store_id")]
    [InlineData("store_id", "../other-store", "unsafe_store_id")]
    [InlineData("store_id", "", "unsafe_store_id")]
    [InlineData("event_type", "product_created", "unknown_event_type")]
    [InlineData("event_type", "../x", "unknown_event_type")]
    public void Unsafe_or_unknown_key_segments_are_refused(string field, string value, string code)
    {
        value = value switch
        {
            "e-129" => new string('e', 129),
            "s-129" => new string('s', 129),
            _ => value,
        };
        var valid = Envelopes.For("""{"a":1}""", EventTypes.ProductCreate, eventId: "abc-1");

        // The key is recomputed the way a careless producer would, so only the segment itself is wrong.
        var envelope = field switch
        {
            "event_id" => valid with { EventId = value, S3Key = $"{valid.StoreId}/{valid.EventType}/2025/12/09/{value}.json" },
            "store_id" => valid with { StoreId = value, S3Key = $"{value}/{valid.EventType}/2025/12/09/{valid.EventId}.json" },
            _ => valid with { EventType = value, S3Key = $"{valid.StoreId}/{value}/2025/12/09/{valid.EventId}.json" },
        };

        var (plan, rejection) = RawAuditPlan.For(envelope);

        Assert.Null(plan);
        Assert.Equal(code, rejection!.Code);
    }

    [Theory]
    [InlineData("223e4567-e89b-12d3-a456-426614174000/product_create/2025/12/10/abc-1.json")] // another day
    [InlineData("223e4567-e89b-12d3-a456-426614174000/product_update/2025/12/09/abc-1.json")] // another type
    [InlineData("other/product_create/2025/12/09/abc-1.json")]
    [InlineData("223e4567-e89b-12d3-a456-426614174000/product_create/2025/12/09/abc-1.json.bak")]
    [InlineData("../223e4567-e89b-12d3-a456-426614174000/product_create/2025/12/09/abc-1.json")]
    public void A_key_that_is_not_the_layouts_key_for_the_event_is_refused(string s3Key)
    {
        var envelope = Envelopes.For("""{"a":1}""", EventTypes.ProductCreate, eventId: "abc-1") with { S3Key = s3Key };

        var (plan, rejection) = RawAuditPlan.For(envelope);

        Assert.Null(plan);
        Assert.Equal("key_mismatch", rejection!.Code);
    }

    [Fact]
    public void An_empty_payload_is_refused()
    {
        var (_, rejection) = RawAuditPlan.For(Envelopes.For([], EventTypes.ProductCreate, eventId: "abc-1"));

        Assert.Equal("empty_payload", rejection!.Code);
    }

    [Fact]
    public void The_payload_object_is_the_envelopes_bytes_untouched()
    {
        // Whitespace, key order, escapes, non-ASCII and a trailing newline: none of it may be normalised.
        var payload = Encoding.UTF8.GetBytes("{ \"b\" : 2,\n\t\"a\":\"caf\\u00e9 – ünïcode\", \"n\": 1.10 }\n");
        var (plan, _) = RawAuditPlan.For(Envelopes.For(payload, EventTypes.Unknown));

        Assert.Equal(payload, plan!.Objects[0].Content.ToArray());
    }
}
