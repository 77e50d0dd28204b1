using System.Net.Sockets;
using System.Text;
using Axentra.Intake.Apis;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Axentra.Intake.Tests;

/// <summary>Request targets that could get around a path rule at a load balancer or a sidecar are refused at the edge.</summary>
public sealed class RequestTargetGuardTests
{
    [Theory]
    [InlineData("/webhooks/../metrics")]
    [InlineData("/webhooks/%2e%2e/metrics")]
    [InlineData("/webhooks/%2E%2e/dapr/subscriptions/webhook-events-catalog-deadletter/intake")]
    [InlineData("/webhooks/./supabase")]
    [InlineData("/admin/dead-letters/audit/%2e%2e/redrive")] // would be a redrive of every dead letter
    [InlineData("/audit/..%2F..%2Fdapr/subscriptions/webhook-events/audit")]
    [InlineData("/catalog/stores%5C..%5Cx")]
    [InlineData("/events/a\\b")]
    [InlineData("/audit/%252e%252e/dapr/subscriptions/webhook-events/audit")] // decoded by Kestrel, then by daprd: audit's subscription route
    [InlineData("/catalog/%252E%252E/dapr/subscribe")]
    [InlineData("/%61udit/events/e-1")] // no route needs an encoded character
    public void Dot_segments_and_encoded_separators_are_refused(string target) => Assert.True(RequestTargetGuard.IsSuspicious(target));

    [Theory]
    [InlineData("/webhooks/supabase")]
    [InlineData("/events/3557472afafa2e08-1796420562")]
    [InlineData("/events?payload_hash=../x")] // the query is not a path
    [InlineData("/catalog/stores/store.1/products/p..2")] // dots inside a segment are a name, not a dot segment
    [InlineData("/audit/stores/s-1/events/product_update?from=2026-01-01")]
    public void Ordinary_targets_pass(string target) => Assert.False(RequestTargetGuard.IsSuspicious(target));

    [Fact]
    public async Task Over_real_http_a_dot_dot_under_the_webhook_prefix_is_a_400_not_the_metrics()
    {
        // Kestrel resolves dot segments before routing, so the raw request line is what has to be judged.
        using var app = new StandaloneApp();
        app.UseKestrel(0);
        app.StartServer();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

        async Task<string> GetAsync(string target)
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(address.Host, address.Port, TestContext.Current.CancellationToken);
            var stream = tcp.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {target} HTTP/1.1\r\nHost: intake.example\r\nConnection: close\r\n\r\n"), TestContext.Current.CancellationToken);
            return await new StreamReader(stream).ReadToEndAsync(TestContext.Current.CancellationToken);
        }

        Assert.StartsWith("HTTP/1.1 400", await GetAsync("/webhooks/%2e%2e/metrics"), StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 200", await GetAsync("/metrics"), StringComparison.Ordinal);
    }
}
