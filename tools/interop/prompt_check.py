#!/usr/bin/env python3
"""The attended park's spoken orbit as a phone received it (docs/design.md §5 "Attended park").

Usage: prompt_check.py PAYLOADS ORBIT PROMPT_DIR
PAYLOADS: `tshark -T fields -e rtp.seq -e rtp.payload` lines of the RTP the pool sent to the phone, in order.
Encodes PROMPT_DIR/lead-in.wav and the WAV of each digit of ORBIT to G.711 mu-law as the pool does (whole 20 ms
frames, padded with silence) and compares them with the first payload bytes. Prints one line; exit 0 when equal.
"""
import struct
import sys
import wave


def mulaw(sample):
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), 0x7FFF - 0x84) + 0x84
    segment = magnitude.bit_length() - 8
    step = (magnitude >> (segment + 3)) & 0x0F
    return ~(sign | (segment << 4) | step) & 0xFF


def encoded(path):
    with wave.open(path) as w:
        if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (8000, 1, 2):
            raise SystemExit(f"{path}: not 8 kHz mono 16-bit")
        raw = w.readframes(w.getnframes())
    codes = bytes(mulaw(s) for s in struct.unpack(f"<{len(raw) // 2}h", raw))
    return codes + bytes([mulaw(0)]) * (-len(codes) % 160)


def main():
    payloads, orbit, directory = sys.argv[1:4]
    expected = encoded(f"{directory}/lead-in.wav") + b"".join(encoded(f"{directory}/{d}.wav") for d in orbit if d.isdigit())
    rows = [line.split("\t") for line in open(payloads).read().splitlines() if "\t" in line]
    received = b"".join(bytes.fromhex(r[1].replace(":", "")) for r in rows)
    frames = len(expected) // 160
    if received[: len(expected)] == expected:
        print(f"the first {frames} RTP payloads ({len(expected)} bytes) are 'orbit' and the digits of {orbit}, byte for byte; {len(rows)} packets in all")
        return 0
    same = sum(1 for a, b in zip(received, expected) if a == b)
    first = next((i for i, (a, b) in enumerate(zip(received, expected)) if a != b), min(len(received), len(expected)))
    print(f"{len(rows)} packets ({len(received)} bytes) vs {len(expected)} bytes of prompts for {orbit}: {same} equal, first difference at byte {first}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
