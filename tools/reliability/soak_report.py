#!/usr/bin/env python3
"""Writes the soak's report.md and memory.svg from samples.csv and the load generators' results (see soak.sh)."""
import argparse
import csv
import os
import re


def sipp_counts(path):
    """(successful, failed) calls from the last row of a sipp -stf file, or None."""
    if not os.path.exists(path):
        return None
    with open(path, newline="") as f:
        rows = [r for r in csv.reader(f, delimiter=";") if r]
    if len(rows) < 2:
        return None
    head, last = rows[0], rows[-1]
    def col(name):
        return int(last[head.index(name)]) if name in head else 0
    return col("SuccessfulCall(C)"), col("FailedCall(C)")


def polyline(points, width, height, pad, xmax, ymax):
    out = []
    for x, y in points:
        px = pad + (width - 2 * pad) * (x / xmax if xmax else 0)
        py = height - pad - (height - 2 * pad) * (y / ymax if ymax else 0)
        out.append(f"{px:.1f},{py:.1f}")
    return " ".join(out)


def svg(samples, path):
    width, height, pad = 720, 300, 40
    xmax = max(s[0] for s in samples) or 1
    series = [
        ("RSS (MB)", [(s[0], s[1] / 1024) for s in samples], "#c0392b"),
        ("open fds", [(s[0], s[2]) for s in samples], "#2471a3"),
        ("threads", [(s[0], s[3]) for s in samples], "#229954"),
    ]
    ymax = max(max(v for _, v in pts) for _, pts, _ in series) * 1.1 or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#444"/>',
             f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#444"/>',
             f'<text x="{width / 2}" y="{height - 8}" text-anchor="middle">seconds (0 to {xmax})</text>',
             f'<text x="4" y="{pad - 8}">0 to {ymax:.0f}</text>']
    for i, (name, pts, colour) in enumerate(series):
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{polyline(pts, width, height, pad, xmax, ymax)}"/>')
        parts.append(f'<text x="{width - pad - 110}" y="{pad + 14 * i}" fill="{colour}">{name}</text>')
    parts.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(parts))


def ascii_plot(samples, index, scale, label):
    values = [s[index] / scale for s in samples]
    top = max(values) or 1
    lines = [f"{label} (each row one 10 s sample, bar scaled to the maximum {top:.1f})"]
    for s, v in zip(samples, values):
        lines.append(f"{s[0]:>5} s {v:>9.1f} " + "#" * int(40 * v / top))
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--minutes", required=True)
    parser.add_argument("--pool-alive", type=int, required=True)
    parser.add_argument("--rc", nargs="+", default=[])
    args = parser.parse_args()
    out = args.out

    samples = []
    with open(os.path.join(out, "samples.csv")) as f:
        for row in csv.DictReader(f):
            samples.append((int(row["elapsed_s"]), int(row["rss_kb"]), int(row["fds"]), int(row["threads"])))
    samples = [s for s in samples if s[1] > 0]
    rcs = dict(item.split("=", 1) for item in args.rc)

    flows = []
    for name, stat in [("register", "register.stat.csv"), ("calls-uac", "uac.stat.csv"), ("calls-uas", "uas.stat.csv"),
                       ("park-timeouts", "timeout.stat.csv")]:
        counts = sipp_counts(os.path.join(out, stat))
        ok, failed = counts if counts else ("?", "?")
        flows.append((name, ok, failed, rcs.get(name, "?")))
    park_ok = park_failed = "?"
    parkload = os.path.join(out, "parkload.log")
    if os.path.exists(parkload):
        text = open(parkload).read()
        m = re.findall(r"completed=(\d+)", text)
        f = re.findall(r"failed=(\d+)", text)
        park_ok = m[-1] if m else "see parkload.log"
        park_failed = f[-1] if f else "see parkload.log"
    flows.append(("park-retrieve", park_ok, park_failed, rcs.get("park-retrieve", "?")))

    passed = args.pool_alive == 1 and all(rc == "0" for _, _, _, rc in flows) and all(str(f) in ("0", "?") for _, _, f, _ in flows[:-1])
    if samples:
        svg(samples, os.path.join(out, "memory.svg"))
    first, last = (samples[0], samples[-1]) if samples else ((0, 0, 0, 0),) * 2
    peak = max(samples, key=lambda s: s[1]) if samples else first
    lines = [
        f"# Soak report ({args.minutes} min)",
        "",
        f"Result: **{'pass' if passed else 'FAIL'}** — pool {'alive' if args.pool_alive else 'DEAD'} at the end; "
        "a flow passes when its generator exits 0 with no failed call.",
        "",
        "| flow | completed | failed | exit code |",
        "|---|---|---|---|",
    ]
    lines += [f"| {n} | {ok} | {failed} | {rc} |" for n, ok, failed, rc in flows]
    lines += [
        "",
        "| pool | start | end | peak |",
        "|---|---|---|---|",
        f"| RSS (MB) | {first[1] / 1024:.1f} | {last[1] / 1024:.1f} | {peak[1] / 1024:.1f} at {peak[0]} s |",
        f"| open file descriptors | {first[2]} | {last[2]} | {max(s[2] for s in samples) if samples else 0} |",
        f"| threads | {first[3]} | {last[3]} | {max(s[3] for s in samples) if samples else 0} |",
        "",
        "![memory, handles and threads over time](memory.svg)",
        "",
        "```",
        ascii_plot(samples, 1, 1024, "RSS MB") if samples else "no samples",
        "",
        ascii_plot(samples, 2, 1, "open fds") if samples else "",
        "```",
        "",
        "Samples: `samples.csv` (every 10 s: elapsed_s, rss_kb, fds, threads of the pool process).",
    ]
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines[:14]))
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
