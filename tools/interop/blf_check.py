#!/usr/bin/env python3
"""Checks the orbit lamp NOTIFYs a sipp subscriber received (tools/interop/sipp/blf-watch.xml), standard library only.

  blf_check.py --log watcher.messages.log --orbit 7000 --schema tools/interop/schema/dialog-info.xsd [--bodies DIR]

For the subscription's NOTIFYs, in order: Event: dialog; Subscription-State active;expires=N (the last terminated);
Content-Type application/dialog-info+xml; a dialog-info document of the orbit, full state, versions 0, 1, 2, ... and
the states free / parked / free / free (terminated, confirmed, terminated, terminated); the parked one names the
parked party as the remote identity. Each body is written to DIR and validated with `xmllint --schema` when xmllint
is installed (a line says so when it is not). Prints "ok ..." / "FAIL ..." lines; exits 1 on a failure.
"""

import argparse
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from park_check import Checks, read_log  # noqa: E402

NS = "{urn:ietf:params:xml:ns:dialog-info}"


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", required=True)
    parser.add_argument("--orbit", required=True)
    parser.add_argument("--schema", required=True)
    parser.add_argument("--bodies", default=None)
    args = parser.parse_args(argv)
    checks = Checks()

    def check(ok, what, evidence=""):
        return checks.check(ok, what, "" if evidence is None else str(evidence))

    notifies = [m for m in read_log(args.log) if m.direction == "received" and m.is_request and m.method == "NOTIFY"]
    check(len(notifies) == 4, "4 NOTIFYs (free, parked, retrieved, unsubscribed)", "got %d" % len(notifies))
    expected = ["terminated", "confirmed", "terminated", "terminated"]
    bodies_dir = args.bodies or os.path.dirname(os.path.abspath(args.log))
    xmllint = shutil.which("xmllint")
    for n, notify in enumerate(notifies[:4]):
        last = n == len(notifies) - 1
        check(notify.header("event") == "dialog", "NOTIFY %d: Event: dialog" % n, notify.header("event"))
        state = notify.header("subscription-state") or ""
        check(state.startswith("terminated") if last else state.startswith("active;expires="),
                "NOTIFY %d: Subscription-State %s" % (n, "terminated" if last else "active;expires=N"), state)
        check((notify.header("content-type") or "").startswith("application/dialog-info+xml"),
                "NOTIFY %d: Content-Type application/dialog-info+xml" % n, notify.header("content-type"))
        try:
            root = ET.fromstring(notify.body.encode("utf-8"))
        except ET.ParseError as e:
            check(False, "NOTIFY %d: body is XML" % n, str(e))
            continue
        check(root.tag == NS + "dialog-info" and root.get("state") == "full"
                and root.get("entity") == "sip:%s@callpark.lab" % args.orbit,
                "NOTIFY %d: full dialog-info of sip:%s@callpark.lab" % (n, args.orbit), "%s %s" % (root.tag, root.attrib))
        check(root.get("version") == str(n), "NOTIFY %d: version %d" % (n, n), root.get("version"))
        states = [d.findtext(NS + "state") for d in root.findall(NS + "dialog")]
        check(states == [expected[n]], "NOTIFY %d: the orbit shows %s" % (n, expected[n]), states)
        if expected[n] == "confirmed":
            remote = root.findtext(NS + "dialog/" + NS + "remote/" + NS + "identity") or ""
            check(remote.startswith("sip:bob@"), "NOTIFY %d: the parked party is the remote identity" % n, remote)
            direction = root.find(NS + "dialog").get("direction")
            check(direction == "recipient", "NOTIFY %d: direction recipient" % n, direction)
        path = os.path.join(bodies_dir, "notify-%d.xml" % n)
        with open(path, "w", encoding="utf-8") as f:
            f.write(notify.body)
        if xmllint:
            run = subprocess.run([xmllint, "--noout", "--schema", args.schema, path], capture_output=True, text=True, timeout=30)
            check(run.returncode == 0, "NOTIFY %d: valid against %s (xmllint)" % (n, os.path.basename(args.schema)),
                    (run.stderr or run.stdout).strip()[:300])
    if not xmllint:
        print("skip xmllint is not installed (libxml2-utils): bodies not checked against the schema")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
