using System.Text.Json.Nodes;

namespace Axentra.Catalog.Domain;

/// <summary>The kinds of object the stripping lists apply to.</summary>
public enum CatalogObjectKind
{
    Product,
    ProductVariant,
    Category,
}

/// <summary>Which members of a product hold objects of one kind (an array of them, or a single object).</summary>
public sealed record NestedObjects(CatalogObjectKind Kind, IReadOnlyList<string> MemberNames);

/// <summary>
/// The seed's field-stripping lists: the single definition the code applies and <c>docs/catalog.md</c> shows
/// (a test checks the doc against these lists). Only the processed copies are stripped; the audit copy never is.
/// </summary>
public static class FieldStripping
{
    public static IReadOnlyDictionary<CatalogObjectKind, IReadOnlyList<string>> Lists { get; } =
        new Dictionary<CatalogObjectKind, IReadOnlyList<string>>
        {
            [CatalogObjectKind.Product] = ["created_at", "updated_at", "archived_at"],
            [CatalogObjectKind.ProductVariant] =
                ["image_url", "stock_quantity", "is_default", "stockStatus", "lab_test_codes_id", "service_product_id", "cpr_price", "archived_at"],
            [CatalogObjectKind.Category] = ["user_id", "created_at", "last_modified", "image"],
        };

    /// <summary>
    /// Where variants and categories sit inside a product in the payload shapes we accept: Supabase rows joined
    /// with their variants (<c>product_variants</c>) and categories (<c>categories</c>, or a single
    /// <c>category</c>), and the seed's simplified payloads (<c>product_variants</c>).
    /// </summary>
    public static IReadOnlyList<NestedObjects> NestedInProduct { get; } =
    [
        new(CatalogObjectKind.ProductVariant, ["product_variants"]),
        new(CatalogObjectKind.Category, ["categories", "category"]),
    ];

    /// <summary>
    /// A stripped deep copy of a product object: the product's own listed fields, and those of every variant and
    /// category nested in it. The input is not modified.
    /// </summary>
    public static JsonObject StripProduct(JsonObject product)
    {
        var copy = (JsonObject)product.DeepClone();
        Strip(copy, CatalogObjectKind.Product);
        foreach (var nested in NestedInProduct)
        {
            foreach (var member in nested.MemberNames)
            {
                switch (copy[member])
                {
                    case JsonObject single:
                        Strip(single, nested.Kind);
                        break;
                    case JsonArray many:
                        foreach (var item in many.OfType<JsonObject>())
                        {
                            Strip(item, nested.Kind);
                        }

                        break;
                }
            }
        }

        return copy;
    }

    private static void Strip(JsonObject target, CatalogObjectKind kind)
    {
        foreach (var field in Lists[kind])
        {
            target.Remove(field);
        }
    }
}
