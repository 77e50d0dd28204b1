using System.Text.Json.Serialization;

namespace Axentra.Contracts;

/// <summary>snake_case JSON for everything that crosses a service or storage boundary.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(WebhookEnvelope))]
[JsonSerializable(typeof(RegistryRecord))]
[JsonSerializable(typeof(StageRecord))]
[JsonSerializable(typeof(PayloadHashIndex))]
[JsonSerializable(typeof(DeadLetterRecord))]
[JsonSerializable(typeof(DeadLetterIndex))]
public sealed partial class ContractsJsonContext : JsonSerializerContext;
