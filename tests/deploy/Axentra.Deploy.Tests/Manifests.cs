using System.Text.Json.Nodes;

namespace Axentra.Deploy.Tests;

/// <summary>Renders the chart and reads YAML files as JSON objects (through node's yaml package).</summary>
internal static class Manifests
{
    /// <summary>Release name and namespace the tests render with; components/aws files use the same namespace.</summary>
    public const string Release = "axentra";
    public const string Namespace = "axentra";

    public static string ValuesFile(string name) => Path.Combine(Repository.Chart, "ci", name);

    /// <summary>Every values file the chart is rendered with: the defaults (null) and each file in ci/.</summary>
    public static TheoryData<string> ValueSets()
    {
        var data = new TheoryData<string> { "default" };
        foreach (var file in Directory.GetFiles(Path.Combine(Repository.Chart, "ci"), "*.yaml").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    public static string[] ValuesArguments(string valueSet) =>
        valueSet == "default" ? [] : ["--values", ValuesFile(valueSet)];

    /// <summary>helm template output for one value set, written to a temporary file.</summary>
    public static string RenderToFile(string valueSet, params string[] extraArguments)
    {
        var helm = DeployTools.RequireHelm();
        var result = DeployTools.Run(helm, ["template", Release, Repository.Chart, "--namespace", Namespace, .. ValuesArguments(valueSet), .. extraArguments]);
        Assert.True(result.ExitCode == 0, $"helm template ({valueSet}) failed: {result.Describe()}");
        var file = Path.Combine(Path.GetTempPath(), $"axentra-{valueSet}-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, result.StandardOutput);
        return file;
    }

    /// <summary>The rendered objects of one value set.</summary>
    public static IReadOnlyList<JsonObject> Render(string valueSet, params string[] extraArguments)
    {
        var file = RenderToFile(valueSet, extraArguments);
        try
        {
            return ReadYaml(file);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>The YAML documents of the given files (paths relative to the repository root or absolute).</summary>
    public static IReadOnlyList<JsonObject> ReadYaml(params string[] files)
    {
        var node = DeployTools.RequireNode();
        var result = DeployTools.Run(node, [Repository.PathOf("tests", "deploy", "yaml-to-json.mjs"), DeployTools.NodeModules, .. files]);
        Assert.True(result.ExitCode == 0, $"yaml-to-json failed: {result.Describe()}");
        var byFile = JsonNode.Parse(result.StandardOutput)!.AsObject();
        return [.. files.SelectMany(f => byFile[f]!.AsArray().Select(d => d!.AsObject()))];
    }

    public static IEnumerable<JsonObject> OfKind(this IEnumerable<JsonObject> objects, string kind) =>
        objects.Where(o => (string?)o["kind"] == kind);

    public static string Name(this JsonObject obj) => (string)obj["metadata"]!["name"]!;

    /// <summary>A Go duration as Dapr and the components write it (<c>500ms</c>, <c>30s</c>, <c>1m</c>), or a bare number of seconds, in seconds.</summary>
    public static double Seconds(string goDuration) =>
        goDuration.EndsWith("ms", StringComparison.Ordinal) ? double.Parse(goDuration[..^2], System.Globalization.CultureInfo.InvariantCulture) / 1000
        : goDuration.EndsWith('m') ? double.Parse(goDuration[..^1], System.Globalization.CultureInfo.InvariantCulture) * 60
        : double.Parse(goDuration.TrimEnd('s'), System.Globalization.CultureInfo.InvariantCulture);

    public static JsonObject Single(this IEnumerable<JsonObject> objects, string kind, string name) =>
        objects.OfKind(kind).Single(o => o.Name() == name);

    /// <summary>Dapr component metadata as name → value (secretKeyRef items as "secretKeyRef:name/key").</summary>
    public static Dictionary<string, string> ComponentMetadata(this JsonObject component) =>
        (component["spec"]!["metadata"]?.AsArray() ?? []).Select(i => i!.AsObject()).ToDictionary(
            i => (string)i["name"]!,
            i => i["value"] is { } v ? v.ToString() : $"secretKeyRef:{i["secretKeyRef"]!["name"]}/{i["secretKeyRef"]!["key"]}",
            StringComparer.Ordinal);

    public static string[] Scopes(this JsonObject obj) =>
        [.. (obj["scopes"]?.AsArray() ?? []).Select(s => (string)s!).Order(StringComparer.Ordinal)];

    /// <summary>The pod template's container env of a rendered Deployment as name → value.</summary>
    public static Dictionary<string, string> ContainerEnv(this JsonObject deployment) =>
        deployment["spec"]!["template"]!["spec"]!["containers"]![0]!["env"]!.AsArray()
            .Select(e => e!.AsObject())
            .ToDictionary(e => (string)e["name"]!, e => (string?)e["value"] ?? string.Empty, StringComparer.Ordinal);

    public static Dictionary<string, string> PodAnnotations(this JsonObject deployment) =>
        deployment["spec"]!["template"]!["metadata"]!["annotations"]!.AsObject()
            .ToDictionary(a => a.Key, a => a.Value!.ToString(), StringComparer.Ordinal);
}
