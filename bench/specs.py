"""State spaces and times of the bundled specs: one row per spec configuration.

Usage::

    python bench/specs.py                      # every spec in specs/, appends to docs/benchmarks.md
    python bench/specs.py specs/twa.toml       # some specs
    python bench/specs.py --no-append

Each spec file is checked in a fresh ``tcpmodel check FILE --format json`` subprocess, with the
default engine (``auto``: compiled C when gcc is installed), exactly as the main job checks it.
All of a configuration's properties are checked in one exploration, so a row's figures are
those of that exploration: distinct states, transitions, BFS depth, wall-clock seconds,
states per second, and the peak resident memory of the process so far.  A configuration whose
properties are all violated or reachable stops early (``complete`` = no); one with a ``holds``
explores its whole state space.  The wall-clock total of each subprocess (including model
building and compilation) is reported separately.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
COLUMNS = (
    "spec",
    "variant",
    "verdicts",
    "states",
    "transitions",
    "depth",
    "complete",
    "seconds",
    "states/s",
    "peak RSS MiB",
)


def _verdicts(results: list[dict[str, Any]]) -> str:
    return ", ".join(f"{r['property']} {r['verdict']}" for r in results)


def run_spec(path: Path) -> tuple[list[list[str]], float, int]:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        cmd = [sys.executable, "-m", "tcpmodel", "check", str(path), "--quiet"]
        proc = subprocess.run(
            [*cmd, "--format", "json", "--out", out],
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - start
    if proc.returncode == 2:
        raise SystemExit(f"{path}: {proc.stderr.strip()}")
    doc = json.loads(proc.stdout)
    rows: list[list[str]] = []
    for spec in doc["specs"]:
        by_variant: dict[str | None, list[dict[str, Any]]] = {}
        for r in spec["results"]:
            by_variant.setdefault(r["variant"], []).append(r)
        for variant, results in by_variant.items():
            s = results[0]["stats"]
            rows.append(
                [
                    spec["spec"],
                    variant or "",
                    _verdicts(results),
                    f"{s['states']:,}",
                    f"{s['transitions']:,}",
                    str(s["depth"]),
                    "yes" if s["complete"] else "no",
                    f"{s['seconds']:.1f}",
                    f"{s['states_per_second']:,.0f}",
                    f"{s['peak_memory_mb']:,.0f}",
                ]
            )
    return rows, wall, proc.returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("paths", nargs="*", help="spec files (default: specs/*.toml)")
    ap.add_argument("--no-append", action="store_true", help="do not write docs/benchmarks.md")
    args = ap.parse_args()
    paths = [Path(p) for p in args.paths] or sorted((ROOT / "specs").glob("*.toml"))
    console = Console(stderr=True)
    rows: list[list[str]] = []
    walls: list[tuple[str, float, int]] = []
    for path in paths:
        console.print(f"checking {path.name} ...")
        spec_rows, wall, code = run_spec(path)
        rows += spec_rows
        walls.append((path.name, wall, code))
    table = Table(*COLUMNS, title="bundled specs")
    for row in rows:
        table.add_row(*row)
    Console(width=220).print(table)
    total = sum(w for _, w, _ in walls)
    print(f"total wall-clock time: {total:.1f} s over {len(walls)} spec files")
    if args.no_append:
        return
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    lines = [
        "",
        f"## {stamp} (bundled specs: bench/specs.py)",
        "",
        f"Python {platform.python_version()}; {cpu}, nproc {os.cpu_count()}. One row per spec "
        "configuration (all of its properties in one exploration); `complete` = the whole state "
        "space was explored.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
        *("| " + " | ".join(r) + " |" for r in rows),
        "",
        "| spec file | wall-clock s (process) | exit code |",
        "|---|---|---|",
        *(f"| {n} | {w:.1f} | {c} |" for n, w, c in walls),
        f"| total | {total:.1f} | |",
        "",
    ]
    with DOC.open("a") as f:
        f.write("\n".join(lines))
    print(f"appended to {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
