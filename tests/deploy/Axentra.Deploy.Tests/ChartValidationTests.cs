using System.Text.Json.Nodes;

namespace Axentra.Deploy.Tests;

/// <summary>
/// The chart as CI can check it without a cluster: helm lint --strict, helm template, and every rendered object
/// against the Kubernetes schemas (kubernetes-models, plus unknown fields) or Dapr's documented resource fields.
/// </summary>
public sealed class ChartValidationTests
{
    public static TheoryData<string> ValueSets() => Manifests.ValueSets();

    [Theory]
    [MemberData(nameof(ValueSets))]
    public void Helm_lint_strict_passes(string valueSet)
    {
        var helm = DeployTools.RequireHelm();

        var result = DeployTools.Run(helm, ["lint", "--strict", Repository.Chart, "--namespace", Manifests.Namespace, .. Manifests.ValuesArguments(valueSet)]);

        Assert.True(result.ExitCode == 0, result.Describe());
    }

    [Theory]
    [MemberData(nameof(ValueSets))]
    public void Every_rendered_object_is_valid_against_the_kubernetes_and_dapr_schemas(string valueSet)
    {
        var node = DeployTools.RequireNode();
        var rendered = Manifests.RenderToFile(valueSet);
        try
        {
            var result = DeployTools.Run(node, [Repository.PathOf("tests", "deploy", "validate-manifests.mjs"), DeployTools.NodeModules, rendered]);

            Assert.True(result.ExitCode == 0, result.Describe());
            var report = JsonNode.Parse(result.StandardOutput)!.AsObject();
            var kinds = report["kinds"]!.AsObject().Select(k => k.Key).ToHashSet(StringComparer.Ordinal);
            // The validator saw the whole chart, not an empty render.
            Assert.Contains("apps/v1/Deployment", kinds);
            Assert.Contains("dapr.io/v1alpha1/Component", kinds);
            Assert.Contains("dapr.io/v1alpha1/Resiliency", kinds);
            Assert.Contains("dapr.io/v1alpha1/Configuration", kinds);
        }
        finally
        {
            File.Delete(rendered);
        }
    }

    [Fact]
    public void The_validator_rejects_typos_the_schemas_alone_would_accept()
    {
        // Guards the guard: unknown fields are silently pruned by the API server, so the validator must flag them.
        var node = DeployTools.RequireNode();
        var broken = Path.Combine(Path.GetTempPath(), $"axentra-broken-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(broken, """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: broken}
            spec:
              selector: {matchLabels: {app: x}}
              template:
                metadata: {labels: {app: x}}
                spec:
                  containers:
                    - name: x
                      image: x
                      securityContext: {readOnlyRootFileSystem: true}
            ---
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata: {name: webhook-registry}
            spec:
              type: state.aws.dynamodb
              version: v1
              metadata:
                - {name: table, value: t}
                - {name: ttlAttribute, value: ttl}
            ---
            apiVersion: dapr.io/v2alpha1
            kind: Subscription
            metadata: {name: s}
            spec: {pubsubname: p, topic: t, routes: {default: /x}, deadLetter: d}
            """);
        try
        {
            var result = DeployTools.Run(node, [Repository.PathOf("tests", "deploy", "validate-manifests.mjs"), DeployTools.NodeModules, broken]);

            Assert.Equal(1, result.ExitCode);
            Assert.Contains("unknown field \\\"readOnlyRootFileSystem\\\"", result.StandardOutput, StringComparison.Ordinal);
            Assert.Contains("\\\"ttlAttribute\\\" is not a documented field of state.aws.dynamodb", result.StandardOutput, StringComparison.Ordinal);
            Assert.Contains("unknown field \\\"deadLetter\\\"", result.StandardOutput, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(broken);
        }
    }

    [Fact]
    public void Component_files_are_valid_against_dapr_documented_fields()
    {
        var node = DeployTools.RequireNode();
        var files = new[] { "local", "aws", "configuration" }
            .SelectMany(dir => Directory.GetFiles(Repository.PathOf("components", dir), "*.yaml"))
            .Order(StringComparer.Ordinal)
            .ToArray();

        var result = DeployTools.Run(node, [Repository.PathOf("tests", "deploy", "validate-manifests.mjs"), DeployTools.NodeModules, .. files]);

        Assert.True(result.ExitCode == 0, result.Describe());
    }

    [Fact]
    public void Creating_credentials_from_values_without_any_value_is_refused()
    {
        var helm = DeployTools.RequireHelm();

        var result = DeployTools.Run(helm, ["template", Manifests.Release, Repository.Chart, "--set", "credentials.create=true"]);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("credentials.create=true needs credentials.values", result.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("services.intake.replica=3")] // a typo
    [InlineData("services.audit.serviceAccount.roleArn=audit-role")] // not an IAM role ARN
    [InlineData("names.topics.webhookEvents=prod-webhook-events")] // the services publish and subscribe on PlatformNames.Topics
    [InlineData("services.catalog.routingTargets.store_create=t")] // routing.targets now: the old place is refused, not ignored
    public void Values_that_break_the_schema_are_refused(string setting)
    {
        var helm = DeployTools.RequireHelm();

        var result = DeployTools.Run(helm, ["template", Manifests.Release, Repository.Chart, "--set", setting]);

        Assert.NotEqual(0, result.ExitCode);
    }
}
