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
internal sealed partial class IntakeJsonContext : JsonSerializerContext
{
    /// <summary>The same types, with text written as it is (<see cref="Axentra.Contracts.PlatformJson"/>): for the ops API's answers.</summary>
    /// <remarks>Made on first use: the generated <c>Default</c> is initialised in another part of this class, in no set order.</remarks>
    public static IntakeJsonContext Readable => s_readable ??= new(Axentra.Contracts.PlatformJson.Readable(Default.Options));

    private static IntakeJsonContext? s_readable;
}
