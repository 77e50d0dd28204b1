using System.Text.Json;
using System.Text.Json.Nodes;

namespace Axentra.Catalog.Domain;

/// <summary>
/// The version of a catalog entry's state: when that state is from (the payload's <c>updated_at</c>, else the
/// receipt time), whether it is a deletion, and the event that brought it. Versions are totally ordered so that
/// every replica and every replay reach the same result whatever order the events arrive in: by timestamp, then
/// a deletion after an upsert of the same instant (a row cannot be changed by the event that removes it), then by
/// when intake received the event (two changes with the same <c>updated_at</c>, say a price change that did not bump
/// it: the later one wins), then by event id.
/// </summary>
public sealed record CatalogVersion(DateTimeOffset Timestamp, bool Deleted, string EventId) : IComparable<CatalogVersion>
{
    /// <summary>
    /// When intake received the event (the registry's exact time; a replay without it has the event id's seconds).
    /// Null in entries written before it was kept: such a version sorts before any event received since.
    /// </summary>
    public DateTimeOffset? ReceivedAt { get; init; }

    public int CompareTo(CatalogVersion? other)
    {
        if (other is null)
        {
            return 1;
        }

        var byTime = Timestamp.CompareTo(other.Timestamp);
        if (byTime != 0)
        {
            return byTime;
        }

        var byKind = Deleted.CompareTo(other.Deleted);
        if (byKind != 0)
        {
            return byKind;
        }

        var byReceipt = Nullable.Compare(ReceivedAt, other.ReceivedAt);
        return byReceipt != 0 ? byReceipt : string.CompareOrdinal(EventId, other.EventId);
    }

    public static bool operator >(CatalogVersion left, CatalogVersion right) => left.CompareTo(right) > 0;

    public static bool operator <(CatalogVersion left, CatalogVersion right) => left.CompareTo(right) < 0;

    public static bool operator >=(CatalogVersion left, CatalogVersion right) => left.CompareTo(right) >= 0;

    public static bool operator <=(CatalogVersion left, CatalogVersion right) => left.CompareTo(right) <= 0;
}

/// <summary>
/// What the catalog remembers about one entry (a master product, or one store's copy of a product), kept in the
/// registry state store beside the object itself: the version it reflects, its content (null = tombstone: the
/// entry was deleted at that version, and older events must not bring it back), and the events whose change has
/// not yet been announced on the KB-refresh topic.
/// </summary>
public sealed record CatalogEntryState
{
    public required CatalogVersion Version { get; init; }

    /// <summary>
    /// A JSON element rather than a <c>JsonObject</c>: the entry is read several times per event, and an element is
    /// one buffer where a node tree is an object per value (docs/performance.md).
    /// </summary>
    public JsonElement? Content { get; init; }

    public IReadOnlyList<string> UnannouncedEventIds { get; init; } = [];

    public bool IsPresent => Content is not null;
}

public enum EntryOutcome
{
    /// <summary>The event is newer than the entry: the entry now reflects it.</summary>
    Applied,

    /// <summary>The entry already reflects this very event: a redelivery, nothing to do but make sure it is materialised.</summary>
    AlreadyApplied,

    /// <summary>The entry reflects a newer event: this one must not overwrite it.</summary>
    Stale,
}

/// <summary>The decision for one entry: the outcome, the state to save (when applied) and whether the content changed.</summary>
public sealed record EntryDecision(EntryOutcome Outcome, CatalogEntryState? NewState, bool Changed);

