using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using DaprProto = Dapr.Client.Autogen.Grpc.v1;

namespace Axentra.TestSupport.Dapr;

/// <summary>
/// Binds the stand-in's handlers to Dapr's real service definition. Dapr.Protos ships the messages and the service
/// descriptor but no server base class, so each method is added by hand: its name must exist on
/// <c>dapr.proto.runtime.v1.Dapr</c> and its request/response types must be the descriptor's, or start-up fails.
/// </summary>
internal sealed class DaprProtoMethodProvider : IServiceMethodProvider<DaprRuntimeService>
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<DaprRuntimeService> context)
    {
        Add<DaprProto.GetStateRequest, DaprProto.GetStateResponse>(context, DaprMethods.GetState, (s, r, c) => s.GetState(r, c));
        Add<DaprProto.SaveStateRequest, Empty>(context, DaprMethods.SaveState, (s, r, c) => s.SaveState(r, c));
        Add<DaprProto.DeleteStateRequest, Empty>(context, DaprMethods.DeleteState, (s, r, c) => s.DeleteState(r, c));
        Add<DaprProto.ExecuteStateTransactionRequest, Empty>(context, DaprMethods.ExecuteStateTransaction, (s, r, c) => s.ExecuteStateTransaction(r, c));
        Add<DaprProto.PublishEventRequest, Empty>(context, DaprMethods.PublishEvent, (s, r, c) => s.PublishEvent(r, c));
        Add<DaprProto.InvokeBindingRequest, DaprProto.InvokeBindingResponse>(context, DaprMethods.InvokeBinding, (s, r, c) => s.InvokeBinding(r, c));
        Add<DaprProto.GetMetadataRequest, DaprProto.GetMetadataResponse>(context, DaprMethods.GetMetadata, (s, r, c) => s.GetMetadata(r, c));
    }

    /// <summary>The proto method, checked against the descriptor so the stand-in cannot drift from the real API.</summary>
    internal static Method<TRequest, TResponse> MethodOf<TRequest, TResponse>(string name)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        var service = DaprProto.Dapr.Descriptor;
        var method = service.FindMethodByName(name)
            ?? throw new InvalidOperationException($"{service.FullName} has no method {name}.");
        if (method.InputType.ClrType != typeof(TRequest) || method.OutputType.ClrType != typeof(TResponse)
            || method.IsClientStreaming || method.IsServerStreaming)
        {
            throw new InvalidOperationException(
                $"{service.FullName}/{name} is ({method.InputType.FullName}) -> {method.OutputType.FullName}, not unary {typeof(TRequest).Name} -> {typeof(TResponse).Name}.");
        }

        var requestParser = new MessageParser<TRequest>(() => new TRequest());
        var responseParser = new MessageParser<TResponse>(() => new TResponse());
        return new Method<TRequest, TResponse>(
            MethodType.Unary,
            service.FullName,
            method.Name,
            Marshallers.Create(m => m.ToByteArray(), requestParser.ParseFrom),
            Marshallers.Create(m => m.ToByteArray(), responseParser.ParseFrom));
    }

    private static void Add<TRequest, TResponse>(
        ServiceMethodProviderContext<DaprRuntimeService> context,
        string name,
        Func<DaprRuntimeService, TRequest, ServerCallContext, Task<TResponse>> handler)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() =>
        context.AddUnaryMethod(MethodOf<TRequest, TResponse>(name), [], (service, request, call) => handler(service, request, call));
}
