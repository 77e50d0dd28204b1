using System.Text.Json.Serialization;
using Axentra.Intake.Apis;
using Axentra.Intake.Registration;

namespace Axentra.Intake;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(DedupeClaim))]
[JsonSerializable(typeof(WebhookReceipt))]
[JsonSerializable(typeof(EventDetails))]
internal sealed partial class IntakeJsonContext : JsonSerializerContext;
