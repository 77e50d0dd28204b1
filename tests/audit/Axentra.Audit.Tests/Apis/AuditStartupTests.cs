using Axentra.ServiceDefaults;
using Axentra.TestSupport;

namespace Axentra.Audit.Tests.Apis;

/// <summary>The distributed audit process refusing its settings: exit 78 and the setting named, not an abort (134).</summary>
public sealed class AuditStartupTests
{
    [Fact]
    public async Task An_audit_bucket_left_empty_exits_78_naming_it()
    {
        var (exited, exitCode, output) = await BoundedProcess.RunServiceAsync("Axentra.Audit", TimeSpan.FromSeconds(60), "--Buckets:RawAudit=");
        Assert.True(exited, output);
        Assert.Equal(ConfigurationRefusal.ExitCode, exitCode);
        Assert.Contains("Configuration refused: ", output, StringComparison.Ordinal);
        Assert.Contains("'Bucket'", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", output, StringComparison.Ordinal);
    }
}
