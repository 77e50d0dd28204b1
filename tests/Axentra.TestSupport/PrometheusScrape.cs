using System.Globalization;
using System.Text.RegularExpressions;

namespace Axentra.TestSupport;

/// <summary>
/// Reads a Prometheus text-format scrape (what <c>/metrics</c> answers): the series of a metric name, their labels
/// and values, so tests assert counts and labels, not only that a name appears somewhere.
/// </summary>
public sealed partial class PrometheusScrape(string text)
{
    public string Text { get; } = text;

    /// <summary>Every sample of <paramref name="name"/> (exactly that name: <c>_bucket</c>, <c>_count</c> are names of their own).</summary>
    public IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)> Series(string name)
    {
        var series = new List<(IReadOnlyDictionary<string, string>, double)>();
        foreach (var line in Text.Split('\n'))
        {
            var match = Sample().Match(line.TrimEnd('\r'));
            if (!match.Success || match.Groups["name"].Value != name)
            {
                continue;
            }

            var labels = Label().Matches(match.Groups["labels"].Value)
                .ToDictionary(m => m.Groups["key"].Value, m => Regex.Unescape(m.Groups["value"].Value), StringComparer.Ordinal);
            series.Add((labels, double.Parse(match.Groups["value"].Value, NumberStyles.Float, CultureInfo.InvariantCulture)));
        }

        return series;
    }

    /// <summary>The sum of the samples of <paramref name="name"/> whose labels include all of <paramref name="labels"/>; null when none matches.</summary>
    public double? Sum(string name, params (string Key, string Value)[] labels)
    {
        var matching = Series(name).Where(s => labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value)).ToList();
        return matching.Count == 0 ? null : matching.Sum(s => s.Value);
    }

    // name{labels} value [timestamp]
    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?<labels>.*)\})?\s+(?<value>\S+)(?:\s+-?\d+)?$")]
    private static partial Regex Sample();

    [GeneratedRegex(@"(?<key>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<value>(?:\\.|[^""\\])*)""")]
    private static partial Regex Label();
}
