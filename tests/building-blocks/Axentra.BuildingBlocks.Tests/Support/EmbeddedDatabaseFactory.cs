using Axentra.BuildingBlocks.Embedded;
using Microsoft.Extensions.Logging.Abstractions;

namespace Axentra.BuildingBlocks.Tests.Support;

internal static class EmbeddedDatabaseFactory
{
    public static EmbeddedDatabase Open(string directory) =>
        new(System.IO.Path.Combine(directory, "axentra.db"), synchronousFull: false, NullLogger<EmbeddedDatabase>.Instance);
}
