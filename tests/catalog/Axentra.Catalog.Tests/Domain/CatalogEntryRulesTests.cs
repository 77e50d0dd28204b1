using System.Text.Json;
using System.Text.Json.Nodes;
using Axentra.Catalog.Domain;

namespace Axentra.Catalog.Tests.Domain;

public sealed class CatalogEntryRulesTests
{
    private static readonly DateTimeOffset T1 = new(2025, 12, 9, 10, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset T2 = T1.AddMinutes(1);
    private static readonly DateTimeOffset T3 = T1.AddMinutes(2);

    private static JsonObject A => new() { ["name"] = "a" };

    private static JsonObject B => new() { ["name"] = "b" };

    private static CatalogEntryState Present(DateTimeOffset at, string eventId, JsonObject content, params string[] pending) =>
        new() { Version = new CatalogVersion(at, false, eventId), Content = JsonSerializer.SerializeToElement(content), UnannouncedEventIds = pending };

    private static CatalogEntryState Tombstone(DateTimeOffset at, string eventId) =>
        new() { Version = new CatalogVersion(at, true, eventId), Content = null };

    /// <summary>case, current entry, incoming version, incoming content (null = delete), expected outcome, expected "changed".</summary>
    public static TheoryData<string, CatalogEntryState?, CatalogVersion, JsonObject?, EntryOutcome, bool> Cases => new()
    {
        { "first upsert", null, new(T1, false, "e1"), A, EntryOutcome.Applied, true },
        { "first event is a delete: tombstone, nothing changed", null, new(T1, true, "e1"), null, EntryOutcome.Applied, false },
        { "newer upsert, other content", Present(T1, "e1", A), new(T2, false, "e2"), B, EntryOutcome.Applied, true },
        { "newer upsert, same content", Present(T1, "e1", A), new(T2, false, "e2"), A, EntryOutcome.Applied, false },
        { "older upsert", Present(T2, "e2", B), new(T1, false, "e1"), A, EntryOutcome.Stale, false },
        { "redelivery", Present(T1, "e1", A), new(T1, false, "e1"), A, EntryOutcome.AlreadyApplied, false },
        { "newer delete of a present entry", Present(T1, "e1", A), new(T2, true, "e2"), null, EntryOutcome.Applied, true },
        { "older upsert after a delete does not resurrect", Tombstone(T2, "e2"), new(T1, false, "e1"), A, EntryOutcome.Stale, false },
        { "newer upsert after a delete re-creates", Tombstone(T2, "e2"), new(T3, false, "e3"), A, EntryOutcome.Applied, true },
        { "delete of a deleted entry", Tombstone(T1, "e1"), new(T2, true, "e2"), null, EntryOutcome.Applied, false },
        { "same instant: a delete beats an upsert", Present(T1, "zz", A), new(T1, true, "aa"), null, EntryOutcome.Applied, true },
        { "same instant: an upsert loses to a delete", Tombstone(T1, "aa"), new(T1, false, "zz"), A, EntryOutcome.Stale, false },
        { "same instant, same kind: event id decides", Present(T1, "e1", A), new(T1, false, "e2"), B, EntryOutcome.Applied, true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_stale_event_guard(string name, CatalogEntryState? current, CatalogVersion incoming, JsonObject? content, EntryOutcome outcome, bool changed)
    {
        var decision = CatalogEntryRules.Decide(current, incoming, content, announce: true);

        Assert.Equal(outcome, decision.Outcome);
        Assert.Equal(changed, decision.Changed);
        if (outcome == EntryOutcome.Applied)
        {
            Assert.Equal(incoming, decision.NewState!.Version);
            Assert.Equal(content is null, decision.NewState.Content is null);
            Assert.Equal(changed, decision.NewState.UnannouncedEventIds.Contains(incoming.EventId));
        }
        else
        {
            Assert.Null(decision.NewState);
        }

        Assert.NotNull(name);
    }

    [Fact]
    public void Unannounced_changes_are_carried_until_announced()
    {
        var decision = CatalogEntryRules.Decide(Present(T1, "e1", A, "e1"), new(T2, false, "e2"), B, announce: true);

        Assert.Equal(["e1", "e2"], decision.NewState!.UnannouncedEventIds);
    }

    [Fact]
    public void The_master_is_never_announced()
    {
        var decision = CatalogEntryRules.Decide(null, new(T1, false, "e1"), A, announce: false);

        Assert.True(decision.Changed);
        Assert.Empty(decision.NewState!.UnannouncedEventIds);
    }

    [Fact]
    public void A_store_deletion_removes_a_copy_even_if_it_is_newer_and_stays_newer_than_it()
    {
        var current = Present(T3, "e3", A);

        var decision = CatalogEntryRules.Decide(current, new(T1, true, "store-del"), content: null, announce: true, force: true);

        Assert.Equal(EntryOutcome.Applied, decision.Outcome);
        Assert.Null(decision.NewState!.Content);
        Assert.True(decision.NewState.Version > current.Version);
        Assert.Equal("store-del", decision.NewState.Version.EventId);
        Assert.Equal(EntryOutcome.Stale, CatalogEntryRules.Decide(decision.NewState, new(T2, false, "e2"), B, announce: true).Outcome);
    }

    [Fact]
    public void A_store_deletion_leaves_an_already_deleted_copy_alone()
    {
        var decision = CatalogEntryRules.Decide(Tombstone(T3, "e3"), new(T1, true, "store-del"), content: null, announce: true, force: true);

        Assert.Equal(EntryOutcome.Stale, decision.Outcome);
    }

    /// <summary>current status, incoming (deleted?, time, id), expected status after (null = unchanged).</summary>
    public static TheoryData<string?, bool, int, string?> StoreStatusCases => new()
    {
        { null, false, 1, StoreStatuses.Active },
        { null, true, 1, StoreStatuses.Deleted },
        { StoreStatuses.Active, true, 3, StoreStatuses.Deleted },
        { StoreStatuses.Deleted, false, 3, StoreStatuses.Active },
        { StoreStatuses.Deleted, false, 1, null },
        { StoreStatuses.Active, true, 1, null },
    };

    [Theory]
    [MemberData(nameof(StoreStatusCases))]
    public void The_newest_store_event_decides_whether_its_catalog_is_served(string? current, bool deleting, int minute, string? expected)
    {
        var state = current is null ? null : new StoreStatusState(current, new CatalogVersion(T1.AddMinutes(2), current == StoreStatuses.Deleted, "cur"));

        var next = StoreStatusRules.Decide(state, new CatalogVersion(T1.AddMinutes(minute), deleting, "new"));

        Assert.Equal(expected, next?.Status);
    }

    [Fact]
    public void A_rebuild_takes_todays_content_for_the_event_the_entry_already_reflects_and_announces_it()
    {
        var current = Present(T2, "e2", A);

        var plainReplay = CatalogEntryRules.Decide(current, new(T2, false, "e2"), B, announce: true);
        var rebuild = CatalogEntryRules.Decide(current, new(T2, false, "e2"), B, announce: true, recompute: true);

        Assert.Equal(EntryOutcome.AlreadyApplied, plainReplay.Outcome);
        Assert.Equal(EntryOutcome.Applied, rebuild.Outcome);
        Assert.True(rebuild.Changed);
        Assert.Equal(current.Version, rebuild.NewState!.Version);
        Assert.True(JsonElement.DeepEquals(JsonSerializer.SerializeToElement(B), rebuild.NewState.Content!.Value));
        Assert.Equal(["e2"], rebuild.NewState.UnannouncedEventIds);
    }

    [Fact]
    public void A_rebuild_changes_nothing_when_todays_content_is_the_same_and_never_overrides_the_guard()
    {
        Assert.Equal(EntryOutcome.AlreadyApplied, CatalogEntryRules.Decide(Present(T2, "e2", A), new(T2, false, "e2"), A, announce: true, recompute: true).Outcome);
        Assert.Equal(EntryOutcome.Stale, CatalogEntryRules.Decide(Present(T2, "e2", B), new(T1, false, "e1"), A, announce: true, recompute: true).Outcome);
        Assert.Equal(EntryOutcome.AlreadyApplied, CatalogEntryRules.Decide(Tombstone(T2, "e2"), new(T2, true, "e2"), null, announce: true, recompute: true).Outcome);
    }
}
