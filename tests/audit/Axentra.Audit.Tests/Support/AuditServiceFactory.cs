using Axentra.Contracts;
using Axentra.TestSupport.Dapr;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Axentra.Audit.Tests.Support;

/// <summary>
/// The distributed audit service (its real Program) with its DaprClient pointed at the sidecar stand-in, which has
/// the platform's components loaded: the registry state store, the pub/sub and the raw-audit S3 binding.
/// </summary>
internal sealed class AuditServiceFactory : WebApplicationFactory<Program>
{
    private readonly IReadOnlyDictionary<string, string> _settings;

    private AuditServiceFactory(DaprSidecarStandIn sidecar, IReadOnlyDictionary<string, string> settings)
    {
        Sidecar = sidecar;
        _settings = settings;
    }

    public DaprSidecarStandIn Sidecar { get; }

    public static async Task<AuditServiceFactory> StartAsync(IReadOnlyDictionary<string, string>? settings = null)
    {
        var sidecar = await DaprSidecarStandIn.StartAsync(new DaprSidecarStandInOptions
        {
            AppId = PlatformNames.AppIds.Audit,
            StateStores = [PlatformNames.Components.RegistryStateStore],
            PubSubs = [PlatformNames.Components.PubSub],
            Bindings = new Dictionary<string, StandInBindingType>
            {
                [PlatformNames.Components.RawAuditBucketBinding] = StandInBindingType.AwsS3,
                [PlatformNames.Components.ProcessedBucketBinding] = StandInBindingType.AwsS3,
            },
        });
        return new AuditServiceFactory(sidecar, settings ?? new Dictionary<string, string>());
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureTestServices(services => services.AddSingleton(Sidecar.Client));
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Sidecar.DisposeAsync();
    }
}
