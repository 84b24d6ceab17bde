"""Throughput of ``tcpmodel validate`` on the largest committed capture.

Usage::

    python bench/validate.py              # tests/captures/many.pcap; appends to docs/benchmarks.md
    python bench/validate.py --no-append
    python bench/validate.py --limit 100  # only the first 100 connections (a smoke run)
    python bench/validate.py --differing  # connections unlike any before (below)
    python bench/validate.py --differing --python   # the same, the Python successors only

Reads the capture, validates every connection with the Linux profile (one trace-guided search
per connection; the model is compiled once, as its configuration repeats) and prints the
segments validated per second: all TCP segments of the capture over the wall-clock time of
reading, abstracting, searching and replaying every distinct witness.  The compile time of
the model is reported apart (it is paid once per configuration, not per segment), and so is
the machine's load average (the clock is wall time: other work on the cores slows it).

``--differing`` measures connections unlike any before, which the search's memos cannot
share: the first ``--limit`` connections (default 200), each validated after emptying the
memos, in two ways: ``steps`` empties the remembered search steps (the connection's model
states are known: its closures and matches are searched again), ``cold`` empties every memo
(successors, expansions, trace steps, replayed witnesses: every state is expanded again),
each with the Python successor function and with the native one (C, `clib.Native`; its
compilation by gcc, if not cached, is timed apart).  ``--python`` leaves the native one out.
The table gives segments per CPU second (the clock of this process only).
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
from tcpmodel.validate.successors import Mode  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"


def what(capture: Path) -> str:
    """What a committed capture holds, as its scenario in tests/captures/make.py says."""
    sys.path.insert(0, str(ROOT / "tests" / "captures"))
    import make

    found = [sc.what for sc in make.SCENARIOS if sc.name == capture.stem]
    return found[0] if found else "a capture"


CAPTURE = ROOT / "tests" / "captures" / "many.pcap"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("capture", nargs="?", type=Path, default=CAPTURE)
    ap.add_argument("--limit", type=int, default=0, help="validate only the first N connections")
    ap.add_argument("--no-append", action="store_true")
    ap.add_argument("--differing", action="store_true", help="empty the memos per connection")
    ap.add_argument("--python", action="store_true", help="--differing: Python successors only")
    args = ap.parse_args()
    if args.differing:
        return differing(args.capture, args.limit or 200, args.python, not args.no_append)
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
        shown = (
            args.capture.resolve().relative_to(ROOT)
            if args.capture.resolve().is_relative_to(ROOT)
            else args.capture
        )
        write_atomic(
            DOC,
            DOC.read_text().rstrip("\n")
            + f"\n\n### tcpmodel validate ({stamp})\n\n"
            + f"`python bench/validate.py {shown}`: every connection of `{shown}` "
            + f"({what(args.capture)}) validated "
            + "with `--profile linux`, one trace-guided search per connection, each distinct "
            + "witness replayed; a configuration other than the first connection's is "
            + f"compiled within the timed part. {platform.machine()}, "
            + f"Python {platform.python_version()}, "
            + f"2 cores shared with other work (1-minute load average {load:.1f}).\n\n"
            + "| connections | segments | verdicts | read s | compile s (once) | validate s "
            + "| validate CPU s | segments/s |\n|---|---|---|---|---|---|---|---|\n"
            + f"| {len(conns)} | {segments:,} | "
            + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
            + f" | {read_s:.2f} | {compile_s:.2f} | {search_s:.2f} | {cpu_s:.2f} | {rate:,.0f} |\n",
        )
    return 0 if counts.get("conforms", 0) == len(conns) else 1


# What each way of emptying clears on a Searcher (see the module's docstring).
EMPTIED = {
    "steps": ("closures", "matches"),
    "cold": ("closures", "matches", "_succ", "_expanded", "_inbound", "_decoded", "_steps",
             "replayed"),
}  # fmt: skip


def differing(capture: Path, limit: int, python_only: bool, append: bool) -> int:
    conns = connections(read(capture))[:limit]
    segments = sum(len(c.packets) for c in conns)
    first = abstract(conns[0])
    params = parameters(first, "linux", half_close(first))
    params["capacity"] = 2
    modes: tuple[Mode, ...] = ("python",) if python_only else ("python", "native")
    compile_s: dict[str, float] = {}
    rows: list[tuple[str, str, float, int, str]] = []
    load = os.getloadavg()[0]
    for mode in modes:
        models = Models(mode)
        t = time.perf_counter()
        _system, sr = models.get(params)  # the native library compiled here if not cached
        compile_s[mode] = time.perf_counter() - t
        if sr.fn.engine != mode:
            print(f"{mode}: not available ({sr.fn.note})")
            continue
        for how, names in EMPTIED.items():
            verdicts: list[Verdict] = []
            cpu = 0.0
            for c in conns:
                for _s, searcher in models.cache.values():
                    for name in names:
                        getattr(searcher, name).clear()
                    searcher.memo_size = 0
                c0 = time.process_time()
                verdicts.append(_validate(str(capture), c, "linux", {}, models))
                cpu += time.process_time() - c0
            counts = Counter(v.verdict for v in verdicts)
            summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
            rows.append((how, mode, cpu, segments, summary))
        load = max(load, os.getloadavg()[0])
    head = (
        "| memos emptied per connection | successors | connections | segments | verdicts "
        "| CPU s | ms/connection | segments/CPU s |\n|---|---|---|---|---|---|---|---|\n"
    )
    table = head + "".join(
        f"| {how} | {mode} | {len(conns)} | {segs:,} | {summary} | {cpu:.2f} "
        f"| {1000 * cpu / len(conns):.1f} | {segs / cpu:,.0f} |\n"
        for how, mode, cpu, segs, summary in rows
    )
    compiled = ", ".join(f"{m} {s:.2f} s" for m, s in compile_s.items())
    print(table + f"\nmodel compiled (once, before the clock): {compiled}; load average {load:.1f}")
    if append:
        stamp = datetime.date.today().isoformat()
        write_atomic(
            DOC,
            DOC.read_text().rstrip("\n")
            + f"\n\n### tcpmodel validate, differing connections ({stamp})\n\n"
            + f"`python bench/validate.py --differing`: the first {len(conns)} connections of "
            + f"`{capture.name}`, each validated with `--profile linux` after emptying the "
            + "search's memos (`steps`: the remembered search steps, so its closures and "
            + "matches are searched again over known model states; `cold`: every memo, so "
            + "every model state is expanded again), with the Python and the native (C) "
            + f"successor function. {platform.machine()}, Python {platform.python_version()}, "
            + f"2 cores shared with other work (1-minute load average {load:.1f}); CPU time of "
            + "this process. The model compiled before the clock (Python, then Python and "
            + f"C, gcc included if not cached): {compiled}.\n\n"
            + table,
        )
    return 0 if all(r[4] == f"{len(conns)} conforms" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
