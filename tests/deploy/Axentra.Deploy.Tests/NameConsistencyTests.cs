using System.Text.Json.Nodes;
using Axentra.BuildingBlocks.Dapr;
using Axentra.BuildingBlocks.PubSub;
using Axentra.Contracts;

namespace Axentra.Deploy.Tests;

/// <summary>
/// One source of truth per name: app ids, component names, topics, buckets and tables in
/// <see cref="PlatformNames"/> agree with components/, the rendered chart, dapr.yaml and tye.yaml, and the
/// subscription routes agree with the route the code serves.
/// </summary>
public sealed class NameConsistencyTests
{
    private static readonly string[] AppIds = [.. new[] { PlatformNames.AppIds.Intake, PlatformNames.AppIds.Audit, PlatformNames.AppIds.Catalog }.Order(StringComparer.Ordinal)];
    private static readonly string[] Subscribers = [PlatformNames.AppIds.Audit, PlatformNames.AppIds.Catalog];

    /// <summary>Expected component name → (local type, AWS type, apps in scope).</summary>
    private static readonly Dictionary<string, (string Local, string Aws, string[] Scopes)> ExpectedComponents = new(StringComparer.Ordinal)
    {
        [PlatformNames.Components.RegistryStateStore] = ("state.redis", "state.aws.dynamodb", AppIds),
        [PlatformNames.Components.PubSub] = ("pubsub.redis", "pubsub.aws.snssqs", AppIds),
        [PlatformNames.Components.RawAuditBucketBinding] = ("bindings.localstorage", "bindings.aws.s3", [PlatformNames.AppIds.Audit, PlatformNames.AppIds.Catalog]),
        [PlatformNames.Components.ProcessedBucketBinding] = ("bindings.localstorage", "bindings.aws.s3", [PlatformNames.AppIds.Catalog]),
    };

    private static IReadOnlyList<JsonObject> ComponentFiles(string dir) =>
        Manifests.ReadYaml([.. Directory.GetFiles(Repository.PathOf("components", dir), "*.yaml").Order(StringComparer.Ordinal)]);

