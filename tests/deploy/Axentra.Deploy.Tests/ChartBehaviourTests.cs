using System.Text.Json.Nodes;
using Axentra.Contracts;

namespace Axentra.Deploy.Tests;

/// <summary>What an operator relies on from the rendered chart, checked on the production-like values.</summary>
public sealed class ChartBehaviourTests
{
    private static readonly string[] AppIds = [PlatformNames.AppIds.Intake, PlatformNames.AppIds.Audit, PlatformNames.AppIds.Catalog];

    private static IReadOnlyList<JsonObject> Production() => Manifests.Render("production-values.yaml");

    private static JsonObject DeploymentOf(IReadOnlyList<JsonObject> objects, string appId) =>
        objects.OfKind("Deployment").Single(d => d.PodAnnotations()["dapr.io/app-id"] == appId);

    [Fact]
    public void Each_service_is_its_own_deployment_with_a_dapr_sidecar_health_checks_and_sidecar_resources()
    {
        var objects = Production();

        foreach (var appId in AppIds)
        {
            var annotations = DeploymentOf(objects, appId).PodAnnotations();
            Assert.Equal("true", annotations["dapr.io/enabled"]);
            Assert.Equal("8080", annotations["dapr.io/app-port"]);
            Assert.Equal("axentra-config", annotations["dapr.io/config"]);
            Assert.Equal("true", annotations["dapr.io/enable-app-health-check"]);
            Assert.Equal("/healthz", annotations["dapr.io/app-health-check-path"]);
            foreach (var key in new[] { "cpu-request", "memory-request", "cpu-limit", "memory-limit" })
            {
                Assert.False(string.IsNullOrEmpty(annotations[$"dapr.io/sidecar-{key}"]), key);
            }
        }
    }

    [Theory]
    [InlineData("default")]
    [InlineData("production-values.yaml")]
    public void A_webhook_at_the_charts_body_limit_still_fits_in_an_sns_message(string valueSet)
    {
        // SNS refuses a message over 256 KiB; the payload travels base64 in the envelope, inside a CloudEvent. A body
        // intake accepts but SNS refuses would be a 503 on every retry for a day (docs/deploy.md).
        const int SnsMaxMessageBytes = 262_144;
        const int CloudEventWrapperAllowance = 2_048; // specversion, id, source, type, topic, pubsubname, trace ids, time
        var intake = DeploymentOf(Manifests.Render(valueSet), PlatformNames.AppIds.Intake);
        var limit = int.Parse(intake.ContainerEnv()["Intake__MaxBodyBytes"], System.Globalization.CultureInfo.InvariantCulture);
        var longest = new string('x', SafeKeySegment.MaxLength);
        var envelope = new WebhookEnvelope
        {
            EventId = "0123456789abcdef-1765297638",
            PayloadHash = new string('0', 64),
            EventType = EventTypes.ProductUpdate,
            StoreId = longest,
            ProductId = longest,
            S3Key = StorageKeys.RawAuditObject(longest, EventTypes.ProductUpdate, DateTimeOffset.UnixEpoch, "0123456789abcdef-1765297638"),
            ReceivedAt = DateTimeOffset.UnixEpoch,
            DedupeKey = "webhook-id:" + longest,
            GeneratedIds = ["store_id", "product_id"],
            RoutingTarget = longest,
            TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            TraceState = longest,
            Payload = new byte[limit],
        };

        var size = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(envelope, ContractsJsonContext.Default.WebhookEnvelope).Length + CloudEventWrapperAllowance;
        Assert.True(size <= SnsMaxMessageBytes, $"a {limit}-byte body makes a message of about {size} bytes, over SNS's {SnsMaxMessageBytes}");
    }

    [Fact]
    public void Every_sidecar_sends_the_app_api_token_and_every_app_requires_it()
    {
        // Without it, anything that reaches a pod's port could post envelopes to the subscription routes (DaprAppToken).
        var objects = Production();

        foreach (var appId in AppIds)
        {
            var deployment = DeploymentOf(objects, appId);
            Assert.Equal("axentra-dapr-app-token", deployment.PodAnnotations()["dapr.io/app-token-secret"]);
            var env = deployment["spec"]!["template"]!["spec"]!["containers"]![0]!["env"]!.AsArray().Select(e => e!.AsObject()).ToList();
            var token = Assert.Single(env, e => (string)e["name"]! == Axentra.BuildingBlocks.Dapr.DaprAppToken.EnvironmentVariable);
            Assert.Equal("axentra-dapr-app-token", (string)token["valueFrom"]!["secretKeyRef"]!["name"]!);
            Assert.Equal("token", (string)token["valueFrom"]!["secretKeyRef"]!["key"]!); // the key Dapr's injector reads
            Assert.Equal("true", deployment.ContainerEnv()["Dapr__RequireAppApiToken"]);
        }
    }

