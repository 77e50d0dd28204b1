namespace Axentra.BuildingBlocks;

/// <summary>Health-check tags: checks tagged <see cref="Ready"/> gate <c>/readyz</c> only, never <c>/healthz</c>.</summary>
public static class HealthTags
{
    public const string Ready = "ready";
}
