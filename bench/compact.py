"""Memory per state of the native engine, exact and with hash compaction (``--compact``).

Usage::

    python bench/compact.py                 # full run, appends the table to docs/benchmarks.md
    python bench/compact.py --quick         # the smaller case only
    python bench/compact.py --no-append --note "load 2"

Each row is one exhaustive exploration (one always-true property, so nothing stops the search
early) of one configuration by `tcpmodel.engines.native` in a fresh process, exact or compact.
The C code is compiled (or found in the cache) before the clock starts.

* **held B/state**: the bytes the engine's tables hold at the end (its own accounting,
  ``tc_info``: exact, the state arena, parent and action arrays and the hash table; compact,
  the fingerprint table, parent and action arrays and the two frontier buffers) / states;
* **RSS B/state**: (peak resident memory - resident memory before exploring) / states, which
  also counts the tables' growth (the old and the new hash table live together while it
  doubles) and the allocator's slack;
* **fits in 24 GB**: 24e9 / RSS B/state, an extrapolation from this run, not a measurement: the
  table doubles, so the real figure moves in steps, and the frontier share depends on the
  model's widest BFS levels.
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
RAM = 24e9


@dataclass(frozen=True)
class Case:
    spec: str  # a spec file, relative to the repository
    variant: str | None = None
    model: str = ""  # or a model with parameters, when spec is empty
    params: str = "{}"

    @property
    def name(self) -> str:
        if self.spec:
            return self.spec if self.variant is None else f"{self.spec}:{self.variant}"
        return f"{self.model} {self.params}"


SMALL_CONNECTION = {
    "incarnations": 1,
    "loss": 0,
    "duplicate": 0,
    "data": 1,
    "isn": "clock",
    "b_active_open": "never",
    "retries": 2,
    "capacity": 1,
}
QUICK = (Case("", model="connection", params=json.dumps(SMALL_CONNECTION)),)
FULL = (*QUICK, Case("specs/rfc9293.toml"))

COLUMNS = (
    "case",
    "mode",
    "states",
    "state bytes",
    "seconds",
    "CPU s",
    "states/s",
    "peak RSS MiB",
    "held B/state",
    "RSS B/state",
    "fits in 24 GB (extrapolated)",
    "omission probability",
)


def _rss_bytes() -> int:
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def worker(case: Case, compact: bool) -> dict[str, float | int | None]:
    """One measurement, in this process (which should be fresh)."""
    from tcpmodel.engines import native
    from tcpmodel.engines.search import Bounds
    from tcpmodel.formula import Property
    from tcpmodel.kernel.clib import Native
    from tcpmodel.kernel.expr import TRUE, not_
    from tcpmodel.kernel.system import System
    from tcpmodel.models import MODELS
    from tcpmodel.spec import load

    system: System
    if case.spec:
        spec = load(ROOT / case.spec)
        system = next(c for c in spec.configurations if c.variant == case.variant).system
    else:
        m = MODELS[case.model]
        system = m.build({**m.defaults(), **json.loads(case.params)})
    prop = Property("true", "always", TRUE, "always(true)")
    compiled = Native(system)  # compile (or find in the cache) off the clock
    flags = compiled.flags([not_(prop.predicate)])
    search = native._Search(compiled, flags, 1, 2**64 - 1, compact)
    try:
        before = _rss_bytes()
        start, cpu = time.perf_counter(), time.process_time()
        outcomes, stats = native._run(search, system, [prop], Bounds(), None, start, 0.0)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        held = search.info().table_bytes
    finally:
        search.close()
    assert stats.complete and outcomes["true"].verdict == "holds"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    return {
        "states": stats.states,
        "size": compiled.layout.size,
        "seconds": seconds,
        "cpu": cpu,
        "rss_before": before,
        "peak_rss": peak,
        "held": held,
        "omission": stats.omission_probability,
    }


def measure(case: Case, compact: bool) -> dict[str, float | int | None]:
    cmd = [sys.executable, __file__, "--worker", json.dumps(case.__dict__), str(int(compact))]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    result: dict[str, float | int | None] = json.loads(out)
    return result


def _num(r: dict[str, float | int | None], key: str) -> float:
    v = r[key]
    assert v is not None
    return float(v)


def row(case: Case, compact: bool, r: dict[str, float | int | None]) -> tuple[str, ...]:
    states = _num(r, "states")
    rss = (_num(r, "peak_rss") - _num(r, "rss_before")) / states
    omission = r["omission"]
    return (
        case.name,
        "compact" if compact else "exact",
        f"{states:,.0f}",
        f"{_num(r, 'size'):.0f}",
        f"{_num(r, 'seconds'):.1f}",
        f"{_num(r, 'cpu'):.1f}",
        f"{states / _num(r, 'seconds'):,.0f}",
        f"{_num(r, 'peak_rss') / 2**20:.0f}",
        f"{_num(r, 'held') / states:.1f}",
        f"{rss:.1f}",
        f"{RAM / rss:.2g}",
        "-" if omission is None else f"{float(omission):.2g}",
    )


def table(rows: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the smaller case only")
    ap.add_argument("--no-append", action="store_true", help=f"do not append to {DOC.name}")
    ap.add_argument("--note", default="", help="a remark (the machine's load) for the heading")
    ap.add_argument("--worker", nargs=2, metavar=("CASE", "COMPACT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        case = Case(**json.loads(args.worker[0]))
        print(json.dumps(worker(case, bool(int(args.worker[1])))))
        return
    rows = []
    for case in QUICK if args.quick else FULL:
        for compact in (False, True):
            rows.append(row(case, compact, measure(case, compact)))
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    text = table(rows)
    if args.no_append:
        return
    from tcpmodel.files import write_atomic

    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    kind = "quick run" if args.quick else "full run"
    if args.note:
        kind += f"; {args.note}"
    section = (
        f"\n## Hash compaction, `bench/compact.py` ({stamp}, {kind})\n\n"
        f"Python {platform.python_version()}; {os.cpu_count()} cores.  The native engine "
        "exact and with `--compact` (64-bit fingerprints); B/state is bytes per state; the "
        "last but one column divides 24 GB by RSS B/state: an extrapolation, not a run.\n\n"
        f"{text}"
    )
    write_atomic(DOC, DOC.read_text() + section)
    print(f"\nappended to {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
