using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Axentra.Catalog.Apis;
using Axentra.Catalog.Domain;

namespace Axentra.Catalog;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(CatalogEntryState))]
[JsonSerializable(typeof(StoreStatusState))]
[JsonSerializable(typeof(KbRefreshMessage))]
[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(RoutedMarker))]
[JsonSerializable(typeof(StoreCatalogPage))]
[JsonSerializable(typeof(Replay.ReplayReport))]
internal sealed partial class CatalogJsonContext : JsonSerializerContext
{
    /// <summary>The same types, with text written as it is (<see cref="Axentra.Contracts.PlatformJson"/>): for the ops API's answers and the processed catalog objects.</summary>
    /// <remarks>Made on first use: the generated <c>Default</c> is initialised in another part of this class, in no set order.</remarks>
    public static CatalogJsonContext Readable => s_readable ??= new(Axentra.Contracts.PlatformJson.Readable(Default.Options));

    private static CatalogJsonContext? s_readable;
}

/// <summary>Remembers that an event was forwarded to its routing target, so a redelivery does not forward it again.</summary>
internal sealed record RoutedMarker(string Topic, DateTimeOffset At);
