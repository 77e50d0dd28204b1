using System.Text;
using Axentra.BuildingBlocks.Dapr;
using Axentra.TestSupport.Dapr;
using Grpc.Core;

namespace Axentra.BuildingBlocks.Tests.PubSub;

public sealed class DaprMessagePublisherTests : IAsyncLifetime
{
    private DaprSidecarStandIn _sidecar = null!;
    private DaprMessagePublisher _publisher = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _sidecar = await DaprSidecarStandIn.StartAsync(new DaprSidecarStandInOptions { PubSubs = ["webhook-pubsub"] }, Ct);
        _publisher = new DaprMessagePublisher(_sidecar.Client, "webhook-pubsub");
    }

    public async ValueTask DisposeAsync() => await _sidecar.DisposeAsync();

    [Fact]
    public async Task The_published_bytes_arrive_unchanged_as_application_json_on_the_requested_topic()
    {
        // Snake case, odd spacing, escapes and non-ASCII: anything re-serialising the message would change it.
        var message = Encoding.UTF8.GetBytes("{ \"store_id\" : \"s-1\",\"Product_IDs\":[\"p\\u00e9\"],  \"note\":\"caf\u00e9 \\\"q\\\"\" }");

        await _publisher.PublishAsync("axentra-kb-refresh", message, Ct);

        var published = Assert.Single(_sidecar.Published);
        Assert.Equal("webhook-pubsub", published.PubSubName);
        Assert.Equal("axentra-kb-refresh", published.Topic);
        Assert.Equal("application/json", published.DataContentType);
        Assert.Equal(message, published.Data);
        Assert.Empty(published.Metadata);
    }

    [Theory]
    [InlineData(StatusCode.Unavailable)]
    [InlineData(StatusCode.Internal)]
    [InlineData(StatusCode.DeadlineExceeded)]
    public async Task A_publish_the_sidecar_did_not_accept_is_a_backend_outage(StatusCode code)
    {
        _sidecar.Faults.FailNext(DaprMethods.PublishEvent, code);

        var error = await Assert.ThrowsAsync<BackendUnavailableException>(async () => await _publisher.PublishAsync("webhook-events", "{}"u8.ToArray(), Ct));

        Assert.Contains("webhook-pubsub", error.Message, StringComparison.Ordinal);
        Assert.Empty(_sidecar.Published);
    }

    [Fact]
    public async Task A_publish_to_an_unknown_component_is_a_backend_outage()
    {
        var misconfigured = new DaprMessagePublisher(_sidecar.Client, "no-such-pubsub");

        await Assert.ThrowsAsync<BackendUnavailableException>(async () => await misconfigured.PublishAsync("webhook-events", "{}"u8.ToArray(), Ct));
    }
}
