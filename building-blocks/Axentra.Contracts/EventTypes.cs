namespace Axentra.Contracts;

/// <summary>The canonical event types the platform registers, audits and catalogues.</summary>
public static class EventTypes
{
    public const string ProductCreate = "product_create";
    public const string ProductUpdate = "product_update";
    public const string ProductDelete = "product_delete";
    public const string StoreCreate = "store_create";
    public const string StoreUpdate = "store_update";
    public const string StoreDelete = "store_delete";
    public const string Unknown = "unknown";

    public static IReadOnlyList<string> All { get; } =
        [ProductCreate, ProductUpdate, ProductDelete, StoreCreate, StoreUpdate, StoreDelete, Unknown];

    public static bool IsProductEvent(string eventType) =>
        eventType is ProductCreate or ProductUpdate or ProductDelete;

    public static bool IsStoreEvent(string eventType) =>
        eventType is StoreCreate or StoreUpdate or StoreDelete;
}
