"""The successor function validate's search expands model states with.

Two implementations of one function: the compiled Python one (`Compiled.successors`) and the
native engine's C one (`clib.Native`, ``tc_successors``), which gives the same states, the
same action indices and the same order (tests/test_native.py), about five times faster per
state.  The search memoizes successors per state, so the choice matters for captures whose
connections reach many model states the capture's earlier connections did not.

Policy (``mode``):

* ``python``: the Python function only.
* ``native``: the C function from the first state; its library is compiled first when it is
  not in the cache (gcc, 10-30 s, once per configuration: `clib.build`).
* ``auto`` (the default): the Python function until it has expanded `NATIVE_AFTER` states
  (a small capture never pays for the C: generating its source alone takes ~0.4 s, about
  what the Python function spends on 10,000 states).  Then the C function if its library is
  in the cache; if not, gcc compiles it in the background (`clib.start_build`) while the
  Python function goes on, and the C function takes over once gcc has finished.  `release`
  detaches a compilation still running, which then fills the cache for the next run.

Whatever stops the C function (gcc missing or failing, a value beyond its 64 bits) leaves or
puts back the Python function, with the reason in `note`: the same transitions either way,
so verdicts, witnesses and divergences do not depend on it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from tcpmodel.errors import NativeError
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.system import System

if TYPE_CHECKING:
    from tcpmodel.kernel.clib import Background

Mode = Literal["auto", "native", "python"]
MODES: tuple[Mode, ...] = ("auto", "native", "python")
# States the Python function expands (per configuration) before ``auto`` turns to the C one.
NATIVE_AFTER = 20_000
# How often (in states expanded) ``auto`` asks whether a background compilation has ended.
POLL = 1_024

Function = Callable[[bytes], list[tuple[int, bytes]]]


class Successors:
    """``successors(s)``: every transition from the canonical state ``s`` as (action index,
    state), in action order, computed by the Python or the C function (see the module)."""

    def __init__(
        self, system: System, compiled: Compiled, mode: Mode = "auto", after: int | None = None
    ) -> None:
        """``after``: `NATIVE_AFTER` unless given."""
        if mode not in MODES:
            raise ValueError(f"successors mode {mode!r}: expected one of {', '.join(MODES)}")
        self.system = system
        self.compiled = compiled
        self.mode = mode
        self.after = NATIVE_AFTER if after is None else after
        self.python: Function = compiled.successors
        self.function: Function = self.python
        self.engine = "python"  # which function computes the successors now
        self.note = ""  # why the C function is not used (empty: not asked yet, or in use)
        self.count = 0  # states expanded
        self._source: str | None = None
        self._build: Background | None = None  # the C being compiled
        if mode == "native":
            self._native(wait=True)

    def __call__(self, s: bytes) -> list[tuple[int, bytes]]:
        self.count += 1
        if (
            self.engine == "python"
            and self.mode == "auto"
            and not self.note
            and self.count >= self.after
            and (self.count == self.after or self.count % POLL == 0)
        ):
            self._native(wait=False)
        if self.engine == "native":
            try:
                return self.function(s)
            except NativeError as e:
                self._fallback(str(e))
        return self.python(s)

    def _fallback(self, reason: str) -> None:
        self.function = self.python
        self.engine = "python"
        # The native engine's messages end with `check`'s remedy; validate's is its own.
        reason = reason.replace("use --engine explicit", "use --successors python")
        self.note = reason

    def _native(self, wait: bool) -> None:
        """Turn to the C function if its library is ready (``wait``: compile it now);
        otherwise start or poll its background compilation."""
        from tcpmodel.kernel import cgen, clib

        try:
            if self._source is None:
                self._source = cgen.c_source(self.system)
            if not wait and not clib.cached(self._source):
                build = self._build
                if build is None:
                    self._build = clib.start_build([self._source])
                    if self._build is not None:
                        return
                else:
                    if not build.done():
                        return
                    self._build = None
                    err = build.result()
                    if err is not None:
                        raise err
            native = clib.Native(self.system, self._source)
        except NativeError as e:
            self._fallback(str(e))
            return
        self.function = native.successor_function()
        self.engine = "native"

    def release(self) -> None:
        """Detach a background compilation still running (it fills the cache; a later call
        asks for it again)."""
        build, self._build = self._build, None
        if build is not None:
            build.detach()
