using System.Text;
using Axentra.BuildingBlocks;
using Microsoft.Extensions.Options;

namespace Axentra.Intake.Auth;

public enum AuthDecision
{
    Admitted,

    /// <summary>No header credential passed, but Standard Webhooks headers are present: verify once the body is read.</summary>
    NeedsSignature,
    Refused,
}

/// <summary>The outcome of checking a request's headers, and which credential it used (the rate-limit partition).</summary>
public readonly record struct AuthResult(AuthDecision Decision, string Credential);

/// <summary>
/// Checks webhook senders' credentials: API key header, HTTP Basic, Bearer token, Standard Webhooks signature.
/// Every comparison is constant-time; secrets are never logged or echoed.
/// </summary>
public sealed class WebhookAuthenticator
{
    private readonly string _apiKeyHeader;
    private readonly SecretSet _apiKeys;
    private readonly SecretSet _bearerTokens;
    private readonly SecretSet _basic;
    private readonly StandardWebhookSignature _signature;
    private readonly TimeProvider _timeProvider;

    public WebhookAuthenticator(IOptions<WebhookAuthOptions> options, TimeProvider timeProvider)
    {
        var o = options.Value;
        _apiKeyHeader = o.ApiKeyHeader;
        _apiKeys = new SecretSet(o.ApiKeys);
        _bearerTokens = new SecretSet(o.BearerTokens);
        _basic = new SecretSet(o.Basic.IsConfigured ? [$"{o.Basic.Username}:{o.Basic.Password}"] : []);
        _signature = new StandardWebhookSignature(o.SigningSecrets, o.SignatureTolerance);
        _timeProvider = timeProvider;
        Challenge = string.Join(", ", new[]
        {
            _apiKeys.IsEmpty ? null : $"ApiKey header=\"{_apiKeyHeader}\"",
            _bearerTokens.IsEmpty ? null : "Bearer realm=\"axentra-intake\"",
            _basic.IsEmpty ? null : "Basic realm=\"axentra-intake\", charset=\"UTF-8\"",
        }.OfType<string>());
    }

    /// <summary>
    /// The <c>WWW-Authenticate</c> value a 401 carries (RFC 9110 §11.6.1): the configured schemes. A Standard
    /// Webhooks signature has no HTTP scheme; its 401 says so in the ProblemDetails.
    /// </summary>
    public string Challenge { get; }

    public AuthResult Authenticate(IHeaderDictionary headers)
    {
        if (headers.TryGetValue(_apiKeyHeader, out var apiKey) && apiKey.Count == 1 && _apiKeys.IndexOf(apiKey.ToString()) is var index and >= 0)
        {
            return new(AuthDecision.Admitted, $"api-key:{index}");
        }

        var authorization = headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            && _bearerTokens.IndexOf(authorization["Bearer ".Length..].Trim()) is var bearer and >= 0)
        {
            return new(AuthDecision.Admitted, $"bearer:{bearer}");
        }

        if (authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase) && DecodeBasic(authorization["Basic ".Length..].Trim()) is { } userPass
            && _basic.Contains(userPass))
        {
            return new(AuthDecision.Admitted, "basic");
        }

        if (_signature.IsConfigured && headers.ContainsKey(StandardWebhookSignature.SignatureHeader))
        {
            return new(AuthDecision.NeedsSignature, "signature");
        }

        return new(AuthDecision.Refused, "anonymous");
    }

    /// <summary>Null when the Standard Webhooks signature over <paramref name="body"/> is valid, else why not.</summary>
    public string? VerifySignature(IHeaderDictionary headers, ReadOnlySpan<byte> body) =>
        _signature.Verify(
            headers[StandardWebhookSignature.IdHeader].ToString(),
            headers[StandardWebhookSignature.TimestampHeader].ToString(),
            headers[StandardWebhookSignature.SignatureHeader].ToString(),
            body,
            _timeProvider.GetUtcNow());

    private static string? DecodeBasic(string encoded)
    {
        Span<byte> buffer = stackalloc byte[Math.Min(encoded.Length, 1024)];
        return Convert.TryFromBase64String(encoded, buffer, out var written) ? Encoding.UTF8.GetString(buffer[..written]) : null;
    }
}

/// <summary>Checks the ops credential (a distinct set of API keys in the same header) once, at the edge.</summary>
public sealed class OpsAuthenticator(IOptions<OpsAuthOptions> options, IOptions<WebhookAuthOptions> webhookOptions)
{
    private readonly SecretSet _keys = new(options.Value.ApiKeys);
    private readonly string _header = webhookOptions.Value.ApiKeyHeader;

    public bool IsConfigured => !_keys.IsEmpty;

    /// <summary>The <c>WWW-Authenticate</c> value of the ops routes' 401 (RFC 9110 §11.6.1).</summary>
    public string Challenge => $"ApiKey header=\"{_header}\"";

    /// <summary>Which ops key was used (its position), for the access log; null when none matches.</summary>
    public string? Authenticate(IHeaderDictionary headers) =>
        headers.TryGetValue(_header, out var key) && key.Count == 1 && _keys.IndexOf(key.ToString()) is var index and >= 0
            ? $"ops-key:{index}"
            : null;
}
