"""Partial-order reduction on every bundled configuration: what it reduces, and what it costs.

Usage::

    python bench/por.py                       # every spec in specs/, 20,000 states each, appends
    python bench/por.py specs/fixed-isn.toml --max-states 100000 --no-append

For each configuration, its ``always``/``reachable`` properties are checked by the Python
explorer twice within the same state bound, in full and with partial-order reduction
(`tcpmodel.kernel.por`, with the early switch-off disabled so every state tries it).  Columns:
the static analysis (actions, pairs of independent actions), states and seconds of both
searches, how many expansions the reduction shrank to an ample set, the reduction factor
(full states over reduced states, for searches both complete), and whether every verdict
agreed (definite verdicts compared; a bound may leave one side unknown).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path

from tcpmodel.engines import explicit
from tcpmodel.engines.explicit import explore
from tcpmodel.engines.search import Bounds
from tcpmodel.errors import TcpModelError
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.expr import not_
from tcpmodel.kernel.por import independence
from tcpmodel.spec import load, spec_files

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("specs", nargs="*", default=[str(ROOT / "specs")])
    parser.add_argument("--max-states", type=int, default=20_000)
    parser.add_argument("--no-append", action="store_true", help="do not append to the doc")
    parser.add_argument("--note", default="", help="a line about the machine's load")
    args = parser.parse_args()
    explicit.POR_TRIAL = sys.maxsize  # measure the reduction on every state
    rows: list[str] = []
    agree_all = True
    for path in spec_files(args.specs):
        try:
            spec = load(path)
        except TcpModelError as e:
            print(f"skipped {path}: {e}", file=sys.stderr)
            continue
        for cfg in spec.configurations:
            props = [c.prop for c in cfg.checks if c.prop.kind in ("always", "reachable")]
            if not props:
                continue
            name = f"{spec.name}:{cfg.variant or 'base'}"
            c = Compiled(cfg.system)
            preds = [not_(p.predicate) if p.kind == "always" else p.predicate for p in props]
            ind = independence(cfg.system, preds)
            bounds = Bounds(max_states=args.max_states)
            t0 = time.monotonic()
            full, fs = explore(cfg.system, props, bounds, compiled=c)
            t1 = time.monotonic()
            red, rs = explore(
                cfg.system, props, Bounds(max_states=args.max_states, por=True), compiled=c
            )
            t2 = time.monotonic()
            definite = [
                n for n in full if full[n].verdict != "unknown" and red[n].verdict != "unknown"
            ]
            agree = all(full[n].verdict == red[n].verdict for n in definite)
            agree_all &= agree
            expanded, reduced = rs.por or (0, 0)
            factor = (
                f"{fs.states / rs.states:.2f}"
                if fs.complete and rs.complete and rs.states
                else "bounded"
            )
            rows.append(
                f"| {name} | {len(cfg.system.actions)} | {ind.independent_pairs:,} | "
                f"{fs.states:,} | {t1 - t0:.1f} | {rs.states:,} | {t2 - t1:.1f} | "
                f"{reduced:,} of {expanded:,} | {factor} | "
                f"{'yes' if agree else 'NO'} ({len(definite)}) |"
            )
            print(rows[-1], flush=True)
    load_avg = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        "",
        f"## Partial-order reduction on the bundled specs ({datetime.date.today()})",
        "",
        f"`python bench/por.py --max-states {args.max_states}` on {platform.machine()}, "
        f"{os.cpu_count()} cores, load average {load_avg:.1f} at the end. {args.note}".rstrip(),
        "",
        "| configuration | actions | independent pairs | states full | s | states POR | s "
        "| expansions reduced | factor | verdicts agree (definite) |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_append:
        from tcpmodel.files import write_atomic

        write_atomic(DOC, DOC.read_text() + text)
    if not agree_all:
        raise SystemExit("a verdict differs between the full and the reduced search")


if __name__ == "__main__":
    main()
