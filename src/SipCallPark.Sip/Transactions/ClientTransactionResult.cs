using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Transactions;

/// <summary>
/// How a client transaction ended for its TU: the final response, or a failure the TU reads as a synthetic
/// 408 (timeout) or 503 (transport error) per RFC 3261 §8.1.3.1.
/// </summary>
public sealed record ClientTransactionResult
{
    private ClientTransactionResult(IncomingMessage? received, TransactionFailure? failure)
    {
        Received = received;
        Failure = failure;
    }

    /// <summary>The final response as it arrived (with its source); null on failure.</summary>
    public IncomingMessage? Received { get; }

    public TransactionFailure? Failure { get; }

    public SipResponse? Response => Received?.Message as SipResponse;

    /// <summary>The final status, or 408 for a timeout and 503 for a transport error.</summary>
    public int StatusCode => Response?.StatusCode ?? (Failure == TransactionFailure.Timeout ? 408 : 503);

    public bool IsTimeout => Failure == TransactionFailure.Timeout;

    public bool IsSuccess => Response?.IsSuccess == true;

    internal static ClientTransactionResult FromResponse(IncomingMessage response) => new(response, null);

    internal static ClientTransactionResult Failed(TransactionFailure failure) => new(null, failure);

    public override string ToString() => Failure is { } f ? $"{StatusCode} ({f})" : Response!.FirstLine;
}
