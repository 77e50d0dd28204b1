using System.Collections.Concurrent;
using Dapr.Client.Autogen.Grpc.v1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Axentra.TestSupport.Dapr;

/// <summary>
/// The handlers of the stand-in's <c>dapr.proto.runtime.v1.Dapr</c> methods, mirroring dapr/dapr
/// <c>pkg/api/grpc/grpc.go</c>: validation and error codes as the runtime answers them, components behind it.
/// Every call passes through fault injection and is recorded.
/// </summary>
internal sealed class DaprRuntimeService
{
    private readonly DaprSidecarStandInOptions _options;
    private readonly Dictionary<string, DynamoDbStateStoreEmulator> _stateStores;
    private readonly Dictionary<string, IOutputBindingEmulator> _bindings;
    private readonly HashSet<string> _pubSubs;

    public DaprRuntimeService(DaprSidecarStandInOptions options)
    {
        _options = options;
        _stateStores = options.StateStores.ToDictionary(n => n, n => new DynamoDbStateStoreEmulator(n, options.TimeProvider), StringComparer.Ordinal);
        _pubSubs = new HashSet<string>(options.PubSubs, StringComparer.Ordinal);
        _bindings = options.Bindings.ToDictionary(
            b => b.Key,
            b => b.Value == StandInBindingType.AwsS3
                ? (IOutputBindingEmulator)new S3BucketEmulator(b.Key, options.TimeProvider)
                : new LocalStorageEmulator($"/var/lib/dapr-standin/{b.Key}"),
            StringComparer.Ordinal);
    }

    public SidecarFaults Faults { get; } = new();

    public ConcurrentQueue<SidecarCall> Calls { get; } = new();

    public ConcurrentQueue<PublishedMessage> Published { get; } = new();

    public ConcurrentQueue<BindingInvocation> BindingInvocations { get; } = new();

    public IReadOnlyDictionary<string, DynamoDbStateStoreEmulator> StateStores => _stateStores;

    public IReadOnlyDictionary<string, IOutputBindingEmulator> Bindings => _bindings;

    public Task<GetStateResponse> GetState(GetStateRequest request, ServerCallContext context) => Run(DaprMethods.GetState, request, () =>
        Store(request.StoreName).Get(StateKey(request.Key)));

