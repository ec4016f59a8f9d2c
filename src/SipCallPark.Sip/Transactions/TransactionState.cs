namespace SipCallPark.Sip.Transactions;

/// <summary>
/// States of the four machines of RFC 3261 §17 (figures 5–8) with the Accepted state of RFC 6026 §7.
/// Each machine uses a subset: INVITE client Calling/Proceeding/Completed/Accepted; non-INVITE client
/// Trying/Proceeding/Completed; INVITE server Proceeding/Completed/Confirmed/Accepted; non-INVITE server
/// Trying/Proceeding/Completed. All end in Terminated.
/// </summary>
public enum TransactionState
{
    Calling,
    Trying,
    Proceeding,
    Completed,
    Confirmed,
    Accepted,
    Terminated,
}

/// <summary>Why a transaction ended without the exchange completing (RFC 3261 §8.1.3.1: read as 408 and 503).</summary>
public enum TransactionFailure
{
    /// <summary>Timer B, F or H fired.</summary>
    Timeout,

    /// <summary>The transport could not send the message (§17.1.4, §17.2.4).</summary>
    TransportError,
}