/// <summary>The stale-event guard: a pure function of the entry's state and the incoming event.</summary>
public static class CatalogEntryRules
{
    /// <param name="current">The entry's state, or null when the catalog has never seen it.</param>
    /// <param name="incoming">The incoming event's version.</param>
    /// <param name="content">The entry's new content, or null for a deletion.</param>
    /// <param name="announce">Whether a real change must be announced (store copies: yes; the master: no).</param>
    /// <param name="force">
    /// A store deletion removes every copy of that store whatever their versions (processed in order, later
    /// product events of a deleted store would not have been catalogued at all); the tombstone keeps the highest
    /// version so nothing older comes back.
    /// </param>
    /// <param name="recompute">
    /// A rebuild after a fix to the projection code: when the entry already reflects this very event, its content
    /// is taken from <paramref name="content"/> (computed by today's code) instead of being left as older code
    /// computed it. Versions are untouched, so the stale-event guard decides exactly as before.
    /// </param>
    public static EntryDecision Decide(CatalogEntryState? current, CatalogVersion incoming, JsonObject? content, bool announce, bool force = false, bool recompute = false)
    {
        var element = content is null ? (JsonElement?)null : JsonSerializer.SerializeToElement(content, CatalogJsonContext.Default.JsonObject);
        if (current is not null && current.Version.EventId == incoming.EventId)
        {
            var sameContent = current.Content is not { } stored ? element is null : element is { } incomingContent && JsonElement.DeepEquals(stored, incomingContent);
            if (!recompute || sameContent || current.Version.Deleted != (content is null))
            {
                return new EntryDecision(EntryOutcome.AlreadyApplied, null, false);
            }

            return new EntryDecision(EntryOutcome.Applied, current with
            {
                Content = element,
                UnannouncedEventIds = announce ? [.. current.UnannouncedEventIds, incoming.EventId] : current.UnannouncedEventIds,
            }, Changed: true);
        }

        var version = incoming;
        if (current is not null && current.Version >= incoming)
        {
            if (!force || !current.IsPresent)
            {
                return new EntryDecision(EntryOutcome.Stale, null, false);
            }

            // Same instant as the newer upsert, as a deletion: orders just after it.
            version = current.Version with { Deleted = true, EventId = incoming.EventId };
        }

        var changed = element is not { } after
            ? current?.IsPresent == true
            : current?.Content is not { } before || !JsonElement.DeepEquals(before, after);
        var pending = current?.UnannouncedEventIds ?? [];
        if (changed && announce)
        {
            pending = [.. pending, incoming.EventId];
        }

        return new EntryDecision(EntryOutcome.Applied, new CatalogEntryState
        {
            Version = version,
            Content = element,
            UnannouncedEventIds = pending,
        }, changed);
    }
}

public static class StoreStatuses
{
    public const string Active = "active";
    public const string Deleted = "deleted";
}

/// <summary>Whether a store's catalog is served, as of its latest store event (absent = active).</summary>
public sealed record StoreStatusState(string Status, CatalogVersion Version)
{
    /// <summary>
    /// Store copies a deletion still has to remove and announce: recorded before the first one is touched, so a
    /// deletion interrupted half-way is finished by the redelivery even though the objects it removed can no
    /// longer be listed.
    /// </summary>
    public IReadOnlyList<string> PendingRemoval { get; init; } = [];

    /// <summary>The store's latest deletion, kept when it is re-created: product events older than it are not catalogued for the store.</summary>
    public CatalogVersion? LastDeletion { get; init; }

    public bool IsDeleted => Status == StoreStatuses.Deleted;
}

public static class StoreStatusRules
{
    /// <summary>
    /// The store's status after a store event: the newest store event wins (create/update ⇒ active, so a store
    /// re-created or un-deleted after a deletion is served again; delete ⇒ deleted). Null when the event is stale
    /// or a redelivery.
    /// </summary>
    public static StoreStatusState? Decide(StoreStatusState? current, CatalogVersion incoming) =>
        current is not null && (current.Version.EventId == incoming.EventId || current.Version >= incoming)
            ? null
            : new StoreStatusState(incoming.Deleted ? StoreStatuses.Deleted : StoreStatuses.Active, incoming)
            {
                LastDeletion = incoming.Deleted && (current?.LastDeletion is not { } last || incoming > last) ? incoming : current?.LastDeletion,
            };
}
