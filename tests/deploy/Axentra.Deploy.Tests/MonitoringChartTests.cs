using System.Text.Json.Nodes;

namespace Axentra.Deploy.Tests;

/// <summary>The chart's optional Grafana dashboard and Prometheus alerts (docs/observability.md).</summary>
public sealed class MonitoringChartTests
{
    private static readonly string[] Alerts =
        ["AxentraIngestErrors", "AxentraDuplicateRateAnomaly", "AxentraWebhookIdReused", "AxentraDeadLettersGrowing", "AxentraQueueAge", "AxentraDeliveriesStalled", "AxentraDeliveriesStalled",
         "AxentraDeliveriesRetrying", "AxentraAuditConflict"];

    [Fact]
    public void Neither_is_rendered_unless_enabled_since_they_need_the_grafana_sidecar_and_the_prometheus_operator()
    {
        var objects = Manifests.Render("dev-values.yaml");

        Assert.Empty(objects.OfKind("PrometheusRule"));
        Assert.Empty(objects.OfKind("PodMonitor"));
        Assert.DoesNotContain(objects.OfKind("ConfigMap"), c => c["metadata"]?["labels"]?["grafana_dashboard"] is not null);
    }

    [Fact]
    public void Enabled_the_pod_monitor_scrapes_every_service_pod_on_its_http_port_where_the_annotations_point()
    {
        var objects = Manifests.Render("production-values.yaml");
        var monitor = objects.OfKind("PodMonitor").Single();

        Assert.Equal("kube-prometheus-stack", (string?)monitor["metadata"]!["labels"]!["release"]);
        var selector = monitor["spec"]!["selector"]!["matchLabels"]!.AsObject().ToDictionary(p => p.Key, p => (string)p.Value!);
        Assert.Equal([Manifests.Namespace], monitor["spec"]!["namespaceSelector"]!["matchNames"]!.AsArray().Select(n => (string)n!));
        var endpoints = monitor["spec"]!["podMetricsEndpoints"]!.AsArray().Select(e => e!.AsObject()).ToList();
        var app = endpoints.Single(e => (string?)e["port"] == "http");
        Assert.Contains(endpoints, e => (string?)e["port"] == "dapr-metrics"); // the name Dapr's injector gives the sidecar's metrics port

        var deployments = objects.OfKind("Deployment").ToList();
        Assert.Equal(3, deployments.Count);
        foreach (var deployment in deployments)
        {
            var template = deployment["spec"]!["template"]!;
            var labels = template["metadata"]!["labels"]!.AsObject();
            Assert.All(selector, label => Assert.Equal(label.Value, (string?)labels[label.Key]));
            var ports = template["spec"]!["containers"]!.AsArray().SelectMany(c => c!["ports"]?.AsArray() ?? []).ToList();
            var http = ports.Single(p => (string?)p!["name"] == "http");
            var annotations = deployment.PodAnnotations();
            Assert.Equal(annotations["prometheus.io/port"], ((int)http!["containerPort"]!).ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(annotations["prometheus.io/path"], (string?)app["path"]);
        }
    }

    [Fact]
    public void Enabled_the_dashboard_is_a_labelled_config_map_with_a_dashboard_that_queries_the_platform_series()
    {
        var dashboard = Manifests.Render("production-values.yaml").OfKind("ConfigMap")
            .Single(c => (string?)c["metadata"]?["labels"]?["grafana_dashboard"] == "1");

        var json = JsonNode.Parse((string)dashboard["data"]!["axentra.json"]!)!.AsObject();
        var expressions = json["panels"]!.AsArray().SelectMany(p => p!["targets"]?.AsArray() ?? []).Select(t => (string)t!["expr"]!).ToList();
        foreach (var series in new[] { "axentra_webhooks_received_total", "axentra_queue_oldest_age_seconds", "axentra_pubsub_dead_letters_total", "axentra_audit_conflicts_total", "axentra_binding_duration_milliseconds_bucket" })
        {
            Assert.Contains(expressions, e => e.Contains(series, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Enabled_the_prometheus_rule_alerts_on_ingest_errors_dead_letters_queue_age_duplicates_and_audit_conflicts()
    {
        var rule = Manifests.Render("production-values.yaml").OfKind("PrometheusRule").Single();

        Assert.Equal("kube-prometheus-stack", (string?)rule["metadata"]!["labels"]!["release"]);
        var alerts = rule["spec"]!["groups"]!.AsArray().SelectMany(g => g!["rules"]!.AsArray()).Select(r => (string)r!["alert"]!).ToList();
        Assert.Equal(Alerts.Order(StringComparer.Ordinal), alerts.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_stall_alert_watches_every_subscriber_of_the_webhook_events_the_code_has()
    {
        var rule = Manifests.Render("production-values.yaml").OfKind("PrometheusRule").Single();
        var stalled = rule["spec"]!["groups"]!.AsArray().SelectMany(g => g!["rules"]!.AsArray())
            .Where(r => (string?)r!["alert"] == "AxentraDeliveriesStalled").Select(r => (string)r!["labels"]!["subscriber"]!);

        // The chart lists them itself (a template cannot read PlatformNames): this keeps the two lists one.
        Assert.Equal(Axentra.Contracts.PlatformNames.AppIds.WebhookEventSubscribers.Order(StringComparer.Ordinal), stalled.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_validator_checks_prometheus_rules_instead_of_skipping_them()
    {
        var node = DeployTools.RequireNode();
        var broken = Path.Combine(Path.GetTempPath(), $"axentra-broken-rule-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(broken, """
            apiVersion: monitoring.coreos.com/v1
            kind: PrometheusRule
            metadata: {name: broken}
            spec:
              groups:
                - name: g
                  rules:
                    - alert: A
                      expresion: up == 0
                      for: 5 minutes
            """);
        try
        {
            var result = DeployTools.Run(node, [Repository.PathOf("tests", "deploy", "validate-manifests.mjs"), DeployTools.NodeModules, broken]);

            Assert.Equal(1, result.ExitCode);
            Assert.Contains("unknown field \\\"expresion\\\"", result.StandardOutput, StringComparison.Ordinal);
            Assert.Contains("not a Prometheus duration", result.StandardOutput, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(broken);
        }
    }
}
