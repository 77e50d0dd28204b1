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

    [Fact]
    public async Task A_folder_removed_behind_the_buckets_back_is_created_again_and_a_file_in_its_place_is_an_outage()
    {
        var bucketFolder = Path.Combine(_directory.Path, "axentra-webhook-raw-audit");
        await Bucket.PutAsync("s1/a.json", "{}"u8.ToArray(), Ct);

        Directory.Delete(Path.Combine(bucketFolder, "s1"), recursive: true);
        await Bucket.PutAsync("s1/b.json", "{}"u8.ToArray(), Ct);
        Assert.True(File.Exists(Path.Combine(bucketFolder, "s1", "b.json")));

        Directory.Delete(Path.Combine(bucketFolder, "s1"), recursive: true);
        await File.WriteAllTextAsync(Path.Combine(bucketFolder, "s1"), "not a folder", Ct);
        await Assert.ThrowsAsync<BackendUnavailableException>(async () => await Bucket.PutAsync("s1/c.json", "{}"u8.ToArray(), Ct));

        File.Delete(Path.Combine(bucketFolder, "s1"));
        await Bucket.PutAsync("s1/c.json", "{}"u8.ToArray(), Ct);
        Assert.True(File.Exists(Path.Combine(bucketFolder, "s1", "c.json")));
    }
}
