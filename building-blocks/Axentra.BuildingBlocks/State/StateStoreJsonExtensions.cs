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

        return (ValueOf(entry, key, typeInfo), entry.ETag);
    }

    /// <summary>The entry read back from <paramref name="key"/> as <typeparamref name="T"/>; JSON null is an error.</summary>
    public static T ValueOf<T>(StateEntry entry, string key, JsonTypeInfo<T> typeInfo) =>
        JsonSerializer.Deserialize(entry.Value.Span, typeInfo) ?? throw new JsonException($"State entry '{key}' holds JSON null.");

    public static ValueTask<SaveOutcome> TrySaveJsonAsync<T>(
        this IStateStore store, string key, T value, JsonTypeInfo<T> typeInfo, string? etag, TimeSpan? timeToLive, CancellationToken cancellationToken) =>
        store.TrySaveAsync(key, JsonSerializer.SerializeToUtf8Bytes(value, typeInfo), etag, timeToLive, cancellationToken);

    public static ValueTask SaveJsonAsync<T>(
        this IStateStore store, string key, T value, JsonTypeInfo<T> typeInfo, TimeSpan? timeToLive, CancellationToken cancellationToken) =>
        store.SaveAsync(key, JsonSerializer.SerializeToUtf8Bytes(value, typeInfo), timeToLive, cancellationToken);
}
