using Axentra.Classification;

namespace Axentra.Intake.Tests;

public sealed class DeterministicIdsTests
{
    [Fact]
    public void Name_based_uuids_match_the_RFC_9562_version_5_test_vector()
    {
        // RFC 9562 Appendix A.4: DNS namespace, name "www.example.com".
        var dns = new Guid("6ba7b810-9dad-11d1-80b4-00c04fd430c8");
        Assert.Equal(new Guid("2ed6657d-e927-568b-95e1-2665a8aea6a2"), DeterministicIds.NameBased(dns, "www.example.com"));
    }

    [Fact]
    public void The_same_dedupe_key_always_yields_the_same_ids_and_store_and_product_ids_differ()
    {
        Assert.Equal(DeterministicIds.StoreId("payload-hash:abc"), DeterministicIds.StoreId("payload-hash:abc"));
        Assert.NotEqual(DeterministicIds.StoreId("payload-hash:abc"), DeterministicIds.StoreId("payload-hash:abd"));
        Assert.NotEqual(DeterministicIds.StoreId("payload-hash:abc"), DeterministicIds.ProductId("payload-hash:abc"));
        Assert.Equal('5', DeterministicIds.StoreId("x")[14]);
    }
}
