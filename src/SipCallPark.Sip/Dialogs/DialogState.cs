namespace SipCallPark.Sip.Dialogs;

public enum DialogState { Early, Confirmed, Terminated }
