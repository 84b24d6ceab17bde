"""Writing files so that a reader only ever sees a complete one.

`write_atomic` is the one way tcpmodel writes a file (results, JUnit, the HTML report, every
trace file and diagram, proof artefacts, the native engine's C source): the data goes to a
temporary file in the same folder (``.<name>.<pid>.<random>.tmp``), which then replaces the
target with `os.replace`, an atomic rename on POSIX.  A run killed at any moment, even by
SIGKILL, leaves the target as it was before or as it is after, never cut short; at worst a
temporary file remains, named so that it is recognisable (`is_temporary`).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

TEMP_SUFFIX = ".tmp"


def temporary_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}{TEMP_SUFFIX}")


def is_temporary(path: Path) -> bool:
    """Whether ``path`` is a temporary file `write_atomic` left (its run was killed)."""
    return path.name.startswith(".") and path.name.endswith(TEMP_SUFFIX)


def write_atomic(path: Path | str, data: str | bytes, encoding: str = "utf-8") -> None:
    """Write ``data`` to ``path`` atomically (see the module docstring); `OSError` as
    `Path.write_text` raises it, with nothing left behind."""
    path = Path(path)
    raw = data.encode(encoding) if isinstance(data, str) else data
    tmp = temporary_name(path)
    # O_EXCL: never write through someone else's file; 0o666 and the umask, as open() would.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
