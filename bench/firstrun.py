"""A small spec checked for the first time: end-to-end seconds with an empty cache.

Usage::

    python bench/firstrun.py                          # specs/alternating-bit.toml, appends
    python bench/firstrun.py specs/mutex-peterson.toml --no-append

Each row is one ``tcpmodel check FILE --engine E --format json`` subprocess with
``TCPMODEL_CACHE`` pointed at a new empty folder, timed from start to exit: ``native`` waits
for gcc to compile the configuration's C code (what ``auto`` did before), ``auto`` checks
with the Python explorer while gcc compiles in the background (`tcpmodel.engines.race`), and
``explicit`` is the Python explorer alone.  The engine column is what the results record.
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

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
ENGINES = ("native", "explicit", "auto")


def first_run(spec: Path, engine: str) -> tuple[float, str, int]:
    """Seconds end to end, the engines recorded and the states of the first result."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "TCPMODEL_CACHE": cache}
        cmd = [sys.executable, "-m", "tcpmodel", "check", str(spec), "--engine", engine]
        start = time.monotonic()
        proc = subprocess.run(
            # --out inside the temporary folder: a benchmark never overwrites the user's out/
            [*cmd, "--format", "json", "--quiet", "--out", str(Path(cache) / "out")],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=False,
        )
        seconds = time.monotonic() - start
    got = json.loads(proc.stdout)
    results = [r for s in got["specs"] for r in s["results"]]
    used = ", ".join(sorted({str(r["engine"]) for r in results}))
    return seconds, used, int(results[0]["stats"]["states"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", nargs="?", default="specs/alternating-bit.toml")
    parser.add_argument("--no-append", action="store_true", help="do not append to the doc")
    parser.add_argument("--note", default="", help="a line about the machine's load")
    args = parser.parse_args()
    spec = Path(args.spec)
    rows = []
    for engine in ENGINES:
        seconds, used, states = first_run(spec, engine)
        rows.append(f"| `--engine {engine}` | {used} | {states:,} | {seconds:.1f} |")
        print(rows[-1], flush=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        "",
        f"## First run of a new spec, empty cache ({datetime.date.today()})",
        "",
        f"`python bench/firstrun.py {args.spec}` on {platform.machine()}, "
        f"{os.cpu_count()} cores, load average {load:.1f} at the end. {args.note}".rstrip(),
        "",
        "| command | engine that ran | states (first result) | seconds end to end |",
        "|---|---|---|---|",
        *rows,
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_append:
        from tcpmodel.files import write_atomic

        write_atomic(DOC, DOC.read_text() + text)


if __name__ == "__main__":
    main()
