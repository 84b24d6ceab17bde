"""Running SPIN on a model exported by `tcpmodel.kernel.promela`: build ``pan``, run it, read its
report.

`build_pan` runs ``spin -o2 -a`` (``-o2``: keep write-only variables in the state vector; SPIN
otherwise drops them, e.g. a ghost that only an unexported property reads, and its states would
no longer be tcpmodel's) and compiles ``pan.c`` with ``gcc -O2 -DSAFETY`` (safety
properties only: no cycle detection), with ``-DNOREDUCE`` unless SPIN's partial-order reduction
is asked for, and with ``-DMEMLIM`` set so that SPIN's default limit of 1 GiB does not cut a
large search short.  `run_pan` runs an exhaustive search (``-m`` the depth of its DFS stack,
``-w`` the log2 of its hash table's slots) and returns the figures of its report as a `PanRun`.

SPIN prints counts with ``%9.8g``: they are exact below 10**8 states.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tcpmodel.errors import UsageError
from tcpmodel.files import write_atomic

MEMLIM_MB = 65536


@dataclass(frozen=True, slots=True)
class PanRun:
    """The figures of one ``pan`` search."""

    states: int  # "states, stored"
    transitions: int
    depth: int  # "depth reached"
    errors: int
    complete: bool  # the DFS stack was deep enough and no memory limit was hit
    vector_bytes: int  # "State-vector N byte"
    memory_mb: float  # "total actual memory usage" (hash table, states, DFS stack, ...)
    seconds: float  # pan's own "elapsed time" of the search
    wall_seconds: float  # the pan process, start to exit
    output: str


def spin_available() -> bool:
    """Whether ``spin`` and ``gcc`` are on PATH."""
    return shutil.which("spin") is not None and shutil.which("gcc") is not None


def build_pan(text: str, folder: Path, reduce: bool = False, optimize: str = "-O2") -> Path:
    """Write ``text`` to ``folder/model.pml``, generate and compile the verifier; its path.

    ``optimize`` is gcc's optimisation flag: ``-O0`` compiles a large model's verifier several
    times faster (a slower search, the same states)."""
    spin, gcc = shutil.which("spin"), shutil.which("gcc")
    if spin is None or gcc is None:
        raise UsageError("running SPIN needs `spin` and `gcc` on PATH (apt-get install spin gcc)")
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / "model.pml", text)
    gen = subprocess.run(
        [spin, "-o2", "-a", "model.pml"], cwd=folder, capture_output=True, text=True, check=False
    )
    if gen.returncode != 0:
        raise UsageError(f"spin -a failed on {folder / 'model.pml'}: {_first(gen.stdout)}")
    flags = [optimize, "-DSAFETY", f"-DMEMLIM={MEMLIM_MB}", "-w"]
    if not reduce:
        flags.append("-DNOREDUCE")
    cc = subprocess.run(
        [gcc, *flags, "-o", "pan", "pan.c"], cwd=folder, capture_output=True, text=True, check=False
    )
    if cc.returncode != 0:
        raise UsageError(f"gcc failed on {folder / 'pan.c'}: {_first(cc.stderr)}")
    return folder / "pan"


def run_pan(pan: Path, max_depth: int, hash_bits: int = 24) -> PanRun:
    """An exhaustive search by ``pan`` (stopping at the first assertion violation)."""
    start = time.perf_counter()
    proc = subprocess.run(
        [str(pan), f"-m{max_depth}", f"-w{hash_bits}"],
        cwd=pan.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    return parse_pan(proc.stdout, wall)


def parse_pan(out: str, wall_seconds: float = 0.0) -> PanRun:
    """The figures of a ``pan`` report; `UsageError` when it has none."""

    def number(pattern: str) -> float:
        m = re.search(pattern, out)
        if m is None:
            raise UsageError(f"pan's report has no {pattern!r}: {_first(out)}")
        return float(m.group(1))

    incomplete = "max search depth too small" in out or "out of memory" in out
    return PanRun(
        states=round(number(r"([\d.e+]+) states, stored")),
        transitions=round(number(r"([\d.e+]+) transitions \(")),
        depth=round(number(r"depth reached (\d+)")),
        errors=round(number(r"errors: (\d+)")),
        complete=not incomplete,
        vector_bytes=round(number(r"State-vector (\d+) byte")),
        memory_mb=number(r"([\d.]+)\s+total actual memory usage"),
        seconds=number(r"pan: elapsed time ([\d.e+-]+) seconds"),
        wall_seconds=wall_seconds,
        output=out,
    )


def _first(text: str) -> str:
    lines = [x.strip() for x in text.strip().splitlines() if x.strip()]
    return " | ".join(lines[:3]) or "no message"
