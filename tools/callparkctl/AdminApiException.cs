namespace SipCallPark.CallParkCtl;

/// <summary>The pool could not be reached or refused the request; the message is what the operator reads.</summary>
internal sealed class AdminApiException(string message, Exception? inner = null) : Exception(message, inner);
