using Grpc.Core;

namespace Axentra.TestSupport.Dapr;

/// <summary>
/// A message the sidecar accepted on <c>PublishEvent</c>, exactly as the app sent it, with the W3C
/// <c>traceparent</c> of the gRPC call: what daprd puts in the CloudEvent it publishes.
/// </summary>
public sealed record PublishedMessage(
    string PubSubName, string Topic, byte[] Data, string DataContentType, IReadOnlyDictionary<string, string> Metadata, string? TraceParent = null);

/// <summary>An <c>InvokeBinding</c> request as received (before any injected fault or component error).</summary>
public sealed record BindingInvocation(
    string BindingName, string Operation, byte[] Data, IReadOnlyDictionary<string, string> Metadata);

/// <summary>One gRPC call the sidecar answered: the proto method name, the request and the status it returned.</summary>
public sealed record SidecarCall(string Method, Google.Protobuf.IMessage Request, StatusCode Status);

/// <summary>Method names of the <c>dapr.proto.runtime.v1.Dapr</c> service that the stand-in implements.</summary>
public static class DaprMethods
{
    public const string GetState = nameof(GetState);
    public const string SaveState = nameof(SaveState);
    public const string DeleteState = nameof(DeleteState);
    public const string ExecuteStateTransaction = nameof(ExecuteStateTransaction);
    public const string PublishEvent = nameof(PublishEvent);
    public const string InvokeBinding = nameof(InvokeBinding);
    public const string GetMetadata = nameof(GetMetadata);
}
