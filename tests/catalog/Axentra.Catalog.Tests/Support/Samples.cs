using System.Text.Json.Nodes;

namespace Axentra.Catalog.Tests.Support;

/// <summary>The sample webhooks (copies of shared/samples) and small builders for more shapes.</summary>
internal static class Samples
{
    public static string Directory => Axentra.TestSupport.RepositoryRoot.Samples;

    public static byte[] Bytes(string name) => File.ReadAllBytes(Path.Combine(Directory, name));

    public static JsonObject Json(string name) => (JsonObject)JsonNode.Parse(Bytes(name))!;

    public static JsonObject Parse(string json) => (JsonObject)JsonNode.Parse(json)!;
}

internal static class BytesExtensions
{
    public static string AsString(this byte[] bytes) => System.Text.Encoding.UTF8.GetString(bytes);
}
