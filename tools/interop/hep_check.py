#!/usr/bin/env python3
"""Checks run-hep.sh's result: every SIP message of the pool's pcap (read with tshark) arrived at Kamailio's
sipcapture exactly once, with the same transport, addresses and ports, Call-ID and method or status, and the HEP
chunks the pool was told to send (protocol type SIP, agent id, auth key, correlation id = Call-ID, capture time).

Prints one "ok ..." or "FAIL ..." line per check; exits 1 when any check failed.
"""
import argparse
import collections
import glob
import json
import re
import subprocess
import sys

LINE = re.compile(
    r"HEPSEEN family=(?P<family>\S+) proto=(?P<proto>\S+) src=(?P<src>\S+):(?P<sport>\d+) dst=(?P<dst>\S+):(?P<dport>\d+) "
    r"sec=(?P<sec>\d+) usec=(?P<usec>\d+) type=(?P<type>\S+) agent=(?P<agent>\S+) key=(?P<key>\S*) cid=(?P<cid>\S*) "
    r"first=\[(?P<first>[^\]]*)\] callid=\[(?P<callid>[^\]]*)\] len=(?P<len>\d+)")

FIELDS = ["frame.time_epoch", "ip.proto", "ip.src", "udp.srcport", "tcp.srcport", "ip.dst", "udp.dstport", "tcp.dstport",
          "sip.Call-ID", "sip.Method", "sip.Status-Code"]

failures = 0


def check(ok, text):
    global failures
    print(("ok   " if ok else "FAIL ") + text)
    if not ok:
        failures += 1


def pcap_messages(pattern, sip_port):
    """(key, time) per SIP frame of the pool's pcap files, as tshark decodes them."""
    messages, frames = [], 0
    for path in sorted(glob.glob(pattern)):
        frames += len(subprocess.run(["tshark", "-r", path, "-T", "fields", "-e", "frame.number"], check=True,
                                     capture_output=True, text=True).stdout.split())
        command = ["tshark", "-r", path, "-d", f"udp.port=={sip_port},sip", "-d", f"tcp.port=={sip_port},sip", "-Y", "sip",
                   "-T", "fields", "-E", "separator=/t", "-E", "occurrence=f"]
        for field in FIELDS:
            command += ["-e", field]
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            f = dict(zip(FIELDS, line.split("\t")))
            tcp = f["ip.proto"] == "6"
            key = (f["ip.proto"], f["ip.src"], f["tcp.srcport" if tcp else "udp.srcport"], f["ip.dst"],
                   f["tcp.dstport" if tcp else "udp.dstport"], f["sip.Call-ID"], f["sip.Method"] or f["sip.Status-Code"])
            messages.append((key, float(f["frame.time_epoch"])))
    return messages, frames


def kamailio_messages(path):
    records = []
    with open(path, encoding="utf-8", errors="replace") as log:
        for line in log:
            m = LINE.search(line)
            if m:
                records.append(m.groupdict())
    return records


def first_token(first_line):
    parts = first_line.strip().split(" ")
    if parts[0] == "SIP/2.0" and len(parts) > 1:
        return parts[1]
    return parts[0]


