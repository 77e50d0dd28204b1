using System.Text.Json;
using Axentra.Contracts;
using static Axentra.Classification.PayloadShape;

namespace Axentra.Classification;

/// <summary>One row of the detection table: the first rule that matches decides the event type.</summary>
public sealed record DetectionRule(string Id, string When, Func<JsonElement, string?> Match);

/// <summary>
/// Decides a payload's event type. The rules are an ordered table (documented row for row in
/// <c>docs/event-types.md</c>, one test per row); an unrecognised payload is <c>unknown</c>, which is still
/// audited and registered but not catalogued.
/// </summary>
public static class EventTypeDetector
{
    /// <summary>The seed's explicit <c>event_type</c> values, and the canonical names accepted as they are.</summary>
    public static IReadOnlyDictionary<string, string> ExplicitNames { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["product_update"] = EventTypes.ProductUpdate,
        ["product_deletion"] = EventTypes.ProductDelete,
        ["new_product"] = EventTypes.ProductCreate,
        ["new_store"] = EventTypes.StoreCreate,
        ["deleted_store"] = EventTypes.StoreDelete,
        ["updated_store"] = EventTypes.StoreUpdate,
        [EventTypes.ProductCreate] = EventTypes.ProductCreate,
        [EventTypes.ProductDelete] = EventTypes.ProductDelete,
        [EventTypes.StoreCreate] = EventTypes.StoreCreate,
        [EventTypes.StoreUpdate] = EventTypes.StoreUpdate,
        [EventTypes.StoreDelete] = EventTypes.StoreDelete,
        [EventTypes.Unknown] = EventTypes.Unknown,
    };

    public static IReadOnlyList<DetectionRule> Rules { get; } =
    [
        new("explicit", "`event_type` is a string: the mapping above; any other value is `unknown` (a declared type is never second-guessed)",
            root => root.TryGetProperty("event_type", out var t)
                ? (t.ValueKind == JsonValueKind.String && ExplicitNames.TryGetValue(t.GetString()!, out var name) ? name : EventTypes.Unknown)
                : null),

        new("supabase-product-delete", "Supabase database webhook, table `products`, `type` DELETE",
            root => Supabase(root, IsProductTable, "DELETE") ? EventTypes.ProductDelete : null),
        new("supabase-product-archived", "Supabase, table `products`, INSERT or UPDATE whose `record.archived_at` is set (archiving is how products are deleted)",
            root => Supabase(root, IsProductTable, "INSERT", "UPDATE") && IsSet(Object(root, "record"), "archived_at") ? EventTypes.ProductDelete : null),
        new("supabase-product-insert", "Supabase, table `products`, INSERT",
            root => Supabase(root, IsProductTable, "INSERT") ? EventTypes.ProductCreate : null),
        new("supabase-product-update", "Supabase, table `products`, UPDATE",
            root => Supabase(root, IsProductTable, "UPDATE") ? EventTypes.ProductUpdate : null),
        new("supabase-store-delete", "Supabase, table `stores`, DELETE, or UPDATE whose `record.deleted_at` is set",
            root => Supabase(root, IsStoreTable, "DELETE") || (Supabase(root, IsStoreTable, "UPDATE") && IsSet(Object(root, "record"), "deleted_at"))
                ? EventTypes.StoreDelete : null),
        new("supabase-store-insert", "Supabase, table `stores`, INSERT",
            root => Supabase(root, IsStoreTable, "INSERT") ? EventTypes.StoreCreate : null),
        new("supabase-store-update", "Supabase, table `stores`, UPDATE",
            root => Supabase(root, IsStoreTable, "UPDATE") ? EventTypes.StoreUpdate : null),
        new("supabase-other-table", "Supabase database webhook for any other table",
            root => IsSupabaseDatabaseWebhook(root) ? EventTypes.Unknown : null),

        new("full-product-archived", "a product object (`products`, `product`, or a root with `product_variants`/`product_id`) whose `archived_at` is set",
            root => ProductObject(root) is { } p && IsSet(p, "archived_at") ? EventTypes.ProductDelete : null),
        new("full-product-new", "a product object with no `id`/`product_id`, or with `created_at` equal to `updated_at`",
            root => ProductObject(root) is { } p && LooksNew(p, "id", "product_id") ? EventTypes.ProductCreate : null),
        new("full-product-changed", "any other product object",
            root => ProductObject(root) is not null ? EventTypes.ProductUpdate : null),
        new("full-store-deleted", "a store object (`store`, or a root with `store_domain`) whose `deleted_at` or `archived_at` is set",
            root => StoreObject(root) is { } s && (IsSet(s, "deleted_at") || IsSet(s, "archived_at")) ? EventTypes.StoreDelete : null),
        new("full-store-new", "a store object with no `store_id`/`id`, or with `created_at` equal to `updated_at`",
            root => StoreObject(root) is { } s && LooksNew(s, "store_id", "id") ? EventTypes.StoreCreate : null),
        new("full-store-changed", "any other store object",
            root => StoreObject(root) is not null ? EventTypes.StoreUpdate : null),

        new("fallback", "nothing above matched",
            _ => EventTypes.Unknown),
    ];

    public static string Detect(JsonElement root) => DetectWithRule(root).EventType;

    public static (string EventType, string RuleId) DetectWithRule(JsonElement root)
    {
        foreach (var rule in Rules)
        {
            if (rule.Match(root) is { } eventType)
            {
                return (eventType, rule.Id);
            }
        }

        return (EventTypes.Unknown, "fallback");
    }

    private static bool Supabase(JsonElement root, Func<string, bool> table, params string[] operations) =>
        IsSupabaseDatabaseWebhook(root) && table(SupabaseTable(root)) && operations.Contains(String(root, "type"), StringComparer.Ordinal);
}
