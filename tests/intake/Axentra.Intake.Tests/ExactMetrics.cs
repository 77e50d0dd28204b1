namespace Axentra.Intake.Tests;

/// <summary>
/// Tests that assert exact counts on a host's <c>/metrics</c>. OpenTelemetry listens to every meter of a name in
/// the process, whichever host created it, so a host of another test running beside them would add to the counts:
/// they run on their own.
/// </summary>
[CollectionDefinition(nameof(ExactMetrics), DisableParallelization = true)]
public sealed class ExactMetrics;
