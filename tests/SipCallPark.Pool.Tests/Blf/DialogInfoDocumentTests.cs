using System.Diagnostics;
using System.Xml.Linq;
using SipCallPark.Pool.Blf;
using SipCallPark.Pool.Park;
using SipCallPark.Sip.Message;

namespace SipCallPark.Pool.Tests.Blf;

/// <summary>The NOTIFY body of the orbit lamps (RFC 4235 §4), checked by structure and, where installed, by xmllint against our schema.</summary>
[TestFixture]
public sealed class DialogInfoDocumentTests
{
    private static readonly XNamespace Di = "urn:ietf:params:xml:ns:dialog-info";
    private static readonly NameAddress Bob = NameAddress.Parse("\"Bob Builder\" <sip:bob@callpark.lab>");

    private static XElement Parse(string xml) => XDocument.Parse(xml).Root!;

    private static OrbitLamp Parked(string orbit = "7001", OrbitStatus status = OrbitStatus.Parked) => new(orbit, status, Bob, "abc123@127.0.0.1");

    [Test]
    public void A_parked_orbit_is_one_recipient_dialog_confirmed_with_the_caller_as_remote_and_the_orbit_as_local_target()
    {
        var root = Parse(DialogInfoDocument.Build("sip:7001@callpark.lab", 4, [Parked()], "callpark.lab", parkedShowsEarly: false));
        var dialog = root.Element(Di + "dialog")!;

        Assert.Multiple(() =>
        {
            Assert.That(root.Name, Is.EqualTo(Di + "dialog-info"));
            Assert.That(root.Attribute("version")!.Value, Is.EqualTo("4"));
            Assert.That(root.Attribute("state")!.Value, Is.EqualTo("full"));
            Assert.That(root.Attribute("entity")!.Value, Is.EqualTo("sip:7001@callpark.lab"));
            Assert.That(root.Elements(Di + "dialog").Count(), Is.EqualTo(1));
            Assert.That(dialog.Attribute("direction")!.Value, Is.EqualTo("recipient"));
            Assert.That(dialog.Attribute("call-id")!.Value, Is.EqualTo("abc123@127.0.0.1"));
            Assert.That(dialog.Attribute("id")!.Value, Does.StartWith("7001-"));
            Assert.That(dialog.Element(Di + "state")!.Value, Is.EqualTo("confirmed"));
            Assert.That(dialog.Element(Di + "local")!.Element(Di + "target")!.Attribute("uri")!.Value, Is.EqualTo("sip:7001@callpark.lab"));
            Assert.That(dialog.Element(Di + "local")!.Element(Di + "identity")!.Value, Is.EqualTo("sip:7001@callpark.lab"));
            Assert.That(dialog.Element(Di + "remote")!.Element(Di + "identity")!.Value, Is.EqualTo("sip:bob@callpark.lab"));
            Assert.That(dialog.Element(Di + "remote")!.Element(Di + "identity")!.Attribute("display")!.Value, Is.EqualTo("Bob Builder"));
        });
    }

    [Test]
    public void ParkedState_early_shows_a_parked_orbit_as_early_and_a_ringback_is_early_either_way()
    {
        var early = Parse(DialogInfoDocument.Build("sip:7001@callpark.lab", 0, [Parked()], "callpark.lab", parkedShowsEarly: true));
        var ringing = Parse(DialogInfoDocument.Build("sip:7001@callpark.lab", 0, [Parked(status: OrbitStatus.RingingBack)], "callpark.lab", parkedShowsEarly: false));

        Assert.That(early.Element(Di + "dialog")!.Element(Di + "state")!.Value, Is.EqualTo("early"));
        Assert.That(ringing.Element(Di + "dialog")!.Element(Di + "state")!.Value, Is.EqualTo("early"));
    }

    [Test]
    public void A_free_orbit_is_terminated_with_no_remote_party()
    {
        var afterCall = Parse(DialogInfoDocument.Build("sip:7001@callpark.lab", 2, [Parked() with { Status = OrbitStatus.Free }], "callpark.lab", false));
        var never = Parse(DialogInfoDocument.Build("sip:7001@callpark.lab", 0, [OrbitLamp.Free("7001")], "callpark.lab", false));

        foreach (var root in new[] { afterCall, never })
        {
            var dialog = root.Element(Di + "dialog")!;
            Assert.That(dialog.Element(Di + "state")!.Value, Is.EqualTo("terminated"));
            Assert.That(dialog.Element(Di + "remote"), Is.Null);
        }
        Assert.That(never.Element(Di + "dialog")!.Attribute("id")!.Value, Is.EqualTo("7001"));
    }

