"""DOT text to SVG or PNG with the Graphviz ``dot`` program: the one module that runs it.

`render(dot, fmt)` returns the image bytes, piped through ``dot`` by the `graphviz` package.
When ``dot`` is not installed it raises `UsageError` saying how to install it (the caller
keeps the ``.dot`` file it wrote); when ``dot`` fails, `UsageError` with its first error line.
"""

from __future__ import annotations

import shutil

import graphviz

from tcpmodel.errors import UsageError

FORMATS = ("svg", "png")
INSTALL = (
    "the Graphviz `dot` program is not installed; install it "
    "(`apt-get install graphviz`, `brew install graphviz`) or use --format dot"
)


def available() -> bool:
    return shutil.which("dot") is not None


def render(dot: str, fmt: str) -> bytes:
    if fmt not in FORMATS:
        raise UsageError(f"cannot render to {fmt!r}; expected one of {', '.join(FORMATS)}")
    if not available():
        raise UsageError(INSTALL)
    try:
        out: bytes = graphviz.pipe("dot", fmt, dot.encode(), quiet=True)
    except graphviz.ExecutableNotFound:
        raise UsageError(INSTALL) from None
    except graphviz.CalledProcessError as e:
        stderr = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else ""
        first = stderr.strip().splitlines()
        raise UsageError(f"Graphviz `dot` failed: {first[0] if first else e.returncode}") from None
    except OSError as e:
        raise UsageError(f"Graphviz `dot` failed: {e}") from None
    return out
