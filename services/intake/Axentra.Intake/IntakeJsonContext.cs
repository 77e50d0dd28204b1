using System.Text.Json.Serialization;
using Axentra.BuildingBlocks.PubSub;
using Axentra.Intake.Apis;
using Axentra.Intake.Registration;

namespace Axentra.Intake;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(DedupeClaim))]
[JsonSerializable(typeof(WebhookReceipt))]
[JsonSerializable(typeof(EventDetails))]
[JsonSerializable(typeof(IReadOnlyList<DeadLetter>))]
[JsonSerializable(typeof(DeadLetterRedrive))]
internal sealed partial class IntakeJsonContext : JsonSerializerContext;