    public Task<Empty> SaveState(SaveStateRequest request, ServerCallContext context) => Run(DaprMethods.SaveState, request, () =>
    {
        var store = Store(request.StoreName);
        if (request.States.Any(s => s.Key.Length == 0))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "state key cannot be empty"));
        }

        foreach (var state in request.States)
        {
            store.Set(StateKey(state.Key), state);
        }

        return new Empty();
    });

    public Task<Empty> DeleteState(DeleteStateRequest request, ServerCallContext context) => Run(DaprMethods.DeleteState, request, () =>
    {
        Store(request.StoreName).Delete(StateKey(request.Key), request.Etag);
        return new Empty();
    });

    public Task<Empty> ExecuteStateTransaction(ExecuteStateTransactionRequest request, ServerCallContext context) =>
        Run(DaprMethods.ExecuteStateTransaction, request, () =>
        {
            var store = Store(request.StoreName);
            var unsupported = request.Operations.FirstOrDefault(o => o.OperationType is not ("upsert" or "delete"));
            if (unsupported is not null)
            {
                throw new RpcException(new Status(StatusCode.Unimplemented, $"operation type {unsupported.OperationType} not supported"));
            }

            store.Transact([.. request.Operations.Select(o => (StateKey(o.Request.Key), o))]);
            return new Empty();
        });

    public Task<Empty> PublishEvent(PublishEventRequest request, ServerCallContext context) => Run(DaprMethods.PublishEvent, request, () =>
    {
        if (request.PubsubName.Length == 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "pubsub name is empty"));
        }

        if (!_pubSubs.Contains(request.PubsubName))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"pubsub {request.PubsubName} is not found"));
        }

        if (request.Topic.Length == 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"topic is empty in pubsub {request.PubsubName}"));
        }

        Published.Enqueue(new PublishedMessage(request.PubsubName, request.Topic, request.Data.ToByteArray(), request.DataContentType,
            new Dictionary<string, string>(request.Metadata, StringComparer.Ordinal), context.RequestHeaders.GetValue("traceparent")));
        return new Empty();
    }, fault => new Status(fault.StatusCode, $"error when publishing to topic {request.Topic} in pubsub {request.PubsubName}: {fault.Detail}"));

    public Task<InvokeBindingResponse> InvokeBinding(InvokeBindingRequest request, ServerCallContext context)
    {
        var metadata = new Dictionary<string, string>(request.Metadata, StringComparer.Ordinal);
        BindingInvocations.Enqueue(new BindingInvocation(request.Name, request.Operation, request.Data.ToByteArray(), metadata));
        return Run(DaprMethods.InvokeBinding, request, () =>
        {
            try
            {
                if (request.Operation.Length == 0)
                {
                    throw new BindingComponentException("operation field is missing from request");
                }

                if (!_bindings.TryGetValue(request.Name, out var binding))
                {
                    throw new BindingComponentException($"couldn't find output binding {request.Name}");
                }

                if (!binding.Operations.Contains(request.Operation))
                {
                    throw new BindingComponentException(
                        $"binding {request.Name} does not support operation {request.Operation}. supported operations:{string.Join(' ', binding.Operations)}");
                }

                var result = binding.Invoke(request.Operation, request.Data.ToByteArray(), metadata);
                var response = new InvokeBindingResponse { Data = ByteString.CopyFrom(result.Data) };
                if (result.Metadata is not null)
                {
                    foreach (var (key, value) in result.Metadata)
                    {
                        response.Metadata[key] = value;
                    }
                }

                return response;
            }
            catch (BindingComponentException ex)
            {
                throw new RpcException(new Status(StatusCode.Internal, $"error invoking output binding {request.Name}: {ex.Message}"));
            }
        });
    }

    public Task<GetMetadataResponse> GetMetadata(GetMetadataRequest request, ServerCallContext context) => Run(DaprMethods.GetMetadata, request, () =>
    {
        var response = new GetMetadataResponse { Id = _options.AppId, RuntimeVersion = "axentra-stand-in" };
        foreach (var name in _stateStores.Keys)
        {
            response.RegisteredComponents.Add(new RegisteredComponents
            {
                Name = name,
                Type = "state.aws.dynamodb",
                Version = "v1",
                Capabilities = { "ETAG", "TRANSACTIONAL", "TTL" },
            });
        }

        foreach (var name in _pubSubs)
        {
            response.RegisteredComponents.Add(new RegisteredComponents { Name = name, Type = "pubsub.aws.snssqs", Version = "v1" });
        }

        foreach (var (name, binding) in _bindings)
        {
            response.RegisteredComponents.Add(new RegisteredComponents { Name = name, Type = binding.ComponentType, Version = "v1" });
        }

        return response;
    });

    /// <summary>Fault injection (before or after the operation), then the operation, then the call record.</summary>
    private Task<TResponse> Run<TResponse>(string method, IMessage request, Func<TResponse> operation, Func<Status, Status>? describeFault = null)
    {
        var fault = Faults.Take(method);
        var status = StatusCode.OK;
        try
        {
            if (fault is { AfterApplying: false })
            {
                throw new RpcException(describeFault?.Invoke(fault.Status) ?? fault.Status);
            }

            var response = operation();
            if (fault is { AfterApplying: true })
            {
                throw new RpcException(describeFault?.Invoke(fault.Status) ?? fault.Status);
            }

            return Task.FromResult(response);
        }
        catch (RpcException ex)
        {
            status = ex.StatusCode;
            throw;
        }
        finally
        {
            Calls.Enqueue(new SidecarCall(method, request, status));
        }
    }

    private DynamoDbStateStoreEmulator Store(string name) =>
        _stateStores.TryGetValue(name, out var store)
            ? store
            : throw new RpcException(new Status(StatusCode.InvalidArgument, $"state store {name} is not found"));

    /// <summary>pkg/components/state keys: the default key prefix strategy stores <c>{appId}||{key}</c>.</summary>
    private string StateKey(string key) =>
        key.Contains("||", StringComparison.Ordinal)
            // dapr/dapr pkg/components/state/state_config.go checkKeyIllegal, via GetModifiedStateKey on every state call
            ? throw new RpcException(new Status(StatusCode.InvalidArgument, $"input key/keyPrefix '{key}' can't contain '||'"))
            : $"{_options.AppId}||{key}";
}
