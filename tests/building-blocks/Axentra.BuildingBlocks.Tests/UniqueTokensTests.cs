namespace Axentra.BuildingBlocks.Tests;

public sealed class UniqueTokensTests
{
    [Fact]
    public void Tokens_taken_at_once_on_many_threads_are_all_different()
    {
        var tokens = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 8, _ =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                tokens.Add(UniqueTokens.Next());
            }
        });

        Assert.Equal(80_000, tokens.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Tokens_carry_a_random_prefix_of_96_bits_and_a_hex_counter()
    {
        var first = UniqueTokens.Next().Split('-');
        var second = UniqueTokens.Next().Split('-');

        Assert.Equal(24, first[0].Length);
        Assert.Equal(first[0], second[0]);
        Assert.True(Convert.ToInt64(second[1], 16) > Convert.ToInt64(first[1], 16));
    }
}
