namespace Axentra.Contracts;

/// <summary>
/// Every name the services, <c>components/</c>, the chart, <c>dapr.yaml</c> and <c>tye.yaml</c> must agree on.
/// Defined once here; a test reads these constants and checks the deployment files against them.
/// </summary>
public static class PlatformNames
{
    public static class AppIds
    {
        public const string Intake = "intake";
        public const string Audit = "audit";
        public const string Catalog = "catalog";

        /// <summary>
        /// The subscribers of <see cref="Topics.WebhookEvents"/>, each with its own dead-letter topic
        /// (<see cref="Topics.DeadLetterOf"/>), which <see cref="Intake"/> subscribes to.
        /// </summary>
        public static readonly IReadOnlyList<string> WebhookEventSubscribers = [Audit, Catalog];
    }

    public static class Components
    {
        /// <summary>State store holding dedupe claims and the event registry (state.aws.dynamodb in AWS).</summary>
        public const string RegistryStateStore = "webhook-registry";

        /// <summary>Pub/sub carrying webhook events and KB-refresh messages (pubsub.aws.snssqs in AWS).</summary>
        public const string PubSub = "webhook-pubsub";

        /// <summary>Output binding for the raw-audit bucket (bindings.aws.s3 in AWS).</summary>
        public const string RawAuditBucketBinding = "raw-audit-bucket";

        /// <summary>Output binding for the processed (catalog) bucket (bindings.aws.s3 in AWS).</summary>
        public const string ProcessedBucketBinding = "processed-bucket";
    }

    public static class Topics
    {
        public const string WebhookEvents = "webhook-events";
        public const string KbRefresh = "axentra-kb-refresh";

        /// <summary>Dead-letter topic of one subscriber of <see cref="WebhookEvents"/>.</summary>
        public static string DeadLetterOf(string subscriberAppId) => $"{WebhookEvents}-{subscriberAppId}-deadletter";
    }

    public static class Buckets
    {
        public const string RawAudit = "axentra-webhook-raw-audit";
        public const string Processed = "axentra-webhook-processed";
    }

    public static class Tables
    {
        /// <summary>The registry/dedupe table behind <see cref="Components.RegistryStateStore"/>.</summary>
        public const string Registry = "axentra-webhook-events";

        /// <summary>Ben's stores table (source of truth, read-only for us), keyed <c>store_id</c>.</summary>
        public const string Stores = "axentra-stores";

        /// <summary>Ben's products table (source of truth, read-only for us), keyed <c>productId</c>.</summary>
        public const string Products = "Product-kbtwy4tflncitfudusepuzm4nq-NONE";
    }
}
