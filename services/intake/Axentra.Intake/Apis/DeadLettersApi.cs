using Axentra.BuildingBlocks.PubSub;
using Axentra.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Axentra.Intake.Apis;

/// <summary>
/// <c>/admin/dead-letters</c> (ops credential, checked by the edge): what each subscriber gave up on, a redrive of
/// one message or all, and the resolution of one that will never succeed, in both modes over <see cref="IDeadLetters"/>.
/// The standalone host puts redriven messages back on its local queue; the distributed intake hands them to the
/// subscriber through Dapr service invocation and answers once the subscriber has (docs/operations.md).
/// </summary>
public static class DeadLettersApi
{
    private const int MaxPage = 500;
    private const int MaxReasonLength = 500;

    public static RouteGroupBuilder MapDeadLettersApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/admin/dead-letters").WithTags("Admin");
        group.MapGet("/", ListAsync)
            .WithName("ListDeadLetters")
            .WithSummary("Dead letters with their reason and attempt count, oldest first (?subscriber=, ?limit= up to 500)")
            .Produces<IReadOnlyList<DeadLetter>>(StatusCodes.Status200OK, "application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapPost("/redrive", RedriveAllAsync)
            .WithName("RedriveDeadLetters")
            .WithSummary("Redrive every dead letter (of one subscriber with ?subscriber=)")
            .Produces<DeadLetterRedrive>(StatusCodes.Status200OK, "application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapPost("/{subscriber}/{messageId}/redrive", RedriveOneAsync)
            .WithName("RedriveDeadLetter")
            .WithSummary("Redrive one dead letter")
            .Produces<DeadLetterRedrive>(StatusCodes.Status200OK, "application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/{subscriber}/{messageId}/resolve", ResolveAsync)
            .WithName("ResolveDeadLetter")
            .WithSummary("Close one dead letter without a redrive (?reason= required: why it will never succeed); the event records stage resolved:{subscriber}")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private static async Task<Results<JsonHttpResult<IReadOnlyList<DeadLetter>>, ProblemHttpResult>> ListAsync(
        string? subscriber, int? limit, IDeadLetters deadLetters, CancellationToken cancellationToken)
    {
        if (subscriber is not null && !SafeKeySegment.IsValid(subscriber))
        {
            return UnsafeSubscriber();
        }

        var list = await deadLetters.ListAsync(subscriber, Math.Clamp(limit ?? 100, 1, MaxPage), cancellationToken).ConfigureAwait(false);
        return TypedResults.Json(list, IntakeJsonContext.Readable.IReadOnlyListDeadLetter);
    }

    private static async Task<Results<JsonHttpResult<DeadLetterRedrive>, ProblemHttpResult>> RedriveAllAsync(
        string? subscriber, IDeadLetters deadLetters, CancellationToken cancellationToken)
    {
        if (subscriber is not null && !SafeKeySegment.IsValid(subscriber))
        {
            return UnsafeSubscriber();
        }

        var redrive = await deadLetters.RedriveAsync(subscriber, null, cancellationToken).ConfigureAwait(false);
        return TypedResults.Json(redrive, IntakeJsonContext.Readable.DeadLetterRedrive);
    }

    private static async Task<Results<JsonHttpResult<DeadLetterRedrive>, ProblemHttpResult>> RedriveOneAsync(
        string subscriber, string messageId, IDeadLetters deadLetters, CancellationToken cancellationToken)
    {
        if (InvalidTarget(subscriber, messageId) is { } invalid)
        {
            return invalid;
        }

        var redrive = await deadLetters.RedriveAsync(subscriber, messageId, cancellationToken).ConfigureAwait(false);
        return redrive.Redriven == 0 ? NotFound(subscriber, messageId) : TypedResults.Json(redrive, IntakeJsonContext.Readable.DeadLetterRedrive);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> ResolveAsync(
        string subscriber, string messageId, string? reason, IDeadLetters deadLetters, CancellationToken cancellationToken)
    {
        if (InvalidTarget(subscriber, messageId) is { } invalid)
        {
            return invalid;
        }

        if (string.IsNullOrWhiteSpace(reason) || reason.Length > MaxReasonLength || reason.Any(BreaksTheLine))
        {
            return TypedResults.Problem(
                $"Say why in ?reason= (1 to {MaxReasonLength} characters, one line): it is kept on the event. Never put payload data in it.",
                statusCode: StatusCodes.Status400BadRequest, title: "Invalid reason");
        }

        return await deadLetters.ResolveAsync(subscriber, messageId, reason.Trim(), cancellationToken).ConfigureAwait(false)
            ? TypedResults.NoContent()
            : NotFound(subscriber, messageId);
    }

    private static bool BreaksTheLine(char c) =>
        char.IsControl(c) || char.GetUnicodeCategory(c) is System.Globalization.UnicodeCategory.LineSeparator or System.Globalization.UnicodeCategory.ParagraphSeparator;

    /// <summary>400 for an unsafe subscriber or message id, else null.</summary>
    private static ProblemHttpResult? InvalidTarget(string subscriber, string messageId) =>
        !SafeKeySegment.IsValid(subscriber) ? UnsafeSubscriber()
        : !SafeKeySegment.IsValid(messageId) ? TypedResults.Problem("message_id is not a safe key segment.", statusCode: StatusCodes.Status400BadRequest, title: "Invalid message id")
        : null;

    private static ProblemHttpResult NotFound(string subscriber, string messageId) =>
        TypedResults.Problem($"No dead letter {messageId} for {subscriber}.", statusCode: StatusCodes.Status404NotFound, title: "Not found");

    private static ProblemHttpResult UnsafeSubscriber() =>
        TypedResults.Problem("subscriber is not a safe name.", statusCode: StatusCodes.Status400BadRequest, title: "Invalid subscriber");
}
