"""Throughput of ``tcpmodel validate`` on the largest committed capture.

Usage::

    python bench/validate.py              # tests/captures/many.pcap; appends to docs/benchmarks.md
    python bench/validate.py --no-append
    python bench/validate.py --limit 100  # only the first 100 connections (a smoke run)

Reads the capture, validates every connection with the Linux profile (one trace-guided search
per connection; the model is compiled once, as its configuration repeats) and prints the
segments validated per second: all TCP segments of the capture over the wall-clock time of
reading, abstracting, searching and replaying every witness.  The compile time of the model
is reported apart (it is paid once per configuration, not per segment).
"""

from __future__ import annotations

import argparse
import datetime
import platform
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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
    t2 = time.perf_counter()
    verdicts: list[Verdict] = [_validate(str(args.capture), c, "linux", {}, models) for c in conns]
    search_s = time.perf_counter() - t2
    segments = sum(len(c.packets) for c in conns)
    total = read_s + search_s
    counts = Counter(v.verdict for v in verdicts)
    rate = segments / total
    print(
        f"{args.capture.name}: {len(conns)} connections, {segments:,} segments: "
        f"{dict(counts)}; read {read_s:.2f} s, compile {compile_s:.2f} s (once), "
        f"validate {search_s:.2f} s: {rate:,.0f} segments/s"
    )
    if not args.no_append:
        stamp = datetime.date.today().isoformat()
        DOC.write_text(
            DOC.read_text().rstrip("\n")
            + f"\n\n### tcpmodel validate ({stamp})\n\n"
            + "`python bench/validate.py`: every connection of `tests/captures/many.pcap` "
            + "(1,000 request/response connections captured from real Linux TCP) validated "
            + "with `--profile linux`, one trace-guided search per connection, each witness "
            + f"replayed. {platform.machine()}, Python {platform.python_version()}, "
            + "2 cores shared with other work.\n\n"
            + "| connections | segments | verdicts | read s | compile s (once) | validate s "
            + "| segments/s |\n|---|---|---|---|---|---|---|\n"
            + f"| {len(conns)} | {segments:,} | "
            + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
            + f" | {read_s:.2f} | {compile_s:.2f} | {search_s:.2f} | {rate:,.0f} |\n"
        )
    return 0 if counts.get("conforms", 0) == len(conns) else 1


if __name__ == "__main__":
    sys.exit(main())