    [Fact]
    public void Components_have_the_platform_names_types_and_least_privilege_scopes_locally_on_aws_and_in_the_chart()
    {
        var sources = new Dictionary<string, (IReadOnlyList<JsonObject> Objects, bool Aws)>(StringComparer.Ordinal)
        {
            ["components/local"] = (ComponentFiles("local"), false),
            ["components/aws"] = (ComponentFiles("aws"), true),
            ["chart (default values)"] = (Manifests.Render("default"), true),
            ["chart (production values)"] = (Manifests.Render("production-values.yaml"), true),
        };

        foreach (var (source, (objects, aws)) in sources)
        {
            foreach (var (name, expected) in ExpectedComponents)
            {
                var component = objects.OfKind("Component").SingleOrDefault(c => c.Name() == name);
                Assert.True(component is not null, $"{source}: no component {name}");
                Assert.Equal(aws ? expected.Aws : expected.Local, (string)component["spec"]!["type"]!);
                Assert.Equal(expected.Scopes, component.Scopes());
            }

            var registry = objects.Single("Component", PlatformNames.Components.RegistryStateStore).ComponentMetadata();
            Assert.Equal("none", registry["keyPrefix"]);
            var raw = objects.Single("Component", PlatformNames.Components.RawAuditBucketBinding).ComponentMetadata();
            var processed = objects.Single("Component", PlatformNames.Components.ProcessedBucketBinding).ComponentMetadata();
            if (aws)
            {
                Assert.Equal(PlatformNames.Tables.Registry, registry["table"]);
                Assert.Equal(PlatformNames.Buckets.RawAudit, raw["bucket"]);
                Assert.Equal(PlatformNames.Buckets.Processed, processed["bucket"]);
            }
            else
            {
                Assert.EndsWith("/" + PlatformNames.Buckets.RawAudit, raw["rootPath"], StringComparison.Ordinal);
                Assert.EndsWith("/" + PlatformNames.Buckets.Processed, processed["rootPath"], StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void The_chart_renders_exactly_the_aws_component_files_with_default_values()
    {
        var files = ComponentFiles("aws").Concat(Manifests.ReadYaml("components/configuration/aws.yaml")).ToArray();
        var chart = Manifests.Render("default");

        foreach (var kind in new[] { "Component", "Subscription", "Resiliency", "Configuration" })
        {
            var fromFiles = files.OfKind(kind).ToDictionary(o => o.Name(), Comparable, StringComparer.Ordinal);
            var fromChart = chart.OfKind(kind).ToDictionary(o => o.Name(), Comparable, StringComparer.Ordinal);
            Assert.Equal(fromFiles.Keys.Order(StringComparer.Ordinal), fromChart.Keys.Order(StringComparer.Ordinal));
            foreach (var (name, expected) in fromFiles)
            {
                Assert.True(expected == fromChart[name], $"{kind} {name} differs:\ncomponents/aws: {expected}\nchart:          {fromChart[name]}");
            }
        }
    }

    [Fact]
    public void Only_the_publish_has_a_circuit_breaker_and_the_sidecar_retries_no_bucket_call()
    {
        // daprd counts every error a call returns against the target's breaker, once per retry. A bucket read of a key
        // not yet written (every new audit object), a registry first-write that finds its key (a duplicate) and an ops
        // lookup answered 404 are errors to it: a breaker there opened on normal traffic (docs/deploy.md). The chart and
        // components/local render the same policy (the tests beside this one).
        var targets = ComponentFiles("aws").OfKind("Resiliency").Single()["spec"]!["targets"]!.AsObject();
        var breakers = new List<string>();
        foreach (var (group, byName) in targets)
        {
            foreach (var (name, target) in byName!.AsObject())
            {
                foreach (var (direction, policies) in new[] { ("", target), ("/outbound", target?["outbound"]), ("/inbound", target?["inbound"]) })
                {
                    if (policies?["circuitBreaker"] is not null)
                    {
                        breakers.Add($"{group}/{name}{direction}");
                    }
                }
            }
        }

        Assert.Equal([$"components/{PlatformNames.Components.PubSub}/outbound"], breakers);
        foreach (var bucket in new[] { PlatformNames.Components.RawAuditBucketBinding, PlatformNames.Components.ProcessedBucketBinding })
        {
            Assert.Null(targets["components"]![bucket]!["outbound"]!["retry"]);
        }
    }

    [Fact]
    public void Local_and_aws_files_share_subscriptions_and_resiliency()
    {
        var local = ComponentFiles("local");
        var aws = ComponentFiles("aws");

        foreach (var kind in new[] { "Subscription", "Resiliency" })
        {
            Assert.Equal(local.OfKind(kind).Select(Comparable), aws.OfKind(kind).Select(Comparable));
        }
    }

    [Theory]
    [InlineData("local", "processingTimeout")]
    [InlineData("aws", "messageVisibilityTimeout")]
    public void A_message_the_sidecar_is_still_retrying_is_not_handed_out_again(string dir, string redeliveryAfter)
    {
        // Redis redelivers a message pending longer than processingTimeout, SQS one whose visibility timeout ran out:
        // either must outlast the sidecar's delivery retries, retries x (delivery timeout + interval).
        var files = ComponentFiles(dir);
        var resiliency = files.OfKind("Resiliency").Single()["spec"]!;
        var inbound = resiliency["targets"]!["components"]![PlatformNames.Components.PubSub]!["inbound"]!;
        var retry = resiliency["policies"]!["retries"]![(string)inbound["retry"]!]!;
        var worstCase = ((int)retry["maxRetries"]! + 1)
            * (Manifests.Seconds((string)resiliency["policies"]!["timeouts"]![(string)inbound["timeout"]!]!) + Manifests.Seconds((string)retry["maxInterval"]!));

        var after = files.Single("Component", PlatformNames.Components.PubSub).ComponentMetadata()[redeliveryAfter];

        Assert.True(Manifests.Seconds(after) >= worstCase, $"{redeliveryAfter} {after} against {worstCase} s of retries");
    }

    [Fact]
    public void Subscriptions_use_the_platform_topic_the_codes_route_and_a_dead_letter_topic_per_subscriber()
    {
        var sources = new[] { ComponentFiles("local"), ComponentFiles("aws"), Manifests.Render("default") };

        foreach (var objects in sources)
        {
            var subscriptions = objects.OfKind("Subscription").Where(s => (string)s["spec"]!["topic"]! == PlatformNames.Topics.WebhookEvents).ToArray();
            Assert.Equal(Subscribers.Order(StringComparer.Ordinal), subscriptions.SelectMany(s => s.Scopes()).Order(StringComparer.Ordinal));
            foreach (var subscription in subscriptions)
            {
                var app = Assert.Single(subscription.Scopes());
                var spec = subscription["spec"]!;
                Assert.Equal(PlatformNames.Components.PubSub, (string)spec["pubsubname"]!);
                Assert.Equal(PlatformNames.Topics.DeadLetterOf(app), (string)spec["deadLetterTopic"]!);
                Assert.Equal(DaprSubscriberEndpoints.RouteOf(new NamedHandler(app, PlatformNames.Topics.WebhookEvents)), (string)spec["routes"]!["default"]!);
            }
        }
    }

    [Fact]
    public void Intake_subscribes_to_every_dead_letter_topic_at_the_route_its_code_serves_without_one_of_its_own()
    {
        var sources = new[] { ComponentFiles("local"), ComponentFiles("aws"), Manifests.Render("default") };

        foreach (var objects in sources)
        {
            var subscriptions = objects.OfKind("Subscription").Where(s => (string)s["spec"]!["topic"]! != PlatformNames.Topics.WebhookEvents).ToArray();
            Assert.Equal(
                PlatformNames.AppIds.WebhookEventSubscribers.Select(PlatformNames.Topics.DeadLetterOf).Order(StringComparer.Ordinal),
                subscriptions.Select(s => (string)s["spec"]!["topic"]!).Order(StringComparer.Ordinal));
            foreach (var subscription in subscriptions)
            {
                var spec = subscription["spec"]!;
                var topic = (string)spec["topic"]!;
                Assert.Equal([PlatformNames.AppIds.Intake], subscription.Scopes());
                Assert.Equal(PlatformNames.Components.PubSub, (string)spec["pubsubname"]!);
                Assert.Equal(DaprSubscriberEndpoints.RouteOf(topic, PlatformNames.AppIds.Intake), (string)spec["routes"]!["default"]!);
                Assert.Null(spec["deadLetterTopic"]);
                Assert.Null(DaprSubscriberEndpoints.DeadLetterTopicOf(new NamedHandler(PlatformNames.AppIds.Intake, topic)));
            }
        }

        // Switched off, no Subscription takes the dead letters: they wait in intake's queue for SQS tools.
        Assert.DoesNotContain(
            Manifests.Render("default", "--set", "dapr.deadLetterSubscriptions=false").OfKind("Subscription"),
            s => s.Scopes().Contains(PlatformNames.AppIds.Intake));
    }

    [Fact]
    public void Dapr_yaml_tye_yaml_and_the_chart_give_every_app_the_same_names()
    {
        var dapr = Manifests.ReadYaml("dapr.yaml").Single();
        var tye = Manifests.ReadYaml("tye.yaml").Single();
        var chart = Manifests.Render("default");

        var daprApps = dapr["apps"]!.AsArray().Select(a => a!.AsObject()).ToDictionary(a => (string)a["appID"]!, StringComparer.Ordinal);
        var tyeApps = tye["services"]!.AsArray().Select(a => a!.AsObject()).ToDictionary(a => (string)a["name"]!, StringComparer.Ordinal);
        var chartApps = chart.OfKind("Deployment").ToDictionary(d => d.PodAnnotations()["dapr.io/app-id"], StringComparer.Ordinal);
        Assert.Equal(AppIds, daprApps.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(AppIds, tyeApps.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(AppIds, chartApps.Keys.Order(StringComparer.Ordinal));

        var commonEnv = dapr["common"]!["env"]!.AsObject();
        foreach (var appId in AppIds)
        {
            var daprEnv = commonEnv.Concat(daprApps[appId]["env"]?.AsObject() ?? [])
                .GroupBy(e => e.Key, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Last().Value!.ToString(), StringComparer.Ordinal);
            var tyeEnv = tyeApps[appId]["env"]!.AsArray().ToDictionary(e => (string)e!["name"]!, e => e!["value"]!.ToString(), StringComparer.Ordinal);
            var chartEnv = chartApps[appId].ContainerEnv();

            // dapr.yaml and tye.yaml: same project, port and environment (tye sets the port from its binding).
            var project = (string)daprApps[appId]["command"]!.AsArray()[3]!;
            Assert.Equal(project, (string)tyeApps[appId]["project"]!);
            Assert.True(File.Exists(Repository.PathOf(project.Split('/'))) || !Directory.Exists(Repository.PathOf("services", appId, Path.GetFileNameWithoutExtension(project))),
                $"{project} is missing while its folder exists");
            Assert.Equal(daprApps[appId]["appPort"]!.ToString(), tyeApps[appId]["bindings"]![0]!["port"]!.ToString());
            Assert.Equal(daprApps[appId]["appPort"]!.ToString(), daprEnv["ASPNETCORE_HTTP_PORTS"]);
            daprEnv.Remove("ASPNETCORE_HTTP_PORTS");
            Assert.Equal(daprEnv.OrderBy(e => e.Key, StringComparer.Ordinal), tyeEnv.OrderBy(e => e.Key, StringComparer.Ordinal));

            foreach (var env in new[] { daprEnv, chartEnv })
            {
                Assert.Equal(PlatformNames.Components.RegistryStateStore, env["Dapr__StateStore"]);
                Assert.Equal(PlatformNames.Components.PubSub, env["Dapr__PubSub"]);
                Assert.Equal(PlatformNames.Components.RawAuditBucketBinding, env["Dapr__Buckets__RawAudit__Binding"]);
                Assert.Equal(PlatformNames.Components.ProcessedBucketBinding, env["Dapr__Buckets__Processed__Binding"]);
                Assert.Equal(PlatformNames.Buckets.RawAudit, env["Buckets__RawAudit"]);
                Assert.Equal(PlatformNames.Buckets.Processed, env["Buckets__Processed"]);
                Assert.Equal("false", env["Dapr__ProgrammaticSubscriptions"]);
                if (appId == PlatformNames.AppIds.Catalog)
                {
                    Assert.Equal(PlatformNames.Tables.Stores, env["Catalog__Validation__StoresTable"]);
                    Assert.Equal(PlatformNames.Tables.Products, env["Catalog__Validation__ProductsTable"]);
                }
            }

            if (appId == PlatformNames.AppIds.Catalog)
            {
                // Ben's tables are in AWS: locally the distributed catalog would refuse to start without a region (exit 78).
                Assert.Equal("false", daprEnv["Catalog__Validation__Enabled"]);
            }

            Assert.Equal("bindings.localstorage", daprEnv["Dapr__Buckets__RawAudit__Type"]);
            Assert.Equal("bindings.aws.s3", chartEnv["Dapr__Buckets__RawAudit__Type"]);
        }
    }

    [Fact]
    public void Chart_defaults_and_runner_resource_paths_match_the_platform_names()
    {
        var values = Manifests.ReadYaml("charts/axentra/values.yaml").Single();
        var dapr = Manifests.ReadYaml("dapr.yaml").Single();
        var tye = Manifests.ReadYaml("tye.yaml").Single();

        Assert.Equal(PlatformNames.Components.RegistryStateStore, (string)values["names"]!["components"]!["stateStore"]!);
        Assert.Equal(PlatformNames.Components.PubSub, (string)values["names"]!["components"]!["pubSub"]!);
        Assert.Equal(PlatformNames.Components.RawAuditBucketBinding, (string)values["names"]!["components"]!["rawAuditBinding"]!);
        Assert.Equal(PlatformNames.Components.ProcessedBucketBinding, (string)values["names"]!["components"]!["processedBinding"]!);
        Assert.Equal(PlatformNames.Topics.WebhookEvents, (string)values["names"]!["topics"]!["webhookEvents"]!);
        Assert.Equal(PlatformNames.Topics.KbRefresh, (string)values["names"]!["topics"]!["kbRefresh"]!);
        Assert.Equal(PlatformNames.Buckets.RawAudit, (string)values["buckets"]!["rawAudit"]!);
        Assert.Equal(PlatformNames.Buckets.Processed, (string)values["buckets"]!["processed"]!);
        Assert.Equal(PlatformNames.Tables.Registry, (string)values["tables"]!["registry"]!);
        Assert.Equal(PlatformNames.Tables.Stores, (string)values["tables"]!["stores"]!);
        Assert.Equal(PlatformNames.Tables.Products, (string)values["tables"]!["products"]!);
        foreach (var appId in AppIds)
        {
            Assert.Equal($"axentra/{appId}", (string)values["services"]![appId]!["image"]!["repository"]!);
        }

        // Both local runners load the same components and configuration.
        Assert.Equal("./components/local", (string)dapr["common"]!["resourcesPaths"]![0]!);
        Assert.Equal("./components/local", (string)tye["extensions"]![0]!["components-path"]!);
        Assert.Equal("./components/configuration/local.yaml", (string)dapr["common"]!["configFilePath"]!);
        Assert.Equal("configuration/local", (string)tye["extensions"]![0]!["config"]!);
    }

    /// <summary>The parts of a Dapr object that matter at runtime (labels excluded), with keys in a fixed order.</summary>
    private static string Comparable(JsonObject obj) =>
        Canonical(new JsonObject
        {
            ["kind"] = obj["kind"]?.DeepClone(),
            ["name"] = obj.Name(),
            ["auth"] = obj["auth"]?.DeepClone(),
            ["spec"] = obj["spec"]?.DeepClone(),
            ["scopes"] = new JsonArray([.. obj.Scopes().Select(s => JsonValue.Create(s))]),
        })!.ToJsonString();

    private static JsonNode? Canonical(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Canonical(p.Value)))),
        JsonArray a => new JsonArray([.. a.Select(Canonical)]),
        _ => node?.DeepClone(),
    };

    private sealed class NamedHandler(string subscriber, string topic) : IMessageHandler
    {
        public string Subscriber => subscriber;

        public string Topic => topic;

        public ValueTask<DeliveryOutcome> HandleAsync(ReadOnlyMemory<byte> message, DeliveryContext context, CancellationToken cancellationToken) =>
            ValueTask.FromResult(DeliveryOutcome.Success);
    }
}
