using System.Text.Json.Nodes;
using Axentra.TestSupport;

namespace Axentra.EndToEnd.Tests.Support;

/// <summary>Webhook bodies: the shared samples, and product/store events built per test so every run is distinct.</summary>
public static class Payloads
{
    public static IEnumerable<string> SampleNames() =>
        Directory.EnumerateFiles(RepositoryRoot.Samples, "*.json").Select(Path.GetFileName).Order(StringComparer.Ordinal)!;

    public static byte[] Sample(string name) => File.ReadAllBytes(Path.Combine(RepositoryRoot.Samples, name));

    public static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    public static byte[] Product(string eventType, string storeId, string productId, string name, decimal price, string? updatedAt = null)
    {
        var product = new JsonObject
        {
            ["product_id"] = productId,
            ["store_id"] = storeId,
            ["name"] = name,
            ["created_at"] = "2025-12-01T10:00:00Z",
            ["product_variants"] = new JsonArray(new JsonObject
            {
                ["price"] = price,
                ["image_url"] = "https://cdn.example/p.png",
                ["stock_quantity"] = 7,
            }),
            ["categories"] = new JsonArray(new JsonObject { ["name"] = "Vitamins", ["user_id"] = "u-1", ["image"] = "v.png" }),
        };
        if (updatedAt is not null)
        {
            product["updated_at"] = updatedAt;
        }

        return StandaloneProcess.Json(new JsonObject { ["event_type"] = eventType, ["products"] = product }.ToJsonString());
    }

    public static byte[] ProductDeletion(string storeId, string productId) =>
        StandaloneProcess.Json(new JsonObject
        {
            ["event_type"] = "product_deletion",
            ["products"] = new JsonObject { ["product_id"] = productId, ["store_id"] = storeId },
        }.ToJsonString());

    public static byte[] Store(string eventType, string storeId, string domain) =>
        StandaloneProcess.Json(new JsonObject { ["event_type"] = eventType, ["store_id"] = storeId, ["store_domain"] = domain }.ToJsonString());
}
