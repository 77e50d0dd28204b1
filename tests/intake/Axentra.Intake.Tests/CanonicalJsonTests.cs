using System.Text;
using System.Text.Json;
using Axentra.Classification;

namespace Axentra.Intake.Tests;

public sealed class CanonicalJsonTests
{
    private static string Canonical(string json)
    {
        using var document = JsonDocument.Parse(json);
        return Encoding.UTF8.GetString(CanonicalJson.Serialize(document.RootElement));
    }

    [Theory]
    // RFC 8785 §3.2.2.3 / ECMAScript Number::toString
    [InlineData("0", "0")]
    [InlineData("-0", "0")]
    [InlineData("1", "1")]
    [InlineData("1.0", "1")]
    [InlineData("-1.5", "-1.5")]
    [InlineData("1E2", "100")]
    [InlineData("1e21", "1e+21")]
    [InlineData("1e20", "100000000000000000000")]
    [InlineData("123456789012345678901", "123456789012345680000")]
    [InlineData("0.000001", "0.000001")]
    [InlineData("0.0000001", "1e-7")]
    [InlineData("1.5e-7", "1.5e-7")]
    [InlineData("4.50", "4.5")]
    [InlineData("2e-3", "0.002")]
    [InlineData("333333333.33333329", "333333333.3333333")]
    [InlineData("1e+30", "1e+30")]
    [InlineData("9007199254740993", "9007199254740992")]
    [InlineData("5e-324", "5e-324")]
    [InlineData("1.7976931348623157e308", "1.7976931348623157e+308")]
    [InlineData("29.99", "29.99")]
    public void Numbers_are_written_in_ECMAScript_shortest_form(string input, string expected) =>
        Assert.Equal(expected, Canonical(input));

    [Fact]
    public void Object_members_are_sorted_by_UTF16_code_units_and_whitespace_is_dropped()
    {
        // RFC 8785 §3.2.3's example: sorting is by UTF-16 code units, so "\ud83d\ude00" (a surrogate pair)
        // sorts before "\ufb33" even though its code point is larger.
        var json = "{ \"\\u20ac\": \"Euro Sign\", \"\\r\": \"Carriage Return\", \"\\ufb33\": \"Hebrew Letter Dalet With Dagesh\", \"1\": \"One\", \"\\ud83d\\ude00\": \"Emoji: Grinning Face\", \"\\u0080\": \"Control\", \"\\u00f6\": \"Latin Small Letter O With Diaeresis\" }";
        var expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\",\"\u00f6\":\"Latin Small Letter O With Diaeresis\",\"\u20ac\":\"Euro Sign\",\"\U0001F600\":\"Emoji: Grinning Face\",\"\uFB33\":\"Hebrew Letter Dalet With Dagesh\"}";
        Assert.Equal(expected, Canonical(json));
    }

    [Fact]
    public void Strings_use_the_minimal_JSON_escapes()
    {
        Assert.Equal("\"\\u0001\\b\\t\\n\\f\\r\\\"\\\\/é\u2028\"", Canonical("\"\\u0001\\b\\t\\n\\f\\r\\\"\\\\\\/\\u00e9\\u2028\""));
    }

    [Fact]
    public void Re_serialised_payloads_hash_the_same()
    {
        const string original = """{"event_type":"new_product","products":{"name":"A","price":1.0,"tags":["x","y"]}}""";
        const string reordered = """
            {
              "products" : { "tags" : [ "x", "y" ], "price" : 1, "name" : "\u0041" },
              "event_type" : "new_product"
            }
            """;
        using var a = JsonDocument.Parse(original);
        using var b = JsonDocument.Parse(reordered);
        Assert.Equal(CanonicalJson.Sha256Hex(a.RootElement), CanonicalJson.Sha256Hex(b.RootElement));
    }

    [Fact]
    public void Different_values_hash_differently_and_array_order_matters()
    {
        using var a = JsonDocument.Parse("""{"a":[1,2]}""");
        using var b = JsonDocument.Parse("""{"a":[2,1]}""");
        Assert.NotEqual(CanonicalJson.Sha256Hex(a.RootElement), CanonicalJson.Sha256Hex(b.RootElement));
    }

    [Fact]
    public void Hash_is_lowercase_hex_sha256_of_the_canonical_bytes()
    {
        using var document = JsonDocument.Parse("""{ "b": 2, "a": 1 }""");
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("""{"a":1,"b":2}"""u8));
        Assert.Equal(expected, CanonicalJson.Sha256Hex(document.RootElement));
    }
}
