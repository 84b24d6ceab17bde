"""``auto`` without a compile wait: the Python explorer runs while gcc compiles the C code.

The native engine is about ten times faster than the Python explorer once its C code is
compiled, but compiling a configuration takes gcc tens of seconds, far longer than the Python
explorer needs for a small configuration.  So when ``auto`` stands for ``native`` and the C
code of the configuration (its successor function and its predicates) is not in the cache,
`explore` starts gcc in a background process (`tcpmodel.kernel.clib.start_build`: it runs on
another core) and runs the Python explorer meanwhile, which polls the compilation at its
check points through ``Bounds.interrupt`` (`_Race`, an `Interrupt` that is also requested when
the compilation has succeeded):

* the Python explorer ends first (complete, every property decided, or stopped by a bound or
  the user's interrupt): its outcomes are the run's, with engine ``explicit``; the compilation
  is detached and finishes on its own, so the next run finds the code cached (the library is
  renamed into place only when gcc is done, never half-written), unless the user interrupted
  the run, which cancels it;
* gcc ends first: the Python explorer stops, its work is dropped, and the native engine runs
  from the start with the time left (``--timeout`` spans both phases), with engine ``native``;
* the Python explorer reaches `HANDOFF` states first (a configuration that large is one the
  native engine will finish sooner, and the Python search only takes the cores gcc needs): it
  stops, the run waits for gcc and goes on as when gcc ends first.  A state bound of the run's
  own at or below `HANDOFF` is left to the Python explorer.

Both engines give the same verdicts, state counts and traces (tests/test_native.py), so which
one wins changes only the time taken.  If gcc fails, the Python explorer runs on and each
outcome says the native engine failed, as `tcpmodel.check`'s fallback says.  Cached code: the
native engine at once.  Progress lines name the engine running.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence

from tcpmodel.engines.search import Bounds, Progress, ProgressFn, remaining
from tcpmodel.errors import NativeError
from tcpmodel.formula import Property
from tcpmodel.interrupt import Interrupt
from tcpmodel.kernel.clib import Background, start_build
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.system import System
from tcpmodel.results import Outcome, Stats

Run = tuple[dict[str, Outcome], Stats]
EngineRun = Callable[[System, Sequence[Property], Bounds, ProgressFn | None, Compiled | None], Run]
"""An engine's run (`tcpmodel.engines.registry.Engine`)."""


class _Race(Interrupt):
    """The Python explorer's stop request: the user's, or the background compilation's
    success (`fired`).  A failed compilation is kept in `error` and does not stop it."""

    def __init__(self, build: Background, user: Interrupt | None) -> None:
        super().__init__()
        self.build = build
        self.user = user
        self.fired = False
        self.error: NativeError | None = None

    @property
    def requested(self) -> bool:
        if self.user is not None and self.user.requested:
            return True
        if not self.fired and self.error is None and self.build.done():
            self.error = self.build.result()
            self.fired = self.error is None
        return self.fired


HANDOFF = 250_000
"""States after which the Python explorer stops racing and leaves the configuration to the
native engine (about five seconds of Python's search on the connection model, where gcc takes
about ten to compile it)."""


def _tagged(progress: ProgressFn | None, engine: str) -> ProgressFn | None:
    if progress is None:
        return None
    show = progress

    def tagged(p: Progress) -> None:
        show(dataclasses.replace(p, engine=engine))

    return tagged


def explore(
    system: System,
    properties: Sequence[Property],
    bounds: Bounds,
    progress: ProgressFn | None,
    compiled: Compiled | None,
    native: EngineRun,
    python: EngineRun,
    sources: Sequence[str],
) -> tuple[dict[str, Outcome], Stats, str]:
    """The outcomes of ``properties`` on ``system``, the run's statistics and the engine
    that gave them: ``native`` (the native engine's run, needing the C ``sources``) if they
    are cached or gcc compiles them before ``python`` (the Python explorer) is done, else
    ``python``'s (the module docstring)."""
    start = time.monotonic()
    build = start_build(sources)
    if build is None:
        got, stats = native(system, properties, bounds, _tagged(progress, "native"), compiled)
        return got, stats, "native"
    race = _Race(build, bounds.interrupt)
    handoff = bounds.max_states is None or bounds.max_states > HANDOFF
    python_bounds = dataclasses.replace(
        bounds, interrupt=race, max_states=HANDOFF if handoff else bounds.max_states
    )
    try:
        got, stats = python(
            system, properties, python_bounds, _tagged(progress, "explicit, compiling"), compiled
        )
        if handoff and _capped(race, got, stats):
            stop = _wait(race, bounds, start)
            if not stop and race.error is not None:  # gcc failed: Python from the start
                left = remaining(bounds, 0, time.monotonic() - start)
                if left is not None:
                    got, stats = python(
                        system, properties, left, _tagged(progress, "explicit"), compiled
                    )
                else:
                    assert bounds.timeout is not None
                    stop = f"time limit {bounds.timeout:g} s reached"
            if stop:  # the user or the time limit came first: what Python decided stays
                got = {
                    n: Outcome("unknown", reason=stop) if o.verdict == "unknown" else o
                    for n, o in got.items()
                }
    except BaseException:
        build.cancel()
        raise
    if not race.fired:
        if race.user is not None and race.user.requested:
            build.cancel()
        elif race.error is None:
            build.detach()
        if race.error is not None:
            note = f"the native engine failed ({race.error}); checked by the Python explorer"
            got = {n: _noted(o, note) for n, o in got.items()}
        return got, stats, "explicit"
    left = remaining(bounds, 0, time.monotonic() - start)
    if left is None:  # the compilation ended just as the time ran out
        assert bounds.timeout is not None
        reason = f"time limit {bounds.timeout:g} s reached"
        return {p.name: Outcome("unknown", reason=reason) for p in properties}, stats, "explicit"
    got, stats = native(system, properties, left, _tagged(progress, "native"), compiled)
    return got, stats, "native"


def _capped(race: _Race, got: dict[str, Outcome], stats: Stats) -> bool:
    """Whether the Python explorer stopped at `HANDOFF` states, with a property undecided,
    and not for the compilation's end, its failure, or the user."""
    return (
        stats.states >= HANDOFF
        and not stats.complete
        and not race.fired
        and race.error is None
        and not (race.user is not None and race.user.requested)
        and any(o.verdict == "unknown" for o in got.values())
    )


def _wait(race: _Race, bounds: Bounds, start: float) -> str:
    """Until the compilation has ended (`race.fired` or `race.error` set): ``""``; the reason
    to stop instead if the user interrupts or the time limit is reached first."""
    while True:
        if race.user is not None and race.user.requested:
            return "interrupted while the native engine's C code compiled"
        if race.requested or race.error is not None:
            return ""
        if bounds.timeout is not None and time.monotonic() - start >= bounds.timeout:
            return f"time limit {bounds.timeout:g} s reached while the C code compiled"
        time.sleep(0.05)


def _noted(o: Outcome, note: str) -> Outcome:
    return dataclasses.replace(o, reason=f"{note}; {o.reason}" if o.reason else note)
