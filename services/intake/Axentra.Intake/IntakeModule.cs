using Axentra.BuildingBlocks;
using Axentra.BuildingBlocks.PubSub;
using Axentra.Contracts;
using Axentra.Intake.Apis;
using Axentra.Intake.Auth;
using Axentra.Intake.DeadLetters;
using Axentra.Intake.Registration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Axentra.Intake;

/// <summary>
/// Wires the intake into a host: the distributed service (with Dapr adapters) and the standalone host (with
/// embedded ones) call the same two methods.
/// </summary>
public static class IntakeModule
{
    /// <param name="builder">The host being built.</param>
    /// <param name="requireCredentials">
    /// True for the distributed service: with no sender credential configured it refuses to start. The standalone
    /// host provisions a generated key instead.
    /// </param>
    public static IHostApplicationBuilder AddIntake(this IHostApplicationBuilder builder, bool requireCredentials)
    {
        var services = builder.Services;

        // The ops access log is an audit record (HIPAA): it stays on whatever the default log level is.
        builder.Logging.AddFilter("Axentra.OpsAccess", LogLevel.Information);
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<IntakeOptions>().BindConfiguration(IntakeOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RoutingOptions>().BindConfiguration(RoutingOptions.Section);
        services.AddOptions<WebhookAuthOptions>().BindConfiguration(WebhookAuthOptions.Section).ValidateOnStart();
        services.AddOptions<OpsAuthOptions>().BindConfiguration(OpsAuthOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WebhookAuthOptions>>(sp => new WebhookAuthOptionsValidator(requireCredentials, sp.GetRequiredService<IOptionsMonitor<OpsAuthOptions>>()));

        services.AddSingleton<WebhookAuthenticator>();
        services.AddSingleton<OpsAuthenticator>();
        services.AddOptions<OpsRateLimitOptions>().BindConfiguration(OpsRateLimitOptions.Section);
        services.AddSingleton<OpsEdge>();
        services.AddSingleton<WebhookRateLimiter>();
        services.AddSingleton<WebhookRegistrar>();
        services.AddSingleton<PayloadHashLookup>();
        services.AddSingleton<DuplicateTally>();
        services.AddHostedService<DuplicateTallyFlusher>();
        services.AddSingleton<IntakeMetrics>();
        return builder;
    }

    /// <summary>
    /// The distributed mode's dead letters: intake subscribes to every subscriber's dead-letter topic and keeps what
    /// arrives in the registry (<see cref="RegistryDeadLetters"/>), behind the same <see cref="IDeadLetters"/> the
    /// standalone host's queue implements. Needs the Dapr building blocks.
    /// </summary>
    public static IHostApplicationBuilder AddRegistryDeadLetters(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<DeadLetterOptions>().BindConfiguration(DeadLetterOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<DeadLetterMetrics>();
        services.AddSingleton<RegistryDeadLetters>();
        services.AddSingleton<IDeadLetters>(sp => sp.GetRequiredService<RegistryDeadLetters>());
        foreach (var subscriber in PlatformNames.AppIds.WebhookEventSubscribers)
        {
            services.AddSingleton<IMessageHandler>(sp => new DeadLetterInbox(subscriber, sp.GetRequiredService<RegistryDeadLetters>()));
        }

        return builder;
    }

    /// <summary>The ops credential check and access log, in front of every ops route. Call before routing.</summary>
    /// <summary>The public edge: request targets that could get around a path rule refused (<see cref="RequestTargetGuard"/>), then the ops routes' credential.</summary>
    public static IApplicationBuilder UseOpsEdge(this IApplicationBuilder app) => app.UseMiddleware<RequestTargetGuard>().UseMiddleware<OpsEdge>();

    public static IEndpointRouteBuilder MapIntake(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapWebhookApi();
        endpoints.MapEventsApi();
        endpoints.MapDeadLettersApi();
        return endpoints;
    }
}

/// <summary>Refuses to start with credentials that cannot work or that blur the sender/operator line.</summary>
internal sealed class WebhookAuthOptionsValidator(bool requireCredentials, IOptionsMonitor<OpsAuthOptions> ops) : IValidateOptions<WebhookAuthOptions>
{
    public ValidateOptionsResult Validate(string? name, WebhookAuthOptions options)
    {
        var failures = new List<string>();
        if (requireCredentials && !options.HasAnyCredential)
        {
            failures.Add("No webhook credential is configured (Intake:Auth:ApiKeys, :BearerTokens, :Basic, :SigningSecrets): refusing to accept unauthenticated webhooks.");
        }

        if (string.IsNullOrWhiteSpace(options.ApiKeyHeader))
        {
            failures.Add("Intake:Auth:ApiKeyHeader must name a header.");
        }

        foreach (var (list, entries) in new[] { ("ApiKeys", options.ApiKeys), ("BearerTokens", options.BearerTokens), ("SigningSecrets", options.SigningSecrets) })
        {
            if (entries.Any(string.IsNullOrWhiteSpace))
            {
                // A secret left unset (an empty environment variable, a missing Kubernetes secret key) admits nobody; say so
                // at start-up rather than answer every webhook 401.
                failures.Add($"An Intake:Auth:{list} entry is empty: a credential left unset?");
            }
        }

        foreach (var secret in options.SigningSecrets.Where(s => !string.IsNullOrWhiteSpace(s)))
        {
            try
            {
                if (StandardWebhookSignature.DecodeSecret(secret).Length < StandardWebhookSignature.MinSecretBytes)
                {
                    // An HMAC key of a few bytes (or none: "whsec_" alone) can be guessed; Standard Webhooks keys are 24-64 bytes.
                    failures.Add($"Every Intake:Auth:SigningSecrets entry must decode to at least {StandardWebhookSignature.MinSecretBytes} bytes (Standard Webhooks: 24-64).");
                }
            }
            catch (FormatException)
            {
                failures.Add("Every Intake:Auth:SigningSecrets entry must be 'whsec_' followed by base64.");
            }
        }

        if (new SecretSet(options.SenderSecrets).Overlaps(new SecretSet(ops.CurrentValue.ApiKeys)))
        {
            failures.Add("A secret is configured both for webhook senders (Intake:Auth: an API key, bearer token, Basic password or signing secret) and for operators (Ops:Auth:ApiKeys); they must differ.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
