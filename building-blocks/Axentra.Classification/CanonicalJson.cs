using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Axentra.Classification;

/// <summary>
/// RFC 8785 JSON Canonicalization Scheme: object members sorted by their UTF-16 code units, no whitespace,
/// strings escaped as ECMAScript's JSON.stringify does, numbers in ECMAScript's shortest round-trip form.
/// Two serialisations of the same JSON value (key order, whitespace, <c>1.0</c> vs <c>1</c>, <c>\u0041</c> vs
/// <c>A</c>) canonicalise to the same bytes, which is what lets a re-serialised redelivery dedupe.
/// </summary>
/// <remarks>
/// RFC 8785 takes I-JSON (RFC 7493) only: a value with a member name twice in one object, a string that is not
/// valid Unicode (invalid UTF-8, an unpaired surrogate escape) or a number beyond a double's range has no canonical
/// form, and is refused with a <see cref="NotIJsonException"/> that says which.
/// </remarks>
public static class CanonicalJson
{
    /// <summary>Lowercase hex SHA-256 of the canonical form: the platform's <c>payload_hash</c>.</summary>
    public static string Sha256Hex(JsonElement value)
    {
        var buffer = RentThreadBuffer();
        try
        {
            WriteValue(value, buffer);
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(buffer.WrittenSpan, hash);
            return Convert.ToHexStringLower(hash);
        }
        finally
        {
            ReturnThreadBuffer(buffer);
        }
    }

    /// <summary>Throws <see cref="NotIJsonException"/> when <paramref name="value"/> has no canonical form; nothing else.</summary>
    public static void EnsureIJson(JsonElement value)
    {
        var buffer = RentThreadBuffer();
        try
        {
            WriteValue(value, buffer);
        }
        finally
        {
            ReturnThreadBuffer(buffer);
        }
    }

    /// <remarks>
    /// A canonical form that is only hashed or checked needs no buffer of its own, so each thread reuses one: a new
    /// one per webhook was about 7 % of the bytes intake allocates (docs/performance.md, eighth round). Writing is
    /// synchronous, so nothing else runs on this thread while the buffer is in use; one grown past the limit is not
    /// kept.
    /// </remarks>
    private static ArrayBufferWriter<byte> RentThreadBuffer()
    {
        var buffer = t_hashBuffer ?? new ArrayBufferWriter<byte>(KeptHashBufferBytes);
        t_hashBuffer = null;
        return buffer;
    }

    private static void ReturnThreadBuffer(ArrayBufferWriter<byte> buffer)
    {
        if (buffer.Capacity <= KeptHashBufferBytes)
        {
            buffer.ResetWrittenCount();
            t_hashBuffer = buffer;
        }
    }

    private const int KeptHashBufferBytes = 64 * 1024;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_hashBuffer;

    public static byte[] Serialize(JsonElement value) => Canonicalise(value).WrittenSpan.ToArray();

    /// <remarks>
    /// Runs on every webhook, so the common cases copy the source bytes instead of decoding and re-encoding them:
    /// a string or member name without escapes, and a number already in its shortest form. Anything else takes
    /// the general path (<see cref="WriteString"/>, <see cref="FormatNumber"/>); tests hold both paths to the
    /// same output.
    /// </remarks>
    public static void Write(JsonElement value, IBufferWriter<byte> output)
    {
        if (output is ArrayBufferWriter<byte> buffer)
        {
            WriteValue(value, buffer);
            return;
        }

        output.Write(Canonicalise(value).WrittenSpan);
    }

    /// <summary>The canonical form in a buffer of its own, sized for it: about as long as the source (whitespace dropped, a few numbers grow a little).</summary>
    private static ArrayBufferWriter<byte> Canonicalise(JsonElement value)
    {
        var buffer = new ArrayBufferWriter<byte>(JsonMarshal.GetRawUtf8Value(value).Length + 64);
        WriteValue(value, buffer);
        return buffer;
    }

    /// <summary>
    /// <see cref="Write"/> on the concrete (sealed) buffer type: its calls, several per member, are direct and can be
    /// inlined, where the interface's were a dispatch each.
    /// </summary>
    private static void WriteValue(JsonElement value, ArrayBufferWriter<byte> output)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                WriteObject(value, output);
                break;
            case JsonValueKind.Array:
                WriteByte(output, (byte)'[');
                var first = true;
                foreach (var item in value.EnumerateArray())
                {
                    if (!first)
                    {
                        WriteByte(output, (byte)',');
                    }

                    first = false;
                    WriteValue(item, output);
                }

