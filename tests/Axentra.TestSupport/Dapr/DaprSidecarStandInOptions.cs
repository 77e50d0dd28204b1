namespace Axentra.TestSupport.Dapr;

/// <summary>The output-binding component types the stand-in can emulate.</summary>
public enum StandInBindingType
{
    /// <summary><c>bindings.aws.s3</c>: an in-memory bucket.</summary>
    AwsS3,

    /// <summary><c>bindings.localstorage</c>: an in-memory file tree under a fake absolute root path.</summary>
    LocalStorage,
}

/// <summary>Which components the stand-in sidecar has loaded, as a real sidecar would from its components folder.</summary>
public sealed record DaprSidecarStandInOptions
{
    /// <summary>The app id; the runtime prefixes state keys with it (<c>{appId}||{key}</c>).</summary>
    public string AppId { get; init; } = "axentra-test";

    /// <summary>Names of <c>state.aws.dynamodb</c> components (with <c>ttlAttributeName</c> set, so TTL is on).</summary>
    public IReadOnlyList<string> StateStores { get; init; } = ["statestore"];

    /// <summary>Names of pub/sub components (recorded, never delivered).</summary>
    public IReadOnlyList<string> PubSubs { get; init; } = ["pubsub"];

    /// <summary>Output bindings by component name.</summary>
    public IReadOnlyDictionary<string, StandInBindingType> Bindings { get; init; } = new Dictionary<string, StandInBindingType>();

    /// <summary>The clock for TTLs and timestamps; a FakeTimeProvider makes expiry testable.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
