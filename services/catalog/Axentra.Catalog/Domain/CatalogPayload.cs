using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Axentra.Catalog.Domain;

/// <summary>
/// What the catalog reads from one webhook payload: the entity's state as the event carries it (null when the
/// event carries none, e.g. a Supabase <c>DELETE</c> or the seed's <c>product_deletion</c>), where it was found,
/// and the time that state is from.
/// </summary>
public sealed record PayloadState(JsonObject? Entity, string Location, DateTimeOffset? UpdatedAt, string? Warning);

/// <summary>
/// Finds the product or store object in the payload shapes intake accepts (documented in <c>docs/catalog.md</c>):
/// <list type="number">
/// <item>Supabase database webhook <c>{type, table, schema, record, old_record}</c>: <c>record</c>, the row after
/// the change (null for DELETE: <c>old_record</c> is the state before it, not the deletion's);</item>
/// <item>the seed's simplified payloads: <c>products</c>, else <c>product</c> (product events) or <c>store</c>
/// (store events);</item>
/// <item>the seed's original full payloads: the root itself, without the <c>event_type</c> member.</item>
/// </list>
/// Pure: a function of the parsed payload only.
/// </summary>
public static class CatalogPayload
{
    /// <summary>Members that only identify an entity; an object with nothing else carries no catalog content.</summary>
    public static IReadOnlyList<string> IdentityMembers { get; } = ["id", "product_id", "store_id", "event_type"];

    private static readonly string[] SupabaseOperations = ["INSERT", "UPDATE", "DELETE"];

    public static PayloadState ProductState(JsonObject root) => Find(root, ["products", "product"]);

    public static PayloadState StoreState(JsonObject root) => Find(root, ["store"]);

    /// <summary>True when the object holds something besides its identifiers.</summary>
    public static bool HasContent(JsonObject entity) =>
        entity.Any(member => !IdentityMembers.Contains(member.Key, StringComparer.Ordinal));

    public static bool IsSupabaseDatabaseWebhook(JsonObject root) =>
        root["type"] is JsonValue type && type.TryGetValue<string>(out var operation) && SupabaseOperations.Contains(operation, StringComparer.Ordinal)
        && root["table"] is JsonValue table && table.TryGetValue<string>(out _)
        && (root.ContainsKey("record") || root.ContainsKey("old_record"));

    private static PayloadState Find(JsonObject root, string[] wrappers)
    {
        if (IsSupabaseDatabaseWebhook(root))
        {
            return root["record"] is JsonObject record
                ? WithTimestamp(record, "record")
                : new PayloadState(null, "record", null, null);
        }

        foreach (var wrapper in wrappers)
        {
            if (root[wrapper] is JsonObject wrapped)
            {
                return WithTimestamp(wrapped, wrapper);
            }
        }

        var self = (JsonObject)root.DeepClone();
        self.Remove("event_type");
        return HasContent(self) ? WithTimestamp(self, "(root)") : new PayloadState(null, "(root)", null, null);
    }

    private static PayloadState WithTimestamp(JsonObject entity, string location)
    {
        var node = entity["updated_at"];
        if (node is null)
        {
            return new PayloadState(entity, location, null, null);
        }

        if (node.GetValueKind() == JsonValueKind.String
            && DateTimeOffset.TryParse(node.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var updatedAt))
        {
            return new PayloadState(entity, location, updatedAt.ToUniversalTime(), null);
        }

        return new PayloadState(entity, location, null, $"{location}.updated_at is not an ISO 8601 timestamp; ordered by receipt time instead");
    }
}
