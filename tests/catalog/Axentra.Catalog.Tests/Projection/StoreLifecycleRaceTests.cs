using Axentra.BuildingBlocks;
using Axentra.BuildingBlocks.PubSub;
using Axentra.BuildingBlocks.State;
using Axentra.Catalog.Domain;
using Axentra.Catalog.Tests.Support;
using Axentra.Contracts;
using Microsoft.Extensions.DependencyInjection;
using static Axentra.Catalog.Tests.Support.CatalogHarness;

namespace Axentra.Catalog.Tests.Projection;

/// <summary>
/// A store's deletion racing its product events, and a deletion's KB refresh across a re-creation: every order of arrival
/// and every retry ends with no copy served from a deleted store, and the knowledge bases told of every removal.
/// </summary>
public sealed class StoreLifecycleRaceTests
{
    private const string Copy = "stores/s-1/products/p-1.json";
    private const string StoreDeleted = """{"event_type":"deleted_store","store_id":"s-1"}""";
    private const string StoreCreated = """{"event_type":"new_store","store_id":"s-1","store_domain":"s1.myshopify.com"}""";

    [Fact]
    public async Task A_store_deletion_whose_kb_refresh_failed_is_announced_even_if_the_store_was_recreated_meanwhile()
    {
        await using var catalog = new CatalogHarness();
        foreach (var p in new[] { "p-1", "p-2" })
        {
            await catalog.DeliverAsync(Envelope($"c-{p}", EventTypes.ProductCreate, Product("new_product", p, 1, productId: p), productId: p));
        }

        var before = catalog.KbRefresh.Count;
        var delete = Envelope("d-1", EventTypes.StoreDelete, StoreDeleted, productId: null, receivedMinute: 5);
        catalog.Publisher.FailNext(PlatformNames.Topics.KbRefresh, 1);
        Assert.Equal(DeliveryOutcome.Retry, await catalog.DeliverAsync(delete));
        Assert.Empty((await catalog.Processed.ListAsync("stores/s-1/", null, 10, CancellationToken.None)).Keys); // copies already gone

        Assert.Equal(DeliveryOutcome.Success, await catalog.DeliverAsync(Envelope("n-1", EventTypes.StoreCreate, StoreCreated, productId: null, receivedMinute: 7)));
        Assert.Equal(DeliveryOutcome.Success, await catalog.DeliverAsync(delete, attempt: 2));

        var removal = Assert.Single(catalog.KbRefresh.Skip(before));
        Assert.Equal(KbRefreshChanges.Delete, removal.Change);
        Assert.Equal(["p-1", "p-2"], removal.ProductIds.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_product_event_older_than_the_store_deletion_ends_the_same_whatever_the_arrival_order()
    {
        var create = Envelope("c-1", EventTypes.ProductCreate, Product("new_product", "before-deletion", updatedMinute: 1), receivedMinute: 1);
        var delete = Envelope("d-1", EventTypes.StoreDelete, StoreDeleted, productId: null, receivedMinute: 5);
        var recreate = Envelope("n-1", EventTypes.StoreCreate, StoreCreated, productId: null, receivedMinute: 7);

        await using var inOrder = new CatalogHarness();
        foreach (var e in new[] { create, delete, recreate })
        {
            await inOrder.DeliverAsync(e);
        }

        await using var late = new CatalogHarness();
        foreach (var e in new[] { delete, recreate, create })
        {
            await late.DeliverAsync(e);
        }

        Assert.Null(await inOrder.ReadAsync(Copy));
        Assert.Equal(await inOrder.ReadAsync(Copy), await late.ReadAsync(Copy));
    }

    [Fact]
    public async Task A_product_event_redelivered_after_racing_a_store_deletion_leaves_no_copy_in_the_deleted_store()
    {
        HookedStateStore? hooked = null;
        await using var catalog = new CatalogHarness(configure: s => s.Decorate<IStateStore>((_, inner) => hooked = new HookedStateStore(inner)));
        var product = Envelope("u-1", EventTypes.ProductCreate, Product("new_product", "v1", 1));
        var delete = Envelope("d-1", EventTypes.StoreDelete, StoreDeleted, productId: null, receivedMinute: 5);
        _ = catalog.State; // resolve the decorator
        var statusReads = 0;
        var inDelete = false;
        hooked!.AfterGet = async key =>
        {
            if (inDelete || key != "catalog:store:s-1:status")
            {
                return;
            }

            switch (++statusReads)
            {
                case 1: // the product event saw the store active; a second worker now deletes the store
                    inDelete = true;
                    Assert.Equal(DeliveryOutcome.Success, await catalog.DeliverAsync(delete));
                    inDelete = false;
                    break;
                case 2: // the re-check after writing the copy fails transiently
                    throw new BackendUnavailableException("state", "injected failure");
            }
        };

        Assert.Equal(DeliveryOutcome.Retry, await catalog.DeliverAsync(product));
        Assert.Equal(DeliveryOutcome.Success, await catalog.DeliverAsync(product, attempt: 2));

        Assert.Null(await catalog.ReadAsync(Copy));
    }
}

/// <summary>Delegates to the real store; runs a hook after each read.</summary>
internal sealed class HookedStateStore(IStateStore inner) : IStateStore
{
    public Func<string, ValueTask>? AfterGet { get; set; }

    public async ValueTask<StateEntry?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var entry = await inner.GetAsync(key, cancellationToken);
        if (AfterGet is { } hook)
        {
            await hook(key);
        }

        return entry;
    }

    public ValueTask<SaveOutcome> TrySaveAsync(string key, ReadOnlyMemory<byte> value, string? etag, TimeSpan? timeToLive, CancellationToken cancellationToken) =>
        inner.TrySaveAsync(key, value, etag, timeToLive, cancellationToken);

    public ValueTask SaveAsync(string key, ReadOnlyMemory<byte> value, TimeSpan? timeToLive, CancellationToken cancellationToken) =>
        inner.SaveAsync(key, value, timeToLive, cancellationToken);

    public ValueTask<bool> TryDeleteAsync(string key, string? etag, CancellationToken cancellationToken) =>
        inner.TryDeleteAsync(key, etag, cancellationToken);
}
