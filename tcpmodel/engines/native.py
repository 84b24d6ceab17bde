"""Explicit-state breadth-first exploration in compiled C (`tcpmodel.kernel.cgen`).

The contract is that of `tcpmodel.engines.explicit.explore`, with the same results: the same
verdicts, state and transition counts, depths, bound reasons and shortest traces.  The C driver
stores states in discovery order, so a BFS level is a range of state indices; it expands states
in that order and successors in action order, exactly as the Python engine does, and records for
every state its parent and the action that discovered it, so a trace is read off the parent
pointers (the parent is the first state of the previous level with a transition to the state,
the state the Python engine finds by re-expansion).  Each newly discovered state is tested
against the property predicates, and the first state (in BFS order) where each one holds is kept.

Python runs the driver in chunks (`tc_run` returns at the end of a level, or at a check point,
every 1024 expanded states of a level, once its budget is spent or the state bound is reached)
and applies the bounds between chunks at the same check points as the Python engine: depth,
states, time, memory (the C tables also refuse to grow past the memory bound).  The clock starts
after the C code is compiled (compilation is cached).
"""

from __future__ import annotations

import ctypes
import shutil
import time
from collections.abc import Sequence

from tcpmodel.engines.search import (
    NO_BOUNDS,
    Bounds,
    Progress,
    ProgressFn,
    bad_of,
    exhaustive,
    limit,
    memory_stop,
    rss_mb,
    trace_step,
    verdicts,
)
from tcpmodel.errors import NativeError
from tcpmodel.formula import Property
from tcpmodel.kernel.cgen import (
    TC_CHECK,
    TC_ERROR,
    TC_FULL,
    TC_LEVEL,
    TC_MEM,
    Flags,
    Native,
    SearchInfo,
    c_source,
    flags_source,
)
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.system import System
from tcpmodel.results import Outcome, Stats, Trace

_TARGET_CHUNK_S = 0.05
_NO_LIMIT = 2**64 - 1


class _Search:
    """One C search context (freed by `close`)."""

    def __init__(self, native: Native, flags: Flags, undecided: int, mem_cap: int) -> None:
        self.native = native
        self.flags = flags  # keeps the library of the flags function loaded
        self.lib = native.lib
        self.ctx = self.lib.tc_new(undecided, mem_cap, flags.address)
        if not self.ctx:
            raise NativeError("the native engine could not allocate its tables; use less memory")
        self._info = (ctypes.c_int64 * len(SearchInfo._fields))()

    def close(self) -> None:
        if self.ctx:
            self.lib.tc_free(self.ctx)
            self.ctx = None

    def info(self) -> SearchInfo:
        self.lib.tc_info(self.ctx, self._info)
        return SearchInfo._make(self._info)

    def check_error(self) -> None:
        i = self.info()
        if i.err_kind:
            self.native.raise_error(i.err_kind, i.err_action, i.err_var, i.err_value)

    def state(self, idx: int) -> tuple[bytes, int | None, int]:
        buf = ctypes.create_string_buffer(self.native.size)
        action = ctypes.c_int64(0)
        parent = int(self.lib.tc_state(self.ctx, idx, buf, ctypes.byref(action)))
        s = buf.raw[: self.native.layout.size]
        return s, (None if parent < 0 else parent), int(action.value)


def compiler_available() -> bool:
    """Whether the C compiler this engine needs is on PATH."""
    return shutil.which("gcc") is not None


def sources(system: System, properties: Sequence[Property]) -> list[str]:
    """The C sources `explore` compiles for ``properties`` on ``system`` (the successor
    function and the predicates); a `NativeError` where the engine cannot take them."""
    return [c_source(system), flags_source(system, [bad_of(p) for p in properties])]


def explore(
    system: System,
    properties: Sequence[Property],
    bounds: Bounds = NO_BOUNDS,
    progress: ProgressFn | None = None,
    compiled: Compiled | None = None,
) -> tuple[dict[str, Outcome], Stats]:
    """Check ``properties`` on ``system`` in C; the contract of `explicit.explore`.

    ``compiled`` is accepted for symmetry with the Python engine and not needed.
    """
    del compiled
    preds = [bad_of(p) for p in properties]
    native = Native(system)
    flags = native.flags(preds)
    start = time.monotonic()
    base_mem = rss_mb()
    peak = base_mem
    all_bits = (1 << len(properties)) - 1
    mem_cap = _NO_LIMIT
    if bounds.max_memory_mb is not None:
        mem_cap = max(0, int((bounds.max_memory_mb - base_mem) * 2**20))
    search = _Search(native, flags, all_bits, mem_cap)
    try:
        return _run(search, system, properties, bounds, progress, start, peak)
    finally:
        search.close()


