"""tcpmodel's native engine and SPIN on the same transition systems, in one run.

Usage::

    python bench/spin.py            # full run, appends the tables to docs/benchmarks.md
    python bench/spin.py --quick    # small smoke run
    python bench/spin.py --no-append

Each model is explored whole by three searches, each in a fresh process:

* **native**: `tcpmodel.engines.native.explore` with one always-true property (compiled C,
  breadth-first; the model is compiled first, into an empty cache, and that time is **build s**);
* **SPIN**: the model exported by `tcpmodel.kernel.promela`, ``spin -o2 -a`` and ``gcc -O2
  -DSAFETY -DNOREDUCE`` (depth-first, no reduction): SPIN's *states, stored* must equal the
  native engine's states (plus the export's ``extra_states``), which the run checks;
* **SPIN POR**: the same with SPIN's partial-order reduction (no ``-DNOREDUCE``).

SPIN is given its best settings for the search at hand: a hash table of ``2**w`` slots with
``w = ceil(log2(states))`` (``-w``), and a DFS stack (``-m``) as deep as the depth its search
reached in a first, untimed run (a deeper stack is memory SPIN allocates and clears up front).

* **seconds**: the search alone (native: the exploration after compilation; SPIN: pan's own
  *elapsed time*); **CPU s**: processor time (native: of the exploration; SPIN: of the whole
  pan process, which also allocates and clears its hash table and DFS stack);
* **states/s**: states per second of search;
* **bytes/state**: each tool's own account of its search's memory, divided by the states:
  native: its C tables (state arena, parent and action arrays, hash table) at the end; SPIN:
  pan's *total actual memory usage* (hash table, stored states with their overhead, DFS stack,
  and a few fixed MiB that dominate on small models);
* **vector B**: bytes of one state (native: the packed state; SPIN: its *State-vector*, which
  also holds the process counters);
* **peak RSS**: of the whole process, MiB.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
sys.path.insert(0, str(ROOT))

# The tcpmodel of this checkout, even where another one is installed.
from tcpmodel.kernel import spin  # noqa: E402
from tcpmodel.kernel.promela import promela  # noqa: E402
from tcpmodel.models import MODELS  # noqa: E402

Params = dict[str, int | bool | str]
Figures = dict[str, float | int]


@dataclass(frozen=True)
class Case:
    model: str
    params: Params


CONNECTION: Params = {"incarnations": 1, "isn": "fixed", "reorder": True, "loss": 1}
FULL: tuple[Case, ...] = (
    Case("mutex", {"algorithm": "peterson"}),
    Case("alternating-bit", {"messages": 9, "capacity": 4, "channel": "reordering"}),
    Case("connection", {**CONNECTION, "data": 0, "duplicate": 1, "b_close_first": "never"}),
    Case("connection", {**CONNECTION, "data": 2, "duplicate": 1}),
)
QUICK: tuple[Case, ...] = (
    Case("mutex", {"algorithm": "peterson"}),
    Case("alternating-bit", {"messages": 4, "capacity": 3, "channel": "reordering"}),
)

COLUMNS = (
    "model",
    "params",
    "search",
    "states",
    "seconds",
    "CPU s",
    "states/s",
    "bytes/state",
    "vector B",
    "peak RSS MiB",
    "build s",
)
RATIO_COLUMNS = (
    "model",
    "params",
    "states",
    "SPIN / native seconds",
    "SPIN POR / native seconds",
    "SPIN / native CPU s",
    "SPIN POR / native CPU s",
    "SPIN / native bytes/state",
    "SPIN POR / native bytes/state",
)


def _rss_bytes() -> int:
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def native_worker(model: str, params: Params) -> Figures:
    """The native engine's measurement, in this (fresh) process.

    It runs `tcpmodel.engines.native.explore`'s two steps itself, to read the size of the C
    tables (arena, parent and action arrays, hash table) before they are freed."""
    from tcpmodel.engines import native
    from tcpmodel.engines.search import Bounds
    from tcpmodel.formula import Property
    from tcpmodel.kernel.clib import Native
    from tcpmodel.kernel.compile import layout_of
    from tcpmodel.kernel.expr import TRUE, not_

    system = MODELS[model].build({**MODELS[model].defaults(), **params})
    prop = Property("true", "always", TRUE, "always(true)")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["TCPMODEL_CACHE"] = cache
        start = time.perf_counter()
        compiled = Native(system)
        flags = compiled.flags([not_(prop.predicate)])
        build = time.perf_counter() - start
        search = native._Search(compiled, flags, 1, 2**64 - 1)
        try:
            start, cpu = time.perf_counter(), time.process_time()
            _, stats = native._run(search, system, [prop], Bounds(), None, start, 0.0)
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            table_bytes = search.info().table_bytes
        finally:
            search.close()
    assert stats.complete
    return {
        "states": stats.states,
        "seconds": seconds,
        "cpu": cpu,
        "bytes_per_state": table_bytes / stats.states,
        "vector": layout_of(system).size,
        "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "build": build,
    }


def pan_worker(pan: str, depth: int, hash_bits: int) -> Figures:
    """One pan search, in this (fresh) process: its report and the child's resources."""
    run = spin.run_pan(Path(pan), depth, hash_bits)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "states": run.states,
        "seconds": run.seconds,
        "cpu": usage.ru_utime + usage.ru_stime,
        "bytes_per_state": run.memory_mb * 2**20 / max(run.states, 1),
        "vector": run.vector_bytes,
        "peak_rss": usage.ru_maxrss * 1024,
        "depth": run.depth,
        "complete": int(run.complete),
        "errors": run.errors,
    }


