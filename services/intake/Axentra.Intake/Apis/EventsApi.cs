using Axentra.BuildingBlocks.Registry;
using Axentra.Contracts;
using Axentra.Intake.Registration;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Axentra.Intake.Apis;

/// <summary>An event's registry record with its stages, as operators read it.</summary>
public sealed record EventDetails(
    string EventId,
    string PayloadHash,
    string ProcessingTimestamp,
    string EventType,
    string StoreId,
    string? ProductId,
    string S3Key,
    string Status,
    string? RoutingTarget,
    long Ttl,
    string DedupeKey,
    IReadOnlyList<string> GeneratedIds,
    long DuplicateCount,
    DateTimeOffset? LastDuplicateAt,
    IReadOnlyList<StageRecord> Stages)
{
    public static EventDetails Of(EventView view)
    {
        var r = view.Record;
        var received = new StageRecord { EventId = r.EventId, Stage = Contracts.Stages.Received, At = DateTimeOffset.Parse(r.ProcessingTimestamp, System.Globalization.CultureInfo.InvariantCulture) };
        return new EventDetails(
            r.EventId, r.PayloadHash, r.ProcessingTimestamp, r.EventType, r.StoreId, r.ProductId, r.S3Key, StatusOf(view), r.RoutingTarget, r.Ttl,
            r.DedupeKey, r.GeneratedIds, r.DuplicateCount, r.LastDuplicateAt, [received, .. view.Stages.OrderBy(s => s.At)]);
    }

    /// <summary>
    /// A dead letter that is still open beats everything; completed = audited and catalogued; <c>resolved</c> when each
    /// subscriber either handled the event or had its dead letter resolved by an operator (<c>resolved:{app}</c>), at
    /// least one the latter; else the furthest stage. A dead letter is closed once its subscriber reported success after
    /// it (a redrive; a replay records no stage) or an operator resolved it after it.
    /// </summary>
    private static string StatusOf(EventView view)
    {
        var stages = view.Stages.ToDictionary(s => s.Stage, StringComparer.Ordinal);
        if (stages.Values.Any(s => IsOpenDeadLetter(s, stages)))
        {
            return Contracts.Stages.DeadLettered;
        }

        var audited = stages.ContainsKey(Contracts.Stages.Audited);
        var catalogued = stages.ContainsKey(Contracts.Stages.Catalogued);
        var settled = (audited || stages.ContainsKey(EventRegistry.ResolvedStage(PlatformNames.AppIds.Audit)))
            && (catalogued || stages.ContainsKey(EventRegistry.ResolvedStage(PlatformNames.AppIds.Catalog)));
        return (audited, catalogued) switch
        {
            (true, true) => "completed",
            _ when settled => Contracts.Stages.Resolved, // each subscriber handled it or had its dead letter resolved
            (true, false) => Contracts.Stages.Audited,
            (false, true) => Contracts.Stages.Catalogued,
            _ => view.Record.Status,
        };
    }

    private static bool IsOpenDeadLetter(StageRecord stage, Dictionary<string, StageRecord> stages) =>
        stage.Stage.StartsWith(Contracts.Stages.DeadLettered, StringComparison.Ordinal) && EventRegistry.IsOpen(stage, stages.Values);
}

/// <summary><c>GET /events/{event_id}</c> and <c>GET /events?payload_hash=</c> (ops credential, checked by the edge).</summary>
public static class EventsApi
{
    public static RouteGroupBuilder MapEventsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/events").WithTags("Events");
        group.MapGet("/{eventId}", GetAsync)
            .WithName("GetEvent")
            .WithSummary("An event's registry record and stages (received, audited, catalogued, dead-lettered, resolved)")
            .Produces<EventDetails>(StatusCodes.Status200OK, "application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/", FindByPayloadHashAsync)
            .WithName("FindEventByPayloadHash")
            .WithSummary("The latest event registered with a payload hash")
            .Produces<EventDetails>(StatusCodes.Status200OK, "application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private static async Task<Results<JsonHttpResult<EventDetails>, ProblemHttpResult>> GetAsync(string eventId, EventRegistry registry, CancellationToken cancellationToken)
    {
        if (!SafeKeySegment.IsValid(eventId))
        {
            return TypedResults.Problem("event_id is not a safe key segment.", statusCode: StatusCodes.Status400BadRequest, title: "Invalid event id");
        }

        var view = await registry.GetAsync(eventId, cancellationToken).ConfigureAwait(false);
        return view is null
            ? TypedResults.Problem($"No event '{eventId}' is registered (or it is past its retention).", statusCode: StatusCodes.Status404NotFound, title: "Event not found")
            : TypedResults.Json(EventDetails.Of(view), IntakeJsonContext.Readable.EventDetails);
    }

    private static async Task<Results<JsonHttpResult<EventDetails>, ProblemHttpResult>> FindByPayloadHashAsync(string? payload_hash, PayloadHashLookup lookup, CancellationToken cancellationToken)
    {
        if (payload_hash is null || payload_hash.Length != 64 || !payload_hash.All(char.IsAsciiHexDigitLower))
        {
            return TypedResults.Problem("Give ?payload_hash= as 64 lowercase hex characters.", statusCode: StatusCodes.Status400BadRequest, title: "Invalid payload hash");
        }

        var view = await lookup.FindAsync(payload_hash, cancellationToken).ConfigureAwait(false);
        return view is null
            ? TypedResults.Problem("No event is registered with this payload hash.", statusCode: StatusCodes.Status404NotFound, title: "Event not found")
            : TypedResults.Json(EventDetails.Of(view), IntakeJsonContext.Readable.EventDetails);
    }
}
