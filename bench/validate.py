"""Throughput of ``tcpmodel validate`` on the largest committed capture.

Usage::

    python bench/validate.py              # tests/captures/many.pcap; appends to docs/benchmarks.md
    python bench/validate.py --no-append
    python bench/validate.py --limit 100  # only the first 100 connections (a smoke run)

Reads the capture, validates every connection with the Linux profile (one trace-guided search
per connection; the model is compiled once, as its configuration repeats) and prints the
segments validated per second: all TCP segments of the capture over the wall-clock time of
reading, abstracting, searching and replaying every distinct witness.  The compile time of
the model is reported apart (it is paid once per configuration, not per segment), and so is
the machine's load average (the clock is wall time: other work on the cores slows it).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tcpmodel.files import write_atomic  # noqa: E402
from tcpmodel.validate import Models, Verdict, _validate  # noqa: E402
from tcpmodel.validate.abstract import abstract, half_close, parameters  # noqa: E402
from tcpmodel.validate.capture import connections, read  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
CAPTURE = ROOT / "tests" / "captures" / "many.pcap"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("capture", nargs="?", type=Path, default=CAPTURE)
    ap.add_argument("--limit", type=int, default=0, help="validate only the first N connections")
    ap.add_argument("--no-append", action="store_true")
    args = ap.parse_args()
    models = Models()
    t0 = time.perf_counter()
    packets = read(args.capture)
    conns = connections(packets)
    if args.limit:
        conns = conns[: args.limit]
    # Compile the configuration of the first connection before the clock starts.
    first = abstract(conns[0])
    params = parameters(first, "linux", half_close(first))
    params["capacity"] = 2
    t1 = time.perf_counter()
    models.get(params)
    compile_s = time.perf_counter() - t1
    read_s = t1 - t0
    load = os.getloadavg()[0]
    t2 = time.perf_counter()
    c2 = time.process_time()
    verdicts: list[Verdict] = [_validate(str(args.capture), c, "linux", {}, models) for c in conns]
    search_s = time.perf_counter() - t2
    cpu_s = time.process_time() - c2
    load = max(load, os.getloadavg()[0])
    segments = sum(len(c.packets) for c in conns)
    total = read_s + search_s
    counts = Counter(v.verdict for v in verdicts)
    rate = segments / total
    print(
        f"{args.capture.name}: {len(conns)} connections, {segments:,} segments: "
        f"{dict(counts)}; read {read_s:.2f} s, compile {compile_s:.2f} s (once), "
        f"validate {search_s:.2f} s ({cpu_s:.2f} s CPU): {rate:,.0f} segments/s; "
        f"load average {load:.1f}"
    )
    if not args.no_append:
        stamp = datetime.date.today().isoformat()
        write_atomic(
            DOC,
            DOC.read_text().rstrip("\n")
            + f"\n\n### tcpmodel validate ({stamp})\n\n"
            + "`python bench/validate.py`: every connection of `tests/captures/many.pcap` "
            + "(1,000 request/response connections captured from real Linux TCP) validated "
            + "with `--profile linux`, one trace-guided search per connection, each distinct "
            + f"witness replayed. {platform.machine()}, Python {platform.python_version()}, "
            + f"2 cores shared with other work (1-minute load average {load:.1f}).\n\n"
            + "| connections | segments | verdicts | read s | compile s (once) | validate s "
            + "| validate CPU s | segments/s |\n|---|---|---|---|---|---|---|---|\n"
            + f"| {len(conns)} | {segments:,} | "
            + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
            + f" | {read_s:.2f} | {compile_s:.2f} | {search_s:.2f} | {cpu_s:.2f} | {rate:,.0f} |\n",
        )
    return 0 if counts.get("conforms", 0) == len(conns) else 1


if __name__ == "__main__":
    sys.exit(main())