def check_reports(reports, records, args):
    """Music-on-hold counters (protocol type 0x22): JSON with SSRC, packets, octets, a final report per stream, the
    correlation id a Call-ID of the SIP the pool sent, from a media port of the pool (not its SIP port)."""
    check(len(reports) > 0, f"Kamailio got {len(reports)} music-on-hold counter reports (protocol type 0x22)")
    call_ids = {r["cid"] for r in records}
    bad, finals, streams = [], set(), set()
    for r in reports:
        try:
            body = json.loads(r["first"])
        except ValueError:
            bad.append(("not JSON", r))
            continue
        stream = (r["src"], r["sport"], body.get("ssrc"))
        streams.add(stream)
        if body.get("final"):
            finals.add(stream)
        if (body.get("report") != "rtp-counters" or not body.get("packets") or body.get("octets", 0) < 12 * body.get("packets", 0)
                or r["proto"] != "17" or r["agent"] != args.agent or r["key"] != args.key or r["sport"] == args.sip_port):
            bad.append(("fields", r))
        elif r["cid"] not in call_ids or body.get("call_id") != r["cid"]:
            bad.append(("correlation", r))
    check(not bad, "every report is JSON from a music port over UDP with packets and octets, agent and key, and a Call-ID of "
          "the trace as correlation id" + (f"; first wrong ({bad[0][0]}): {bad[0][1]}" if bad else ""))
    check(streams and finals == streams, f"each of the {len(streams)} music streams got its final report")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pcap", required=True, help="the pool's pcap (a glob: rolled files too)")
    parser.add_argument("--sip-port", required=True)
    parser.add_argument("--kamailio-log", required=True)
    parser.add_argument("--agent", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--rtp-counters", action="store_true",
                        help="the pool ran with Pool:Trace:Hep:RtpCounters: check its music-on-hold reports too")
    args = parser.parse_args()

    pcap, frames = pcap_messages(args.pcap, args.sip_port)
    check(len(pcap) > 0 and len(pcap) == frames, f"tshark decodes all {frames} frames of the pool's pcap as SIP ({len(pcap)} messages)")
    everything = kamailio_messages(args.kamailio_log)
    records = [r for r in everything if r["type"] == "1"]
    reports = [r for r in everything if r["type"] == "34"]
    others = [r for r in everything if r["type"] not in ("1", "34")]
    check(not others, "Kamailio got nothing but SIP (type 1) and media reports (type 34)" + (f"; e.g. {others[0]}" if others else ""))
    check(len(records) == len(pcap), f"Kamailio logged {len(records)} HEP packets for the pcap's {len(pcap)} SIP messages")

    bad = [r for r in records if r["type"] != "1" or r["agent"] != args.agent or r["key"] != args.key or r["family"] != "2"]
    check(not bad, f"every HEP packet says SIP (type 1), IPv4, agent {args.agent} and the auth key"
          + (f"; first wrong: {bad[0]}" if bad else ""))
    wrong_cid = [r for r in records if r["callid"].split(":", 1)[-1].strip() != r["cid"] or not r["cid"]]
    check(not wrong_cid, "every correlation id chunk is the Call-ID of the message it carries"
          + (f"; first wrong: {wrong_cid[0]}" if wrong_cid else ""))

    kam = collections.defaultdict(list)
    for r in records:
        key = (r["proto"], r["src"], r["sport"], r["dst"], r["dport"], r["cid"], first_token(r["first"]))
        kam[key].append(int(r["sec"]) + int(r["usec"]) / 1e6)
    wanted = collections.defaultdict(list)
    for key, time in pcap:
        wanted[key].append(time)

    missing = {k: len(v) - len(kam.get(k, [])) for k, v in wanted.items() if len(v) > len(kam.get(k, []))}
    extra = {k: len(v) - len(wanted.get(k, [])) for k, v in kam.items() if len(v) > len(wanted.get(k, []))}
    check(not missing, "every SIP message of the pcap arrived at Kamailio with the same transport, source, destination, "
          "Call-ID and method or status" + (f"; missing {sum(missing.values())}, e.g. {next(iter(missing))}" if missing else ""))
    check(not extra, "and no more often than the pcap has it (no duplicates, nothing extra)"
          + (f"; extra {sum(extra.values())}, e.g. {next(iter(extra))}" if extra else ""))

    # Matched in order per key: the HEP capture time and the pcap time are taken for the same message at the same tap.
    worst = 0.0
    for key, times in wanted.items():
        for a, b in zip(sorted(times), sorted(kam.get(key, []))):
            worst = max(worst, abs(a - b))
    check(worst < 1.0, f"HEP timestamps (seconds + microseconds) match the pcap's within {worst * 1e3:.3f} ms")
    if args.rtp_counters:
        check_reports(reports, records, args)
    else:
        check(not reports, "no media report without Pool:Trace:Hep:RtpCounters (it is off by default)")
    methods = collections.Counter(k[6] for k, _ in pcap)
    print("     messages: " + ", ".join(f"{m} {n}" for m, n in sorted(methods.items())))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