    [Fact]
    public void Pods_run_non_root_read_only_with_probes_a_writable_tmp_and_graceful_shutdown()
    {
        var objects = Production();

        foreach (var appId in AppIds)
        {
            var pod = DeploymentOf(objects, appId)["spec"]!["template"]!["spec"]!.AsObject();
            var container = pod["containers"]![0]!.AsObject();
            Assert.True((bool)pod["securityContext"]!["runAsNonRoot"]!);
            Assert.True((bool)container["securityContext"]!["readOnlyRootFilesystem"]!);
            Assert.False((bool)container["securityContext"]!["allowPrivilegeEscalation"]!);
            Assert.Equal("ALL", (string)container["securityContext"]!["capabilities"]!["drop"]![0]!);
            Assert.Equal("/healthz", (string)container["livenessProbe"]!["httpGet"]!["path"]!);
            Assert.Equal("/readyz", (string)container["readinessProbe"]!["httpGet"]!["path"]!);
            Assert.Equal(8080, (int)container["ports"]![0]!["containerPort"]!);
            Assert.Contains(container["volumeMounts"]!.AsArray(), m => (string)m!["mountPath"]! == "/tmp");
            Assert.NotNull(container["lifecycle"]!["preStop"]);
            Assert.NotNull(container["resources"]!["limits"]);
            Assert.True((int)pod["terminationGracePeriodSeconds"]! > 30);
        }
    }

    [Fact]
    public void Each_service_has_its_own_service_account_with_its_own_irsa_role_and_scales_on_its_own()
    {
        var objects = Production();

        var roles = new HashSet<string>(StringComparer.Ordinal);
        foreach (var appId in AppIds)
        {
            var deployment = DeploymentOf(objects, appId);
            var accountName = (string)deployment["spec"]!["template"]!["spec"]!["serviceAccountName"]!;
            var account = objects.Single("ServiceAccount", accountName);
            Assert.True(roles.Add((string)account["metadata"]!["annotations"]!["eks.amazonaws.com/role-arn"]!));
            Assert.Equal(deployment.Name(), (string)objects.Single("HorizontalPodAutoscaler", deployment.Name())["spec"]!["scaleTargetRef"]!["name"]!);
            Assert.NotNull(objects.Single("PodDisruptionBudget", deployment.Name())["spec"]!["minAvailable"]);
        }

        Assert.Equal(3, roles.Count);
    }

    [Fact]
    public void Only_intake_is_exposed_and_only_over_tls()
    {
        var objects = Production();
        var intake = DeploymentOf(objects, PlatformNames.AppIds.Intake).Name();

        var ingress = Assert.Single(objects.OfKind("Ingress"));
        var backends = ingress["spec"]!["rules"]!.AsArray()
            .SelectMany(r => r!["http"]!["paths"]!.AsArray())
            .Select(p => (string)p!["backend"]!["service"]!["name"]!)
            .Distinct()
            .ToArray();
        Assert.Equal([intake], backends);
        Assert.NotEmpty(ingress["spec"]!["tls"]!.AsArray());
        Assert.Equal([intake], objects.OfKind("Service").Select(s => s.Name()).ToArray());
    }

    [Fact]
    public void Audit_and_catalog_accept_network_traffic_only_from_intakes_sidecar_and_monitoring()
    {
        var objects = Production();
        var intakeSelector = DeploymentOf(objects, PlatformNames.AppIds.Intake)["spec"]!["selector"]!["matchLabels"]!.ToJsonString();

        foreach (var appId in new[] { PlatformNames.AppIds.Audit, PlatformNames.AppIds.Catalog })
        {
            var policy = objects.Single("NetworkPolicy", DeploymentOf(objects, appId).Name());
            Assert.Equal(["Ingress"], policy["spec"]!["policyTypes"]!.AsArray().Select(p => (string)p!).ToArray());
            foreach (var rule in policy["spec"]!["ingress"]!.AsArray())
            {
                var ports = rule!["ports"]!.AsArray().Select(p => (int)p!["port"]!).ToArray();
                var fromIntake = rule["from"]!.AsArray().Any(f => f!["podSelector"]?["matchLabels"]?.ToJsonString() == intakeSelector);
                var fromMonitoring = rule["from"]!.AsArray().All(f => f!["namespaceSelector"] is not null);
                Assert.True(fromIntake ? ports.SequenceEqual([50002]) : fromMonitoring, rule.ToJsonString());
            }
        }
    }

