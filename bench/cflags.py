"""How the native engine's C code is compiled: gcc's time against the exploration's.

Usage::

    python bench/cflags.py                        # the default configurations; appends
    python bench/cflags.py specs/rfc9293.toml --no-append
    python bench/cflags.py specs/twa.toml:base --variants O1/16,O2/0

For each configuration (``SPEC`` or ``SPEC:VARIANT``, ``base`` for the spec's own) and each way
of compiling (``O<level>/<groups>``: gcc's ``-O`` level, and the guarded action groups per C
function of the successor function, 0 for one function holding them all), one fresh process
with an empty ``TCPMODEL_CACHE`` compiles the configuration's C code (successors and
predicates) and explores it with the native engine, checking its safety and reachability
properties.  Ways and configurations are interleaved so that load from other work falls on all
of them alike; the machine's load average is printed with the table.  The columns are gcc's
seconds, the exploration's seconds, their sum (what a first run pays) and the states (equal in
every row of a configuration, or the run is reported as broken).
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
CONFIGS = (
    "specs/simultaneous-close.toml",
    "specs/request-response.toml:shutdown",
    "specs/rfc9293.toml",
)
WAYS = ("O2/0", "O2/16", "O1/0", "O1/16")


def child(target: str, way: str) -> dict[str, float | int]:
    """Compile and explore ``target`` the ``way`` given, in this (fresh) process."""
    from tcpmodel.engines import native
    from tcpmodel.engines.search import bad_of
    from tcpmodel.kernel import cgen, clib
    from tcpmodel.spec import load

    level, groups = way.split("/")
    clib.CFLAGS = (f"-{level}", *clib.CFLAGS[1:])
    cgen.PART_GROUPS = int(groups)
    path, _, variant = target.partition(":")
    spec = load(ROOT / path)
    cfg = next(c for c in spec.configurations if (c.variant or "base") == (variant or "base"))
    props = [c.prop for c in cfg.checks if c.prop.kind in ("always", "reachable")]
    start = time.monotonic()
    n = clib.Native(cfg.system)
    n.flags([bad_of(p) for p in props])
    compiled = time.monotonic() - start
    start = time.monotonic()
    _, stats = native.explore(cfg.system, props)
    return {
        "compile": compiled,
        "explore": time.monotonic() - start,
        "states": stats.states,
    }


def run(target: str, way: str) -> dict[str, float | int]:
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "TCPMODEL_CACHE": cache, "PYTHONPATH": str(ROOT)}
        proc = subprocess.run(
            [sys.executable, __file__, "--child", target, way],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=True,
        )
    got: dict[str, float | int] = json.loads(proc.stdout)
    return got


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("configs", nargs="*", default=list(CONFIGS))
    ap.add_argument("--variants", default=",".join(WAYS), help="ways to compile, e.g. O1/16,O2/0")
    ap.add_argument("--no-append", action="store_true")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return 0
    ways = args.variants.split(",")
    loads = [os.getloadavg()[0]]
    rows: dict[tuple[str, str], dict[str, float | int]] = {}
    for target in args.configs:
        for way in ways:
            rows[target, way] = r = run(target, way)
            loads.append(os.getloadavg()[0])
            print(
                f"{target} {way}: compile {r['compile']:.1f} s, explore {r['explore']:.1f} s",
                file=sys.stderr,
            )
    lines = [
        "| configuration | way | gcc s | explore s | first run s | vs O2/0 | states |",
        "|---|---|---|---|---|---|---|",
    ]
    for target in args.configs:
        base = rows.get((target, "O2/0"))
        counts = {rows[target, w]["states"] for w in ways}
        for way in ways:
            r = rows[target, way]
            total = r["compile"] + r["explore"]
            ratio = ""
            if base is not None:
                ratio = f"{total / (base['compile'] + base['explore']):.2f}"
            flag = "" if len(counts) == 1 else " (counts differ!)"
            lines.append(
                f"| {target} | {way} | {r['compile']:.1f} | {r['explore']:.1f} | {total:.1f} "
                f"| {ratio} | {r['states']:,}{flag} |"
            )
    table = "\n".join(lines)
    print(table)
    if not args.no_append:
        stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
        head = (
            f"\n## Compiling the native engine's C code, `bench/cflags.py` ({stamp})\n\n"
            f"{platform.machine()}, {os.cpu_count()} cores, gcc; one fresh process and empty "
            "cache per row; ways interleaved per configuration; 1-minute load average "
            f"{min(loads):.1f} to {max(loads):.1f} during the run.  `O<level>/<groups>`: "
            "gcc's -O level, guarded action groups per C function (0: one function).\n\n"
        )
        with DOC.open("a") as f:
            f.write(head + table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
