using Axentra.Intake.Auth;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace Axentra.Intake.Apis;

/// <summary>
/// How to authenticate, in the OpenAPI document: the webhook route takes a sender's API key, Bearer token or Basic
/// credential (any one of them); the ops routes (<see cref="OpsEdge"/>) take an ops API key. A client generated
/// from the document then sends them.
/// </summary>
public static class OpenApiSecurity
{
    public const string WebhookApiKey = "webhookApiKey";
    public const string WebhookBearer = "webhookBearer";
    public const string WebhookBasic = "webhookBasic";
    public const string OpsApiKey = "opsApiKey";

    /// <summary>Adds the schemes and each operation's requirement (<c>AddOpenApi(o => o.AddIntakeSecurity())</c>).</summary>
    public static OpenApiOptions AddIntakeSecurity(this OpenApiOptions options) =>
        options.AddDocumentTransformer((document, context, _) =>
        {
            var header = context.ApplicationServices.GetRequiredService<IOptions<WebhookAuthOptions>>().Value.ApiKeyHeader;
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[WebhookApiKey] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = header,
                Description = "A sender's key (Intake:Auth:ApiKeys); EventBridge API_KEY auth.",
            };
            document.Components.SecuritySchemes[WebhookBearer] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "A sender's token (Intake:Auth:BearerTokens), e.g. a Supabase database webhook.",
            };
            document.Components.SecuritySchemes[WebhookBasic] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "basic",
                Description = "Intake:Auth:Basic; EventBridge BASIC auth.",
            };
            document.Components.SecuritySchemes[OpsApiKey] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = header,
                Description = "An ops key (Ops:Auth:ApiKeys); never a sender's.",
            };

            foreach (var (path, item) in document.Paths)
            {
                var ops = OpsEdge.IsOpsPath(path);
                var schemes = path.StartsWith(WebhookApi.Route, StringComparison.Ordinal) ? [WebhookApiKey, WebhookBearer, WebhookBasic]
                    : ops ? new[] { OpsApiKey }
                    : [];
                foreach (var operation in (item.Operations ?? []).Values)
                {
                    if (ops)
                    {
                        // The edge answers these before any ops endpoint runs (OpsEdge): every ops route can give them.
                        operation.Responses ??= [];
                        operation.Responses.TryAdd("401", new OpenApiResponse { Description = "No ops key, or not a valid one (ProblemDetails)." });
                        operation.Responses.TryAdd("429", new OpenApiResponse { Description = "The ops key is over its rate limit; retry after Retry-After (ProblemDetails)." });
                    }

                    operation.Security ??= [];
                    foreach (var scheme in schemes)
                    {
                        // Alternatives: one requirement each.
                        operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(scheme, document)] = [] });
                    }
                }
            }

            return Task.CompletedTask;
        });
}
