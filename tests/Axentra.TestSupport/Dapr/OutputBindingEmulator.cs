namespace Axentra.TestSupport.Dapr;

/// <summary>An error the binding component returns; the runtime wraps it into gRPC <c>Internal</c>.</summary>
internal sealed class BindingComponentException(string message) : Exception(message);

internal sealed record BindingResult(byte[] Data, IReadOnlyDictionary<string, string>? Metadata = null);

/// <summary>An emulated output-binding component: its operation list and its Invoke.</summary>
internal interface IOutputBindingEmulator
{
    string ComponentType { get; }

    /// <summary>In the component's own order (the runtime lists them in its "does not support operation" error).</summary>
    IReadOnlyList<string> Operations { get; }

    BindingResult Invoke(string operation, byte[] data, IReadOnlyDictionary<string, string> metadata);
}
