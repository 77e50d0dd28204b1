namespace Axentra.BuildingBlocks.Tests;

public sealed class WholeArraysTests
{
    [Fact]
    public void Bytes_spanning_a_whole_array_are_that_array()
    {
        var array = "{\"n\":1}"u8.ToArray();

        Assert.Same(array, WholeArrays.Of(array));
    }

    [Fact]
    public void Part_of_an_array_is_copied_so_the_rest_of_it_is_not_taken_along()
    {
        var array = "{\"n\":1}"u8.ToArray();

        var middle = WholeArrays.Of(array.AsMemory(1, 3));
        var start = WholeArrays.Of(array.AsMemory(0, 3));

        Assert.Equal("\"n\""u8.ToArray(), middle);
        Assert.Equal("{\"n"u8.ToArray(), start);
        Assert.NotSame(array, start);
    }

    [Fact]
    public void Bytes_not_backed_by_an_array_are_copied()
    {
        Assert.Empty(WholeArrays.Of(ReadOnlyMemory<byte>.Empty));
        using var owner = System.Buffers.MemoryPool<byte>.Shared.Rent(4);
        owner.Memory.Span[..2].Fill(7);
        Assert.Equal(new byte[] { 7, 7 }, WholeArrays.Of(owner.Memory[..2]));
    }
}
