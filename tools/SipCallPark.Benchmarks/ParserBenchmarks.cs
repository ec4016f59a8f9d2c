using System.Buffers;
using BenchmarkDotNet.Attributes;
using SipCallPark.Sip.Message;

namespace SipCallPark.Benchmarks;

/// <summary>
/// docs/design.md §10: parse+serialize of an INVITE with SDP under 2 µs, with no per-header string on the parse path.
/// Parsing works in place on the received buffer (the <see cref="ReadOnlyMemory{T}"/> overload), as the transport does.
/// Each of INVITE, 200 OK and REGISTER is measured parsed, serialized (a message parsed once, written again and again)
/// and both in a row, as a proxy does with a message it forwards.
/// </summary>
[MemoryDiagnoser]
public class ParserBenchmarks
{
    private readonly ReadOnlyMemory<byte> _invite = SampleMessages.Invite;
    private readonly ReadOnlyMemory<byte> _ok = SampleMessages.Ok200;
    private readonly ReadOnlyMemory<byte> _register = SampleMessages.Register;
    private readonly ArrayBufferWriter<byte> _writer = new(4096);
    private SipMessage _parsedInvite = null!;
    private SipMessage _parsedOk = null!;
    private SipMessage _parsedRegister = null!;

    [GlobalSetup]
    public void Setup()
    {
        _parsedInvite = SipParser.Parse(_invite).Message!;
        _parsedOk = SipParser.Parse(_ok).Message!;
        _parsedRegister = SipParser.Parse(_register).Message!;
    }

    [Benchmark]
    public SipMessage? ParseInvite() => SipParser.Parse(_invite).Message;

    [Benchmark]
    public int ParseAndSerializeInvite()
    {
        var message = SipParser.Parse(_invite).Message!;
        _writer.ResetWrittenCount();
        message.WriteTo(_writer);
        return _writer.WrittenCount;
    }

    [Benchmark]
    public int SerializeInvite() => Write(_parsedInvite);

    [Benchmark]
    public SipMessage? Parse200Ok() => SipParser.Parse(_ok).Message;

    [Benchmark]
    public int Serialize200Ok() => Write(_parsedOk);

    [Benchmark]
    public int ParseAndSerialize200Ok() => Write(SipParser.Parse(_ok).Message!);

    [Benchmark]
    public SipMessage? ParseRegister() => SipParser.Parse(_register).Message;

    [Benchmark]
    public int SerializeRegister() => Write(_parsedRegister);

    [Benchmark]
    public int ParseAndSerializeRegister() => Write(SipParser.Parse(_register).Message!);

    /// <summary>Validation materialises Via, From, To, CSeq, Contact and the Request-URI, so it allocates.</summary>
    [Benchmark]
    public SipRejection? ParseAndValidateInvite() => SipMessageValidator.Validate((SipRequest)SipParser.Parse(_invite).Message!);

    private int Write(SipMessage message)
    {
        _writer.ResetWrittenCount();
        message.WriteTo(_writer);
        return _writer.WrittenCount;
    }
}
