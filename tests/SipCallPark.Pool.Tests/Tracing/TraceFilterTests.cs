using SipCallPark.Pool.Tracing;
using SipCallPark.Sip.Transport;
using static SipCallPark.Pool.Tests.Tracing.TraceSamples;

namespace SipCallPark.Pool.Tests.Tracing;

public class TraceFilterTests
{
    private static bool Passes(TraceFilter filter, string text) => filter.Matches(Event(SipDirection.In, text).Message);

    [Test]
    public void No_filter_passes_every_message() =>
        Assert.That(Passes(TraceFilter.All, Request("OPTIONS")), Is.True);

    [Test]
    public void Call_id_must_match_exactly()
    {
        Assert.That(Passes(new TraceFilter(CallId: "trace-1@127.0.0.1"), Request("INVITE")), Is.True);
        Assert.That(Passes(new TraceFilter(CallId: "TRACE-1@127.0.0.1"), Request("INVITE")), Is.False);
        Assert.That(Passes(new TraceFilter(CallId: "trace-1"), Request("INVITE")), Is.False);
    }

    [Test]
    public void User_matches_from_to_or_request_uri_ignoring_case()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Passes(new TraceFilter(User: "ALICE"), Request("INVITE", from: "alice", to: "bob")), Is.True, "From");
            Assert.That(Passes(new TraceFilter(User: "bob"), Request("INVITE", from: "alice", to: "bob")), Is.True, "To");
            Assert.That(Passes(new TraceFilter(User: "park"), Request("INVITE", target: "sip:park@callpark.lab", from: "alice", to: "bob")), Is.True, "Request-URI");
            Assert.That(Passes(new TraceFilter(User: "carol"), Request("INVITE", from: "alice", to: "bob")), Is.False, "nobody");
            Assert.That(Passes(new TraceFilter(User: "callpark.lab"), Request("OPTIONS", target: "sip:callpark.lab")), Is.False, "the host is not a user");
        });
    }

    [Test]
    public void Both_filters_must_hold()
    {
        Assert.That(Passes(new TraceFilter("trace-1@127.0.0.1", "alice"), Request("INVITE")), Is.True);
        Assert.That(Passes(new TraceFilter("trace-1@127.0.0.1", "carol"), Request("INVITE")), Is.False);
        Assert.That(Passes(new TraceFilter("other", "alice"), Request("INVITE")), Is.False);
    }
}
