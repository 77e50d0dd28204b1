using System.Text;
using Axentra.BuildingBlocks.Bindings;

namespace Axentra.BuildingBlocks.Tests.Bindings;

/// <summary>What every <see cref="IObjectBucket"/> promises, run against the file bucket and both Dapr bindings.</summary>
public abstract class ObjectBucketContract : IAsyncLifetime
{
    protected IObjectBucket Bucket { get; private set; } = null!;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected abstract ValueTask<IObjectBucket> CreateBucketAsync();

    public async ValueTask InitializeAsync() => Bucket = await CreateBucketAsync();

    public async ValueTask DisposeAsync()
    {
        await DisposeCoreAsync();
        GC.SuppressFinalize(this);
    }

    protected virtual ValueTask DisposeCoreAsync() => ValueTask.CompletedTask;

    /// <summary>Payloads the bindings would rewrite if they reached them as plain data.</summary>
    public static TheoryData<string, byte[]> Payloads => new()
    {
        { "a JSON object", Encoding.UTF8.GetBytes("{\"store_id\":\"s1\",\"price\":1.0,\"name\":\"caf\u00e9\"}") },
        { "a JSON string literal", Encoding.UTF8.GetBytes("\"hello\"") },
        { "a JSON string literal that is also valid base64", Encoding.UTF8.GetBytes("\"abcd\"") },
        { "bare base64 text", Encoding.UTF8.GetBytes("aGVsbG8=") },
        { "JSON null", Encoding.UTF8.GetBytes("null") },
        { "a number float64 cannot hold", Encoding.UTF8.GetBytes("12345678901234567890") },
        { "a float with a trailing zero", Encoding.UTF8.GetBytes("1.0") },
        { "a Go raw string literal", Encoding.UTF8.GetBytes("`raw\r\n`") },
        { "every byte value", Enumerable.Range(0, 256).Select(i => (byte)i).ToArray() },
        { "bytes whose base64 is the word null", Convert.FromBase64String("null") },
        { "nothing", Array.Empty<byte>() },
    };

    [Theory]
    [MemberData(nameof(Payloads))]
    public async Task Content_comes_back_byte_for_byte(string description, byte[] content)
    {
        Assert.NotNull(description);
        await Bucket.PutAsync("s1/product_update/2026/03/01/e1.json", content, Ct);

        Assert.Equal(content, await Bucket.GetAsync("s1/product_update/2026/03/01/e1.json", Ct));
    }

    [Fact]
    public async Task A_missing_object_is_null()
    {
        Assert.Null(await Bucket.GetAsync("stores/nobody/products/p.json", Ct));
    }

    [Fact]
    public async Task A_put_replaces_the_object()
    {
        await Bucket.PutAsync("master/products/p1.json", "{\"v\":1}"u8.ToArray(), Ct);
        await Bucket.PutAsync("master/products/p1.json", "{\"v\":2}"u8.ToArray(), Ct);

        Assert.Equal("{\"v\":2}"u8.ToArray(), await Bucket.GetAsync("master/products/p1.json", Ct));
    }

    [Theory]
    [MemberData(nameof(Payloads))]
    public async Task Put_if_absent_creates_a_missing_object_byte_for_byte(string description, byte[] content)
    {
        Assert.NotNull(description);

        Assert.Null(await Bucket.PutIfAbsentAsync("s1/product_create/2026/03/01/e1.json", content, Ct));

        Assert.Equal(content, await Bucket.GetAsync("s1/product_create/2026/03/01/e1.json", Ct));
    }

    [Fact]
    public async Task Put_if_absent_keeps_an_existing_object_and_returns_its_bytes()
    {
        await Bucket.PutAsync("s1/product_create/2026/03/01/e2.json", "{\"v\":1}"u8.ToArray(), Ct);

        Assert.Equal("{\"v\":1}"u8.ToArray(), await Bucket.PutIfAbsentAsync("s1/product_create/2026/03/01/e2.json", "{\"v\":2}"u8.ToArray(), Ct));
        Assert.Equal("{\"v\":1}"u8.ToArray(), await Bucket.PutIfAbsentAsync("s1/product_create/2026/03/01/e2.json", "{\"v\":1}"u8.ToArray(), Ct));

        Assert.Equal("{\"v\":1}"u8.ToArray(), await Bucket.GetAsync("s1/product_create/2026/03/01/e2.json", Ct));
    }

