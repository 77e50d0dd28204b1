using Microsoft.Extensions.Options;

namespace Axentra.ServiceDefaults;

/// <summary>
/// How every host stops on a setting it refuses at start (a key shared by a sender and operators, a secret too short,
/// a value out of range or not of its type): one line naming the setting, never its value, and exit code 78
/// (sysexits' EX_CONFIG), instead of an abort with a stack trace.
/// </summary>
public static partial class ConfigurationRefusal
{
    /// <summary>The exit code of a configuration refused at start (sysexits' EX_CONFIG).</summary>
    public const int ExitCode = 78;

    /// <summary>
    /// Runs a host from its builder to its stop (<paramref name="run"/>: a distributed service's whole start, since
    /// building it and mapping its endpoints already read settings): 0, or <see cref="ExitCode"/> when its settings
    /// were refused. Any other failure propagates, as it would without this, and so does a refusal when the host is not
    /// the process's own: a test host (WebApplicationFactory) that runs the entry point expects the exception.
    /// </summary>
    public static async Task<int> RunOrRefuseAsync(Func<Task> run)
    {
        ArgumentNullException.ThrowIfNull(run);
        try
        {
            await run().ConfigureAwait(false);
        }
        catch (Exception ex) when (RunsTheProcess(run) && FailuresOf(ex) is { Count: > 0 } failures)
        {
            await Console.Error.WriteLineAsync($"Configuration refused: {string.Join("; ", failures)}").ConfigureAwait(false);
            return ExitCode;
        }

        return 0;
    }

    /// <summary>Whether <paramref name="run"/> belongs to the process's entry assembly (a service's Main), not to a host embedding it.</summary>
    private static bool RunsTheProcess(Func<Task> run) =>
        run.Method.DeclaringType?.Assembly is { } assembly && assembly == System.Reflection.Assembly.GetEntryAssembly();

    /// <summary>
    /// What is wrong with the settings, when that is all <paramref name="failure"/> is: options refused by validation (one
    /// class, or several together in an AggregateException) and values the configuration binder could not convert
    /// (named by their key, not their value). Empty for any other failure, which stays an unhandled exception.
    /// </summary>
    private static List<string> FailuresOf(Exception failure)
    {
        var failures = new List<string>();
        return Collect(failure) ? failures : [];

        bool Collect(Exception e)
        {
            switch (e)
            {
                case OptionsValidationException validation:
                    failures.AddRange(validation.Failures);
                    return true;
                case AggregateException aggregate:
                    return aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(Collect);
                case InvalidOperationException { InnerException: not null } binding when UnconvertibleValue().Match(binding.Message) is { Success: true } match:
                    failures.Add($"the value of {match.Groups["key"].Value} is not a valid {match.Groups["type"].Value}");
                    return true;
                default:
                    return false;
            }
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex("^Failed to convert configuration value .*at '(?<key>[^']+)' to type '(?<type>[^']+)'")]
    private static partial System.Text.RegularExpressions.Regex UnconvertibleValue();
}
