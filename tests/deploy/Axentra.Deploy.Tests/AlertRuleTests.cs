using System.Text.Json;
using System.Text.Json.Nodes;

namespace Axentra.Deploy.Tests;

/// <summary>
/// The chart's Prometheus alerts (templates/monitoring-prometheusrule.yaml, rendered with ci/production-values.yaml)
/// checked and unit-tested with promtool: each file in tests/deploy/alert-rules feeds series shaped as the
/// OpenTelemetry Prometheus exporter exports them and asserts when an alert fires, with which labels, and when it
/// stays silent.
/// </summary>
public sealed class AlertRuleTests
{
    /// <summary>The rules file the test files name in <c>rule_files</c>, written next to them.</summary>
    private const string RulesUnderTest = "axentra-alerts.json";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static string TestFilesDirectory => Repository.PathOf("tests", "deploy", "alert-rules");

    public static TheoryData<string> TestFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(TestFilesDirectory, "*.yaml").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    [Fact]
    public void The_rendered_rules_pass_promtool_check_rules()
    {
        var promtool = DeployTools.RequirePromtool();
        var directory = Directory.CreateTempSubdirectory("axentra-alert-rules-");
        try
        {
            // The rules as rendered, annotations included (check rules validates their templates too).
            var rules = Path.Combine(directory.FullName, "axentra-rules.json");
            File.WriteAllText(rules, RulesFile(RenderedGroups(), withAnnotations: true));

            var result = DeployTools.Run(promtool, ["check", "rules", rules], directory.FullName);

            Assert.True(result.ExitCode == 0, $"promtool check rules failed: {result.Describe()}");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(TestFiles))]
    public void The_alert_fires_and_stays_silent_as_the_promtool_test_file_expects(string testFile)
    {
        var promtool = DeployTools.RequirePromtool();
        var groups = RenderedGroups();
        var directory = Directory.CreateTempSubdirectory("axentra-alert-rules-");
        try
        {
            // Annotations are left out: promtool compares them verbatim, and the tests are about when alerts fire and
            // with which labels (the check-rules test above covers the annotations' templates).
            File.WriteAllText(Path.Combine(directory.FullName, RulesUnderTest), RulesFile(groups, withAnnotations: false));
            var copy = Path.Combine(directory.FullName, testFile);
            File.Copy(Path.Combine(TestFilesDirectory, testFile), copy);

            var result = DeployTools.Run(promtool, ["test", "rules", copy], directory.FullName);

            Assert.True(result.ExitCode == 0, $"promtool test rules {testFile} failed: {result.Describe()}");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void Every_alert_of_the_chart_has_a_promtool_test_that_sees_it_fire_and_stay_silent()
    {
        var alerts = RenderedGroups().SelectMany(g => g!["rules"]!.AsArray()).Select(r => (string)r!["alert"]!).Distinct(StringComparer.Ordinal);
        var tests = Directory.GetFiles(TestFilesDirectory, "*.yaml").Select(File.ReadAllText).ToList();

        Assert.All(alerts, alert =>
        {
            var cases = tests.Where(t => t.Contains($"alertname: {alert}\n", StringComparison.Ordinal)).ToList();
            Assert.True(cases.Count > 0, $"no file in tests/deploy/alert-rules tests {alert}");
            Assert.Contains(cases, t => t.Contains($"alertname: {alert}\n        exp_alerts: []", StringComparison.Ordinal));
            Assert.Contains(cases, t => t.Contains($"alertname: {alert}\n        exp_alerts:\n          - exp_labels:", StringComparison.Ordinal));
            Assert.All(cases, t => Assert.Contains($"rule_files:\n  - {RulesUnderTest}\n", t, StringComparison.Ordinal));
        });
    }

    /// <summary>The <c>spec.groups</c> of the single PrometheusRule the production values render.</summary>
    private static JsonArray RenderedGroups()
    {
        var rule = Manifests.Render("production-values.yaml").OfKind("PrometheusRule").Single();
        return rule["spec"]!["groups"]!.AsArray();
    }

    /// <summary>A plain Prometheus rules file (<c>{"groups": [...]}</c>; JSON is YAML to promtool).</summary>
    private static string RulesFile(JsonArray groups, bool withAnnotations)
    {
        var copy = groups.DeepClone().AsArray();
        if (!withAnnotations)
        {
            foreach (var rule in copy.SelectMany(g => g!["rules"]!.AsArray()))
            {
                rule!.AsObject().Remove("annotations");
            }
        }

        return new JsonObject { ["groups"] = copy }.ToJsonString(Indented);
    }
}
