using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transactions;

namespace SipCallPark.Sip.Tests.Transactions;

public class TransactionOptionsTests
{
    [Test]
    public void The_defaults_are_those_of_RFC_3261()
    {
        var options = new TransactionOptions().Validate();

        Assert.Multiple(() =>
        {
            Assert.That(options.T1, Is.EqualTo(TimeSpan.FromMilliseconds(500)));
            Assert.That(options.T2, Is.EqualTo(TimeSpan.FromSeconds(4)));
            Assert.That(options.T4, Is.EqualTo(TimeSpan.FromSeconds(5)));
            Assert.That(options.TransactionTimeout, Is.EqualTo(TimeSpan.FromSeconds(32)));
        });
    }

    [TestCase("T1")]
    [TestCase("T2")]
    [TestCase("T4")]
    public void Validation_names_the_bad_option(string name)
    {
        var options = name switch
        {
            "T1" => new TransactionOptions { T1 = TimeSpan.Zero },
            "T2" => new TransactionOptions { T2 = TimeSpan.FromMilliseconds(100) },
            _ => new TransactionOptions { T4 = TimeSpan.FromSeconds(-1) },
        };

        var error = Assert.Throws<ArgumentException>(() => options.Validate());
        Assert.That(error!.ParamName, Is.EqualTo(name));
        Assert.That(error.Message, Does.Contain(name));
    }

    [Test]
    public void The_id_generator_is_deterministic_with_a_seeded_source()
    {
        var a = new SipIdGenerator(new Random(42).NextBytes);
        var b = new SipIdGenerator(new Random(42).NextBytes);

        Assert.Multiple(() =>
        {
            Assert.That(a.NewBranch(), Is.EqualTo(b.NewBranch()));
            Assert.That(a.NewBranch(), Does.StartWith(ViaHeader.MagicCookie));
            var tag = a.NewTag();
            Assert.That(a.NewTag(), Is.Not.EqualTo(tag));
            Assert.That(a.NewCallId("callpark.lab"), Does.EndWith("@callpark.lab"));
        });
    }
}
