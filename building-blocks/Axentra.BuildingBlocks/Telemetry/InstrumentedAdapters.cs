using System.Diagnostics;
using Axentra.BuildingBlocks.Bindings;
using Axentra.BuildingBlocks.PubSub;
using Axentra.BuildingBlocks.State;
using Microsoft.Extensions.DependencyInjection;

namespace Axentra.BuildingBlocks.Telemetry;

/// <summary>
/// Decorators that meter (and, for publishes and bucket calls, trace) the building-block ports. Registered around
/// both adapter families in <see cref="BuildingBlocksServiceCollectionExtensions"/>, so the adapters stay thin and
/// a Dapr and a standalone deployment report the same series.
/// </summary>
public static class InstrumentedAdapters
{
    internal const string Ok = "ok";
    internal const string Error = "error";

    /// <summary>
    /// Wraps the registered <see cref="IStateStore"/>, <see cref="IMessagePublisher"/> and <see cref="IObjectBuckets"/>,
    /// and the <see cref="ITransactionalOutbox"/> where there is one.
    /// </summary>
    internal static IServiceCollection AddAdapterInstrumentation(this IServiceCollection services)
    {
        services.AddSingleton<AdapterMetrics>();
        services.Decorate<IStateStore>((sp, inner) => new InstrumentedStateStore(inner, sp.GetRequiredService<AdapterMetrics>()));
        services.Decorate<IMessagePublisher>((sp, inner) => new InstrumentedPublisher(inner, sp.GetRequiredService<AdapterMetrics>()));
        if (services.Any(d => d.ServiceType == typeof(ITransactionalOutbox)))
        {
            services.Decorate<ITransactionalOutbox>((sp, inner) => new InstrumentedOutbox(inner, sp.GetRequiredService<AdapterMetrics>()));
        }

        services.Decorate<IObjectBuckets>((sp, inner) => new InstrumentedBuckets(inner, sp.GetRequiredService<AdapterMetrics>()));
        return services;
    }

