"""gcc, the cache of compiled libraries, background builds, and the loaded C code.

The C units `tcpmodel.kernel.cgen` generates are compiled with ``gcc`` and `CFLAGS` into a
cache directory (``$TCPMODEL_CACHE`` or ``~/.cache/tcpmodel``) under a hash of their source and
flags (`library`), either now (`build`) or in a background process while the caller works
(`start_build`, `Background`: one compilation at a time, queued, atomic renames so a library
is complete or absent), and loaded with `ctypes`: `Native`, the successor function and BFS
driver of one system, and `Flags`, the predicates' ``tc_flags`` of one property list.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from tcpmodel.errors import ModelError, NativeError
from tcpmodel.files import write_atomic
from tcpmodel.kernel.cdriver import ERR_OVERFLOW_ACTION, ERR_OVERFLOW_PREDICATE, ERR_PACK, ERR_RANGE
from tcpmodel.kernel.cgen import c_source, flags_source, packed_size
from tcpmodel.kernel.compile import StateCodec, layout_of
from tcpmodel.kernel.expr import Expr
from tcpmodel.kernel.system import System

CFLAGS = ("-O1", "-shared", "-fPIC", "-std=gnu11", "-w")


def cache_dir() -> Path:
    env = os.environ.get("TCPMODEL_CACHE")
    if env:
        return Path(env)
    return Path.home() / ".cache" / "tcpmodel"


def library(source: str) -> Path:
    """Where the shared library of ``source`` is (or will be) in the cache."""
    key = hashlib.sha256(("\0".join(CFLAGS) + "\0" + source).encode()).hexdigest()[:32]
    return cache_dir() / f"tcpm_{key}.so"


def cached(source: str) -> bool:
    """Whether ``source`` is compiled already (its library is complete: it is renamed into
    place only once gcc has finished)."""
    return library(source).exists()


def _prepare(source: str) -> tuple[str, Path, Path]:
    """gcc's path, and the C file (written) and library of ``source``; a `NativeError` if gcc
    is missing or the cache folder cannot be created."""
    gcc = shutil.which("gcc")
    lib = library(source)
    folder = lib.parent
    if gcc is None:
        raise NativeError(
            "the native engine needs the C compiler gcc, which is not on PATH; install it "
            "(e.g. `apt-get install gcc`) or use --engine explicit"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise NativeError(
            f"the native engine cannot create its cache folder {folder}: {e.strerror}; "
            "set TCPMODEL_CACHE to a writable folder or use --engine explicit"
        ) from None
    src = lib.with_suffix(".c")
    write_atomic(src, source)
    return gcc, src, lib


def _gcc_failed(src: Path, stderr: str) -> NativeError:
    detail = (stderr.strip().splitlines() or ["no message"])[:5]
    return NativeError(
        f"gcc failed to compile the native explorer ({src}): {' | '.join(detail)}; "
        "use --engine explicit"
    )


def build(source: str) -> Path:
    """Compile ``source`` to a shared library in the cache (once per distinct source)."""
    lib = library(source)
    if lib.exists():
        return lib
    gcc, src, lib = _prepare(source)
    fd, tmp = tempfile.mkstemp(prefix=f"{lib.stem}.", suffix=".so.tmp", dir=lib.parent)
    os.close(fd)
    try:
        proc = subprocess.run(
            [gcc, *CFLAGS, "-o", tmp, str(src)], capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            raise _gcc_failed(src, proc.stderr)
        os.replace(tmp, lib)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return lib


# One shell runs the compilations of a background build in turn: each to a temporary file
# that `mv` renames into place (an atomic rename in the same folder) only once gcc succeeded,
# so the library is complete or absent, even if this process has ended meanwhile.  The
# arguments: gcc's path, the number of flags, the flags, then (C file, temporary, library)
# triples.  gcc's messages go to an anonymous temporary file, which `Background` reads.
_BACKGROUND = """
gcc=$1; n=$2; shift 2
flags=""
i=0
while [ "$i" -lt "$n" ]; do flags="$flags $1"; shift; i=$((i + 1)); done
status=0
while [ "$#" -ge 3 ]; do
  src=$1; tmp=$2; lib=$3; shift 3
  if [ "$status" -eq 0 ] && "$gcc" $flags -o "$tmp" "$src"; then
    mv -f "$tmp" "$lib"
  else
    status=1
  fi
  rm -f "$tmp"
