using System.Text.Json.Nodes;
using Axentra.Catalog.Domain;
using Axentra.Catalog.Tests.Support;

namespace Axentra.Catalog.Tests.Domain;

public sealed class StoreSpecificFieldsTests
{
    /// <summary>sample → expected master, expected store copy (both after stripping).</summary>
    public static TheoryData<string, string, string> Copies => new()
    {
        {
            "new_product.json",
            """{"name":"Vitamin D3 5000 IU","product_id":"123e4567-e89b-12d3-a456-426614174000","product_variants":[{}]}""",
            """{"name":"Vitamin D3 5000 IU","product_id":"123e4567-e89b-12d3-a456-426614174000","product_variants":[{"price":19.99}],"store_id":"223e4567-e89b-12d3-a456-426614174000"}"""
        },
        {
            "product_update.json",
            """{"name":"Vitamin D3 5000 IU (90 softgels)","product_id":"123e4567-e89b-12d3-a456-426614174000","product_variants":[{}]}""",
            """{"name":"Vitamin D3 5000 IU (90 softgels)","product_id":"123e4567-e89b-12d3-a456-426614174000","product_variants":[{"price":29.99}],"store_id":"223e4567-e89b-12d3-a456-426614174000"}"""
        },
        {
            "supabase_insert_product.json",
            """{"id":"7d3f2c1a-9b8e-4f6d-a5c4-3b2a1f0e9d8c","name":"Magnesium Glycinate","form":"capsule","dose":"200 mg","uses":["sleep","muscle recovery"],"product_variants":[{"id":"v-1"}],"categories":[{"id":4,"name":"Minerals"}]}""",
            """{"id":"7d3f2c1a-9b8e-4f6d-a5c4-3b2a1f0e9d8c","name":"Magnesium Glycinate","form":"capsule","dose":"200 mg","uses":["sleep","muscle recovery"],"product_variants":[{"id":"v-1","price":24.5}],"categories":[{"id":4,"name":"Minerals"}],"store_id":"223e4567-e89b-12d3-a456-426614174000"}"""
        },
    };

    [Theory]
    [MemberData(nameof(Copies))]
    public void The_master_is_store_independent_and_the_store_copy_adds_the_stores_values(string sample, string master, string storeCopy)
    {
        var product = CatalogPayload.ProductState(Samples.Json(sample)).Entity!;

        var projected = StoreSpecificFields.Project(product);

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(master), projected.Master), projected.Master.ToJsonString());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(storeCopy), projected.StoreCopy), projected.StoreCopy.ToJsonString());
    }

    [Theory]
    [MemberData(nameof(FieldStrippingTests.Shapes), MemberType = typeof(FieldStrippingTests))]
    public void The_store_copy_is_exactly_the_stripped_product(string shape, string payload)
    {
        var product = CatalogPayload.ProductState(Samples.Parse(payload)).Entity!;

        var projected = StoreSpecificFields.Project(product);

        Assert.True(JsonNode.DeepEquals(FieldStripping.StripProduct(product), projected.StoreCopy), shape);
        foreach (var field in StoreSpecificFields.Product)
        {
            Assert.False(projected.Master.ContainsKey(field), $"{shape}: master has {field}");
        }

        foreach (var variant in ((JsonArray)projected.Master["product_variants"]!).OfType<JsonObject>())
        {
            Assert.DoesNotContain(variant, member => StoreSpecificFields.Variant.Contains(member.Key));
        }
    }

    [Fact]
    public void Store_values_follow_their_variant_by_id_even_when_the_master_lists_variants_in_another_order()
    {
        var (_, values) = StoreSpecificFields.Split(Samples.Parse("""
            {"id":"p","product_variants":[{"id":"a","price":1},{"id":"b","price":2,"currency":"EUR"}]}
            """));
        var reordered = Samples.Parse("""{"id":"p","product_variants":[{"id":"b","size":"L"},{"id":"a","size":"S"}]}""");

        var copy = StoreSpecificFields.Merge(reordered, values);

        Assert.Equal(
            """{"id":"p","product_variants":[{"id":"b","size":"L","price":2,"currency":"EUR"},{"id":"a","size":"S","price":1}]}""",
            copy.ToJsonString());
    }

    [Fact]
    public void A_store_variant_missing_from_the_master_is_kept_not_lost()
    {
        var (_, values) = StoreSpecificFields.Split(Samples.Parse("""{"product_variants":[{"id":"x","price":5}]}"""));

        var copy = StoreSpecificFields.Merge(Samples.Parse("""{"name":"n"}"""), values);

        Assert.Equal("""{"name":"n","product_variants":[{"id":"x","price":5}]}""", copy.ToJsonString());
    }
}
