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

/// <summary>The repository root (where Axentra.Platform.sln is), for tests that read docs.</summary>
internal static class Repository
{
    public static string Root
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Axentra.Platform.sln")))
            {
                directory = directory.Parent;
            }

            return directory?.FullName ?? throw new InvalidOperationException("Axentra.Platform.sln not found above the test output.");
        }
    }
}

internal static class BytesExtensions
{
    public static string AsString(this byte[] bytes) => System.Text.Encoding.UTF8.GetString(bytes);
}
