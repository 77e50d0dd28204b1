using System.Text.Json.Nodes;
using Axentra.BuildingBlocks.Bindings;
using Axentra.Catalog.Domain;
using Axentra.Catalog.Projection;
using Axentra.Catalog.Tests.Support;

namespace Axentra.Catalog.Tests.Projection;

/// <summary>An entry's object when another writer moves the entry on while this one writes the object.</summary>
public sealed class CatalogEntriesTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_newer_event_saved_while_an_older_ones_object_is_written_is_the_content_that_stays()
    {
        await using var catalog = new CatalogHarness();
        var key = CatalogProjection.MasterEntry("p-interleaved");
        var newer = new CatalogEntries(catalog.State, catalog.Processed);
        // The older writer has saved its state; before its object lands, the newer event is saved and materialised,
        // so the older object overwrites the newer one and only the re-read of the entry can put it right.
        var interleaved = new BeforeFirstPut(catalog.Processed, () => newer.ApplyAsync(
            key, new CatalogVersion(CatalogHarness.Start.AddMinutes(2), false, "e-new"), new JsonObject { ["name"] = "v2" }, announce: false, force: false, Ct));
        var older = new CatalogEntries(catalog.State, interleaved);

        var result = await older.ApplyAsync(
            key, new CatalogVersion(CatalogHarness.Start.AddMinutes(1), false, "e-old"), new JsonObject { ["name"] = "v1" }, announce: false, force: false, Ct);

        Assert.Equal(EntryOutcome.Applied, result.Outcome);
        Assert.True(interleaved.Interleaved);
        Assert.Contains("\"v2\"", await catalog.ReadAsync(key.ObjectKey), StringComparison.Ordinal);
    }

    /// <summary>A bucket that runs another writer just before its first put.</summary>
    private sealed class BeforeFirstPut(IObjectBucket inner, Func<ValueTask<EntryResult>> before) : IObjectBucket
    {
        public bool Interleaved { get; private set; }

        public string Name => inner.Name;

        public async ValueTask PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
        {
            if (!Interleaved)
            {
                Interleaved = true;
                await before();
            }

            await inner.PutAsync(key, content, cancellationToken);
        }

        public ValueTask<byte[]?> PutIfAbsentAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken) =>
            inner.PutIfAbsentAsync(key, content, cancellationToken);

        public ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken) => inner.GetAsync(key, cancellationToken);

        public ValueTask DeleteAsync(string key, CancellationToken cancellationToken) => inner.DeleteAsync(key, cancellationToken);

        public ValueTask<ObjectListPage> ListAsync(string prefix, string? continuationToken, int pageSize, CancellationToken cancellationToken) =>
            inner.ListAsync(prefix, continuationToken, pageSize, cancellationToken);
    }
}
