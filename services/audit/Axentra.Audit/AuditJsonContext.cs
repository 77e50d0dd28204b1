using System.Text.Json.Serialization;
using Axentra.Audit.Apis;
using Axentra.Audit.Domain;

namespace Axentra.Audit;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(AuditEventPage))]
[JsonSerializable(typeof(AuditedEvent))]
internal sealed partial class AuditJsonContext : JsonSerializerContext
{
    /// <summary>The same types, with text written as it is (<see cref="Axentra.Contracts.PlatformJson"/>): for the ops API's answers.</summary>
    /// <remarks>Made on first use: the generated <c>Default</c> is initialised in another part of this class, in no set order.</remarks>
    public static AuditJsonContext Readable => s_readable ??= new(Axentra.Contracts.PlatformJson.Readable(Default.Options));

    private static AuditJsonContext? s_readable;
}
