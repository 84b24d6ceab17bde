"""k-induction proofs of rfc9293-32bit: the invariants' check (Houdini) and the implication,
per variant, with one solver thread and with one per core, in the same run.

Usage::

    python bench/proofs.py                         # specs/rfc9293-32bit.toml, jobs 1 and cores
    python bench/proofs.py --jobs 2 --no-append    # one setting, print only
    python bench/proofs.py specs/fixed-isn-32bit.toml

Each row is one `kind` call on one configuration (the spec's `holds` properties and its
invariants, the spec's timeout), timed wall-clock, with the verdicts it gave and the number
of invariants it kept.  The machine's load average at the start of each row is printed too:
the ratio between the rows of one run is the figure to read, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import datetime
import os
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from tcpmodel.engines.kind import kind
from tcpmodel.engines.search import Bounds, default_jobs
from tcpmodel.spec import load

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
COLUMNS = ("variant", "jobs", "verdicts", "invariants kept", "seconds", "load at start")


def run(path: Path, jobs_list: list[int]) -> list[list[str]]:
    spec = load(path)
    rows: list[list[str]] = []
    for cfg in spec.configurations:
        props = [c.prop for c in cfg.checks if c.expect == "holds"]
        for jobs in jobs_list:
            load_avg = os.getloadavg()[0]
            start = time.perf_counter()
            out, _ = kind(
                cfg.system,
                props,
                Bounds(timeout=spec.bounds.timeout),
                invariants=cfg.invariants,
                jobs=jobs,
            )
            seconds = time.perf_counter() - start
            # Every outcome's reason names each invariant kind dropped ("; invariant ...").
            dropped = max((o.reason.count("; invariant ") for o in out.values()), default=0)
            kept = len(cfg.invariants) - dropped
            rows.append(
                [
                    cfg.variant or "base",
                    str(jobs),
                    ", ".join(f"{n} {o.verdict}" for n, o in out.items()),
                    f"{kept}/{len(cfg.invariants)}",
                    f"{seconds:.1f}",
                    f"{load_avg:.1f}",
                ]
            )
            Console(stderr=True).print(" | ".join(rows[-1]))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("path", nargs="?", default=str(ROOT / "specs" / "rfc9293-32bit.toml"))
    ap.add_argument("--jobs", type=int, action="append", help="solver threads (repeatable)")
    ap.add_argument("--no-append", action="store_true", help="do not write docs/benchmarks.md")
    args = ap.parse_args()
    jobs_list = args.jobs or sorted({1, default_jobs()})
    path = Path(args.path)
    rows = run(path, jobs_list)
    table = Table(*COLUMNS, title=f"kind on {path.name}")
    for row in rows:
        table.add_row(*row)
    Console(width=200).print(table)
    if args.no_append:
        return
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    lines = [
        f"\n## {stamp} (k-induction proofs of {path.name}: bench/proofs.py, "
        f"{os.cpu_count()} cores)\n",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
        *("| " + " | ".join(r) + " |" for r in rows),
        "",
    ]
    with DOC.open("a") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
