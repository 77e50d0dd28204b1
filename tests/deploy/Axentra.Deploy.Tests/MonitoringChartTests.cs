using System.Text.Json.Nodes;

namespace Axentra.Deploy.Tests;

/// <summary>The chart's optional Grafana dashboard and Prometheus alerts (docs/observability.md).</summary>
public sealed class MonitoringChartTests
{
    private static readonly string[] Alerts =
        ["AxentraIngestErrors", "AxentraDuplicateRateAnomaly", "AxentraDeadLettersGrowing", "AxentraQueueAge", "AxentraDeliveriesRetrying", "AxentraAuditConflict"];

    [Fact]
    public void Neither_is_rendered_unless_enabled_since_they_need_the_grafana_sidecar_and_the_prometheus_operator()
    {
        var objects = Manifests.Render("dev-values.yaml");

        Assert.Empty(objects.OfKind("PrometheusRule"));
        Assert.DoesNotContain(objects.OfKind("ConfigMap"), c => c["metadata"]?["labels"]?["grafana_dashboard"] is not null);
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
