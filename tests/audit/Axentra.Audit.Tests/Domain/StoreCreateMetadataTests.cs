using System.Text;
using Axentra.Audit.Domain;
using Axentra.Audit.Tests.Support;
using Axentra.Contracts;

namespace Axentra.Audit.Tests.Domain;

/// <summary>The <c>store_create</c> metadata file: where <c>store</c> comes from, and when <c>product_id</c> is there.</summary>
public sealed class StoreCreateMetadataTests
{
    private const string Store = "223e4567-e89b-12d3-a456-426614174000";

    [Theory]
    [InlineData("""{"event_type":"new_store","store_id":"S","store_domain":"sunrise-wellness.myshopify.com"}""", "sunrise-wellness.myshopify.com")]
    [InlineData("""{"type":"INSERT","table":"stores","schema":"public","record":{"id":"S","store_domain":"row.myshopify.com"},"old_record":null}""", "row.myshopify.com")]
    [InlineData("""{"type":"UPDATE","table":"stores","schema":"public","record":{"id":"S","store_domain":"new.myshopify.com"},"old_record":{"id":"S","store_domain":"old.myshopify.com"}}""", "new.myshopify.com")]
    [InlineData("""{"type":"DELETE","table":"stores","schema":"public","record":null,"old_record":{"id":"S","store_domain":"gone.myshopify.com"}}""", "gone.myshopify.com")]
    [InlineData("""{"event_type":"new_store","store":{"store_id":"S","store_domain":"nested.myshopify.com"}}""", "nested.myshopify.com")]
    [InlineData("""{"store_domain":"top.myshopify.com","record":{"store_domain":"row.myshopify.com"},"store":{"store_domain":"nested.myshopify.com"}}""", "top.myshopify.com")]
    [InlineData("""{"store_domain":null,"record":{"store_domain":""},"store":{"store_domain":"nested.myshopify.com"}}""", "nested.myshopify.com")]
    [InlineData("""{"store_domain":42,"old_record":{"store_domain":"old.myshopify.com"}}""", "old.myshopify.com")]
    [InlineData("""{"version":"0","id":"e","detail-type":"t","source":"s","detail":{"type":"INSERT","table":"stores","record":{"id":"S","store_domain":"eb.myshopify.com"},"old_record":null}}""", "eb.myshopify.com")]
    public void Store_is_the_first_store_domain_in_precedence_order(string payload, string expected)
    {
        Assert.Equal(expected, StoreCreateMetadata.FindStoreDomain(Encoding.UTF8.GetBytes(payload)));
    }

    [Fact]
    public void A_store_create_with_a_domain_and_no_product_names_the_store_and_its_id()
    {
        var envelope = Envelopes.For("""{"event_type":"new_store","store_id":"223e4567-e89b-12d3-a456-426614174000","store_domain":"sunrise-wellness.myshopify.com"}""",
            EventTypes.StoreCreate);

        Assert.Equal(
            """{"metadataAttributes":{"store":"sunrise-wellness.myshopify.com","store_id":"223e4567-e89b-12d3-a456-426614174000"}}""",
            Encoding.UTF8.GetString(StoreCreateMetadata.For(envelope)));
    }

    [Fact]
    public void Without_a_store_domain_store_is_the_store_id()
    {
        var envelope = Envelopes.For("""{"event_type":"new_store","store_id":"223e4567-e89b-12d3-a456-426614174000"}""", EventTypes.StoreCreate);

        Assert.Equal(
            """{"metadataAttributes":{"store":"223e4567-e89b-12d3-a456-426614174000","store_id":"223e4567-e89b-12d3-a456-426614174000"}}""",
            Encoding.UTF8.GetString(StoreCreateMetadata.For(envelope)));
    }

    [Fact]
    public void A_product_id_the_payload_carried_is_included()
    {
        var envelope = Envelopes.For("""{"event_type":"new_store","store_id":"223e4567-e89b-12d3-a456-426614174000","product_id":"p-1","store_domain":"a.myshopify.com"}""",
            EventTypes.StoreCreate, productId: "p-1");

        Assert.Equal(
            """{"metadataAttributes":{"store":"a.myshopify.com","store_id":"223e4567-e89b-12d3-a456-426614174000","product_id":"p-1"}}""",
            Encoding.UTF8.GetString(StoreCreateMetadata.For(envelope)));
    }

    [Fact]
    public void A_generated_id_is_never_presented_as_the_payloads_product_id()
    {
        var envelope = Envelopes.For("""{"event_type":"new_store","store_domain":"harbor-pharmacy.myshopify.com"}""",
            EventTypes.StoreCreate, storeId: "5b0a1d62-3f6e-5c9e-9a51-0d6c2f4b7e13", productId: "generated-p", generatedIds: ["store_id", "product_id"]);

        Assert.Equal(
            """{"metadataAttributes":{"store":"harbor-pharmacy.myshopify.com","store_id":"5b0a1d62-3f6e-5c9e-9a51-0d6c2f4b7e13"}}""",
            Encoding.UTF8.GetString(StoreCreateMetadata.For(envelope)));
    }

    [Fact]
    public void A_supabase_store_row_gives_the_domain_of_its_record()
    {
        var payload = """{"type":"INSERT","table":"stores","schema":"public","record":{"id":"223e4567-e89b-12d3-a456-426614174000","store_domain":"sunrise-wellness.myshopify.com"},"old_record":null}""";
        var (plan, _) = RawAuditPlan.For(Envelopes.For(payload, EventTypes.StoreCreate));

        Assert.Equal(StorageKeys.RawAuditMetadata(plan!.ObjectKey), plan.Objects[1].Key);
        Assert.Equal(
            """{"metadataAttributes":{"store":"sunrise-wellness.myshopify.com","store_id":"223e4567-e89b-12d3-a456-426614174000"}}""",
            Encoding.UTF8.GetString(plan.Objects[1].Content.Span));
    }

    [Fact]
    public void Domains_are_written_as_JSON_strings_whatever_they_contain()
    {
        var envelope = Envelopes.For("""{"store_domain":"quote\"and\\slash.example"}""", EventTypes.StoreCreate, storeId: Store);

        var text = Encoding.UTF8.GetString(StoreCreateMetadata.For(envelope));

        using var document = System.Text.Json.JsonDocument.Parse(text);
        Assert.Equal("quote\"and\\slash.example", document.RootElement.GetProperty("metadataAttributes").GetProperty("store").GetString());
    }

    [Fact]
    public void The_same_envelope_always_gives_the_same_bytes()
    {
        var envelope = Envelopes.For("""{"store_domain":"a.myshopify.com"}""", EventTypes.StoreCreate);

        Assert.Equal(StoreCreateMetadata.For(envelope), StoreCreateMetadata.For(envelope with { }));
    }
}
