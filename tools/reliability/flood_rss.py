#!/usr/bin/env python3
"""An unauthenticated INVITE flood against one pool of a running pair, and what it leaves behind: the pool's RSS
before, just after, and 30 s and 90 s after the flood, and whether either pool declared the other down meanwhile
(docs/reliability.md "Security: partner pool and replication").

  flood_rss.py --sip 127.0.0.1:22060 --admin http://127.0.0.1:22160 --partner-admin http://127.0.0.1:22162 --pid PID
               [--seconds 8] [--senders 4]

Loopback only; the flood and every wait are bounded in time.
"""
import argparse
import json
import os
import socket
import time
import urllib.request
from multiprocessing import Process


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    return -1


def metric(admin, name):
    try:
        with urllib.request.urlopen(admin + "/metrics", timeout=3) as r:
            text = r.read().decode()
    except OSError:
        return "?"
    return sum(float(l.split()[-1]) for l in text.splitlines() if l.startswith("sipcallpark_" + name) and not l.startswith("#"))


def phases(admin):
    try:
        with urllib.request.urlopen(admin + "/status", timeout=3) as r:
            return {d["pool"]: (d["phase"], d["healthy"]) for d in json.loads(r.read())["dr"]}
    except OSError:
        return {}


def flood(target, seconds, index, counter_file):
    host, port = target
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    local = s.getsockname()
    sent = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for _ in range(200):
            call_id = f"flood-{index}-{sent}"
            data = (f"INVITE sip:alice@callpark.lab SIP/2.0\r\nVia: SIP/2.0/UDP {local[0]}:{local[1]};rport;branch=z9hG4bK-{call_id}\r\n"
                    f"Max-Forwards: 70\r\nFrom: <sip:flood@example.com>;tag=f{index}\r\nTo: <sip:alice@callpark.lab>\r\n"
                    f"Call-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n").encode()
            try:
                s.sendto(data, (host, port))
            except OSError:
                pass
            sent += 1
    with open(counter_file, "a") as f:
        f.write(f"{sent}\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sip", required=True)
    parser.add_argument("--admin", required=True)
    parser.add_argument("--partner-admin", required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--senders", type=int, default=4)
    args = parser.parse_args()
    host, port = args.sip.rsplit(":", 1)
    assert host.startswith("127."), "loopback only"
    counter = f"/tmp/flood-count-{os.getpid()}"
    before = rss_mb(args.pid)
    transitions = (metric(args.admin, "dr_transitions_total"), metric(args.partner_admin, "dr_transitions_total"))
    senders = [Process(target=flood, args=((host, int(port)), args.seconds, i, counter)) for i in range(args.senders)]
    started = time.monotonic()
    for p in senders:
        p.start()
    worst = {}
    while any(p.is_alive() for p in senders):
        for admin in (args.admin, args.partner_admin):
            for pool, (phase, healthy) in phases(admin).items():
                if phase != "Normal" or healthy is False:
                    worst[(admin, pool)] = (phase, healthy)
        time.sleep(0.25)
    for p in senders:
        p.join(timeout=5)
    took = time.monotonic() - started
    sent = sum(int(l) for l in open(counter)) if os.path.exists(counter) else 0
    after = rss_mb(args.pid)
    samples = {}
    for wait in (30, 90):
        time.sleep(max(0.0, wait - (time.monotonic() - started - took)))
        samples[wait] = rss_mb(args.pid)
    transitions_after = (metric(args.admin, "dr_transitions_total"), metric(args.partner_admin, "dr_transitions_total"))
    print(f"flood: {sent} INVITEs in {took:.1f} s ({sent / took:.0f}/s) from {args.senders} senders")
    print(f"RSS MB: before {before}, just after {after}, +30 s {samples[30]}, +90 s {samples[90]}")
    print(f"dr transitions (pool, partner): before {transitions}, after {transitions_after}; non-Normal/unhealthy seen: {worst or 'none'}")
    print(f"shed: {metric(args.admin, 'requests_shed')}")
    os.remove(counter) if os.path.exists(counter) else None


if __name__ == "__main__":
    main()
