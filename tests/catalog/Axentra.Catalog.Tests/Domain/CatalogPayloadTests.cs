using Axentra.Catalog.Domain;
using Axentra.Catalog.Tests.Support;

namespace Axentra.Catalog.Tests.Domain;

public sealed class CatalogPayloadTests
{
    /// <summary>sample or payload → where the product is found, its updated_at (null = none), its name (null = no product state).</summary>
    public static TheoryData<string, string, string?, string?> ProductShapes => new()
    {
        { Samples.Bytes("new_product.json").AsString(), "products", null, "Vitamin D3 5000 IU" },
        { Samples.Bytes("product_update.json").AsString(), "products", null, "Vitamin D3 5000 IU (90 softgels)" },
        { Samples.Bytes("product_deletion.json").AsString(), "products", null, null },
        { Samples.Bytes("supabase_insert_product.json").AsString(), "record", "2025-12-09T16:20:00.0000000+00:00", "Magnesium Glycinate" },
        { Samples.Bytes("supabase_update_product_archived.json").AsString(), "record", "2025-12-10T09:00:00.0000000+00:00", "Magnesium Glycinate" },
        { """{"type":"DELETE","table":"products","schema":"public","record":null,"old_record":{"id":"p","name":"x","updated_at":"2025-01-01T00:00:00Z"}}""", "record", null, null },
        { """{"event_type":"product_update","product":{"product_id":"p","name":"x","updated_at":"2025-03-01T12:00:00+02:00"}}""", "product", "2025-03-01T10:00:00.0000000+00:00", "x" },
        { """{"product_id":"p","name":"root","product_variants":[],"updated_at":"2025-05-05T05:05:05Z"}""", "(root)", "2025-05-05T05:05:05.0000000+00:00", "root" },
        { """{"event_type":"product_update","product_id":"p","store_id":"s"}""", "(root)", null, null },
    };

    [Theory]
    [MemberData(nameof(ProductShapes))]
    public void Finds_the_product_state_and_its_time_in_every_shape(string payload, string location, string? updatedAt, string? name)
    {
        var state = CatalogPayload.ProductState(Samples.Parse(payload));

        Assert.Equal(location, state.Location);
        Assert.Equal(updatedAt, state.UpdatedAt?.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        var hasContent = state.Entity is { } entity && CatalogPayload.HasContent(entity);
        Assert.Equal(name, hasContent ? state.Entity!["name"]?.GetValue<string>() : null);
        Assert.Null(state.Warning);
    }

    [Fact]
    public void An_unreadable_updated_at_falls_back_to_receipt_time_with_a_warning()
    {
        var state = CatalogPayload.ProductState(Samples.Parse("""{"products":{"product_id":"p","name":"x","updated_at":"yesterday"}}"""));

        Assert.Null(state.UpdatedAt);
        Assert.Contains("products.updated_at", state.Warning, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("new_store.json", "(root)")]
    [InlineData("supabase_delete_store.json", "record")]
    public void Finds_the_store_state(string sample, string location)
    {
        Assert.Equal(location, CatalogPayload.StoreState(Samples.Json(sample)).Location);
    }
}