                WriteByte(output, (byte)']');
                break;
            case JsonValueKind.String:
                var rawString = JsonMarshal.GetRawUtf8Value(value); // with its quotes
                if (IsVerbatimString(rawString[1..^1]))
                {
                    output.Write(rawString);
                }
                else
                {
                    WriteString(StringOf(value), output);
                }

                break;
            case JsonValueKind.Number:
                var rawNumber = JsonMarshal.GetRawUtf8Value(value);
                if (IsShortestNumber(rawNumber))
                {
                    output.Write(rawNumber);
                }
                else if (value.TryGetDouble(out var number) && double.IsFinite(number))
                {
                    WriteAscii(output, FormatNumber(number));
                }
                else
                {
                    throw new NotIJsonException("number_out_of_range", "A number is beyond the range of a double (I-JSON, RFC 7493 §2.2).");
                }

                break;
            case JsonValueKind.True:
                WriteAscii(output, "true");
                break;
            case JsonValueKind.False:
                WriteAscii(output, "false");
                break;
            case JsonValueKind.Null:
                WriteAscii(output, "null");
                break;
            default:
                throw new ArgumentException($"Cannot canonicalise a JSON value of kind {value.ValueKind}.", nameof(value));
        }
    }

    /// <remarks>
    /// Member names that are unescaped ASCII (nearly all) sort the same as bytes as they do as UTF-16 code units, so
    /// they are copied once into a buffer and sorted as bytes; an object with any other name sorts by the decoded
    /// names, ordinally (UTF-16 code units). Checking each name once, not at every comparison, halved the cost of
    /// canonicalising a webhook (docs/performance.md). Sorted, a name given twice sits next to itself: refused.
    /// </remarks>
    private static void WriteObject(JsonElement value, ArrayBufferWriter<byte> output)
    {
        var count = Math.Max(value.GetPropertyCount(), 1);
        var members = ArrayPool<JsonProperty>.Shared.Rent(count);
        var names = ArrayPool<NameSlice>.Shared.Rent(count);
        var text = ArrayPool<byte>.Shared.Rent(count * 16);
        string[]? decoded = null; // the names, decoded, when one is not plain: sorted beside the members, written from
        try
        {
            var n = 0;
            var used = 0;
            var plain = true;
            foreach (var property in value.EnumerateObject())
            {
                members[n] = property;
                if (plain)
                {
                    var rawName = JsonMarshal.GetRawUtf8PropertyName(property); // without its quotes
                    if (Ascii.IsValid(rawName) && rawName.IndexOf((byte)'\\') < 0)
                    {
                        if (used + rawName.Length > text.Length)
                        {
                            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(text.Length * 2, used + rawName.Length));
                            text.AsSpan(0, used).CopyTo(larger);
                            ArrayPool<byte>.Shared.Return(text);
                            text = larger;
                        }

                        rawName.CopyTo(text.AsSpan(used));
                        names[n] = new NameSlice(n, used, rawName.Length);
                        used += rawName.Length;
                    }
                    else
                    {
                        plain = false;
                    }
                }

                n++;
            }

            if (plain)
            {
                names.AsSpan(0, n).Sort(new NameOrder(text));
                for (var i = 1; i < n; i++)
                {
                    if (text.AsSpan(names[i].Start, names[i].Length).SequenceEqual(text.AsSpan(names[i - 1].Start, names[i - 1].Length)))
                    {
                        throw DuplicateMember(System.Text.Encoding.ASCII.GetString(text, names[i].Start, names[i].Length));
                    }
                }
            }
            else
            {
                decoded = ArrayPool<string>.Shared.Rent(n);
                for (var i = 0; i < n; i++)
                {
                    decoded[i] = NameOf(members[i]);
                }

                decoded.AsSpan(0, n).Sort(members.AsSpan(0, n), StringComparer.Ordinal);
                for (var i = 1; i < n; i++)
                {
                    if (string.Equals(decoded[i], decoded[i - 1], StringComparison.Ordinal))
                    {
                        throw DuplicateMember(decoded[i]);
                    }
                }
            }

            WriteByte(output, (byte)'{');
            for (var i = 0; i < n; i++)
            {
                JsonProperty member;
                if (plain)
                {
                    // The separator, the quoted name and the colon in one piece: most of an object's bytes are names.
                    member = members[names[i].Index];
                    var name = text.AsSpan(names[i].Start, names[i].Length);
                    var comma = i > 0 ? 1 : 0;
                    var span = output.GetSpan(comma + name.Length + 3);
                    span[0] = (byte)',';
                    span[comma] = (byte)'"';
                    name.CopyTo(span[(comma + 1)..]);
                    span[comma + name.Length + 1] = (byte)'"';
                    span[comma + name.Length + 2] = (byte)':';
                    output.Advance(comma + name.Length + 3);
                }
                else
                {
                    if (i > 0)
                    {
                        WriteByte(output, (byte)',');
                    }

                    member = members[i];
                    var rawName = JsonMarshal.GetRawUtf8PropertyName(member);
                    if (IsVerbatimString(rawName))
                    {
                        WriteByte(output, (byte)'"');
                        output.Write(rawName);
                        WriteByte(output, (byte)'"');
                    }
                    else
                    {
                        WriteString(decoded![i], output);
                    }

                    WriteByte(output, (byte)':');
                }

                WriteValue(member.Value, output);
            }

            WriteByte(output, (byte)'}');
        }
        finally
        {
            ArrayPool<JsonProperty>.Shared.Return(members, clearArray: true);
            ArrayPool<NameSlice>.Shared.Return(names);
            ArrayPool<byte>.Shared.Return(text);
            if (decoded is not null)
            {
                ArrayPool<string>.Shared.Return(decoded, clearArray: true);
            }
        }
    }

    /// <summary>A member's name as a slice of the buffer its object's names were copied to, and the member's position.</summary>
    private readonly record struct NameSlice(int Index, int Start, int Length);

    /// <summary>Byte order of names copied to one buffer; equal names (refused once sorted) tie on their source order.</summary>
    private readonly struct NameOrder(byte[] text) : IComparer<NameSlice>
    {
        public int Compare(NameSlice x, NameSlice y)
        {
            var order = text.AsSpan(x.Start, x.Length).SequenceCompareTo(text.AsSpan(y.Start, y.Length));
            return order != 0 ? order : x.Index.CompareTo(y.Index);
        }
    }

    /// <summary>A string's value; <see cref="NotIJsonException"/> when it is not valid Unicode (System.Text.Json only checks that when decoding).</summary>
    private static string StringOf(JsonElement value)
    {
        try
        {
            return value.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw NotUnicode();
        }
    }

    /// <summary>A member's name, decoded; <see cref="NotIJsonException"/> when it is not valid Unicode.</summary>
    private static string NameOf(JsonProperty member)
    {
        try
        {
            return member.Name;
        }
        catch (InvalidOperationException)
        {
            throw NotUnicode();
        }
    }

    private static NotIJsonException NotUnicode() =>
        new("invalid_unicode", "A string or member name is not valid Unicode: invalid UTF-8, or an unpaired surrogate escape (I-JSON, RFC 7493 §2.1).");

    private static NotIJsonException DuplicateMember(string name) =>
        new("duplicate_member", $"The member name '{(name.Length <= 64 ? name : name[..64] + "…")}' appears twice in one object (I-JSON, RFC 7493 §2.3).");

    /// <summary>
    /// True when a string's source bytes (between the quotes) are already its canonical form: no escape sequence
    /// (JSON allows no raw control character, quote or backslash, and RFC 8785 writes everything else as UTF-8 as
    /// it is) and valid UTF-8 (invalid bytes take the decoding path, as before).
    /// </summary>
    private static bool IsVerbatimString(ReadOnlySpan<byte> raw) => raw.IndexOf((byte)'\\') < 0 && Utf8.IsValid(raw);

    /// <summary>
    /// True when a number's source text is what <see cref="FormatNumber"/> would write: no exponent, no leading or
    /// trailing zero, not <c>-0</c>, at most 15 significant digits (so the double nearest to it prints back as the
    /// same digits) and not below 1e-6 (which ECMAScript writes with an exponent).
    /// </summary>
    internal static bool IsShortestNumber(ReadOnlySpan<byte> raw)
    {
        var i = raw.Length > 0 && raw[0] == '-' ? 1 : 0;
        var integerStart = i;
        while (i < raw.Length && char.IsAsciiDigit((char)raw[i]))
        {
            i++;
        }

        var integerDigits = i - integerStart;
        if (integerDigits == 0 || (integerDigits > 1 && raw[integerStart] == '0'))
        {
            return false;
        }

        var integerIsZero = raw[integerStart] == '0';
        if (i == raw.Length)
        {
            return integerIsZero ? integerStart == 0 : integerDigits <= 15; // "0" yes, "-0" no
        }

        if (raw[i] != '.')
        {
            return false; // an exponent
        }

        var fractionStart = ++i;
        while (i < raw.Length && char.IsAsciiDigit((char)raw[i]))
        {
            i++;
        }

        var fractionDigits = i - fractionStart;
        if (i != raw.Length || fractionDigits == 0 || raw[^1] == '0')
        {
            return false;
        }

        if (!integerIsZero)
        {
            return integerDigits + fractionDigits <= 15;
        }

        var leadingZeros = raw[fractionStart..].IndexOfAnyExcept((byte)'0');
        return leadingZeros <= 5 && fractionDigits - leadingZeros <= 15;
    }

    private static void WriteString(string value, ArrayBufferWriter<byte> output)
    {
        var builder = new StringBuilder(value.Length + 2);
        builder.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\b': builder.Append("\\b"); break;
                case '\f': builder.Append("\\f"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                default:
                    if (c < 0x20)
                    {
                        builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        builder.Append(c);
                    }

                    break;
            }
        }

        builder.Append('"');
        var text = builder.ToString();
        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        output.Advance(Encoding.UTF8.GetBytes(text, span));
    }

    private static void WriteByte(ArrayBufferWriter<byte> output, byte value)
    {
        output.GetSpan(1)[0] = value;
        output.Advance(1);
    }

    private static void WriteAscii(ArrayBufferWriter<byte> output, string text)
    {
        var span = output.GetSpan(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            span[i] = (byte)text[i];
        }

        output.Advance(text.Length);
    }

    /// <summary>ECMAScript Number::toString (ECMA-262 §6.1.6.1.20), as RFC 8785 §3.2.2.3 requires.</summary>
    public static string FormatNumber(double value)
    {
        if (double.IsNaN(value) || double.IsInfinity(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), "JSON has no NaN or Infinity.");
        }

        if (value == 0)
        {
            return "0"; // also -0
        }

        // "R" yields the shortest digits that round-trip; split them into sign, digits and decimal exponent.
        var shortest = value.ToString("R", CultureInfo.InvariantCulture);
        var negative = shortest[0] == '-';
        var body = negative ? shortest[1..] : shortest;
        var exponent = 0;
        var ePos = body.IndexOfAny(['E', 'e']);
        if (ePos >= 0)
        {
            exponent = int.Parse(body[(ePos + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            body = body[..ePos];
        }

        var dot = body.IndexOf('.', StringComparison.Ordinal);
        var integerPart = dot >= 0 ? body[..dot] : body;
        var fractionPart = dot >= 0 ? body[(dot + 1)..] : string.Empty;
        var digits = (integerPart + fractionPart).TrimStart('0');
        var leadingZeros = (integerPart + fractionPart).Length - digits.Length;
        digits = digits.TrimEnd('0');

        // n: the position of the decimal point relative to the digit string (value = 0.digits × 10^n).
        var n = integerPart.Length + exponent - leadingZeros;
        var k = digits.Length;
        var sb = new StringBuilder(32);
        if (negative)
        {
            sb.Append('-');
        }

        if (k <= n && n <= 21)
        {
            sb.Append(digits).Append('0', n - k);
        }
        else if (0 < n && n <= 21)
        {
            sb.Append(digits, 0, n).Append('.').Append(digits, n, k - n);
        }
        else if (-6 < n && n <= 0)
        {
            sb.Append("0.").Append('0', -n).Append(digits);
        }
        else
        {
            var e = n - 1;
            sb.Append(digits[0]);
            if (k > 1)
            {
                sb.Append('.').Append(digits, 1, k - 1);
            }

            sb.Append('e').Append(e >= 0 ? "+" : "-").Append(Math.Abs(e).ToString(CultureInfo.InvariantCulture));
        }

        return sb.ToString();
    }
}

/// <summary>
/// A JSON text that parses but has no RFC 8785 canonical form because it is not I-JSON (RFC 7493); <see cref="Code"/>
/// says why (<c>duplicate_member</c>, <c>invalid_unicode</c>, <c>number_out_of_range</c>).
/// </summary>
public sealed class NotIJsonException(string code, string message) : JsonException(message)
{
    public string Code { get; } = code;
}
