using System.Text.Json.Nodes;
using Axentra.Catalog.Domain;
using Axentra.Catalog.Tests.Support;

namespace Axentra.Catalog.Tests.Domain;

public sealed class FieldStrippingTests
{
    private const string FullRow = """
        {"id":"p-1","store_id":"s-1","name":"Zinc","image_url":"zinc.png","created_at":"2025-01-01T00:00:00Z",
         "updated_at":"2025-01-02T00:00:00Z","archived_at":null,
         "product_variants":[{"id":"v-1","price":9.5,"image":"v.png","image_url":"x","stock_quantity":3,"is_default":true,
           "stockStatus":"in_stock","lab_test_codes_id":7,"service_product_id":"sp","cpr_price":8,"archived_at":null}],
         "categories":[{"id":1,"name":"Minerals","user_id":"u","created_at":"c","last_modified":"m","image":"i.png"}]}
        """;

    /// <summary>Every payload shape that carries a product, with where the product sits in it.</summary>
    public static TheoryData<string, string> Shapes => new()
    {
        { "supabase INSERT (sample)", Samples.Json("supabase_insert_product.json").ToJsonString() },
        { "supabase UPDATE", $$"""{"type":"UPDATE","table":"products","schema":"public","record":{{FullRow}},"old_record":{{FullRow}}}""" },
        { "seed simplified: products", $$"""{"event_type":"product_update","products":{{FullRow}}}""" },
        { "seed simplified: product", $$"""{"event_type":"new_product","product":{{FullRow}}}""" },
        { "original full payload (root is the product)", FullRow },
        { "explicit event_type, product at the root", FullRow.Replace("{\"id\"", "{\"event_type\":\"product_update\",\"id\"", StringComparison.Ordinal) },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_master_and_the_store_copy_carry_none_of_the_listed_fields_in_any_shape(string shape, string payload)
    {
        var product = CatalogPayload.ProductState(Samples.Parse(payload)).Entity;
        Assert.NotNull(product);

        var projected = StoreSpecificFields.Project(product);

        AssertStripped(projected.Master, shape);
        AssertStripped(projected.StoreCopy, shape);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Fields_outside_the_lists_are_kept(string shape, string payload)
    {
        var product = CatalogPayload.ProductState(Samples.Parse(payload)).Entity!;

        var copy = StoreSpecificFields.Project(product).StoreCopy;

        Assert.True(copy.ContainsKey("name"), shape);
        Assert.Equal(product["id"]?.ToJsonString(), copy["id"]?.ToJsonString());
        Assert.Equal(
            ((JsonArray)product["product_variants"]!).Count,
            ((JsonArray)copy["product_variants"]!).Count);
    }

    [Fact]
    public void Each_list_applies_only_to_its_own_kind_of_object()
    {
        var stripped = FieldStripping.StripProduct(Samples.Parse(FullRow));

        Assert.Equal("zinc.png", stripped["image_url"]!.GetValue<string>()); // image_url is a variant field, not a product one
        var variant = (JsonObject)stripped["product_variants"]![0]!;
        Assert.Equal("v.png", variant["image"]!.GetValue<string>()); // image is a category field, not a variant one
        Assert.False(variant.ContainsKey("image_url"));
        var category = (JsonObject)stripped["categories"]![0]!;
        Assert.False(category.ContainsKey("image"));
        Assert.Equal("Minerals", category["name"]!.GetValue<string>());
    }

    [Fact]
    public void A_single_variant_or_category_object_is_stripped_like_an_array_element()
    {
        var product = Samples.Parse("""
            {"id":"p","name":"n","product_variants":{"id":"v","cpr_price":1,"price":2},
             "category":{"id":1,"user_id":"u","name":"c"}}
            """);

        var stripped = FieldStripping.StripProduct(product);

        Assert.Equal("""{"id":"v","price":2}""", stripped["product_variants"]!.ToJsonString());
        Assert.Equal("""{"id":1,"name":"c"}""", stripped["category"]!.ToJsonString());
    }

    [Fact]
    public void Stripping_leaves_the_input_untouched()
    {
        var product = Samples.Parse(FullRow);
        var before = product.ToJsonString();

        _ = FieldStripping.StripProduct(product);

        Assert.Equal(before, product.ToJsonString());
    }

    [Fact]
    public void The_lists_are_exactly_the_seeds()
    {
        Assert.Equal(["created_at", "updated_at", "archived_at"], FieldStripping.Lists[CatalogObjectKind.Product]);
        Assert.Equal(
            ["image_url", "stock_quantity", "is_default", "stockStatus", "lab_test_codes_id", "service_product_id", "cpr_price", "archived_at"],
            FieldStripping.Lists[CatalogObjectKind.ProductVariant]);
        Assert.Equal(["user_id", "created_at", "last_modified", "image"], FieldStripping.Lists[CatalogObjectKind.Category]);
    }

    internal static void AssertStripped(JsonObject product, string because)
    {
        foreach (var field in FieldStripping.Lists[CatalogObjectKind.Product])
        {
            Assert.False(product.ContainsKey(field), $"{because}: product still has {field}");
        }

        foreach (var nested in FieldStripping.NestedInProduct)
        {
            foreach (var member in nested.MemberNames)
            {
                var objects = product[member] switch
                {
                    JsonArray array => array.OfType<JsonObject>().ToList(),
                    JsonObject single => [single],
                    _ => [],
                };
                foreach (var item in objects)
                {
                    foreach (var field in FieldStripping.Lists[nested.Kind])
                    {
                        Assert.False(item.ContainsKey(field), $"{because}: {member} element still has {field}");
                    }
                }
            }
        }
    }
}