def _worker(*args: str) -> Figures:
    cmd = [sys.executable, __file__, "--worker", *args]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    result: Figures = json.loads(out)
    return result


def measure(case: Case, folder: Path) -> dict[str, Figures]:
    """The three searches of ``case``; raises if SPIN's count differs from tcpmodel's."""
    nat = _worker("native", case.model, json.dumps(case.params))
    states = int(nat["states"])
    system = MODELS[case.model].build({**MODELS[case.model].defaults(), **case.params})
    exported = promela(system)
    bits = max(10, math.ceil(math.log2(states)))
    out: dict[str, Figures] = {"native": nat}
    depth = 0
    for search, reduce in (("SPIN", False), ("SPIN POR", True)):
        start = time.perf_counter()
        pan = spin.build_pan(exported.text, folder / search.replace(" ", "_"), reduce=reduce)
        build = time.perf_counter() - start
        if not depth:  # the untimed run that finds how deep the DFS goes
            depth = int(_worker("pan", str(pan), str(states + 1), str(bits))["depth"]) + 1
        r = _worker("pan", str(pan), str(depth), str(bits))
        if not r["complete"]:
            r = _worker("pan", str(pan), str(states + 1), str(bits))
        if not reduce and r["states"] != states + exported.extra_states:
            raise SystemExit(
                f"{case.model} {case.params}: SPIN stored {r['states']} states, tcpmodel "
                f"explored {states} (+{exported.extra_states}): the export is wrong"
            )
        r["build"] = build
        out[search] = r
    return out


def row(case: Case, search: str, r: Figures) -> tuple[str, ...]:
    states = int(r["states"])
    return (
        case.model,
        _params(case),
        search,
        f"{states:,}",
        f"{r['seconds']:.2f}",
        f"{r['cpu']:.2f}",
        f"{states / max(r['seconds'], 1e-3):,.0f}",
        f"{r['bytes_per_state']:.0f}",
        f"{int(r['vector'])}",
        f"{r['peak_rss'] / 2**20:.0f}",
        f"{r['build']:.1f}",
    )


def ratio_row(case: Case, m: dict[str, Figures]) -> tuple[str, ...]:
    nat = m["native"]

    def ratio(search: str, key: str) -> str:
        if nat["states"] < 10_000:  # fixed costs and timer resolution dominate
            return "-"
        return f"{m[search][key] / max(nat[key], 1e-9):.1f}"

    return (
        case.model,
        _params(case),
        f"{int(nat['states']):,}",
        ratio("SPIN", "seconds"),
        ratio("SPIN POR", "seconds"),
        ratio("SPIN", "cpu"),
        ratio("SPIN POR", "cpu"),
        ratio("SPIN", "bytes_per_state"),
        ratio("SPIN POR", "bytes_per_state"),
    )


def _params(case: Case) -> str:
    return ", ".join(f"{k}={v}" for k, v in case.params.items())


def table(columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
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


def spin_version() -> str:
    out = subprocess.run(["spin", "-V"], capture_output=True, text=True, check=False).stdout
    return out.strip() or "SPIN"


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small smoke run")
    ap.add_argument("--no-append", action="store_true", help=f"do not append to {DOC.name}")
    ap.add_argument("--note", default="", help="a remark for the heading of the appended section")
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        kind, *rest = args.worker
        if kind == "native":
            figures = native_worker(rest[0], json.loads(rest[1]))
        else:
            figures = pan_worker(rest[0], int(rest[1]), int(rest[2]))
        print(json.dumps(figures))
        return
    if not spin.spin_available():
        raise SystemExit("bench/spin.py needs spin and gcc on PATH (apt-get install spin gcc)")
    rows: list[tuple[str, ...]] = []
    ratios: list[tuple[str, ...]] = []
    start = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="tcpmodel-spin-"))
    try:
        for case in QUICK if args.quick else FULL:
            m = measure(case, folder / f"case{len(ratios)}")
            for search in ("native", "SPIN", "SPIN POR"):
                rows.append(row(case, search, m[search]))
                print(table(COLUMNS, rows[-1:]).splitlines()[-1], flush=True)
            ratios.append(ratio_row(case, m))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    text = table(COLUMNS, rows) + "\n" + table(RATIO_COLUMNS, ratios)
    print()
    print(text, end="")
    print(f"\nwhole run: {time.perf_counter() - start:.0f} s")
    if args.no_append:
        return
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    kind = "quick run" if args.quick else "full run"
    if args.note:
        kind += f"; {args.note}"
    section = (
        f"\n## {stamp} (tcpmodel native and SPIN: bench/spin.py, {kind})\n\n"
        f"Python {platform.python_version()}; {spin_version()}; {machine()}. "
        "Each search in a fresh process; SPIN's states stored checked equal to tcpmodel's. "
        "seconds: the search alone; bytes/state: native its C tables / states, SPIN its "
        "total actual memory usage / states; build s: compiling the model "
        "(native: gcc; SPIN: spin -o2 -a and gcc -O2).\n\n"
        f"{text}"
    )
    with DOC.open("a") as f:
        f.write(section)
    print(f"\nappended to {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
