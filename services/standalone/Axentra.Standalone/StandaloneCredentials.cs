using System.Security.Cryptography;

namespace Axentra.Standalone;

/// <summary>
/// The standalone host must never accept unauthenticated webhooks, yet must start with no set-up. With no
/// credential configured it generates a random key on first start, stores it in the data directory (mode 0600)
/// and says where; later starts reuse it. The key itself is never printed: the console is a log stream wherever
/// the host runs under a container or a service manager, and secrets stay out of logs (design.md).
/// </summary>
internal static class StandaloneCredentials
{
    public static void Provision(ConfigurationManager configuration, string dataDirectory, TextWriter console)
    {
        var generated = new Dictionary<string, string?>();
        var webhookSection = configuration.GetSection("Intake:Auth");
        var hasWebhookCredential = webhookSection.GetSection("ApiKeys").GetChildren().Any()
            || webhookSection.GetSection("BearerTokens").GetChildren().Any()
            || webhookSection.GetSection("SigningSecrets").GetChildren().Any()
            || !string.IsNullOrEmpty(webhookSection["Basic:Username"]);
        var webhookKeyFile = Path.Combine(dataDirectory, "credentials", "webhook-api-key");
        if (!hasWebhookCredential)
        {
            generated["Intake:Auth:ApiKeys:0"] = ReadOrCreate(webhookKeyFile, "webhook", console);
        }
        else if (File.Exists(webhookKeyFile))
        {
            console.WriteLine($"Sender credentials are configured, so the generated webhook key in {webhookKeyFile} is not accepted.");
        }

        if (!configuration.GetSection("Ops:Auth:ApiKeys").GetChildren().Any())
        {
            generated["Ops:Auth:ApiKeys:0"] = ReadOrCreate(Path.Combine(dataDirectory, "credentials", "ops-api-key"), "ops", console);
        }

        if (generated.Count > 0)
        {
            configuration.AddInMemoryCollection(generated);
        }
    }

    private static string ReadOrCreate(string path, string purpose, TextWriter console)
    {
        if (File.Exists(path) && File.ReadAllText(path).Trim() is { Length: > 0 } existing)
        {
            return existing;
        }

        // Missing, or empty: a first start that died between creating the file and writing it (before keys were
        // written through a temporary file) left it so. An empty key never admitted anyone, so a new one replaces it.
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var key = $"axk_{purpose}_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24))}";
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var file = new FileStream(temporary, options))
        {
            file.Write(System.Text.Encoding.ASCII.GetBytes(key));
            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true); // whole or not at all, whatever happens to the process
        console.WriteLine($"Generated the {purpose} API key (send it in the x-api-key header); read it with: cat {path}");
        return key;
    }
}
