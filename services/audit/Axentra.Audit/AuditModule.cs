using Axentra.Audit.Apis;
using Axentra.Audit.Writing;
using Axentra.BuildingBlocks.PubSub;
using Axentra.Contracts;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Axentra.Audit;

/// <summary>
/// Wires the audit service into a host: the distributed service (Dapr adapters) and the standalone host (embedded
/// ones) call the same two methods. The host supplies the building blocks (buckets, registry, pub/sub).
/// </summary>
public static class AuditModule
{
    public static IHostApplicationBuilder AddAudit(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<AuditOptions>()
            .BindConfiguration(AuditOptions.Section)
            .Configure<IConfiguration>((options, configuration) => options.Bucket = configuration["Buckets:RawAudit"] ?? PlatformNames.Buckets.RawAudit)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuditOptions>, AuditOptionsValidator>();

        services.AddSingleton<AuditMetrics>();
        services.AddSingleton<RawAuditWriter>();
        services.AddSingleton<IMessageHandler>(sp => sp.GetRequiredService<RawAuditWriter>());
        return builder;
    }

    /// <summary>Maps the ops read API and returns its group, so the host can put its ops credential check and access log in front.</summary>
    public static RouteGroupBuilder MapAudit(this IEndpointRouteBuilder endpoints) => endpoints.MapAuditApi();
}

internal sealed class AuditOptionsValidator : IValidateOptions<AuditOptions>
{
    public ValidateOptionsResult Validate(string? name, AuditOptions options) =>
        options.DefaultPageSize <= options.MaxPageSize
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail("Audit:DefaultPageSize must not exceed Audit:MaxPageSize.");
}
