using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Axentra.TestSupport.Dapr;

/// <summary>A service invocation the sidecar forwarded (or tried to): the target app, the request as the app got it.</summary>
public sealed record ServiceInvocation(
    string AppId, string HttpMethod, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, byte[] Body, int StatusCode);

/// <summary>
/// Dapr's HTTP service invocation (dapr/dapr <c>pkg/http/api_directmessaging.go</c>), on the stand-in's HTTP side:
/// <c>/v1.0/invoke/{appId}/method/{method}</c> and any path with a <c>dapr-app-id</c> header. The request goes to the
/// app registered under that id with its method, path, query, headers and body, plus the <c>dapr-caller-app-id</c> /
/// <c>dapr-callee-app-id</c> headers the runtime adds; the app's status, headers and body come back unchanged. An id
/// with no app answers 500 <c>ERR_DIRECT_INVOKE</c>, as the runtime does when it cannot resolve or reach the app.
/// </summary>
internal sealed class ServiceInvocationEmulator(string callerAppId)
{
    private static readonly HashSet<string> NotForwarded = new(StringComparer.OrdinalIgnoreCase) { "Host", "dapr-app-id", "Content-Length", "Transfer-Encoding" };

    private readonly ConcurrentDictionary<string, HttpMessageHandler> _apps = new(StringComparer.Ordinal);

    public ConcurrentQueue<ServiceInvocation> Invocations { get; } = new();

    public void AddApp(string appId, HttpMessageHandler app) => _apps[appId] = app;

    public void Map(WebApplication app)
    {
        app.Map("/v1.0/invoke/{appId}/method/{**method}", (HttpContext context, string appId, string? method) =>
            ForwardAsync(context, appId, "/" + (method ?? "")));
        app.MapFallback(context => context.Request.Headers["dapr-app-id"].ToString() is { Length: > 0 } appId
            ? ForwardAsync(context, appId, context.Request.Path.Value ?? "/")
            : Results.NotFound().ExecuteAsync(context));
    }

    private async Task ForwardAsync(HttpContext context, string appId, string path)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted).ConfigureAwait(false);
        var pathAndQuery = path + context.Request.QueryString;
        var forwarded = context.Request.Headers
            .Where(h => !NotForwarded.Contains(h.Key))
            .ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        forwarded["dapr-caller-app-id"] = callerAppId;
        forwarded["dapr-callee-app-id"] = appId;

        if (!_apps.TryGetValue(appId, out var target))
        {
            Invocations.Enqueue(new ServiceInvocation(appId, context.Request.Method, pathAndQuery, forwarded, body.ToArray(), StatusCodes.Status500InternalServerError));
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            await context.Response.WriteAsJsonAsync(
                new Dictionary<string, string>
                {
                    ["errorCode"] = "ERR_DIRECT_INVOKE",
                    ["message"] = $"failed to invoke, id: {appId}, err: couldn't find service: {appId}",
                },
                JsonSerializerOptions.Default,
                context.RequestAborted).ConfigureAwait(false);
            return;
        }

        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), new Uri($"http://{appId}{pathAndQuery}"))
        {
            Content = new ByteArrayContent(body.ToArray()),
        };
        foreach (var (name, value) in forwarded)
        {
            if (!request.Headers.TryAddWithoutValidation(name, value))
            {
                request.Content.Headers.TryAddWithoutValidation(name, value);
            }
        }

        using var client = new HttpClient(target, disposeHandler: false);
        using var response = await client.SendAsync(request, context.RequestAborted).ConfigureAwait(false);
        Invocations.Enqueue(new ServiceInvocation(appId, context.Request.Method, pathAndQuery, forwarded, body.ToArray(), (int)response.StatusCode));
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (!NotForwarded.Contains(name))
            {
                context.Response.Headers[name] = values.ToArray();
            }
        }

        await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
    }
}
