using System.Text.Encodings.Web;
using System.Text.Json;

namespace Axentra.Contracts;

/// <summary>
/// How the JSON that people and the knowledge bases read writes its text: as it is, in UTF-8, escaping only what JSON
/// itself requires (quotation marks, backslashes and control characters).
/// </summary>
/// <remarks>
/// System.Text.Json's default encoder also escapes every character outside ASCII and the ones HTML treats specially
/// (<c>'</c>, <c>+</c>, <c>&lt;</c>, <c>&gt;</c>, <c>&amp;</c>, <c>`</c>). That is still valid JSON, but it made a
/// product named <c>Nature's Café™</c> read <c>Nature\u0027s Caf\u00E9\u2122</c> in the catalog objects the
/// knowledge bases take in, and every timestamp in the ops API <c>…\u002B00:00</c>. None of this JSON is ever put
/// inside an HTML page, which is all that escaping guards against; it is served as <c>application/json</c>, stored
/// as <c>.json</c> objects, or logged. Used for: the ops API's answers and ProblemDetails, the processed catalog
/// objects, and the JSON console logs. Not for write-once objects whose bytes a redelivery must reproduce (the
/// raw-audit metadata files), nor for internal records, whose readers only parse them.
/// </remarks>
public static class PlatformJson
{
    public static JavaScriptEncoder Encoder => JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    /// <summary>A copy of <paramref name="options"/> (a source-generated context's, say) that writes text with <see cref="Encoder"/>.</summary>
    public static JsonSerializerOptions Readable(JsonSerializerOptions options) => new(options) { Encoder = Encoder };
}
