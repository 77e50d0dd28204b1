using System.Text;
using Axentra.BuildingBlocks.Bindings;
using Axentra.BuildingBlocks.Embedded;
using Axentra.BuildingBlocks.Tests.Support;

namespace Axentra.BuildingBlocks.Tests.Bindings;

/// <summary>The file bucket as the host runs it: unnamed files linked into place where the platform has them.</summary>
public sealed class FileObjectBucketTests : FileObjectBucketTestsBase
{
    protected override bool UnnamedFiles => UnnamedFile.MayWork;

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")] // skipped elsewhere, first thing
    public async Task On_linux_objects_are_unnamed_files_linked_into_place_with_the_mode_a_named_file_gets()
    {
        if (!OperatingSystem.IsLinux() || !UnnamedFile.MayWork)
        {
            Assert.Skip("unnamed files (O_TMPFILE) are a Linux x64/arm64 feature; this platform writes temporary files");
        }

        using (var probe = UnnamedFile.Create(DataPath, out var errno))
        {
            if (probe is null)
            {
                Assert.Skip($"the file system of {DataPath} has no unnamed files (errno {errno}); the bucket falls back to temporary files");
            }
        }

        await Bucket.PutAsync("s1/new.json", "{}"u8.ToArray(), Ct);
        await Bucket.PutAsync("s1/new.json", "{\"v\":2}"u8.ToArray(), Ct);
        Assert.True(((FileObjectBucket)Bucket).WritesUnnamedFiles);

        var named = new FileObjectBucket(DataPath, "named", fsync: false, unnamedFiles: false);
        await named.PutAsync("s1/new.json", "{}"u8.ToArray(), Ct);
        Assert.Equal(
            File.GetUnixFileMode(Path.Combine(DataPath, "named", "s1", "new.json")),
            File.GetUnixFileMode(Path.Combine(DataPath, BucketName, "s1", "new.json")));
    }
}

/// <summary>The file bucket writing temporary files renamed into place, as on other platforms and file systems.</summary>
public sealed class FileObjectBucketWithTemporaryFilesTests : FileObjectBucketTestsBase
{
    protected override bool UnnamedFiles => false;
}

public abstract class FileObjectBucketTestsBase : ObjectBucketContract
{
    protected const string BucketName = "axentra-webhook-raw-audit";
    private readonly TempDirectory _directory = new();

    protected abstract bool UnnamedFiles { get; }

    protected string DataPath => _directory.Path;

    protected override ValueTask<IObjectBucket> CreateBucketAsync() =>
        ValueTask.FromResult<IObjectBucket>(new FileObjectBucket(_directory.Path, BucketName, fsync: false, UnnamedFiles));

    protected override async ValueTask DisposeCoreAsync()
    {
        _directory.Dispose();
        await base.DisposeCoreAsync();
    }

    [Fact]
    public async Task Objects_live_at_data_dir_slash_bucket_slash_key()
    {
        await Bucket.PutAsync("s1/store_create/2026/03/01/e1.metadata.json", "{}"u8.ToArray(), Ct);

        Assert.True(File.Exists(Path.Combine(_directory.Path, BucketName, "s1", "store_create", "2026", "03", "01", "e1.metadata.json")));
    }

    [Fact]
    public async Task New_and_replaced_objects_leave_nothing_else_in_their_folder()
    {
        await Bucket.PutAsync("s1/a.json", "{}"u8.ToArray(), Ct);
        await Bucket.PutAsync("s1/b.json", "{}"u8.ToArray(), Ct);
        await Bucket.PutAsync("s1/a.json", "{\"v\":2}"u8.ToArray(), Ct);

        Assert.Equal(["a.json", "b.json"], Directory.GetFileSystemEntries(Path.Combine(_directory.Path, BucketName, "s1")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal("{\"v\":2}"u8.ToArray(), await Bucket.GetAsync("s1/a.json", Ct));
    }

    [Fact]
    public async Task Of_writers_racing_to_create_one_object_exactly_one_wins_and_the_others_see_its_bytes()
    {
        for (var round = 0; round < 20; round++)
        {
            var key = $"s1/product_create/2026/03/01/race-{round}.json";
            using var start = new ManualResetEventSlim();
            var writers = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
            {
                var content = Encoding.UTF8.GetBytes($"{{\"writer\":{i}}}");
                start.Wait(Ct);
                return (Content: content, Existing: await Bucket.PutIfAbsentAsync(key, content, Ct));
            }, Ct)).ToArray();
            start.Set();
            var results = await Task.WhenAll(writers);

            var winner = Assert.Single(results, r => r.Existing is null);
            Assert.All(results.Where(r => r.Existing is not null), r => Assert.Equal(winner.Content, r.Existing));
            Assert.Equal(winner.Content, await Bucket.GetAsync(key, Ct));
        }

        Assert.Equal(
            Enumerable.Range(0, 20).Select(round => $"race-{round}.json").Order(StringComparer.Ordinal),
            Directory.GetFileSystemEntries(Path.Combine(_directory.Path, BucketName, "s1", "product_create", "2026", "03", "01")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Objects_written_with_fsync_come_back_the_same()
    {
        var bucket = new FileObjectBucket(_directory.Path, "synced", fsync: true, UnnamedFiles);
        await bucket.PutAsync("s1/a.json", "{\"a\":1}"u8.ToArray(), Ct);
        await bucket.PutAsync("s1/a.json", "{\"a\":2}"u8.ToArray(), Ct);

        Assert.Equal("{\"a\":2}"u8.ToArray(), await bucket.GetAsync("s1/a.json", Ct));
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
        var bucketFolder = Path.Combine(_directory.Path, BucketName);
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
        Assert.Equal(UnnamedFiles, ((FileObjectBucket)Bucket).WritesUnnamedFiles); // an outage is not a missing feature
    }
}