def _run(
    search: _Search,
    system: System,
    properties: Sequence[Property],
    bounds: Bounds,
    progress: ProgressFn | None,
    start: float,
    peak: float,
) -> tuple[dict[str, Outcome], Stats]:
    lib, ctx = search.lib, search.ctx
    stop = ""
    for s in search.native.initial():
        r = lib.tc_add_initial(ctx, search.native.padded(s))
        if r == TC_ERROR:
            search.check_error()
        if r != 0:
            stop = _memory_stop(search, bounds)
            break
    info = search.info()
    level_bounds = [0, info.states]  # level d holds states level_bounds[d] .. level_bounds[d+1] - 1
    undecided = info.undecided
    frontier = info.states
    depth = 0
    budget = 4096
    max_states = _NO_LIMIT if bounds.max_states is None else bounds.max_states
    last_report = start
    while not stop and frontier and (undecided or not properties):
        if bounds.max_depth is not None and depth >= bounds.max_depth:
            stop = f"depth bound {bounds.max_depth} reached with {frontier} states unexpanded"
            break
        lib.tc_begin_level(ctx)
        while True:
            t0 = time.monotonic()
            r = lib.tc_run(ctx, budget, max_states)
            now = time.monotonic()
            if r == TC_ERROR:
                search.check_error()
            if r == TC_LEVEL:
                break
            if r in (TC_MEM, TC_FULL):
                stop = _memory_stop(search, bounds)
                break
            assert r == TC_CHECK
            dt = now - t0
            budget = max(1024, min(1 << 24, int(budget * _TARGET_CHUNK_S / max(dt, 1e-4))))
            info = search.info()
            stop = limit(bounds, info.states, now - start, depth + 1)
            mem = rss_mb()
            peak = max(peak, mem)
            stop = stop or memory_stop(bounds, mem)
            if progress is not None and now - last_report >= 1.0:
                last_report = now
                progress(
                    Progress(info.states, depth + 1, info.level_end - info.next_state, now - start)
                )
            if stop:
                break
        info = search.info()
        level_bounds.append(info.states)
        frontier = info.states - level_bounds[-2]
        undecided = info.undecided
        depth += 1
        if stop:
            break
        now = time.monotonic()
        stop = limit(bounds, info.states, now - start, depth)
        if stop:
            break
        if progress is not None and now - last_report >= 1.0:
            last_report = now
            progress(Progress(info.states, depth, frontier, now - start))
    info = search.info()
    undecided = info.undecided
    complete = not frontier and not stop
    if frontier and not undecided:
        stop = ""  # decided early: not a bound
    seconds = time.monotonic() - start
    peak = max(peak, rss_mb())
    levels = [level_bounds[d + 1] - level_bounds[d] for d in range(len(level_bounds) - 1)]
    stats = Stats(
        states=info.states,
        transitions=info.transitions,
        depth=max((d for d, n in enumerate(levels) if n), default=0),
        seconds=seconds,
        peak_memory_mb=peak,
        complete=complete,
    )
    if progress is not None and seconds >= 1.0:
        progress(Progress(info.states, stats.depth, 0, seconds))
    found = {
        i: _trace(search, system, int(lib.tc_hit(ctx, i)))
        for i in range(len(properties))
        if not undecided >> i & 1
    }
    return verdicts(properties, found, exhaustive(properties, complete), stop), stats


def _memory_stop(search: _Search, bounds: Bounds) -> str:
    info = search.info()
    if info.states >= 2**32 - 2 - len(search.native.system.actions):
        return "the native engine's limit of 2**32 states reached"
    want = rss_mb() + max(0, info.mem_want - info.table_bytes) / 2**20
    if bounds.max_memory_mb is not None:
        return f"memory bound {bounds.max_memory_mb:.0f} MiB reached ({want:.0f} MiB)"
    return f"out of memory: the native engine could not grow its tables to {want:.0f} MiB"


def _trace(search: _Search, system: System, idx: int) -> Trace:
    """The path of parent pointers from an initial state to state ``idx``."""
    path: list[tuple[bytes, int | None]] = []
    cur: int | None = idx
    while cur is not None:
        s, parent, action = search.state(cur)
        path.append((s, None if parent is None else action))
        cur = parent
    path.reverse()
    return Trace(tuple(trace_step(search.native, s, a) for s, a in path), model=system.name)
