using Axentra.ServiceDefaults;
using Axentra.TestSupport;

namespace Axentra.Catalog.Tests.Validation;

/// <summary>The distributed catalog process refusing its settings: exit 78 and the setting named, not an abort (134).</summary>
public sealed class CatalogStartupTests
{
    [Theory]
    [InlineData("no AWS region for Ben's tables (AWS_REGION unset, no profile)", "AWS_REGION")]
    [InlineData("the processed bucket left empty", "Processed", "--Catalog:Validation:Region=us-east-1", "--Buckets:Processed=")]
    public async Task A_refused_setting_exits_78_naming_it(string why, string named, params string[] settings)
    {
        var (exited, exitCode, output) = await BoundedProcess.RunServiceAsync("Axentra.Catalog", TimeSpan.FromSeconds(60), settings);
        Assert.True(exited, $"the catalog started with {why}:\n{output}");
        Assert.Equal(ConfigurationRefusal.ExitCode, exitCode);
        Assert.Contains("Configuration refused: ", output, StringComparison.Ordinal);
        Assert.Contains(named, output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", output, StringComparison.Ordinal);
    }
}
