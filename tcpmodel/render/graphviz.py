"""DOT text to SVG or PNG with the Graphviz ``dot`` program: the one module that runs it.

`render(dot, fmt)` returns the image bytes.  When ``dot`` is not installed it raises
`UsageError` saying how to install it; the caller keeps the ``.dot`` file it wrote.
"""

from __future__ import annotations

import shutil
import subprocess

from tcpmodel.errors import UsageError

FORMATS = ("svg", "png")
INSTALL = (
    "the Graphviz `dot` program is not installed; install it "
    "(`apt-get install graphviz`, `brew install graphviz`) or use --format dot"
)


def available() -> bool:
    return shutil.which("dot") is not None


def render(dot: str, fmt: str, timeout: float = 60.0) -> bytes:
    if fmt not in FORMATS:
        raise UsageError(f"cannot render to {fmt!r}; expected one of {', '.join(FORMATS)}")
    exe = shutil.which("dot")
    if exe is None:
        raise UsageError(INSTALL)
    try:
        done = subprocess.run(
            [exe, f"-T{fmt}"],
            input=dot.encode(),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise UsageError(f"Graphviz `dot` failed: {e}") from None
    if done.returncode != 0:
        first = done.stderr.decode(errors="replace").strip().splitlines()
        raise UsageError(f"Graphviz `dot` failed: {first[0] if first else done.returncode}")
    return done.stdout
