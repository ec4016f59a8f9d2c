#!/usr/bin/env python3
"""The attended park's spoken orbit as a phone received it (docs/design.md §5 "Attended park").

Usage: prompt_check.py PAYLOADS ORBIT PROMPT_DIR
PAYLOADS: `tshark -T fields -e rtp.seq -e rtp.timestamp -e rtp.payload` lines of the RTP the pool sent the phone.
Encodes PROMPT_DIR/lead-in.wav and the WAV of each digit of ORBIT to G.711 mu-law as the pool does (whole 20 ms
frames, padded with silence) and compares each packet with the prompt frame its RTP timestamp names (frame =
(timestamp - first timestamp) / 160): a streamer that woke late skips frames and says so in the timestamp
(RFC 3550 §5.1), so a skipped frame is counted, not a failure, unless more than a quarter are missing (a 2-core machine under load skips up to ~10%). Every packet
that falls in the prompts must equal its frame byte for byte. Prints one line; exit 0 when all hold.
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
    rows = [line.split("\t") for line in open(payloads).read().splitlines() if line.count("\t") == 2]
    if not rows:
        print("no RTP packets")
        return 1
    frames = len(expected) // 160
    first_timestamp = int(rows[0][1])
    placed = {}
    for _, timestamp, payload in rows:
        frame = ((int(timestamp) - first_timestamp) % (1 << 32)) // 160
        if frame < frames:
            placed[frame] = bytes.fromhex(payload.replace(":", ""))
    wrong = [f for f, data in sorted(placed.items()) if data != expected[f * 160:(f + 1) * 160]]
    missing = frames - len(placed)
    summary = (f"{len(placed)} of the {frames} prompt frames ('orbit' and the digits of {orbit}) arrived, {missing} skipped by a late "
               f"streamer, {len(wrong)} differ{f' (first: frame {wrong[0]})' if wrong else ''}; {len(rows)} packets in all")
    print(summary)
    return 0 if not wrong and missing * 4 <= frames and 0 in placed else 1


if __name__ == "__main__":
    sys.exit(main())
