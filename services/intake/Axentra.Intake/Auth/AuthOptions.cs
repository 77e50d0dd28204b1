namespace Axentra.Intake.Auth;

/// <summary>Webhook sender credentials (section <c>Intake:Auth</c>). Any configured scheme that passes admits a request.</summary>
public sealed class WebhookAuthOptions
{
    public const string Section = "Intake:Auth";

    /// <summary>Header carrying an API key (EventBridge API_KEY connections let you name it).</summary>
    public string ApiKeyHeader { get; set; } = "x-api-key";

    /// <summary>Accepted API keys; two at once while rotating.</summary>
    public List<string> ApiKeys { get; } = [];

    /// <summary>Accepted bearer tokens (what Supabase database webhooks are usually configured to send).</summary>
    public List<string> BearerTokens { get; } = [];

    /// <summary>HTTP Basic credentials (EventBridge BASIC connections).</summary>
    public BasicCredential Basic { get; } = new();

    /// <summary>Standard Webhooks signing secrets (<c>whsec_…</c>), several while rotating.</summary>
    public List<string> SigningSecrets { get; } = [];

    /// <summary>How far a signed <c>webhook-timestamp</c> may be from now, either way.</summary>
    public TimeSpan SignatureTolerance { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>True when a credential that can admit a request is configured: empty entries (a secret left unset) do not count.</summary>
    public bool HasAnyCredential =>
        ApiKeys.Any(IsSet) || BearerTokens.Any(IsSet) || SigningSecrets.Any(IsSet) || Basic.IsConfigured;

    /// <summary>Every secret a sender holds, any of which an operator's key must differ from.</summary>
    public IEnumerable<string> SenderSecrets =>
        ApiKeys.Concat(BearerTokens).Concat(SigningSecrets).Append(Basic.Password ?? string.Empty).Where(IsSet);

    private static bool IsSet(string? secret) => !string.IsNullOrWhiteSpace(secret);
}

public sealed class BasicCredential
{
    public string? Username { get; set; }

    public string? Password { get; set; }

    public bool IsConfigured => !string.IsNullOrEmpty(Username) && !string.IsNullOrEmpty(Password);
}

/// <summary>Operator credentials for the ops routes (section <c>Ops:Auth</c>), sent in the same API key header.</summary>
public sealed class OpsAuthOptions
{
    public const string Section = "Ops:Auth";

    public List<string> ApiKeys { get; } = [];
}