    [Fact]
    public void Secrets_reach_pods_only_through_a_secret_and_never_through_a_configmap_or_plain_env()
    {
        var production = Production();
        var dev = Manifests.Render("dev-values.yaml");

        // The only ConfigMap is the Grafana dashboard (monitoring.dashboard.enabled), which no pod reads.
        Assert.All(production.OfKind("ConfigMap"), c => Assert.Equal(["axentra.json"], c["data"]!.AsObject().Select(d => d.Key)));
        Assert.Empty(production.OfKind("Secret"));
        foreach (var deployment in production.OfKind("Deployment").Concat(dev.OfKind("Deployment")))
        {
            Assert.DoesNotContain(deployment.ContainerEnv().Keys, key =>
                key.Contains("__Auth__ApiKeys", StringComparison.Ordinal) || key.Contains("SigningSecrets", StringComparison.Ordinal)
                || key.Contains("BearerTokens", StringComparison.Ordinal) || key.Contains("__Password", StringComparison.Ordinal));
        }

        var intake = DeploymentOf(production, PlatformNames.AppIds.Intake)["spec"]!["template"]!["spec"]!["containers"]![0]!;
        Assert.Equal("axentra-credentials", (string)intake["envFrom"]![0]!["secretRef"]!["name"]!);
        Assert.Equal("dev-ops-key-change-me", (string)dev.OfKind("Secret").Single()["stringData"]!["Ops__Auth__ApiKeys__0"]!);
    }

    [Fact]
    public void Subscriptions_are_declarative_or_programmatic_never_both()
    {
        foreach (var valueSet in new[] { "production-values.yaml", "dev-values.yaml" })
        {
            var objects = Manifests.Render(valueSet);
            var subscriptions = objects.OfKind("Subscription").ToArray();
            foreach (var deployment in objects.OfKind("Deployment"))
            {
                var programmatic = deployment.ContainerEnv()["Dapr__ProgrammaticSubscriptions"];
                Assert.Equal(subscriptions.Length == 0 ? "true" : "false", programmatic);
            }
        }
    }

    [Fact]
    public void Aws_components_carry_no_credentials_and_the_registry_shares_keys_across_apps()
    {
        var objects = Production();

        foreach (var component in objects.OfKind("Component"))
        {
            var metadata = component.ComponentMetadata();
            Assert.DoesNotContain("accessKey", metadata.Keys);
            Assert.DoesNotContain("secretKey", metadata.Keys);
        }

        var registry = objects.Single("Component", PlatformNames.Components.RegistryStateStore).ComponentMetadata();
        Assert.Equal("none", registry["keyPrefix"]);
        Assert.Equal("key", registry["partitionKey"]);
        Assert.Equal("ttl", registry["ttlAttributeName"]);
    }

    [Fact]
    public void Routing_targets_reach_intake_which_records_them_on_the_event()
    {
        // Intake reads Routing:Targets and stamps the envelope; catalog only forwards what the envelope carries.
        var objects = Production();

        Assert.Equal("axentra-store-onboarding", DeploymentOf(objects, PlatformNames.AppIds.Intake).ContainerEnv()["Routing__Targets__store_create"]);
        Assert.DoesNotContain(DeploymentOf(objects, PlatformNames.AppIds.Catalog).ContainerEnv().Keys, k => k.StartsWith("Routing__", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Manifests.ValueSets), MemberType = typeof(Manifests))]
    public void Parallel_sns_sqs_consumers_have_a_bounded_number_of_deliveries_in_flight(string valueSet)
    {
        // components-contrib pubsub/aws/snssqs (consumeSubscription): in parallel mode only concurrencyLimit > 0 bounds the
        // goroutines; without it a sidecar keeps receiving while its deliveries run.
        var pubSub = Manifests.Render(valueSet).Single("Component", PlatformNames.Components.PubSub).ComponentMetadata();

        Assert.Equal("parallel", pubSub["concurrencyMode"]);
        Assert.True(int.Parse(pubSub["concurrencyLimit"], System.Globalization.CultureInfo.InvariantCulture) > 0);
    }

    [Fact]
    public void Intakes_calls_of_audit_and_catalog_time_out_no_sooner_than_the_ops_edge_forwards()
    {
        // targets.apps applies to every invocation through intake's sidecar: a replay forwarded with the edge's 30 s
        // (OpsEdge) and a redrive's delivery must not be cut shorter there.
        var resiliency = Production().OfKind("Resiliency").Single()["spec"]!;
        foreach (var appId in new[] { PlatformNames.AppIds.Audit, PlatformNames.AppIds.Catalog })
        {
            var policy = (string)resiliency["targets"]!["apps"]![appId]!["timeout"]!;
            var timeout = (string)resiliency["policies"]!["timeouts"]![policy]!;
            Assert.True(Manifests.Seconds(timeout) >= 30, $"{appId}: {timeout}");
        }
    }
}
