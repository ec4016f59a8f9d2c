namespace SipCallPark.Sip.Message;

/// <summary>A header or URI that does not follow the grammar; the receive path turns it into 400 or a drop.</summary>
public sealed class SipParseException(string message) : FormatException(message);
