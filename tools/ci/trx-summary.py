#!/usr/bin/env python3
"""Sums test counts for CI and prints exactly one line: "N passed, N failed" (", N skipped" when any were).

Reads two kinds of input, both optional:
  --trx DIR       every *.trx under DIR (VSTest TRX files written by `dotnet test --logger trx`): the
                  <ResultSummary><Counters .../> of each file.
  --counts DIR    every *.counts under DIR, written by the interop scripts (tools/interop/*.sh) as lines of
                  key=value with keys passed, failed, skipped; a key may repeat and repeats add up. Blank lines
                  and lines starting with '#' are ignored.

Before that line it lists, on stderr, each test that did not pass (its TRX file, name, outcome and the first
lines of its message), so that a failure in a long CI log can be found without the TRX files.

Exit status: 0 when at least one test ran and none failed; 1 when any failed or none ran; 2 when an input
cannot be read (a broken TRX or counts file must not pass as "zero tests").
"""

import argparse
import pathlib
import sys
import xml.etree.ElementTree as ElementTree

TRX_NAMESPACE = "{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}"

# TRX outcomes that mean a test did not pass although it ran or should have run.
TRX_FAILED = ("failed", "error", "timeout", "aborted", "passedButRunAborted", "disconnected")
# TRX outcomes of tests that were not run on purpose (NUnit [Ignore], Assert.Ignore, Assert.Inconclusive).
TRX_SKIPPED = ("notExecuted", "inconclusive", "notRunnable")

COUNT_KEYS = ("passed", "failed", "skipped")


def read_trx(path: pathlib.Path) -> dict:
    counters = ElementTree.parse(path).getroot().find(f"{TRX_NAMESPACE}ResultSummary/{TRX_NAMESPACE}Counters")
    if counters is None:
        raise ValueError("no ResultSummary/Counters element")

    def count(name: str) -> int:
        return int(counters.get(name, "0"))

    return {
        "passed": count("passed"),
        "failed": sum(count(name) for name in TRX_FAILED),
        "skipped": sum(count(name) for name in TRX_SKIPPED),
    }


def failed_results(path: pathlib.Path) -> list:
    """(test name, outcome, first lines of the error message) of each result in a TRX file that did not pass."""
    failed = []
    for result in ElementTree.parse(path).getroot().iter(f"{TRX_NAMESPACE}UnitTestResult"):
        outcome = result.get("outcome", "")
        if outcome.lower() not in (name.lower() for name in TRX_FAILED):
            continue
        message = result.find(f"{TRX_NAMESPACE}Output/{TRX_NAMESPACE}ErrorInfo/{TRX_NAMESPACE}Message")
        text = (message.text or "").strip() if message is not None else ""
        failed.append((result.get("testName", "?"), outcome, "\n".join(text.splitlines()[:6])))
    return failed


def read_counts(path: pathlib.Path) -> dict:
    totals = dict.fromkeys(COUNT_KEYS, 0)
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, separator, value = line.partition("=")
        key = key.strip()
        if not separator or key not in totals or not value.strip().isdigit():
            raise ValueError(f"line {number}: expected passed=N, failed=N or skipped=N, read {line!r}")
        totals[key] += int(value)
    return totals


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trx", type=pathlib.Path, help="folder searched for *.trx files")
    parser.add_argument("--counts", type=pathlib.Path, help="folder searched for *.counts files")
    parser.add_argument("--verbose", action="store_true", help="also list each file's counts on stderr")
    args = parser.parse_args()

    inputs = []
    if args.trx is not None and args.trx.is_dir():
        inputs += [(path, read_trx) for path in sorted(args.trx.rglob("*.trx"))]
    if args.counts is not None and args.counts.is_dir():
        inputs += [(path, read_counts) for path in sorted(args.counts.rglob("*.counts"))]

    totals = dict.fromkeys(COUNT_KEYS, 0)
    for path, reader in inputs:
        try:
            counts = reader(path)
        except (OSError, ValueError, ElementTree.ParseError) as error:
            print(f"trx-summary: cannot read {path}: {error}", file=sys.stderr)
            return 2
        if args.verbose:
            print(f"  {path.name}: " + ", ".join(f"{counts[k]} {k}" for k in COUNT_KEYS), file=sys.stderr)
        for key in COUNT_KEYS:
            totals[key] += counts[key]
        if reader is read_trx and counts["failed"] > 0:
            for name, outcome, message in failed_results(path):
                print(f"FAILED ({outcome}) {path.name}: {name}", file=sys.stderr)
                for text in message.splitlines():
                    print(f"    {text}", file=sys.stderr)

    line = f"{totals['passed']} passed, {totals['failed']} failed"
    if totals["skipped"] > 0:
        line += f", {totals['skipped']} skipped"
    print(line)

    ran = totals["passed"] + totals["failed"]
    return 0 if ran > 0 and totals["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
