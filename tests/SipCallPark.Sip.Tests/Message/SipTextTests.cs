using SipCallPark.Sip.Message;

namespace SipCallPark.Sip.Tests.Message;

public class SipTextTests
{
    [Test]
    public void Unescaping_a_long_user_part_does_not_overflow_the_stack()
    {
        // Each unescaped character used to stackalloc 4 bytes inside the loop, released only on return: a user part
        // of a few hundred thousand characters (a large TCP message) took the whole process down.
        const int length = 300_000;
        var uri = SipUri.Parse("sip:" + new string('a', length) + "%41@lab.test");
        string? user = null;
        var thread = new Thread(() => user = uri.UnescapedUser, maxStackSize: 256 * 1024);
        thread.Start();

        Assert.That(thread.Join(TimeSpan.FromSeconds(30)), Is.True, "unescaping did not finish");
        Assert.That(user, Has.Length.EqualTo(length + 1).And.EndsWith("aA"));
    }
}
