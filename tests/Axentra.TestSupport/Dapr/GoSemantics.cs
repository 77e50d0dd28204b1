using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;

namespace Axentra.TestSupport.Dapr;

/// <summary>The Go library behaviour the emulated components depend on, reproduced where it changes bytes.</summary>
internal static class GoSemantics
{
    /// <summary>
    /// components-contrib common/utils/utils.go <c>Unquote</c>: json.Unmarshal into <c>any</c>, then spf13/cast
    /// <c>ToStringE</c>. A JSON string loses its quotes, a number is re-printed from float64 ('f', -1), true/false stay,
    /// <c>null</c> becomes EMPTY, objects/arrays and invalid JSON are kept as they are.
    /// </summary>
    public static byte[] ContribUnquote(byte[] data)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(data);
        }
        catch (JsonException)
        {
            return data;
        }

        using (document)
        {
            var root = document.RootElement;
            return root.ValueKind switch
            {
                JsonValueKind.String => Encoding.UTF8.GetBytes(root.GetString()!),
                JsonValueKind.True => "true"u8.ToArray(),
                JsonValueKind.False => "false"u8.ToArray(),
                JsonValueKind.Null => [],
                JsonValueKind.Number when root.TryGetDouble(out var number) && double.IsFinite(number) =>
                    Encoding.ASCII.GetBytes(FormatFloatNoExponent(number)),
                _ => data,
            };
        }
    }

    /// <summary>
    /// Go <c>strconv.Unquote</c> for what JSON and Go literals can produce: <c>"…"</c> with escapes, <c>`…`</c> raw
    /// (carriage returns dropped), and a single-rune <c>'…'</c>. Null when the input is not a valid literal.
    /// </summary>
    public static byte[]? StrconvUnquote(byte[] data)
    {
        if (data.Length < 2 || data[0] != data[^1] || data[0] is not ((byte)'"' or (byte)'`' or (byte)'\''))
        {
            return null;
        }

        var quote = data[0];
        var body = data.AsSpan(1, data.Length - 2);
        if (quote == '`')
        {
            return body.Contains((byte)'`') ? null : [.. body.ToArray().Where(b => b != '\r')];
        }

        var output = new List<byte>(body.Length);
        for (var i = 0; i < body.Length; i++)
        {
            var b = body[i];
            if (b == quote || b == '\n')
            {
                return null;
            }

            if (b != '\\')
            {
                output.Add(b);
                continue;
            }

            if (++i >= body.Length)
            {
                return null;
            }

            switch ((char)body[i])
            {
                case 'a': output.Add(7); break;
                case 'b': output.Add(8); break;
                case 'f': output.Add(12); break;
                case 'n': output.Add(10); break;
                case 'r': output.Add(13); break;
                case 't': output.Add(9); break;
                case 'v': output.Add(11); break;
                case '\\': output.Add((byte)'\\'); break;
                case '\'' when quote == '\'': output.Add((byte)'\''); break;
                case '"' when quote == '"': output.Add((byte)'"'); break;
                case 'x' when TryHex(body, i + 1, 2, out var x): output.Add((byte)x); i += 2; break;
                case 'u' when TryHex(body, i + 1, 4, out var u) && IsRune(u): output.AddRange(Encoding.UTF8.GetBytes(char.ConvertFromUtf32(u))); i += 4; break;
                case 'U' when TryHex(body, i + 1, 8, out var bigU) && IsRune(bigU): output.AddRange(Encoding.UTF8.GetBytes(char.ConvertFromUtf32(bigU))); i += 8; break;
                case >= '0' and <= '7' when i + 2 < body.Length && IsOctal(body[i + 1]) && IsOctal(body[i + 2]):
                    var octal = ((body[i] - '0') * 64) + ((body[i + 1] - '0') * 8) + (body[i + 2] - '0');
                    if (octal > 255)
                    {
                        return null;
                    }

                    output.Add((byte)octal);
                    i += 2;
                    break;
                default: return null;
            }
        }

        if (quote == '\'' && Encoding.UTF8.GetString([.. output]).EnumerateRunes().Count() != 1)
        {
            return null;
        }

        return [.. output];
    }

    /// <summary>
    /// Go <c>base64.StdEncoding.DecodeString</c>: padded standard alphabet; only CR and LF are skipped. Null when invalid.
    /// </summary>
    public static byte[]? DecodeStdBase64(ReadOnlySpan<byte> data)
    {
        var text = Encoding.ASCII.GetString(data).Replace("\r", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal);
        if (text.Length % 4 != 0 || !text.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '/' or '='))
        {
            return null;
        }

        var padding = text.Length - text.TrimEnd('=').Length;
        if (padding > 2 || text.TrimEnd('=').Contains('=', StringComparison.Ordinal) || data.ToArray().Any(b => b > 127))
        {
            return null;
        }

        return Convert.FromBase64String(text);
    }

    /// <summary>dapr/kit strings.IsTruthy.</summary>
    public static bool IsTruthy(string? value) =>
        (value ?? "").Trim().ToLowerInvariant() is "y" or "yes" or "true" or "t" or "on" or "1";

    /// <summary>Go <c>strconv.FormatFloat(f, 'f', -1, 64)</c>: shortest round-trip digits, never an exponent.</summary>
    internal static string FormatFloatNoExponent(double value)
    {
        var roundTrip = value.ToString("R", CultureInfo.InvariantCulture);
        var e = roundTrip.IndexOf('E', StringComparison.Ordinal);
        if (e < 0)
        {
            return roundTrip;
        }

        var mantissa = roundTrip[..e];
        var exponent = int.Parse(roundTrip[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var negative = mantissa.StartsWith('-');
        var digits = mantissa.TrimStart('-').Replace(".", "", StringComparison.Ordinal);
        var pointAt = mantissa.TrimStart('-').IndexOf('.', StringComparison.Ordinal) is var dot and >= 0 ? dot : digits.Length;
        var position = pointAt + exponent;
        string result;
        if (position <= 0)
        {
            result = "0." + new string('0', -position) + digits;
        }
        else if (position >= digits.Length)
        {
            result = BigInteger.Parse(digits + new string('0', position - digits.Length), CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);
        }
        else
        {
            result = digits[..position] + "." + digits[position..];
        }

        return negative ? "-" + result : result;
    }

    private static bool TryHex(ReadOnlySpan<byte> body, int start, int length, out int value)
    {
        value = 0;
        return start + length <= body.Length
            && int.TryParse(Encoding.ASCII.GetString(body.Slice(start, length)), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }

    private static bool IsRune(int codePoint) => codePoint is >= 0 and <= 0x10FFFF and not (>= 0xD800 and <= 0xDFFF);

    private static bool IsOctal(byte b) => b is >= (byte)'0' and <= (byte)'7';
}
