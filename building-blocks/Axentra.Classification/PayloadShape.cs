using System.Globalization;
using System.Text.Json;

namespace Axentra.Classification;

/// <summary>Where the things detection and id extraction look for sit in the accepted payload shapes.</summary>
internal static class PayloadShape
{
    public static readonly string[] SupabaseOperations = ["INSERT", "UPDATE", "DELETE"];

    /// <summary>Supabase database webhook: <c>{type: INSERT|UPDATE|DELETE, table, schema, record, old_record}</c>.</summary>
    public static bool IsSupabaseDatabaseWebhook(JsonElement root) =>
        String(root, "type") is { } type && SupabaseOperations.Contains(type, StringComparer.Ordinal)
        && String(root, "table") is not null
        && (root.TryGetProperty("record", out _) || root.TryGetProperty("old_record", out _));

    public static string SupabaseTable(JsonElement root) => String(root, "table")!;

    public static bool IsProductTable(string table) => table is "products" or "product";

    public static bool IsStoreTable(string table) => table is "stores" or "store";

    /// <summary>The product object of a seed-style payload: <c>products</c>, <c>product</c>, or the root itself.</summary>
    public static JsonElement? ProductObject(JsonElement root)
    {
        if (Object(root, "products") is { } products)
        {
            return products;
        }

        if (Object(root, "product") is { } product)
        {
            return product;
        }

        return root.TryGetProperty("product_variants", out _) || root.TryGetProperty("product_id", out _) ? root : null;
    }

    /// <summary>The store object of a seed-style payload: <c>store</c>, or the root when it carries <c>store_domain</c>.</summary>
    public static JsonElement? StoreObject(JsonElement root)
    {
        if (Object(root, "store") is { } store)
        {
            return store;
        }

        return root.TryGetProperty("store_domain", out _) ? root : null;
    }

    public static JsonElement? Object(JsonElement parent, string name) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object
            ? value
            : null;

    public static string? String(JsonElement parent, string name) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    /// <summary>True when the member is present and not JSON null (e.g. <c>archived_at</c> set).</summary>
    public static bool IsSet(JsonElement? parent, string name) =>
        parent is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null;

    /// <summary>
    /// A new entity by its timestamps: no id at all, or <c>created_at</c> equal to <c>updated_at</c> (or no
    /// <c>updated_at</c> beside a <c>created_at</c>).
    /// </summary>
    public static bool LooksNew(JsonElement entity, params string[] idNames)
    {
        if (!idNames.Any(id => IsSet(entity, id)))
        {
            return true;
        }

        var created = entity.TryGetProperty("created_at", out var c) ? c.ToString() : null;
        var updated = entity.TryGetProperty("updated_at", out var u) && u.ValueKind != JsonValueKind.Null ? u.ToString() : null;
        return created is not null && (updated is null || SameInstant(created, updated));
    }

    /// <summary>Equal as instants when both parse (<c>…00Z</c> and <c>…00.000Z</c> are one time), else as text.</summary>
    private static bool SameInstant(string a, string b) =>
        DateTimeOffset.TryParse(a, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var x)
        && DateTimeOffset.TryParse(b, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var y)
            ? x == y
            : a == b;
}
