using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Axentra.BuildingBlocks.State;

/// <summary>Typed JSON access over the byte-level <see cref="IStateStore"/>.</summary>
public static class StateStoreJsonExtensions
{
    public static async ValueTask<(T Value, string ETag)?> GetJsonAsync<T>(
        this IStateStore store, string key, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
    {
        var entry = await store.GetAsync(key, cancellationToken).ConfigureAwait(false);
        if (entry is null)
        {
            return null;
        }

        var value = JsonSerializer.Deserialize(entry.Value.Span, typeInfo)
            ?? throw new JsonException($"State entry '{key}' holds JSON null.");
        return (value, entry.ETag);
    }

    public static ValueTask<SaveOutcome> TrySaveJsonAsync<T>(
        this IStateStore store, string key, T value, JsonTypeInfo<T> typeInfo, string? etag, TimeSpan? timeToLive, CancellationToken cancellationToken) =>
        store.TrySaveAsync(key, JsonSerializer.SerializeToUtf8Bytes(value, typeInfo), etag, timeToLive, cancellationToken);

    public static ValueTask SaveJsonAsync<T>(
        this IStateStore store, string key, T value, JsonTypeInfo<T> typeInfo, TimeSpan? timeToLive, CancellationToken cancellationToken) =>
        store.SaveAsync(key, JsonSerializer.SerializeToUtf8Bytes(value, typeInfo), timeToLive, cancellationToken);
}
