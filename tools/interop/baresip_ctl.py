#!/usr/bin/env python3
"""A small client for baresip's ctrl_tcp module (netstring-framed JSON), standard library only.

baresip 1.0 accepts one control connection at a time (a new one replaces the old) and pushes events only to it,
so one `session` process per baresip instance holds the connection; the other subcommands talk through it:

  baresip_ctl.py session --port 4444 --dir D [--timeout 120]
      Connects (retrying for a few seconds), writes every message baresip sends (events and command responses)
      as one JSON line to D/events.jsonl, and forwards commands written to the FIFO D/cmd. Ends at --timeout,
      when baresip closes the connection, or on SIGTERM.
  baresip_ctl.py send --dir D [--timeout 5] COMMAND [PARAMS ...]
      Sends a command (dial, accept, hangup, answermode, reginfo, listcalls, ...) through the session and prints
      the response's data. Exit 0 when baresip answers ok, 1 when it answers not ok, 2 on timeout.
  baresip_ctl.py wait --dir D [--timeout 10] [--count N] TYPE
      Waits until events.jsonl holds N (default 1) events of TYPE (CALL_ESTABLISHED, CALL_CLOSED, ...) and prints
      the last one. Exit 0 when seen, 1 on timeout.
  baresip_ctl.py once --port 4444 [--timeout 5] COMMAND [PARAMS ...]
      One command on a connection of its own (replaces any session's connection); for use by hand.
"""

import argparse
import errno
import json
import os
import secrets
import select
import signal
import socket
import sys
import time


def encode_netstring(obj):
    payload = json.dumps(obj, separators=(",", ":")).encode("utf-8")
    return str(len(payload)).encode("ascii") + b":" + payload + b","


class NetstringReader:
    """Splits a byte stream into netstring payloads."""

    MAX = 1 << 20

    def __init__(self):
        self._buf = b""

    def feed(self, data):
        self._buf += data
        out = []
        while True:
            colon = self._buf.find(b":")
            if colon < 0:
                if len(self._buf) > 16:
                    raise ValueError("netstring length prefix too long")
                break
            head = self._buf[:colon]
            if not head.isdigit():
                raise ValueError("bad netstring length %r" % head[:20])
            size = int(head)
            if size > self.MAX:
                raise ValueError("netstring of %d bytes refused" % size)
            end = colon + 1 + size
            if len(self._buf) < end + 1:
                break
            if self._buf[end:end + 1] != b",":
                raise ValueError("netstring not terminated by ','")
            out.append(self._buf[colon + 1:end])
            self._buf = self._buf[end + 1:]
        return out


def connect(port, timeout):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=2)
        except OSError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


def decode(payload):
    try:
        return json.loads(payload.decode("utf-8", "replace"))
    except ValueError:
        return {"unparsed": payload.decode("utf-8", "replace")}


# ------------------------------------------------------------------ session

def cmd_session(args):
    os.makedirs(args.dir, exist_ok=True)
    fifo = os.path.join(args.dir, "cmd")
    events_path = os.path.join(args.dir, "events.jsonl")
    if not os.path.exists(fifo):
        os.mkfifo(fifo, 0o600)
    stop = {"now": False}

    def on_term(_sig, _frame):
        stop["now"] = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    sock = connect(args.port, args.connect_timeout)
    sock.setblocking(False)
    # O_RDWR keeps the FIFO open for reading without ever seeing EOF when a writer closes.
    fifo_fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
    reader = NetstringReader()
    pending = b""
    deadline = time.monotonic() + args.timeout
    status = 0
    with open(events_path, "a", encoding="utf-8") as events:
        events.write(json.dumps({"session": "connected", "port": args.port, "t": time.time()}) + "\n")
        events.flush()
        while not stop["now"]:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                readable, _, _ = select.select([sock, fifo_fd], [], [], min(left, 0.5))
            except InterruptedError:
                continue
            if sock in readable:
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    data = None
                except OSError as e:
                    events.write(json.dumps({"session": "error", "error": str(e), "t": time.time()}) + "\n")
                    status = 1
                    break
                if data == b"":
                    events.write(json.dumps({"session": "closed by baresip", "t": time.time()}) + "\n")
                    break
                if data:
                    for payload in reader.feed(data):
                        message = decode(payload)
                        message.setdefault("t", time.time())
                        events.write(json.dumps(message) + "\n")
                    events.flush()
            if fifo_fd in readable:
                try:
                    pending += os.read(fifo_fd, 65536)
                except BlockingIOError:
                    pass
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    if not line.strip():
                        continue
                    command = json.loads(line)
                    sock.setblocking(True)
                    sock.sendall(encode_netstring(command))
                    sock.setblocking(False)
                    events.write(json.dumps({"sent": command, "t": time.time()}) + "\n")
                    events.flush()
        events.write(json.dumps({"session": "ended", "t": time.time()}) + "\n")
    os.close(fifo_fd)
    sock.close()
    return status


