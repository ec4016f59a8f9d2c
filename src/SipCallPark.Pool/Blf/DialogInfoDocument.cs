using System.Text;
using System.Xml;
using SipCallPark.Pool.Park;

namespace SipCallPark.Pool.Blf;

/// <summary>
/// The body of an orbit lamp NOTIFY: an <c>application/dialog-info+xml</c> document (RFC 4235 §4), always full state.
/// An orbit shows as one dialog of the orbit's address, <c>direction="recipient"</c>: the orbit as <c>local</c> (its
/// identity and target), the parked caller as <c>remote</c>; its <c>state</c> is <c>confirmed</c> or <c>early</c> while
/// parked (<c>Pool:Park:Blf:ParkedState</c>), <c>early</c> while ringing back, <c>terminated</c> once free.
/// </summary>
internal static class DialogInfoDocument
{
    public const string ContentType = "application/dialog-info+xml";

    public const string Namespace = "urn:ietf:params:xml:ns:dialog-info";

    /// <summary>
    /// The document for <paramref name="entity"/> at <paramref name="version"/>. <paramref name="lamps"/> are the
    /// orbits to show: for one orbit its lamp whatever it shows; for the whole lot (the park service URI) the occupied ones.
    /// </summary>
    public static string Build(string entity, long version, IReadOnlyList<OrbitLamp> lamps, string domain, bool parkedShowsEarly)
    {
        var settings = new XmlWriterSettings { Encoding = new UTF8Encoding(false), Indent = true, OmitXmlDeclaration = false };
        using var buffer = new MemoryStream();
        using (var xml = XmlWriter.Create(buffer, settings))
        {
            xml.WriteStartDocument();
            xml.WriteStartElement("dialog-info", Namespace);
            xml.WriteAttributeString("version", version.ToString(System.Globalization.CultureInfo.InvariantCulture));
            xml.WriteAttributeString("state", "full");
            xml.WriteAttributeString("entity", entity);
            foreach (var lamp in lamps) WriteDialog(xml, lamp, domain, parkedShowsEarly);
            xml.WriteEndElement();
            xml.WriteEndDocument();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>The dialog state an orbit shows (RFC 4235 §3.7.1).</summary>
    public static string StateOf(OrbitStatus status, bool parkedShowsEarly) => status switch
    {
        OrbitStatus.Parked => parkedShowsEarly ? "early" : "confirmed",
        OrbitStatus.RingingBack => "early",
        _ => "terminated",
    };

    private static void WriteDialog(XmlWriter xml, OrbitLamp lamp, string domain, bool parkedShowsEarly)
    {
        var orbitUri = $"sip:{lamp.Orbit}@{domain}";
        xml.WriteStartElement("dialog", Namespace);
        // One id per call the orbit held, so a phone tells a new park from the last one; the orbit itself before any.
        xml.WriteAttributeString("id", lamp.CallId is { } callId ? $"{lamp.Orbit}-{StableHash(callId)}" : lamp.Orbit);
        if (lamp.CallId is { } id) xml.WriteAttributeString("call-id", Clean(id));
        xml.WriteAttributeString("direction", "recipient");
        xml.WriteStartElement("state", Namespace);
        if (lamp.Status == OrbitStatus.Free && lamp.CallId is not null) xml.WriteAttributeString("event", "remote-bye");
        xml.WriteString(StateOf(lamp.Status, parkedShowsEarly));
        xml.WriteEndElement();
        xml.WriteStartElement("local", Namespace);
        WriteIdentity(xml, orbitUri, $"Orbit {lamp.Orbit}");
        xml.WriteStartElement("target", Namespace);
        xml.WriteAttributeString("uri", orbitUri);
        xml.WriteEndElement();
        xml.WriteEndElement();
        if (lamp.Status != OrbitStatus.Free && lamp.Party is { } party)
        {
            xml.WriteStartElement("remote", Namespace);
            WriteIdentity(xml, party.Uri.WithoutHeaders().ToString(), party.DisplayName);
            xml.WriteEndElement();
        }
        xml.WriteEndElement();
    }

    private static void WriteIdentity(XmlWriter xml, string uri, string? display)
    {
        xml.WriteStartElement("identity", Namespace);
        if (!string.IsNullOrEmpty(display)) xml.WriteAttributeString("display", Clean(display));
        xml.WriteString(Clean(uri));
        xml.WriteEndElement();
    }

    /// <summary>What arrived on the wire without the characters XML 1.0 cannot hold (a display name is the caller's to choose).</summary>
    private static string Clean(string text) =>
        text.All(XmlConvert.IsXmlChar) ? text : new string(text.Where(XmlConvert.IsXmlChar).ToArray());

    /// <summary>A short, process-independent name for a Call-ID (string.GetHashCode changes per process).</summary>
    private static string StableHash(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text) hash = (hash ^ c) * 16777619u;
        return hash.ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
    }
}
