using Axentra.BuildingBlocks.Bindings;
using Axentra.BuildingBlocks.Embedded;
using Axentra.BuildingBlocks.Tests.Support;

namespace Axentra.BuildingBlocks.Tests.Bindings;

public sealed class FileObjectBucketTests : ObjectBucketContract
{
    private readonly TempDirectory _directory = new();

    protected override ValueTask<IObjectBucket> CreateBucketAsync() =>
        ValueTask.FromResult(new FileObjectBuckets(_directory.Path, fsync: false).Open("axentra-webhook-raw-audit"));

    protected override async ValueTask DisposeCoreAsync()
    {
        _directory.Dispose();
        await base.DisposeCoreAsync();
    }

    [Fact]
    public async Task Objects_live_at_data_dir_slash_bucket_slash_key()
    {
        await Bucket.PutAsync("s1/store_create/2026/03/01/e1.metadata.json", "{}"u8.ToArray(), Ct);

        Assert.True(File.Exists(Path.Combine(_directory.Path, "axentra-webhook-raw-audit", "s1", "store_create", "2026", "03", "01", "e1.metadata.json")));
    }

    [Fact]
    public async Task A_refused_key_writes_nothing_outside_the_bucket()
    {
        await Assert.ThrowsAsync<ArgumentException>(async () => await Bucket.PutAsync("../escaped.json", "{}"u8.ToArray(), Ct));

        Assert.False(File.Exists(Path.Combine(_directory.Path, "escaped.json")));
    }
}
