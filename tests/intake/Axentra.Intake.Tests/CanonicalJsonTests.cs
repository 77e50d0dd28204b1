using System.Text;
using System.Text.Json;
using Axentra.Classification;

namespace Axentra.Intake.Tests;

public sealed class CanonicalJsonTests
{
    private static readonly JsonSerializerOptions MinimalEscaping = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

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
    public void Objects_of_any_size_with_names_of_any_length_sort_like_ordinal_strings()
    {
        var random = new Random(8785);
        const string alphabet = "aAzZ09_-.~ ";
        for (var i = 0; i < 500; i++)
        {
            var names = Enumerable.Range(0, random.Next(41))
                .Select(_ => new string(Enumerable.Range(0, random.Next(i % 10 == 0 ? 200 : 24)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray()))
                .Distinct(StringComparer.Ordinal)
                .ToList();
            var shuffled = names.OrderBy(_ => random.Next()).ToList();
            var json = "{" + string.Join(",", shuffled.Select((n, v) => $"\"{n}\":{v}")) + "}";
            var expected = "{" + string.Join(",", shuffled.Select((n, v) => (Name: n, Value: v)).OrderBy(m => m.Name, StringComparer.Ordinal).Select(m => $"\"{m.Name}\":{m.Value}")) + "}";

            Assert.Equal(expected, Canonical(json));
        }
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
    public void A_hash_after_larger_and_oversized_values_on_the_same_thread_is_that_of_its_own_bytes()
    {
        // Sha256Hex reuses one buffer per thread: what an earlier, longer value left in it must not count.
        string Expected(JsonDocument d) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(CanonicalJson.Serialize(d.RootElement)));
        using var small = JsonDocument.Parse("{\"b\":1,\"a\":[true,null]}");
        using var large = JsonDocument.Parse($"{{\"text\":\"{new string('x', 5_000)}\"}}");
        using var oversized = JsonDocument.Parse($"{{\"text\":\"{new string('y', 200_000)}\"}}");

        foreach (var document in new[] { large, small, oversized, small, large, small })
        {
            Assert.Equal(Expected(document), CanonicalJson.Sha256Hex(document.RootElement));
        }
    }

    [Fact]
    public async Task Any_buffer_writer_receives_the_same_canonical_bytes()
    {
        using var document = JsonDocument.Parse("""{ "z": [1.50, "\u0041"], "a": { "c": null, "b": true } }""");
        using var stream = new MemoryStream();
        var pipe = System.IO.Pipelines.PipeWriter.Create(stream);

        CanonicalJson.Write(document.RootElement, pipe);
        await pipe.CompleteAsync();

        Assert.Equal(CanonicalJson.Serialize(document.RootElement), stream.ToArray());
        Assert.Equal("""{"a":{"b":true,"c":null},"z":[1.5,"A"]}""", Encoding.UTF8.GetString(stream.ToArray()));
    }

    [Fact]
    public void Hash_is_lowercase_hex_sha256_of_the_canonical_bytes()
    {
        using var document = JsonDocument.Parse("""{ "b": 2, "a": 1 }""");
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("""{"a":1,"b":2}"""u8));
        Assert.Equal(expected, CanonicalJson.Sha256Hex(document.RootElement));
    }

    // Numbers and strings already in canonical form are copied from the source; the rest are decoded and
    // re-formatted. Both paths must agree, so the copy path is held to the formatting path on many shapes.
    [Theory]
    [InlineData("24.5")]
    [InlineData("-0.5")]
    [InlineData("0.000001")]
    [InlineData("0.0000012")]
    [InlineData("123456789012345")]
    [InlineData("1234567890123456")]
    [InlineData("12345678.9012345")]
    [InlineData("1.23456789012345")]
    [InlineData("0.123456789012345")]
    [InlineData("0.1234567890123456")]
    [InlineData("100")]
    [InlineData("-0.0")]
    public void Numbers_copied_from_the_source_match_the_formatted_shortest_form(string input) =>
        Assert.Equal(CanonicalJson.FormatNumber(double.Parse(input, System.Globalization.CultureInfo.InvariantCulture)), Canonical(input));

    [Fact]
    public void Random_numbers_canonicalise_to_the_formatted_shortest_form()
    {
        var random = new Random(8785);
        for (var i = 0; i < 20_000; i++)
        {
            var integer = random.Next(4) switch
            {
                0 => "0",
                1 => random.Next(1, 10).ToString(System.Globalization.CultureInfo.InvariantCulture),
                2 => random.NextInt64(1, 1_000_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => random.NextInt64(100_000_000_000_000, 999_999_999_999_999_999).ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
            var fraction = random.Next(3) == 0 ? "" : "." + new string('0', random.Next(8)) + random.NextInt64(0, 10_000_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var text = (random.Next(2) == 0 ? "-" : "") + integer + fraction;
            var expected = CanonicalJson.FormatNumber(double.Parse(text, System.Globalization.CultureInfo.InvariantCulture));
            Assert.True(expected == Canonical(text), $"{text}: expected {expected}, got {Canonical(text)}");
        }
    }

    [Fact]
    public void Strings_and_names_without_escapes_match_their_fully_escaped_spelling()
    {
        var random = new Random(3339);
        const string alphabet = "aZ09 _-.:/\u00e9\u20ac\u2028\U0001F600\"\\\n\t\u0001";
        for (var i = 0; i < 2_000; i++)
        {
            var value = new System.Text.StringBuilder();
            var length = random.Next(12);
            for (var j = 0; j < length; j++)
            {
                var at = random.Next(alphabet.Length);
                value.Append(char.IsHighSurrogate(alphabet[at]) ? alphabet.Substring(at, 2) : char.IsLowSurrogate(alphabet[at]) ? "x" : alphabet[at].ToString());
            }

            var text = value.ToString();
            var minimal = JsonSerializer.Serialize(text, MinimalEscaping);
            var escaped = "\"" + string.Concat(text.Select(c => $"\\u{(int)c:x4}")) + "\"";
            Assert.Equal(Canonical(escaped), Canonical(minimal));
            Assert.Equal(Canonical($"{{{escaped}:1,\"m\":2}}"), Canonical($"{{{minimal}:1,\"m\":2}}"));
        }
    }

    [Theory]
    [InlineData("""{"a":1,"b":2,"a":3}""", "duplicate_member")]
    [InlineData("""{"x":{"a":1,"a":1}}""", "duplicate_member")]
    [InlineData("""[{"é":1,"\u00e9":2}]""", "duplicate_member")]
    [InlineData("""{"a":"\ud800"}""", "invalid_unicode")]
    [InlineData("""{"\udfff":1}""", "invalid_unicode")]
    [InlineData("""[1e400]""", "number_out_of_range")]
    public void Json_that_is_not_I_JSON_has_no_canonical_form(string json, string code)
    {
        using var document = JsonDocument.Parse(json);
        var refused = Assert.Throws<NotIJsonException>(() => CanonicalJson.Sha256Hex(document.RootElement));
        Assert.Equal(code, refused.Code);
    }

    [Fact]
    public void Escaped_and_plain_spellings_of_different_names_still_sort_by_code_unit()
    {
        Assert.Equal("""{"a":1,"b":2}""", Canonical("""{"b":2,"a":1}"""));
        Assert.Equal("""{"é":1,"ë":2}""", Canonical("""{"\u00eb":2,"é":1}"""));
    }
}
