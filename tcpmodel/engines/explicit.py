"""Explicit-state breadth-first exploration.

Data: states are ``bytes`` (see `tcpmodel.kernel.compile`); ``seen`` is the set of every state
discovered; ``levels[d]`` lists the states first discovered at depth ``d``, in discovery order.
There are no parent pointers: the parent of a state at depth ``d`` is the first state of
``levels[d-1]`` with a transition to it, found again when a trace is needed.  That keeps memory
at about one ``bytes`` object and one set entry per state, and traces stay shortest and
deterministic (BFS order).

Contract of `explore`: every property is checked on every state discovered.  An ``always``
property is ``violated`` by the first state (in BFS order) where its predicate fails, with a
shortest trace to it; ``holds`` only if the search exhausted the reachable states.  A
``reachable`` property is ``reachable`` with a shortest witness, ``unreachable`` only after an
exhaustive search.  When a bound (depth, states, time, memory) stops the search first, the
undecided properties are ``unknown`` and the reason names the bound; an interrupt
(``bounds.interrupt``) stops it in the same way, at the same check points.  The search stops
early once every property is decided.
"""

from __future__ import annotations

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
from tcpmodel.formula import Property
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.expr import Expr
from tcpmodel.kernel.por import Reducer, independence
from tcpmodel.kernel.system import System
from tcpmodel.results import Outcome, Stats, Trace


def explore(
    system: System,
    properties: Sequence[Property],
    bounds: Bounds = NO_BOUNDS,
    progress: ProgressFn | None = None,
    compiled: Compiled | None = None,
) -> tuple[dict[str, Outcome], Stats]:
    """Check ``properties`` on ``system``; see the module docstring for the contract."""
    c = compiled or Compiled(system)
    start = time.monotonic()
    base_mem = rss_mb()
    peak = base_mem
    preds = [bad_of(p) for p in properties]
    flags = c.flags(preds)
    undecided = (1 << len(properties)) - 1
    hits: dict[int, tuple[bytes, int]] = {}

    def scan(states: list[bytes], depth: int) -> None:
        nonlocal undecided
        if not undecided:
            return
        for s in states:
            f = flags(s) & undecided
            if f:
                for i in range(len(properties)):
                    if f >> i & 1:
                        hits[i] = (s, depth)
                undecided &= ~f
                if not undecided:
                    return

    init = c.initial()
    seen: set[bytes] = set(init)
    levels: list[list[bytes]] = [init]
    scan(init, 0)
    frontier = init
    transitions = 0
    depth = 0
    stop = ""
    step = c.step
    last_report = start
    reduce = _reducer(c, preds) if bounds.por and properties else None
    expanded = reduced = 0
    while frontier and (undecided or not properties):
        if bounds.max_depth is not None and depth >= bounds.max_depth:
            stop = f"depth bound {bounds.max_depth} reached with {len(frontier)} states unexpanded"
            break
        nxt: list[bytes] = []
        push = nxt.append
        for k, s in enumerate(frontier):
            if reduce is None:
                transitions += step(s, seen, push)
            else:
                expanded += 1
                labelled = c.successors(s)
                en = 0
                for a, _ in labelled:
                    en |= 1 << a
                amp = reduce.ample(s, en)
                succ = [t for a, t in labelled if amp >> a & 1]
                # C3: a reduced expansion only if every ample successor is new
                if amp == en or any(t in seen for t in succ):
                    succ = [t for _, t in labelled]
                else:
                    reduced += 1
                transitions += len(succ)
                for t in succ:
                    if t not in seen:
                        seen.add(t)
                        push(t)
                if expanded == POR_TRIAL and not reduced:
                    reduce = None  # nothing reducible so far: stop paying for the analysis
            if k & 1023 == 1023:
                now = time.monotonic()
                stop = limit(bounds, len(seen), now - start, depth + 1)
                mem = rss_mb()
                peak = max(peak, mem)
                stop = stop or memory_stop(bounds, mem)
                if progress is not None and now - last_report >= 1.0:
                    last_report = now
                    progress(Progress(len(seen), depth + 1, len(frontier) - k, now - start))
                if stop:
                    break
        scan(nxt, depth + 1)
        levels.append(nxt)
        frontier = nxt
        depth += 1
        if stop:
            break
        stop = limit(bounds, len(seen), time.monotonic() - start, depth)
        if stop:
            break
    complete = not frontier and not stop
    if frontier and not undecided:
        stop = ""  # decided early: not a bound
    seconds = time.monotonic() - start
    peak = max(peak, rss_mb())
    stats = Stats(
        states=len(seen),
        transitions=transitions,
        depth=max((d for d, lv in enumerate(levels) if lv), default=0),
        seconds=seconds,
        peak_memory_mb=peak,
        complete=complete,
        por=None if not (bounds.por and properties) else (expanded, reduced),
    )
    if progress is not None and seconds >= 1.0:
        progress(Progress(len(seen), stats.depth, 0, seconds))
    found = {i: _trace(c, levels, s, d) for i, (s, d) in hits.items()}
    return verdicts(properties, found, exhaustive(properties, complete), stop), stats


POR_TRIAL = 10_000
"""Expansions after which a search that reduced none turns partial-order reduction off."""


def _reducer(c: Compiled, preds: Sequence[Expr]) -> Reducer | None:
    """The ample-set computer of ``c`` for properties reading ``preds``, or ``None`` when no
    two actions are independent (nothing could be reduced)."""
    ind = independence(c.system, preds)
    if not ind.independent_pairs:
        return None
    return Reducer(ind, c.flags(list(ind.conjuncts)))


def _trace(c: Compiled, levels: list[list[bytes]], target: bytes, depth: int) -> Trace:
    """The BFS-shortest trace to ``target``, found by re-expanding earlier levels."""
    path = [target]
    acts: list[int | None] = [None]
    for d in range(depth, 0, -1):
        cur = path[-1]
        parent = next((s, ai) for s in levels[d - 1] for ai, t in c.successors(s) if t == cur)
        path.append(parent[0])
        acts.append(parent[1])
    path.reverse()
    acts.reverse()
    # acts[k] led from path[k] to path[k+1]; a step records the action that led to it.
    labels: list[int | None] = [None, *acts[:-1]]
    steps = tuple(trace_step(c, s, a) for s, a in zip(path, labels, strict=True))
    return Trace(steps, model=c.system.name)
