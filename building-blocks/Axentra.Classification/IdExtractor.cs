using System.Text.Json;
using static Axentra.Classification.PayloadShape;

namespace Axentra.Classification;

/// <summary>One place an id may sit, in precedence order (documented in <c>docs/event-types.md</c>).</summary>
public sealed record IdLocation(string Path, string? OnlyWhen, Func<JsonElement, JsonElement?> Find);

public sealed record ExtractedIds(string? StoreId, string? ProductId);

/// <summary>
/// Finds <c>store_id</c> and <c>product_id</c> in the accepted payload shapes. The first location holding a
/// non-null, non-empty value wins. Ids are strings or integers; they become object keys, so anything that is not
/// a safe key segment is refused (400) rather than guessed at.
/// </summary>
public static class IdExtractor
{
    public static IReadOnlyList<IdLocation> StoreIdLocations { get; } =
    [
        new("store_id", null, root => Member(root, "store_id")),
        new("record.store_id", "Supabase webhook", root => Member(Object(root, "record"), "store_id")),
        new("old_record.store_id", "Supabase webhook", root => Member(Object(root, "old_record"), "store_id")),
        new("record.id", "Supabase webhook on `stores`", root => SupabaseTableIs(root, IsStoreTable) ? Member(Object(root, "record"), "id") : null),
        new("old_record.id", "Supabase webhook on `stores`", root => SupabaseTableIs(root, IsStoreTable) ? Member(Object(root, "old_record"), "id") : null),
        new("products.store_id", null, root => Member(Object(root, "products"), "store_id")),
        new("product.store_id", null, root => Member(Object(root, "product"), "store_id")),
        new("store.store_id", null, root => Member(Object(root, "store"), "store_id")),
        new("store.id", null, root => Member(Object(root, "store"), "id")),
        new("id", "the root is a store object (has `store_domain`, no product)", root => StoreObject(root) is { } s && s.Equals(root) && ProductObject(root) is null ? Member(root, "id") : null),
    ];

    public static IReadOnlyList<IdLocation> ProductIdLocations { get; } =
    [
        new("product_id", null, root => Member(root, "product_id")),
        new("record.product_id", "Supabase webhook", root => Member(Object(root, "record"), "product_id")),
        new("record.id", "Supabase webhook on `products`", root => SupabaseTableIs(root, IsProductTable) ? Member(Object(root, "record"), "id") : null),
        new("old_record.product_id", "Supabase webhook", root => Member(Object(root, "old_record"), "product_id")),
        new("old_record.id", "Supabase webhook on `products`", root => SupabaseTableIs(root, IsProductTable) ? Member(Object(root, "old_record"), "id") : null),
        new("products.product_id", null, root => Member(Object(root, "products"), "product_id")),
        new("products.id", null, root => Member(Object(root, "products"), "id")),
        new("product.product_id", null, root => Member(Object(root, "product"), "product_id")),
        new("product.id", null, root => Member(Object(root, "product"), "id")),
        new("id", "the root is a product object (has `product_variants`)", root => root.TryGetProperty("product_variants", out _) ? Member(root, "id") : null),
    ];

    /// <summary>Extracts both ids, or explains (for a 400) why one of them is unusable.</summary>
    public static (ExtractedIds? Ids, string? Error) Extract(JsonElement root)
    {
        var (storeId, storeError) = First(root, StoreIdLocations, "store_id");
        if (storeError is not null)
        {
            return (null, storeError);
        }

        var (productId, productError) = First(root, ProductIdLocations, "product_id");
        return productError is not null ? (null, productError) : (new ExtractedIds(storeId, productId), null);
    }

    private static (string? Value, string? Error) First(JsonElement root, IReadOnlyList<IdLocation> locations, string name)
    {
        foreach (var location in locations)
        {
            if (location.Find(root) is not { } value)
            {
                continue;
            }

            string? text;
            switch (value.ValueKind)
            {
                case JsonValueKind.String:
                    text = value.GetString();
                    break;
                case JsonValueKind.Number when value.TryGetInt64(out var number):
                    text = number.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    break;
                case JsonValueKind.Null:
                    continue;
                default:
                    return (null, $"{name} at '{location.Path}' must be a string or an integer, not {Describe(value)}");
            }

            if (string.IsNullOrEmpty(text))
            {
                continue;
            }

            return Contracts.SafeKeySegment.IsValid(text)
                ? (text, null)
                : (null, $"{name} at '{location.Path}' is not a safe key segment (letters, digits, '-', '_', '.', at most {Contracts.SafeKeySegment.MaxLength} characters, not '.' or '..')");
        }

        return (null, null);
    }

    private static string Describe(JsonElement value) =>
        value.ValueKind == JsonValueKind.Number ? "a fraction" : "a JSON " + value.ValueKind.ToString().ToLowerInvariant();

    private static JsonElement? Member(JsonElement? parent, string name) =>
        parent is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(name, out var value) ? value : null;

    private static bool SupabaseTableIs(JsonElement root, Func<string, bool> table) =>
        IsSupabaseDatabaseWebhook(root) && table(SupabaseTable(root));
}
