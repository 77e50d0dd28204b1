using System.Net.Http.Headers;
using System.Text.Json;
using Axentra.BuildingBlocks.PubSub;
using Microsoft.Extensions.Configuration;

namespace Axentra.BuildingBlocks.Dapr;

/// <summary>
/// A direct delivery through Dapr's HTTP service invocation (the <c>dapr-app-id</c> header on the sidecar's HTTP port,
/// as the ops edge forwards): <c>POST</c> to the subscriber app's own subscription route
/// (<see cref="DaprSubscriberEndpoints.RouteOf(string, string)"/>) with the message as <c>application/json</c> and its
/// id in <c>ce-id</c>, the way its sidecar delivers it, and the app's <c>{"status":"SUCCESS"|"RETRY"|"DROP"}</c> read
/// back. The sidecars' access control must let the caller invoke the app (components/configuration: intake may
/// invoke audit and catalog).
/// </summary>
public sealed class DaprDirectDelivery(IHttpClientFactory httpClients) : IDirectDelivery
{
    /// <summary>The named HttpClient that reaches the sidecar's HTTP port (<see cref="SidecarHttpEndpoint"/>).</summary>
    public const string HttpClientName = "dapr-sidecar-http";

    /// <summary>The header Dapr's HTTP API routes an invocation by.</summary>
    public const string AppIdHeader = "dapr-app-id";

    /// <summary>The sidecar's HTTP endpoint: <c>DAPR_HTTP_ENDPOINT</c>, else <c>http://127.0.0.1:{DAPR_HTTP_PORT}</c> (3500).</summary>
    public static Uri SidecarHttpEndpoint(IConfiguration configuration) =>
        new(configuration["DAPR_HTTP_ENDPOINT"] is { Length: > 0 } endpoint
            ? endpoint
            : $"http://127.0.0.1:{configuration["DAPR_HTTP_PORT"] ?? "3500"}");

    public async ValueTask<DirectDeliveryResult> DeliverAsync(
        string subscriber, string topic, string messageId, ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, DaprSubscriberEndpoints.RouteOf(topic, subscriber).TrimStart('/'))
        {
            Content = new ReadOnlyMemoryContent(message),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add(AppIdHeader, subscriber);
        request.Headers.Add(DaprSubscriberEndpoints.MessageIdHeader, messageId);

        HttpResponseMessage response;
        try
        {
            response = await httpClients.CreateClient(HttpClientName).SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new BackendUnavailableException("dapr-invoke", $"could not reach the sidecar to invoke {subscriber}", ex);
        }

        using (response)
        {
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                // The app's own error, or the sidecar's (access denied, app unreachable): not handled this time.
                return new DirectDeliveryResult(DeliveryOutcome.Retry, $"{subscriber} answered HTTP {(int)response.StatusCode}");
            }

            return StatusOf(body) switch
            {
                "SUCCESS" => new DirectDeliveryResult(DeliveryOutcome.Success, null),
                "DROP" => new DirectDeliveryResult(DeliveryOutcome.Drop, $"{subscriber} answered DROP"),
                "RETRY" => new DirectDeliveryResult(DeliveryOutcome.Retry, $"{subscriber} answered RETRY"),
                var other => new DirectDeliveryResult(DeliveryOutcome.Retry, $"{subscriber} answered an unknown status '{other}'"),
            };
        }
    }

    /// <summary>The <c>status</c> of Dapr's subscription answer; an empty 2xx body means SUCCESS to Dapr, and here.</summary>
    private static string? StatusOf(byte[] body)
    {
        if (body.Length == 0)
        {
            return "SUCCESS";
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("status", out var status) && status.ValueKind == JsonValueKind.String
                ? status.GetString()!.ToUpperInvariant()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
