"""Every engine on the same specs, in one run: verdicts and seconds per spec configuration.

Usage::

    python bench/engines.py                        # the default small corpus, appends a table
    python bench/engines.py specs/fixed-isn.toml   # other specs
    python bench/engines.py --timeout 60 --no-append

Each (spec, engine) pair is one ``tcpmodel check FILE --engine E --format json`` subprocess
with ``--timeout`` seconds per configuration and, for the symbolic engines, ``--max-depth``.
A row gives, for each configuration, each engine's verdicts (one letter per property:
``v`` violated or reachable, ``h`` holds or unreachable, ``p`` proved, ``?`` unknown) and its
seconds of checking, so the engines are compared on the same machine in the same run.  Two
definite verdicts that disagree are marked ``DISAGREE``: that would be a soundness bug.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from tcpmodel.engines import registry

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
ENGINES = tuple(registry.ENGINES)
CORPUS = (
    "specs/mutex-naive.toml",
    "specs/mutex-peterson.toml",
    "specs/alternating-bit.toml",
    "specs/fixed-isn.toml",
    "specs/syn-flood.toml",
    "specs/syn-flood-cookies.toml",
    "specs/accept-overflow.toml",
)
LETTER = {
    "violated": "v",
    "reachable": "v",
    "holds": "h",
    "unreachable": "h",
    "proved": "p",
    "unknown": "?",
}
DEFINITE = {"violated": False, "reachable": False, "holds": True, "unreachable": True}


def run(spec: str, engine: str, timeout: float, depth: int) -> tuple[dict[str, Any], float]:
    cmd = [sys.executable, "-m", "tcpmodel", "check", spec, "--engine", engine, "--quiet"]
    cmd += ["--format", "json", "--timeout", str(timeout), "--out", "/tmp/tcpmodel-bench-out"]
    if engine in ("bmc", "kind"):
        cmd += ["--max-depth", str(depth)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    wall = time.perf_counter() - start
    if proc.returncode == 2:
        raise SystemExit(f"{spec} --engine {engine}: {proc.stderr.strip()}")
    return json.loads(proc.stdout), wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("specs", nargs="*", default=list(CORPUS))
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per configuration")
    ap.add_argument("--max-depth", type=int, default=30, help="for bmc and kind")
    ap.add_argument("--no-append", action="store_true")
    args = ap.parse_args()
    rows: list[list[str]] = []
    disagreements = 0
    for spec in args.specs:
        per: dict[str, dict[tuple[str | None, str], dict[str, Any]]] = {}
        for engine in ENGINES:
            doc, _ = run(spec, engine, args.timeout, args.max_depth)
            for s in doc["specs"]:
                for r in s["results"]:
                    per.setdefault(engine, {})[(r["variant"], r["property"])] = r
        keys = list(per[ENGINES[0]])
        variants = list(dict.fromkeys(v for v, _ in keys))
        for v in variants:
            props = [p for vv, p in keys if vv == v]
            cells = []
            for engine in ENGINES:
                rs = [per[engine][(v, p)] for p in props]
                letters = "".join(LETTER[r["verdict"]] for r in rs)
                secs = max(r["stats"]["seconds"] for r in rs)
                cells.append(f"{letters} {secs:.2f}s")
            bad = []
            for p in props:
                seen = {
                    DEFINITE[per[e][(v, p)]["verdict"]]
                    for e in ENGINES
                    if per[e][(v, p)]["verdict"] in DEFINITE
                }
                proved = any(per[e][(v, p)]["verdict"] == "proved" for e in ENGINES)
                if len(seen) > 1 or (proved and False in seen):
                    bad.append(p)
            disagreements += len(bad)
            name = Path(spec).stem
            rows.append(
                [
                    name,
                    v or "",
                    ", ".join(props),
                    *cells,
                    "DISAGREE " + ",".join(bad) if bad else "",
                ]
            )
    table = Table("spec", "variant", "properties", *ENGINES, "")
    for r in rows:
        table.add_row(*r)
    Console(width=220).print(table)
    if not args.no_append:
        md = [
            "",
            f"## Engines on the same specs ({datetime.date.today()}, {platform.machine()}, "
            f"timeout {args.timeout:g} s, max depth {args.max_depth})",
            "",
            "`python bench/engines.py`: per configuration, each engine's verdicts (one letter "
            "per property in the order listed: v violated/reachable, h holds/unreachable, "
            "p proved, ? unknown) and the seconds of its longest check.",
            "",
            "| spec | variant | properties | " + " | ".join(ENGINES) + " | |",
            "|---|---|---|" + "---|" * len(ENGINES) + "---|",
            *("| " + " | ".join(r) + " |" for r in rows),
            "",
            f"Disagreements between definite verdicts: {disagreements}.",
        ]
        with DOC.open("a") as f:
            f.write("\n".join(md) + "\n")
    if disagreements:
        raise SystemExit(f"{disagreements} disagreements between engines")


if __name__ == "__main__":
    main()
