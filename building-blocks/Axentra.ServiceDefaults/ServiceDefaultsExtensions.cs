using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Axentra.ServiceDefaults;

/// <summary>
/// Cross-cutting setup written once and called by every service and by the standalone host: OpenTelemetry
/// (traces, metrics, logs; OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, Prometheus scrape at
/// <c>/metrics</c>), JSON console logs, RFC 9457 ProblemDetails for every error, <c>/healthz</c> and <c>/readyz</c>.
/// </summary>
/// <remarks>
/// Logs never carry payload bodies or secrets: nothing here logs request bodies or headers, HTTP logging is not
/// enabled, and the services log ids (event_id, store_id), never payloads.
/// </remarks>
public static class ServiceDefaultsExtensions
{
    /// <summary>The prefix of every ActivitySource and Meter the platform's own code creates.</summary>
    public const string TelemetryPrefix = "Axentra.";

    public const string ReadyTag = BuildingBlocks.HealthTags.Ready;

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder, string serviceName)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.ClearProviders();
        builder.Logging.AddJsonConsole(options =>
        {
            options.IncludeScopes = true;
            options.UseUtcTimestamp = true;
            options.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            options.JsonWriterOptions = options.JsonWriterOptions with { Encoder = Contracts.PlatformJson.Encoder };
        });

        // ASP.NET Core writes two Information lines per request (Hosting.Diagnostics "Request starting/finished")
        // plus routing lines: at webhook rates that JSON console output costs more CPU than intake itself
        // (docs/performance.md). Requests are already counted and timed by metrics and traces, so these default
        // to Warning; setting Logging:LogLevel:Microsoft.AspNetCore brings them back.
        if (builder.Configuration["Logging:LogLevel:Microsoft.AspNetCore"] is null)
        {
            builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        }

        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
            if (otlp)
            {
                logging.AddOtlpExporter();
            }
        });

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName))
            .WithTracing(tracing =>
            {
                tracing.AddSource(TelemetryPrefix + "*")
                    .AddAspNetCoreInstrumentation(options => options.Filter = context => !IsOperationalPath(context.Request.Path))
                    .AddHttpClientInstrumentation();
                if (otlp)
                {
                    tracing.AddOtlpExporter();
                }
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(TelemetryPrefix + "*")
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddPrometheusExporter();
                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }
            });

        // ASP.NET Core adds the request's trace id to every ProblemDetails (as trace_id under the snake_case policy).
        builder.Services.AddProblemDetails();
        builder.Services.AddSingleton<IProblemDetailsWriter, ProblemDetailsWhateverAccepted>(); // after ASP.NET Core's: the fallback
        builder.Services.AddExceptionHandler<BackendUnavailableExceptionHandler>();
        // Every JSON the platform writes (bodies, records, objects) is snake_case, as in design.md §3, with its text as
        // it is (ProblemDetails among them: no \u0027 around the quoted names in a detail).
        builder.Services.ConfigureHttpJsonOptions(options =>
        {
            options.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
            options.SerializerOptions.Encoder = Contracts.PlatformJson.Encoder;
        });
        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy());
        return builder;
    }

    /// <summary>
    /// Error handling and the operational endpoints. Call early, before the service's own endpoints.
    /// </summary>
    public static WebApplication UseServiceDefaults(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        // Liveness: the process answers. Readiness: its backends (sidecar / embedded database) answer too.
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = check => !check.Tags.Contains(ReadyTag) })
            .ExcludeFromDescription();
        app.MapHealthChecks("/readyz", new HealthCheckOptions())
            .ExcludeFromDescription();
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }

    /// <summary>Health and metrics: what the kubelet and Prometheus call directly, not through a Dapr sidecar.</summary>
    public static bool IsOperationalPath(PathString path) =>
        path.StartsWithSegments("/healthz") || path.StartsWithSegments("/readyz") || path.StartsWithSegments("/metrics");
}
