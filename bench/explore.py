"""Throughput and memory of the explicit-state explorers (Python and native).

Usage::

    python bench/explore.py            # full run, appends the table to docs/benchmarks.md
    python bench/explore.py --quick    # small smoke run
    python bench/explore.py --no-append

Every measurement runs in a fresh subprocess, so that its memory figures are its own: the
process builds and compiles the model, records its resident memory, explores the whole state
space with one always-true property (nothing stops the search early), then reports the peak
resident memory of its life (``ru_maxrss``).  Each case is measured with the Python engine
(`tcpmodel.engines.explicit`) and the native engine (`tcpmodel.engines.native`, compiled C; its
compilation, cached, is done before the clock starts) in the same run, so their ratio is
honest.  ``bytes per state`` is ``(peak RSS - RSS before exploring) / states``: the cost of the
visited set and the BFS levels per distinct state (Python: a set of ``bytes`` objects and the
level lists; native: the state arena, parent and action arrays, and the hash table).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"

Params = dict[str, int | bool | str]


ENGINES = ("explicit", "native")


@dataclass(frozen=True)
class Case:
    model: str
    params: Params
    engine: str = "explicit"


# The full run: 1-3 million reachable states each.
FULL: tuple[Case, ...] = (
    Case("alternating-bit", {"messages": 9, "capacity": 4, "channel": "reordering"}),
)
QUICK: tuple[Case, ...] = (
    Case("alternating-bit", {"messages": 5, "capacity": 4, "channel": "reordering"}),
)

HEADER = """# Benchmarks

Measurements of the explicit-state explorers (`tcpmodel.engines.explicit.explore` in Python and
`tcpmodel.engines.native.explore` in compiled C), produced by `python bench/explore.py`.  Each
row is one exhaustive exploration of a registered model (with one always-true property, so the
whole reachable state space is visited) by one engine, run in a fresh process:

* **states** / **transitions**: distinct reachable states, and enabled transitions counted over
  all of them;
* **seconds**: wall-clock time of the exploration (compilation of the model excluded), and
  **CPU s** the processor time it used (lower than wall-clock time when the machine is shared);
* **states/s**: distinct states per wall-clock second;
* **peak RSS**: the process's peak resident memory, in MiB;
* **bytes/state**: (peak RSS - RSS just before exploring) / states.

The figures are those of one run on the machine named; they vary with the machine and its load.
"""

COLUMNS = (
    "engine",
    "model",
    "params",
    "states",
    "transitions",
    "seconds",
    "CPU s",
    "states/s",
    "peak RSS MiB",
    "bytes/state",
)


def _rss_bytes() -> int:
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def worker(model: str, params: Params, engine: str) -> dict[str, float | int]:
    """One measurement, in this process (which should be fresh)."""
    from tcpmodel.engines import explicit, native
    from tcpmodel.formula import Property
    from tcpmodel.kernel.clib import Native
    from tcpmodel.kernel.compile import Compiled
    from tcpmodel.kernel.expr import TRUE, not_
    from tcpmodel.models import MODELS

    system = MODELS[model].build(params)
    prop = Property("true", "always", TRUE, "always(true)")
    if engine == "native":
        Native(system).flags([not_(prop.predicate)])  # compile (or find in the cache) off the clock
        explore = native.explore
    else:
        explore = explicit.explore
    compiled = Compiled(system)
    before = _rss_bytes()
    start, cpu = time.perf_counter(), time.process_time()
    outcomes, stats = explore(system, [prop], compiled=compiled)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert stats.complete and outcomes["true"].verdict == "holds"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    return {
        "states": stats.states,
        "transitions": stats.transitions,
        "seconds": seconds,
        "cpu": cpu,
        "rss_before": before,
        "peak_rss": peak,
    }


def measure(case: Case) -> dict[str, float | int]:
    cmd = [sys.executable, __file__, "--worker", case.model, json.dumps(case.params), case.engine]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    result: dict[str, float | int] = json.loads(out)
    return result


def row(case: Case, r: dict[str, float | int]) -> tuple[str, ...]:
    states = int(r["states"])
    params = ", ".join(f"{k}={v}" for k, v in case.params.items())
    return (
        case.engine,
        case.model,
        params,
        f"{states:,}",
        f"{int(r['transitions']):,}",
        f"{r['seconds']:.1f}",
        f"{r['cpu']:.1f}",
        f"{states / r['seconds']:,.0f}",
        f"{r['peak_rss'] / 2**20:.0f}",
        f"{(r['peak_rss'] - r['rss_before']) / states:.0f}",
    )


def table(rows: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, nproc {len(os.sched_getaffinity(0))}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small smoke run")
    ap.add_argument("--no-append", action="store_true", help=f"do not append to {DOC.name}")
    ap.add_argument("--note", default="", help="a remark for the heading of the appended section")
    ap.add_argument(
        "--worker", nargs=3, metavar=("MODEL", "PARAMS", "ENGINE"), help=argparse.SUPPRESS
    )
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], json.loads(args.worker[1]), args.worker[2])))
        return
    rows = []
    for base in QUICK if args.quick else FULL:
        for engine in ENGINES:
            case = Case(base.model, base.params, engine)
            rows.append(row(case, measure(case)))
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    text = table(rows)
    print()
    print(text, end="")
    if args.no_append:
        return
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    kind = "quick run" if args.quick else "full run"
    if args.note:
        kind += f"; {args.note}"
    section = f"\n## {stamp} ({kind})\n\nPython {platform.python_version()}; {machine()}.\n\n{text}"
    if not DOC.exists():
        DOC.parent.mkdir(parents=True, exist_ok=True)
        DOC.write_text(HEADER)
    with DOC.open("a") as f:
        f.write(section)
    print(f"\nappended to {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