    internal sealed class InstrumentedStateStore(IStateStore inner, AdapterMetrics metrics) : IStateStore
    {
        public async ValueTask<StateEntry?> GetAsync(string key, CancellationToken cancellationToken)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                var entry = await inner.GetAsync(key, cancellationToken).ConfigureAwait(false);
                metrics.State("get", entry is null ? "miss" : "hit", started);
                return entry;
            }
            catch
            {
                metrics.State("get", Error, started);
                throw;
            }
        }

        public async ValueTask<SaveOutcome> TrySaveAsync(string key, ReadOnlyMemory<byte> value, string? etag, TimeSpan? timeToLive, CancellationToken cancellationToken)
        {
            var started = Stopwatch.GetTimestamp();
            var operation = etag is null ? "first_write" : "conditional_save";
            try
            {
                var outcome = await inner.TrySaveAsync(key, value, etag, timeToLive, cancellationToken).ConfigureAwait(false);
                metrics.State(operation, outcome == SaveOutcome.Saved ? Ok : "conflict", started);
                return outcome;
            }
            catch
            {
                metrics.State(operation, Error, started);
                throw;
            }
        }

        public async ValueTask SaveAsync(string key, ReadOnlyMemory<byte> value, TimeSpan? timeToLive, CancellationToken cancellationToken)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await inner.SaveAsync(key, value, timeToLive, cancellationToken).ConfigureAwait(false);
                metrics.State("save", Ok, started);
            }
            catch
            {
                metrics.State("save", Error, started);
                throw;
            }
        }

        public async ValueTask<bool> TryDeleteAsync(string key, string? etag, CancellationToken cancellationToken)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                var deleted = await inner.TryDeleteAsync(key, etag, cancellationToken).ConfigureAwait(false);
                metrics.State("delete", deleted ? Ok : "conflict", started);
                return deleted;
            }
            catch
            {
                metrics.State("delete", Error, started);
                throw;
            }
        }
    }

    internal sealed class InstrumentedPublisher(IMessagePublisher inner, AdapterMetrics metrics) : IMessagePublisher
    {
        public async ValueTask PublishAsync(string topic, ReadOnlyMemory<byte> jsonMessage, CancellationToken cancellationToken)
        {
            using var activity = AdapterMetrics.ActivitySource.StartActivity($"publish {topic}", ActivityKind.Producer);
            activity?.SetTag("messaging.destination.name", topic);
            var started = Stopwatch.GetTimestamp();
            try
            {
                await inner.PublishAsync(topic, jsonMessage, cancellationToken).ConfigureAwait(false);
                metrics.Publish(topic, Ok, started);
            }
            catch (Exception ex)
            {
                metrics.Publish(topic, Error, started);
                activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
                throw;
            }
        }
    }

    /// <summary>An outbox commit counts as the first write (or conditional save) it is guarded by, and as a publish.</summary>
    internal sealed class InstrumentedOutbox(ITransactionalOutbox inner, AdapterMetrics metrics) : ITransactionalOutbox
    {
        public async ValueTask<SaveOutcome> TryCommitAsync(OutboxCommit commit, CancellationToken cancellationToken)
        {
            using var activity = AdapterMetrics.ActivitySource.StartActivity($"publish {commit.Topic}", ActivityKind.Producer);
            activity?.SetTag("messaging.destination.name", commit.Topic);
            var started = Stopwatch.GetTimestamp();
            var operation = commit.ETag is null ? "first_write" : "conditional_save";
            try
            {
                var outcome = await inner.TryCommitAsync(commit, cancellationToken).ConfigureAwait(false);
                metrics.State(operation, outcome == SaveOutcome.Saved ? Ok : "conflict", started);
                if (outcome == SaveOutcome.Saved)
                {
                    metrics.Publish(commit.Topic, Ok, started);
                }

                return outcome;
            }
            catch (Exception ex)
            {
                metrics.State(operation, Error, started);
                metrics.Publish(commit.Topic, Error, started);
                activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
                throw;
            }
        }
    }

    internal sealed class InstrumentedBuckets(IObjectBuckets inner, AdapterMetrics metrics) : IObjectBuckets
    {
        public IObjectBucket Open(string bucketName) => new InstrumentedBucket(inner.Open(bucketName), metrics);
    }

    internal sealed class InstrumentedBucket(IObjectBucket inner, AdapterMetrics metrics) : IObjectBucket
    {
        public string Name => inner.Name;

        public async ValueTask PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
        {
            using var activity = Start("put");
            var started = Stopwatch.GetTimestamp();
            try
            {
                await inner.PutAsync(key, content, cancellationToken).ConfigureAwait(false);
                metrics.Binding(Name, "put", Ok, started);
            }
            catch (Exception ex)
            {
                Failed(activity, "put", started, ex);
                throw;
            }
        }

        public async ValueTask<byte[]?> PutIfAbsentAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
        {
            using var activity = Start("put_if_absent");
            var started = Stopwatch.GetTimestamp();
            try
            {
                var existing = await inner.PutIfAbsentAsync(key, content, cancellationToken).ConfigureAwait(false);
                metrics.Binding(Name, "put_if_absent", existing is null ? "created" : "exists", started);
                return existing;
            }
            catch (Exception ex)
            {
                Failed(activity, "put_if_absent", started, ex);
                throw;
            }
        }

        public async ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken)
        {
            using var activity = Start("get");
            var started = Stopwatch.GetTimestamp();
            try
            {
                var content = await inner.GetAsync(key, cancellationToken).ConfigureAwait(false);
                metrics.Binding(Name, "get", content is null ? "miss" : "hit", started);
                return content;
            }
            catch (Exception ex)
            {
                Failed(activity, "get", started, ex);
                throw;
            }
        }

        public async ValueTask DeleteAsync(string key, CancellationToken cancellationToken)
        {
            using var activity = Start("delete");
            var started = Stopwatch.GetTimestamp();
            try
            {
                await inner.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
                metrics.Binding(Name, "delete", Ok, started);
            }
            catch (Exception ex)
            {
                Failed(activity, "delete", started, ex);
                throw;
            }
        }

        public async ValueTask<ObjectListPage> ListAsync(string prefix, string? continuationToken, int pageSize, CancellationToken cancellationToken)
        {
            using var activity = Start("list");
            var started = Stopwatch.GetTimestamp();
            try
            {
                var page = await inner.ListAsync(prefix, continuationToken, pageSize, cancellationToken).ConfigureAwait(false);
                metrics.Binding(Name, "list", Ok, started);
                return page;
            }
            catch (Exception ex)
            {
                Failed(activity, "list", started, ex);
                throw;
            }
        }

        /// <summary>A client span named after the bucket and operation; the key stays out (it holds store and event ids).</summary>
        private Activity? Start(string operation)
        {
            if (Activity.Current is null)
            {
                return null; // a bucket call outside any trace (start-up, ops listing) would only start lone root spans
            }

            var activity = AdapterMetrics.ActivitySource.StartActivity($"{operation} {Name}", ActivityKind.Client);
            activity?.SetTag("axentra.bucket", Name);
            return activity;
        }

        private void Failed(Activity? activity, string operation, long started, Exception ex)
        {
            metrics.Binding(Name, operation, Error, started);
            activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
        }
    }
}