# ------------------------------------------------------------------ send / wait through a session

def read_events(path):
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
    except FileNotFoundError:
        return []
    out = []
    for line in lines:
        line = line.strip()
        if line:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass  # a line being written right now
    return out


def cmd_send(args):
    fifo = os.path.join(args.dir, "cmd")
    events_path = os.path.join(args.dir, "events.jsonl")
    token = secrets.token_hex(6)
    command = {"command": args.command, "token": token}
    if args.params:
        command["params"] = " ".join(args.params)
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as e:
        print("no session on %s (%s)" % (fifo, errno.errorcode.get(e.errno, e)), file=sys.stderr)
        return 2
    try:
        os.write(fd, (json.dumps(command) + "\n").encode("utf-8"))
    finally:
        os.close(fd)
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        for message in read_events(events_path):
            if message.get("response") and message.get("token") == token:
                print(message.get("data", ""))
                return 0 if message.get("ok") else 1
        time.sleep(0.05)
    print("no response to %r within %.1f s" % (args.command, args.timeout), file=sys.stderr)
    return 2


def cmd_wait(args):
    events_path = os.path.join(args.dir, "events.jsonl")
    deadline = time.monotonic() + args.timeout
    while True:
        seen = [m for m in read_events(events_path) if m.get("event") and m.get("type") == args.type]
        if len(seen) >= args.count:
            print(json.dumps(seen[args.count - 1]))
            return 0
        if time.monotonic() >= deadline:
            print("%d of %d %s event(s) within %.1f s" % (len(seen), args.count, args.type, args.timeout),
                  file=sys.stderr)
            return 1
        time.sleep(0.05)


def cmd_once(args):
    token = secrets.token_hex(6)
    command = {"command": args.command, "token": token}
    if args.params:
        command["params"] = " ".join(args.params)
    sock = connect(args.port, min(args.timeout, 3))
    sock.settimeout(0.2)
    sock.sendall(encode_netstring(command))
    reader = NetstringReader()
    deadline = time.monotonic() + args.timeout
    try:
        while time.monotonic() < deadline:
            try:
                data = sock.recv(65536)
            except socket.timeout:
                continue
            if not data:
                break
            for payload in reader.feed(data):
                message = decode(payload)
                if message.get("response") and message.get("token") == token:
                    print(message.get("data", ""))
                    return 0 if message.get("ok") else 1
    finally:
        sock.close()
    print("no response to %r within %.1f s" % (args.command, args.timeout), file=sys.stderr)
    return 2


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="sub", required=True)

    p = sub.add_parser("session", help="hold the control connection; log messages, forward commands")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--timeout", type=float, default=120.0, help="seconds until the session ends by itself")
    p.add_argument("--connect-timeout", type=float, default=10.0)
    p.set_defaults(func=cmd_session)

    p = sub.add_parser("send", help="send a command through a session")
    p.add_argument("--dir", required=True)
    p.add_argument("--timeout", type=float, default=5.0)
    p.add_argument("command")
    p.add_argument("params", nargs="*")
    p.set_defaults(func=cmd_send)

    p = sub.add_parser("wait", help="wait for an event type in a session's log")
    p.add_argument("--dir", required=True)
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("type")
    p.set_defaults(func=cmd_wait)

    p = sub.add_parser("once", help="one command on its own connection")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--timeout", type=float, default=5.0)
    p.add_argument("command")
    p.add_argument("params", nargs="*")
    p.set_defaults(func=cmd_once)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
