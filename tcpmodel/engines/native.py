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

Hash compaction (``compact=True``, ``check --compact``): the visited set holds a 64-bit
fingerprint per state instead of the state (SPIN's ``-DHC``, TLC's fingerprints), and only the
level being expanded and the next one are kept as states; parent and action are still kept per
state.  A counterexample is the chain of actions from its initial state, re-executed through the
successor function (each action has at most one successor), so it is a real path, replayed by
`tcpmodel.check` like any other.  Two states with one fingerprint would make the second look
visited and omit it and what only it leads to: so ``holds`` and ``unreachable`` are not proofs,
and `Stats.omission_probability` bounds the chance of any omission, ``n**2 / 2**65`` for ``n``
states (uniform fingerprints; the bound SPIN and TLC print), also said in those outcomes'
reasons.  State and transition counts are those of the states kept.
"""

from __future__ import annotations

import ctypes
import dataclasses
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
from tcpmodel.kernel.cdriver import TC_CHECK, TC_ERROR, TC_FULL, TC_LEVEL, TC_MEM, SearchInfo
from tcpmodel.kernel.cgen import c_source, flags_source
from tcpmodel.kernel.clib import Flags, Native
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.system import System
from tcpmodel.results import Outcome, Stats, Trace

_TARGET_CHUNK_S = 0.05
_NO_LIMIT = 2**64 - 1


class _Search:
    """One C search context (freed by `close`)."""

    def __init__(
        self, native: Native, flags: Flags, undecided: int, mem_cap: int, compact: bool = False
    ) -> None:
        self.native = native
        self.flags = flags  # keeps the library of the flags function loaded
        self.lib = native.lib
        self.compact = compact
        self.initial: dict[int, bytes] = {}  # index of each initial state kept, its bytes
        self.ctx = self.lib.tc_new(undecided, mem_cap, flags.address, int(compact))
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
    return _explore(system, properties, bounds, progress, compact=False)


def explore_compact(
    system: System,
    properties: Sequence[Property],
    bounds: Bounds = NO_BOUNDS,
    progress: ProgressFn | None = None,
    compiled: Compiled | None = None,
) -> tuple[dict[str, Outcome], Stats]:
    """`explore` with hash compaction (``check --compact``, the module docstring)."""
    del compiled
    return _explore(system, properties, bounds, progress, compact=True)


def _explore(
    system: System,
    properties: Sequence[Property],
    bounds: Bounds,
    progress: ProgressFn | None,
    *,
    compact: bool,
) -> tuple[dict[str, Outcome], Stats]:
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
    search = _Search(native, flags, all_bits, mem_cap, compact)
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
    del system  # search.native.system; the parameter stays for bench/spin.py
    lib, ctx = search.lib, search.ctx
    stop = ""
    for s in search.native.initial():
        before = search.info().states
        r = lib.tc_add_initial(ctx, search.native.padded(s))
        if r == TC_ERROR:
            search.check_error()
        if r != 0:
            stop = _memory_stop(search, bounds, r == TC_FULL)
            break
        if search.info().states > before:
            search.initial[before] = s
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
                stop = _memory_stop(search, bounds, r == TC_FULL)
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
        omission_probability=omission_probability(info.states) if search.compact else None,
    )
    if progress is not None and seconds >= 1.0:
        progress(Progress(info.states, stats.depth, 0, seconds))
    traces = {
        i: _trace(search, int(lib.tc_hit(ctx, i)))
        for i in range(len(properties))
        if not undecided >> i & 1
    }
    found = {i: t for i, t in traces.items() if t is not None}
    outcomes = verdicts(properties, found, exhaustive(properties, complete), stop)
    for i in traces.keys() - found.keys():  # compact mode only: no trace to show
        outcomes[properties[i].name] = Outcome("unknown", reason=_NO_TRACE)
    if stats.omission_probability is not None:
        said = f"hash compaction: omission probability <= {stats.omission_probability:.2g}"
        outcomes = {
            n: dataclasses.replace(o, reason=said) if o.verdict in _NOT_PROOFS else o
            for n, o in outcomes.items()
        }
    return outcomes, stats


_NOT_PROOFS = ("holds", "unreachable")


def omission_probability(states: int) -> float:
    """An upper bound on the probability that hash compaction omitted a state, after
    ``states`` states with 64-bit fingerprints: each new state's fingerprint meets one of at
    most ``states`` stored ones with probability ``states / 2**64`` (fingerprints taken as
    uniform), so ``states**2 / 2**65`` in all, the estimate SPIN and TLC print."""
    return min(1.0, states * states / 2**65)


def _memory_stop(search: _Search, bounds: Bounds, full: bool) -> str:
    """Why the search stopped: ``full``, its limit of states, else memory."""
    info = search.info()
    if full:
        return "the native engine's limit of 2**32 states reached"
    want = rss_mb() + max(0, info.mem_want - info.table_bytes) / 2**20
    if bounds.max_memory_mb is not None:
        return f"memory bound {bounds.max_memory_mb:.0f} MiB reached ({want:.0f} MiB)"
    return f"out of memory: the native engine could not grow its tables to {want:.0f} MiB"


_NO_TRACE = (
    "hash compaction found a state where the property fails but its path could not be "
    "re-executed; check without --compact"
)


def _trace(search: _Search, idx: int) -> Trace | None:
    """The path of parent pointers from an initial state to state ``idx``; in compact mode
    the states are re-executed from the initial state (`_rerun`), ``None`` if that fails."""
    path: list[tuple[bytes, int | None]] = []
    cur: int | None = idx
    while cur is not None:
        s, parent, action = search.state(cur)
        if parent is None and search.compact:
            s = search.initial[cur]
        path.append((s, None if parent is None else action))
        cur = parent
    path.reverse()
    if search.compact:
        rerun = _rerun(search.native, path[0][0], [a for _, a in path[1:] if a is not None])
        if rerun is None:
            return None
        path = rerun
    return Trace(
        tuple(trace_step(search.native, s, a) for s, a in path), model=search.native.system.name
    )


def _rerun(
    native: Native, initial: bytes, actions: Sequence[int]
) -> list[tuple[bytes, int | None]] | None:
    """The path from ``initial`` through ``actions``, each applied to the state before it
    (an action has at most one successor); ``None`` if one is not enabled there."""
    out: list[tuple[bytes, int | None]] = [(initial, None)]
    for action in actions:
        nxt = [t for a, t in native.successors(out[-1][0]) if a == action]
        if len(nxt) != 1:
            return None
        out.append((nxt[0], action))
    return out
