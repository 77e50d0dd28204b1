using Axentra.TestSupport;

namespace Axentra.Intake.Tests;

public sealed class SamplesTests
{
    [Fact]
    public void The_repository_copies_of_the_samples_equal_the_shared_originals()
    {
        if (!Directory.Exists(RepositoryRoot.SharedSamples))
        {
            Assert.Skip($"{RepositoryRoot.SharedSamples} is not beside this checkout; nothing to compare with.");
        }

        var shared = Directory.GetFiles(RepositoryRoot.SharedSamples, "*.json").Select(Path.GetFileName).Order().ToList();
        var copies = Directory.GetFiles(RepositoryRoot.Samples, "*.json").Select(Path.GetFileName).Order().ToList();
        Assert.Equal(shared, copies);
        Assert.All(shared, name => Assert.Equal(
            File.ReadAllBytes(Path.Combine(RepositoryRoot.SharedSamples, name!)),
            File.ReadAllBytes(Path.Combine(RepositoryRoot.Samples, name!))));
    }
}
