using Axentra.BuildingBlocks.Embedded;
using Microsoft.Extensions.Logging.Abstractions;

namespace Axentra.BuildingBlocks.Tests.Support;

internal static class EmbeddedDatabaseFactory
{
    public static EmbeddedDatabase Open(string directory) =>
        new(System.IO.Path.Combine(directory, "axentra.db"), synchronousFull: false, NullLogger<EmbeddedDatabase>.Instance);

    /// <summary>A database whose queue body segments get a new one after <paramref name="queueSegmentBytes"/>.</summary>
    public static EmbeddedDatabase Open(string directory, long queueSegmentBytes) =>
        new(System.IO.Path.Combine(directory, "axentra.db"), synchronousFull: false, NullLogger<EmbeddedDatabase>.Instance,
            WalCheckpointer.RestartPages, queueSegmentBytes);
}
