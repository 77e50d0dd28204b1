using System.Text.Json.Nodes;

namespace Axentra.Catalog.Domain;

/// <summary>One variant's store-specific values, matched to the master's variant by <c>id</c>, else by position.</summary>
public sealed record VariantValues(JsonNode? VariantId, int Index, JsonObject Fields);

/// <summary>The values one store holds for a product, beside the shared master definition.</summary>
public sealed record StoreValues(JsonObject ProductFields, IReadOnlyList<VariantValues> Variants);

/// <summary>The master product (shared by every store) and one store's copy of it, derived from one event.</summary>
public sealed record CatalogProduct(JsonObject Master, JsonObject StoreCopy, StoreValues StoreValues);

/// <summary>
/// Which fields belong to one store rather than to the product: the single definition behind the master/store
/// split (shown in <c>docs/catalog.md</c>, checked by a test). The master carries none of them, so it never
/// shows one store's price as if it were every store's; the store copy is the master plus these values.
/// </summary>
public static class StoreSpecificFields
{
    /// <summary>Store-specific members of the product object itself.</summary>
    public static IReadOnlyList<string> Product { get; } = ["store_id", "price", "compare_at_price", "currency"];

    /// <summary>Store-specific members of each product variant (the seed: "price from its variants").</summary>
    public static IReadOnlyList<string> Variant { get; } = ["price", "compare_at_price", "currency"];

    public const string VariantsMember = "product_variants";

    /// <summary>Strips the product, then splits it into the master and the store's values, and merges them back.</summary>
    public static CatalogProduct Project(JsonObject product)
    {
        var stripped = FieldStripping.StripProduct(product);
        var (master, values) = Split(stripped);
        return new CatalogProduct(master, Merge(master, values), values);
    }

    /// <summary>Removes the store-specific members from a (stripped) product and returns them separately.</summary>
    public static (JsonObject Master, StoreValues Values) Split(JsonObject product)
    {
        var master = (JsonObject)product.DeepClone();
        var productFields = Take(master, Product);
        var variants = new List<VariantValues>();
        if (master[VariantsMember] is JsonArray array)
        {
            for (var i = 0; i < array.Count; i++)
            {
                if (array[i] is JsonObject variant)
                {
                    var fields = Take(variant, Variant);
                    if (fields.Count > 0)
                    {
                        variants.Add(new VariantValues(variant["id"]?.DeepClone(), i, fields));
                    }
                }
            }
        }
        else if (master[VariantsMember] is JsonObject single && Take(single, Variant) is { Count: > 0 } fields)
        {
            variants.Add(new VariantValues(single["id"]?.DeepClone(), 0, fields));
        }

        return (master, new StoreValues(productFields, variants));
    }

    /// <summary>A store's copy: the master with the store's values put back in place.</summary>
    public static JsonObject Merge(JsonObject master, StoreValues values)
    {
        var copy = (JsonObject)master.DeepClone();
        foreach (var (name, value) in values.ProductFields)
        {
            copy[name] = value?.DeepClone();
        }

        foreach (var variantValues in values.Variants)
        {
            var target = FindVariant(copy, variantValues);
            if (target is null)
            {
                // The master has no such variant (it changed since): keep the store's values as their own variant.
                target = variantValues.VariantId is null ? [] : new JsonObject { ["id"] = variantValues.VariantId.DeepClone() };
                if (copy[VariantsMember] is not JsonArray array)
                {
                    array = [];
                    copy[VariantsMember] = array;
                }

                array.Add(target);
            }

            foreach (var (name, value) in variantValues.Fields)
            {
                target[name] = value?.DeepClone();
            }
        }

        return copy;
    }

    private static JsonObject? FindVariant(JsonObject product, VariantValues values)
    {
        switch (product[VariantsMember])
        {
            case JsonObject single:
                return values.Index == 0 || (values.VariantId is not null && JsonNode.DeepEquals(single["id"], values.VariantId)) ? single : null;
            case JsonArray array:
                if (values.VariantId is not null)
                {
                    return array.OfType<JsonObject>().FirstOrDefault(v => JsonNode.DeepEquals(v["id"], values.VariantId));
                }

                return values.Index < array.Count ? array[values.Index] as JsonObject : null;
            default:
                return null;
        }
    }

    private static JsonObject Take(JsonObject source, IReadOnlyList<string> names)
    {
        var taken = new JsonObject();
        foreach (var name in names)
        {
            if (source.Remove(name, out var value))
            {
                taken[name] = value;
            }
        }

        return taken;
    }
}