    [Test]
    public void The_whole_lot_has_one_dialog_per_orbit_shown_and_none_when_nothing_is_parked()
    {
        var two = Parse(DialogInfoDocument.Build("sip:park@callpark.lab", 1, [Parked("7000"), Parked("7003")], "callpark.lab", false));
        var none = Parse(DialogInfoDocument.Build("sip:park@callpark.lab", 0, [], "callpark.lab", false));

        Assert.That(two.Elements(Di + "dialog").Select(d => d.Element(Di + "local")!.Element(Di + "target")!.Attribute("uri")!.Value),
            Is.EqualTo(new[] { "sip:7000@callpark.lab", "sip:7003@callpark.lab" }));
        Assert.That(none.Elements(Di + "dialog"), Is.Empty);
    }

    [Test]
    public void A_display_name_with_markup_and_control_characters_still_gives_a_well_formed_document()
    {
        var hostile = new OrbitLamp("7001", OrbitStatus.Parked, new NameAddress(SipUri.Parse("sip:bob@callpark.lab"), "</identity><x a=\"1\">&\u0001\u0007"), "c<a>ll&id");

        var xml = DialogInfoDocument.Build("sip:7001@callpark.lab", 0, [hostile], "callpark.lab", false);

        var identity = Parse(xml).Element(Di + "dialog")!.Element(Di + "remote")!.Element(Di + "identity")!;
        Assert.That(identity.Attribute("display")!.Value, Is.EqualTo("</identity><x a=\"1\">&"), "markup stays text; control characters are dropped");
        Assert.That(Parse(xml).Element(Di + "dialog")!.Attribute("call-id")!.Value, Is.EqualTo("c<a>ll&id"));
    }

    [Test]
    public void Every_kind_of_document_the_pool_sends_validates_against_the_RFC_4235_schema_with_xmllint()
    {
        var documents = new[]
        {
            DialogInfoDocument.Build("sip:7001@callpark.lab", 0, [OrbitLamp.Free("7001")], "callpark.lab", false),
            DialogInfoDocument.Build("sip:7001@callpark.lab", 1, [Parked()], "callpark.lab", false),
            DialogInfoDocument.Build("sip:7001@callpark.lab", 2, [Parked(status: OrbitStatus.RingingBack)], "callpark.lab", true),
            DialogInfoDocument.Build("sip:7001@callpark.lab", 3, [Parked() with { Status = OrbitStatus.Free }], "callpark.lab", false),
            DialogInfoDocument.Build("sip:park@callpark.lab", 4, [Parked("7000"), Parked("7003")], "callpark.lab", true),
            DialogInfoDocument.Build("sip:park@callpark.lab", 5, [], "callpark.lab", false),
        };
        foreach (var document in documents)
        {
            var (status, output) = Xmllint(document);
            Assert.That(status, Is.Zero, $"xmllint: {output}\n{document}");
        }
    }

    [Test]
    public void The_schema_refuses_a_dialog_state_that_RFC_4235_does_not_define()
    {
        var document = DialogInfoDocument.Build("sip:7001@callpark.lab", 1, [Parked()], "callpark.lab", false).Replace(">confirmed<", ">parked<");

        var (status, output) = Xmllint(document);

        Assert.That(status, Is.Not.Zero, "the schema checks the state values, so a pass above means something");
        Assert.That(output, Does.Contain("parked"));
    }

    /// <summary>Runs <c>xmllint --noout --schema</c> on <paramref name="document"/>; ignored (with the reason) when xmllint is missing.</summary>
    private static (int Status, string Output) Xmllint(string document)
    {
        var xmllint = new[] { "/usr/bin/xmllint", "/usr/local/bin/xmllint" }.FirstOrDefault(File.Exists);
        if (xmllint is null) Assert.Ignore("xmllint is not installed (Debian package libxml2-utils); the structure tests above still run");
        var file = Path.Combine(Path.GetTempPath(), $"dialog-info-{Guid.NewGuid():N}.xml");
        File.WriteAllText(file, document);
        try
        {
            var start = new ProcessStartInfo(xmllint!, ["--noout", "--schema", SchemaPath, file]) { RedirectStandardError = true, RedirectStandardOutput = true };
            using var process = Process.Start(start)!;
            var errors = process.StandardError.ReadToEndAsync();
            var output = process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(30_000))
            {
                process.Kill();
                Assert.Fail("xmllint did not finish within 30 s");
            }
            return (process.ExitCode, output + errors.Result);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>The schema, written for this project from RFC 4235 §4, shared with the interop scripts.</summary>
    private static string SchemaPath
    {
        get
        {
            for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
            {
                var path = Path.Combine(dir.FullName, "tools", "interop", "schema", "dialog-info.xsd");
                if (File.Exists(path)) return path;
            }
            throw new FileNotFoundException("tools/interop/schema/dialog-info.xsd not found above the test directory");
        }
    }
}