done
exit $status
"""


class Background:
    """The compilation of several sources by gcc in a background process (`start_build`),
    running on another core while this process works.  `done` polls it (cheaply: the
    explorers ask at every check point); `result` says whether it succeeded; `cancel` stops it
    and leaves no temporary behind; `detach` lets it finish after this process is gone.

    One compilation runs at a time: one started while a detached one still runs (the previous
    configuration's) is queued and launched by the first `done` or `start_build` that finds
    the other finished, so configurations checked one after another do not pile up compilers
    on the cores the explorer needs.  A queued compilation this process never launched leaves
    only its C files."""

    def __init__(self, sources: Sequence[str]) -> None:
        self.sources = tuple(sources)
        self._gcc = "gcc"
        self._files: list[tuple[Path, Path]] = []
        for source in self.sources:
            self._gcc, src, lib = _prepare(source)
            self._files.append((src, lib))
        self._temps: list[str] = []
        self._messages = tempfile.TemporaryFile()  # noqa: SIM115 - closed by result/cancel/detach
        self.proc: subprocess.Popen[bytes] | None = None

    def launch(self) -> None:
        """Start gcc (once)."""
        if self.proc is not None:
            return
        triples: list[str] = []
        for src, lib in self._files:
            fd, tmp = tempfile.mkstemp(prefix=f"{lib.stem}.", suffix=".so.tmp", dir=lib.parent)
            os.close(fd)
            self._temps.append(tmp)
            triples += [str(src), tmp, str(lib)]
        self.proc = subprocess.Popen(
            ["sh", "-c", _BACKGROUND, "sh", self._gcc, str(len(CFLAGS)), *CFLAGS, *triples],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            # detached before it was launched: nobody reads gcc's messages
            stderr=subprocess.DEVNULL if self._messages.closed else self._messages,
        )

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def done(self) -> bool:
        if self.proc is None:
            if _busy():
                return False
            self.launch()
        assert self.proc is not None
        return self.proc.poll() is not None

    def result(self) -> NativeError | None:
        """Once `done`: ``None`` if every library is in the cache, else gcc's failure."""
        self._messages.seek(0)
        err = self._messages.read().decode(errors="replace")
        self._messages.close()
        if self.proc is not None and self.proc.returncode == 0 and all(map(cached, self.sources)):
            return None
        return _gcc_failed(self._files[0][0], err)

    def cancel(self) -> None:
        """Stop the compilation; no library is left half-written (none is renamed into place
        unfinished) and the temporaries are removed."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._messages.close()
        for tmp in self._temps:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def detach(self) -> None:
        """Let the compilation finish on its own, filling the cache (`wait_detached` waits
        for it; a process that ends first leaves it running)."""
        self._messages.close()  # gcc's messages are not read: nobody waits for them
        _DETACHED.append(self)
        _advance()


_DETACHED: list[Background] = []


def _busy() -> bool:
    """Whether a detached compilation is still running."""
    return any(b.running() for b in _DETACHED)


def _advance() -> None:
    """Forget the detached compilations that ended; launch the first queued one if none
    runs."""
    _DETACHED[:] = [b for b in _DETACHED if b.proc is None or b.running()]
    if _DETACHED and not _busy():
        _DETACHED[0].launch()


def wait_detached() -> None:
    """Wait for the background compilations `Background.detach` let go, launching the queued
    ones in turn (tests, benchmarks)."""
    while _DETACHED:
        _advance()
        for b in _DETACHED:
            if b.proc is not None:
                b.proc.wait()
        _advance()


def start_build(sources: Sequence[str]) -> Background | None:
    """Compile the sources not yet in the cache in the background (`Background`; queued
    while a detached compilation runs), or ``None`` if all are cached."""
    _advance()
    missing = [s for s in dict.fromkeys(sources) if not cached(s)]
    if not missing:
        return None
    build = Background(missing)
    if not _busy():
        build.launch()
    return build


def _load(path: Path) -> ctypes.CDLL:
    lib = ctypes.CDLL(str(path))
    vp, u64, i64, i32 = ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int64, ctypes.c_int32
    p_i64 = ctypes.POINTER(ctypes.c_int64)
    lib.tc_new.argtypes = [u64, u64, vp, ctypes.c_int]
    lib.tc_new.restype = vp
    lib.tc_free.argtypes = [vp]
    lib.tc_free.restype = None
    lib.tc_add_initial.argtypes = [vp, ctypes.c_char_p]
    lib.tc_add_initial.restype = ctypes.c_int
    lib.tc_begin_level.argtypes = [vp]
    lib.tc_begin_level.restype = None
    lib.tc_run.argtypes = [vp, u64, u64]
    lib.tc_run.restype = ctypes.c_int
    lib.tc_info.argtypes = [vp, p_i64]
    lib.tc_info.restype = None
    lib.tc_state.argtypes = [vp, u64, ctypes.c_char_p, p_i64]
    lib.tc_state.restype = i64
    lib.tc_hit.argtypes = [vp, ctypes.c_int]
    lib.tc_hit.restype = i64
    lib.tc_successors.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(i32), p_i64]
    lib.tc_successors.restype = i64
    lib.tc_pack_state.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    lib.tc_pack_state.restype = ctypes.c_int
    lib.tc_unpack_state.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    lib.tc_unpack_state.restype = None
    return lib


class Flags:
    """The compiled ``tc_flags`` of a list of predicates (its own small library)."""

    def __init__(self, native: Native, preds: Sequence[Expr]) -> None:
        self.native = native
        self.count = len(preds)
        self.source = flags_source(native.system, preds)
        self.path = build(self.source)
        self.lib = ctypes.CDLL(str(self.path))
        self.lib.tc_flags.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_int)]
        self.lib.tc_flags.restype = ctypes.c_uint64
        address = ctypes.cast(self.lib.tc_flags, ctypes.c_void_p).value
        assert address is not None
        self.address: int = address

    def __call__(self, s: bytes) -> int:
        ovf = ctypes.c_int(0)
        f = int(self.lib.tc_flags(self.native.padded(s), ctypes.byref(ovf)))
        if ovf.value:
            self.native.raise_error(ERR_OVERFLOW_PREDICATE, -1, -1, 0)
        return f


class Native(StateCodec):
    """The compiled C successor function and BFS driver of ``system``, loaded with ctypes."""

    def __init__(self, system: System, source: str | None = None) -> None:
        """``source``: ``c_source(system)`` when the caller has it already."""
        self.system = system
        self.layout = layout_of(system)
        self.size = max(self.layout.size, 1)
        self.packed_size = packed_size(system)
        self.source = c_source(system) if source is None else source
        self.path = build(self.source)
        self.lib = _load(self.path)

    def flags(self, preds: Sequence[Expr]) -> Flags:
        """A function giving the bitmask of which of ``preds`` hold in a state."""
        return Flags(self, preds)

    # -- per-state calls (tests, tools) ------------------------------------------------------

    def successors(self, s: bytes) -> list[tuple[int, bytes]]:
        """Every transition from the canonical state ``s``, labelled, in action order (with
        buffers of its own: safe from any thread; `successor_function` for many calls)."""
        return self.successor_function()(s)

    def successor_function(self) -> Callable[[bytes], list[tuple[int, bytes]]]:
        """`successors` with its buffers allocated once (many calls from one thread: the
        buffers are the function's own, so it must not run in two threads at once)."""
        n_act = max(len(self.system.actions), 1)
        out = ctypes.create_string_buffer(n_act * self.size)
        acts = (ctypes.c_int32 * n_act)()
        err = (ctypes.c_int64 * 4)()
        size, width = self.size, self.layout.size
        call, padded = self.lib.tc_successors, self.padded

        def successors(s: bytes) -> list[tuple[int, bytes]]:
            n = call(padded(s), out, acts, err)
            if n < 0:
                self.raise_error(int(err[0]), int(err[1]), int(err[2]), int(err[3]))
            raw = ctypes.string_at(out, n * size)
            return [(a, raw[k * size : k * size + width]) for k, a in enumerate(acts[:n])]

        return successors

    def pack(self, s: bytes) -> bytes:
        """``s`` as the driver stores it (`tcpmodel.kernel.cgen.pack_source`); a
        `NativeError` if a variable's code does not fit its type."""
        out = ctypes.create_string_buffer(self.packed_size)
        if self.lib.tc_pack_state(self.padded(s), out):
            self.raise_error(ERR_PACK, -1, -1, 0)
        return out.raw

    def unpack(self, p: bytes) -> bytes:
        """The state whose packed form is ``p``."""
        out = ctypes.create_string_buffer(self.size)
        self.lib.tc_unpack_state(p, out)
        return out.raw[: self.layout.size]

    def padded(self, s: bytes) -> bytes:
        """``s`` as the C code reads a state: at least one byte (zeros appended)."""
        return s if len(s) == self.size else s.ljust(self.size, b"\0")

    def raise_error(self, kind: int, action: int, var: int, value: int) -> None:
        if kind == ERR_RANGE:
            a = self.system.actions[action]
            v = self.system.variables[var]
            raise ModelError(
                f"action {a.label} sets {v.name} to {value}, outside {v.vtype.describe()}; "
                "widen the variable's range or strengthen the action's guard"
            )
        if kind == ERR_PACK:
            what = "an initial state"
            if action >= 0:
                what = f"action {self.system.actions[action].label}"
            raise NativeError(
                f"internal error: {what} gave a variable a code outside its type, which the "
                "native engine's packed states cannot hold; please report it, and use "
                "--engine explicit meanwhile"
            )
        if kind == ERR_OVERFLOW_ACTION:
            a = self.system.actions[action]
            raise NativeError(
                f"action {a.label}: an integer result exceeds the 64 bits of the native engine; "
                "use --engine explicit"
            )
        raise NativeError(
            "a property's integer arithmetic exceeds the 64 bits of the native engine; "
            "use --engine explicit"
        )
