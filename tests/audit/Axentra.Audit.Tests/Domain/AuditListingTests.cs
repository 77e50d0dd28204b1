using Axentra.Audit.Domain;

namespace Axentra.Audit.Tests.Domain;

public sealed class AuditListingTests
{
    private static readonly AuditListing December = new("s1", "product_create", new DateOnly(2025, 12, 1), new DateOnly(2025, 12, 31));

    [Fact]
    public void The_first_page_starts_just_before_the_first_days_keys()
    {
        var start = December.StartAfter(null)!;

        Assert.True(string.CompareOrdinal("s1/product_create/2025/11/30/zzzz.json", start) < 0);
        Assert.True(string.CompareOrdinal("s1/product_create/2025/12/01/0000-1.json", start) > 0);
    }

    [Fact]
    public void A_continuation_token_before_the_range_cannot_widen_it()
    {
        Assert.Equal("s1/product_create/2025/12/01/", December.StartAfter("s1/product_create/2025/01/01/a.json"));
        Assert.Equal("s1/product_create/2025/12/05/a.json", December.StartAfter("s1/product_create/2025/12/05/a.json"));
    }

    [Theory]
    [InlineData("s1/product_create/2025/12/31/abc-1.json", "abc-1", false)]
    [InlineData("s1/product_create/2026/01/01/abc-1.json", null, true)]
    [InlineData("s1/product_create/2025/12/09/abc-1.metadata.json", null, false)]
    [InlineData("s1/product_create/2025/12/09/stray.txt", null, false)]
    [InlineData("s1/product_create/notadate/abc-1.json", null, false)]
    public void Keys_are_events_skipped_or_past_the_end(string key, string? eventId, bool pastEnd)
    {
        var (found, end) = December.Classify(key);

        Assert.Equal(eventId, found?.EventId);
        Assert.Equal(pastEnd, end);
    }

    [Fact]
    public void Only_tokens_under_the_listings_prefix_are_accepted()
    {
        Assert.True(December.Owns("s1/product_create/2025/12/05/a.json"));
        Assert.False(December.Owns("s2/product_create/2025/12/05/a.json"));
        Assert.False(December.Owns("s1/product_update/2025/12/05/a.json"));
    }
}
