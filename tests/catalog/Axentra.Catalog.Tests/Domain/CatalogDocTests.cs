using System.Text;
using Axentra.Catalog.Domain;

namespace Axentra.Catalog.Tests.Domain;

/// <summary>docs/catalog.md shows the code's single definitions; these tests keep them from drifting apart.</summary>
public sealed class CatalogDocTests
{
    private static readonly string Doc = File.ReadAllText(Path.Combine(Axentra.TestSupport.RepositoryRoot.Path, "docs", "catalog.md"));

    [Fact]
    public void The_documented_stripping_lists_are_the_codes()
    {
        var where = new Dictionary<CatalogObjectKind, (string Name, string Where)>
        {
            [CatalogObjectKind.Product] = ("products", "the product object"),
            [CatalogObjectKind.ProductVariant] = ("product variants", Members(CatalogObjectKind.ProductVariant)),
            [CatalogObjectKind.Category] = ("categories", Members(CatalogObjectKind.Category)),
        };
        var table = new StringBuilder("| object | where | fields removed |\n|---|---|---|\n");
        foreach (var (kind, fields) in FieldStripping.Lists)
        {
            table.Append($"| {where[kind].Name} | {where[kind].Where} | {Codes(fields)} |\n");
        }

        Assert.Equal(table.ToString(), Section("stripping"));
    }

    [Fact]
    public void The_documented_store_specific_fields_are_the_codes()
    {
        var table = $"| object | store-specific fields |\n|---|---|\n| product | {Codes(StoreSpecificFields.Product)} |\n| product variant | {Codes(StoreSpecificFields.Variant)} |\n";

        Assert.Equal(table, Section("store-specific"));
    }

    private static string Members(CatalogObjectKind kind) =>
        string.Join(", ", FieldStripping.NestedInProduct.Single(n => n.Kind == kind).MemberNames.Select(m => $"`{m}`")) + " (array or single object)";

    private static string Codes(IEnumerable<string> fields) => string.Join(", ", fields.Select(f => $"`{f}`"));

    private static string Section(string name)
    {
        var begin = Doc.IndexOf($"<!-- {name}:begin -->\n", StringComparison.Ordinal);
        var end = Doc.IndexOf($"<!-- {name}:end -->", StringComparison.Ordinal);
        Assert.True(begin >= 0 && end > begin, $"docs/catalog.md lacks the {name} markers");
        return Doc[(begin + $"<!-- {name}:begin -->\n".Length)..end];
    }
}
