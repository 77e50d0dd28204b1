using Axentra.BuildingBlocks.Embedded;
using Axentra.Contracts;

namespace Axentra.Standalone;

/// <summary>
/// <c>/admin/dead-letters</c> (ops credential, checked by the edge): what each subscriber gave up on, and a
/// redrive of one message or all. Distributed deployments keep dead letters in each app's SQS dead-letter queue
/// instead (docs/operations.md).
/// </summary>
internal static class DeadLettersApi
{
    private const int MaxPage = 500;

    public static RouteGroupBuilder MapDeadLettersApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/admin/dead-letters").WithTags("Admin");
        group.MapGet("/", (string? subscriber, int? limit, LocalDeadLetters deadLetters) =>
                Results.Json(deadLetters.List(subscriber, Math.Clamp(limit ?? 100, 1, MaxPage))))
            .WithSummary("Dead letters with their reason and attempt count");
        group.MapPost("/redrive", async (string? subscriber, LocalDeadLetters deadLetters, CancellationToken ct) =>
                Results.Json(new { redriven = await deadLetters.RedriveAsync(subscriber, null, ct) }))
            .WithSummary("Redrive every dead letter (of one subscriber with ?subscriber=)");
        group.MapPost("/{subscriber}/{messageId:long}/redrive", async (string subscriber, long messageId, LocalDeadLetters deadLetters, CancellationToken ct) =>
            {
                if (!SafeKeySegment.IsValid(subscriber))
                {
                    return Results.Problem("subscriber is not a safe name.", statusCode: StatusCodes.Status400BadRequest);
                }

                var redriven = await deadLetters.RedriveAsync(subscriber, messageId, ct);
                return redriven == 0
                    ? Results.Problem($"No dead letter {messageId} for {subscriber}.", statusCode: StatusCodes.Status404NotFound, title: "Not found")
                    : Results.Json(new { redriven });
            })
            .WithSummary("Redrive one dead letter");
        return group;
    }
}
