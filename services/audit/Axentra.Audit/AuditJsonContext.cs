using System.Text.Json.Serialization;
using Axentra.Audit.Apis;
using Axentra.Audit.Domain;

namespace Axentra.Audit;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(AuditEventPage))]
[JsonSerializable(typeof(AuditedEvent))]
internal sealed partial class AuditJsonContext : JsonSerializerContext;