    [Fact]
    public async Task A_deleted_object_is_gone_and_deleting_it_again_is_fine()
    {
        await Bucket.PutAsync("stores/s1/products/p1.json", "{}"u8.ToArray(), Ct);

        await Bucket.DeleteAsync("stores/s1/products/p1.json", Ct);
        await Bucket.DeleteAsync("stores/s1/products/p1.json", Ct);

        Assert.Null(await Bucket.GetAsync("stores/s1/products/p1.json", Ct));
    }

    [Fact]
    public async Task Listing_pages_through_exactly_the_keys_under_a_prefix_in_order()
    {
        string[] keys =
        [
            "stores/s1/products/p3.json", "stores/s1/products/p1.json", "stores/s1/products/p2.json",
            "stores/s1/products/a/deep.json", "stores/s1/products.json", "stores/s10/products/p1.json",
            "stores/s2/products/p1.json", "master/products/p1.json",
        ];
        foreach (var key in keys)
        {
            await Bucket.PutAsync(key, "{}"u8.ToArray(), Ct);
        }

        Assert.Equal(
            ["stores/s1/products/a/deep.json", "stores/s1/products/p1.json", "stores/s1/products/p2.json", "stores/s1/products/p3.json"],
            await ListAllAsync("stores/s1/products/", pageSize: 2));
        Assert.Equal(
            ["stores/s1/products.json", "stores/s1/products/a/deep.json", "stores/s1/products/p1.json", "stores/s1/products/p2.json",
                "stores/s1/products/p3.json", "stores/s10/products/p1.json"],
            await ListAllAsync("stores/s1", pageSize: 4));
        Assert.Equal(keys.Order(StringComparer.Ordinal), await ListAllAsync("", pageSize: 3));
    }

    [Fact]
    public async Task A_page_that_holds_the_last_keys_has_no_continuation_token()
    {
        await Bucket.PutAsync("stores/s1/products/p1.json", "{}"u8.ToArray(), Ct);
        await Bucket.PutAsync("stores/s1/products/p2.json", "{}"u8.ToArray(), Ct);

        var page = await Bucket.ListAsync("stores/s1/products/", null, 2, Ct);

        Assert.Equal(["stores/s1/products/p1.json", "stores/s1/products/p2.json"], page.Keys);
        Assert.Null(page.ContinuationToken);
    }

    [Fact]
    public async Task Listing_a_prefix_with_nothing_under_it_is_empty()
    {
        await Bucket.PutAsync("stores/s1/products/p1.json", "{}"u8.ToArray(), Ct);

        var page = await Bucket.ListAsync("stores/s9/", null, 10, Ct);

        Assert.Empty(page.Keys);
        Assert.Null(page.ContinuationToken);
    }

    [Theory]
    [InlineData("../outside.json")]
    [InlineData("stores/../../outside.json")]
    [InlineData("/etc/passwd")]
    [InlineData("stores//p.json")]
    [InlineData("stores/./p.json")]
    [InlineData("stores\\p.json")]
    [InlineData("")]
    public async Task Keys_that_could_leave_the_bucket_or_alias_another_key_are_refused(string key)
    {
        await Assert.ThrowsAsync<ArgumentException>(async () => await Bucket.PutAsync(key, "{}"u8.ToArray(), Ct));
        await Assert.ThrowsAsync<ArgumentException>(async () => await Bucket.GetAsync(key, Ct));
    }

    protected async Task<List<string>> ListAllAsync(string prefix, int pageSize)
    {
        var all = new List<string>();
        string? token = null;
        do
        {
            var page = await Bucket.ListAsync(prefix, token, pageSize, Ct);
            Assert.True(page.Keys.Count <= pageSize);
            all.AddRange(page.Keys);
            token = page.ContinuationToken;
        }
        while (token is not null);

        return all;
    }
}
