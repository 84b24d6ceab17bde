"""Explicit-state LTL checking under weak and strong fairness.

For each property the negated formula becomes a generalized Büchi automaton
(`tcpmodel.ltl.automaton`), explored in product with the model's state graph.  A state with
no successor stutters forever (a self-loop that belongs to no action group).  The property is
violated iff the product has a reachable cycle that

* visits every acceptance set of the automaton, and
* is fair: for each weakly fair group G, G is taken on the cycle or is disabled somewhere on
  it; for each strongly fair group G, G is taken on the cycle or is disabled everywhere on it.

Search: Tarjan's algorithm (iterative) splits the product into strongly connected components.
A component that misses an acceptance set is dropped; one where a weakly fair group is enabled
in every state but never taken is dropped whole (every cycle inside it is unfair too); one
where a strongly fair group is enabled somewhere but never taken loses the states where it is
enabled, and what is left is split again (the Streett refinement of Emerson and Lei).  A
component that passes holds a fair accepting cycle through all of its states and edges.

The counterexample is a lasso: the shortest stem (BFS in the product) to the component's
state nearest the initial states, then a cycle inside the component that passes, in turn, a
state of each acceptance set, an edge of each fair group taken there and a state where each
weakly fair group never taken is disabled, and returns.  It is checked before it is returned,
by `check_lasso` (which checks the lasso BMC's lassos too): `tcpmodel.ltl.holds_on_lasso` must
find the property false on it and the fairness conditions must hold on its cycle, or the
engine raises.

Bounds: the state graph is explored first (breadth-first, with the usual bounds).  A cycle
found among fully expanded states is a real fair lasso, so ``violated`` stands even when a
bound cut the exploration; otherwise the verdict is ``unknown``.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from tcpmodel.engines.search import Bounds, Progress, limit, memory_stop, rss_mb, trace_step
from tcpmodel.errors import ModelError
from tcpmodel.formula import Property
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.system import Fairness, System
from tcpmodel.ltl import Automaton, Not, automaton, holds_on_lasso
from tcpmodel.results import Outcome, Stats, Step, Trace

STUTTER = -1  # the action index of a stutter step


@dataclass(slots=True)
class Graph:
    """The explored state graph: states by index, successors as (action, target) pairs,
    and which states were fully expanded."""

    states: list[bytes]
    succ: list[list[tuple[int, int]]]
    expanded: int  # states[:expanded] have their full successor lists
    complete: bool
    stop: str
    transitions: int
    depth: int


def explore_graph(
    c: Compiled,
    bounds: Bounds,
    progress: Callable[[Progress], None] | None = None,
) -> Graph:
    start = time.monotonic()
    index: dict[bytes, int] = {}
    states: list[bytes] = []
    for s in c.initial():
        index[s] = len(states)
        states.append(s)
    succ: list[list[tuple[int, int]]] = []
    level_end = len(states)
    depth = 0
    stop = ""
    transitions = 0
    last = start
    i = 0
    while i < len(states):
        if i == level_end:
            depth += 1
            level_end = len(states)
            if bounds.max_depth is not None and depth > bounds.max_depth:
                stop = f"depth bound {bounds.max_depth} reached"
                break
        out: list[tuple[int, int]] = []
        for ai, t in c.successors(states[i]):
            j = index.get(t)
            if j is None:
                j = index[t] = len(states)
                states.append(t)
            out.append((ai, j))
        transitions += len(out)
        succ.append(out)
        i += 1
        if i & 1023 == 0:
            now = time.monotonic()
            stop = limit(bounds, len(states), now - start, depth) or memory_stop(bounds, rss_mb())
            if progress is not None and now - last >= 1.0:
                last = now
                progress(Progress(len(states), depth, len(states) - i, now - start))
            if stop:
                break
    complete = i == len(states) and not stop
    return Graph(states, succ, i, complete, stop, transitions, depth)


def check_ltl(
    system: System,
    properties: Sequence[Property],
    bounds: Bounds | None = None,
    progress: Callable[[Progress], None] | None = None,
    compiled: Compiled | None = None,
    fairness: Sequence[Fairness] | None = None,
) -> tuple[dict[str, Outcome], Stats]:
    """Check the LTL ``properties`` (``kind == "ltl"``) of ``system`` under ``fairness``
    (default: the model's own)."""
    c = compiled or Compiled(system)
    t0 = time.monotonic()
    g = explore_graph(c, bounds or Bounds(), progress)
    fair = tuple(system.fairness if fairness is None else fairness)
    groups = _groups(system, fair)
    enabled = [_enabled(groups, succ) for succ in g.succ]
    out: dict[str, Outcome] = {}
    for p in properties:
        if p.ltl is None:
            raise ModelError(f"property {p.name} is not an LTL property")
        out[p.name] = _check_one(c, g, p, fair, groups, enabled)
    stats = Stats(
        states=len(g.states),
        transitions=g.transitions,
        depth=g.depth,
        seconds=time.monotonic() - t0,
        peak_memory_mb=rss_mb(),
        complete=g.complete,
    )
    return out, stats


def _groups(system: System, fair: Sequence[Fairness]) -> list[int]:
    """For each action, the bitmask of the fairness constraints (by index) it belongs to."""
    known = {x for a in system.actions for x in (a.group, a.name, a.label)}
    for f in fair:
        if f.group not in known:
            raise ModelError(f"fairness names {f.group!r}, which is no action or action group")
    return [
        sum(1 << k for k, f in enumerate(fair) if f.group in (a.group, a.name, a.label))
        for a in system.actions
    ]


def _enabled(groups: list[int], succ: Iterable[tuple[int, object]]) -> int:
    m = 0
    for ai, _ in succ:
        m |= groups[ai]
    return m


Node = tuple[int, int]  # (state index, automaton node)


def _check_one(
    c: Compiled,
    g: Graph,
    p: Property,
    fair: Sequence[Fairness],
    groups: list[int],
    enabled: list[int],
) -> Outcome:
    assert p.ltl is not None and p.atoms is not None
    aut = automaton(Not(p.ltl))
    flags = c.flags(list(p.atoms))
    atoms = [flags(s) for s in g.states]
    # The product graph, breadth-first from its initial nodes; only expanded states count.
    ids: dict[Node, int] = {}
    nodes: list[Node] = []
    parent: list[int] = []
    edges: list[list[tuple[int, int]]] = []  # (action or STUTTER, target node id)

    def add(n: Node, par: int) -> int:
        k = ids.get(n)
        if k is None:
            k = ids[n] = len(nodes)
            nodes.append(n)
            parent.append(par)
        return k

    for s in range(min(len(c.initial()), g.expanded)):
        for q in aut.initial:
            if aut.admits(q, atoms[s]):
                add((s, q), -1)
    queue = deque(range(len(nodes)))
    while queue:
        k = queue.popleft()
        s, q = nodes[k]
        out: list[tuple[int, int]] = []
        if s < g.expanded:
            moves = g.succ[s] or [(STUTTER, s)]
            for ai, t in moves:
                if t >= g.expanded:
                    continue  # its successors are unknown: never part of a reported cycle
                for r in aut.succ[q]:
                    if aut.admits(r, atoms[t]):
                        before = len(nodes)
                        j = add((t, r), k)
                        if j == before:
                            queue.append(j)
                        out.append((ai, j))
        edges.append(out)
    weak = sum(1 << k for k, f in enumerate(fair) if f.kind == "weak")
    strong = sum(1 << k for k, f in enumerate(fair) if f.kind == "strong")

    def group_of(ai: int) -> int:
        return 0 if ai == STUTTER else groups[ai]

    def enabled_at(k: int) -> int:
        return enabled[nodes[k][0]]

    found: list[int] | None = None
    for comp in _sccs(len(nodes), edges, None):
        found = _fair_part(comp, edges, aut, nodes, weak, strong, group_of, enabled_at)
        if found is not None:
            break
    if found is None:
        if g.complete:
            return Outcome("holds")
        return Outcome(
            "unknown",
            reason=(g.stop or "exploration incomplete")
            + "; no fair violating cycle among the explored states",
        )
    lasso = _lasso(c, g, p, aut, nodes, parent, edges, found, group_of, fair, enabled_at)
    return Outcome("violated", lasso)


def _sccs(n: int, edges: list[list[tuple[int, int]]], allowed: set[int] | None) -> list[list[int]]:
    """Nontrivial strongly connected components (a cycle inside), Tarjan's algorithm without
    recursion, over the nodes in ``allowed`` (all when None)."""
    index = [-1] * n
    low = [0] * n
    on = [False] * n
    stack: list[int] = []
    out: list[list[int]] = []
    counter = 0
    roots = range(n) if allowed is None else sorted(allowed)
    for root in roots:
        if index[root] != -1:
            continue
        work = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on[v] = True
            recurse = False
            es = edges[v]
            while i < len(es):
                w = es[i][1]
                i += 1
                if allowed is not None and w not in allowed:
                    continue
                if index[w] == -1:
                    work.append((v, i))
                    work.append((w, 0))
                    recurse = True
                    break
                if on[w]:
                    low[v] = min(low[v], index[w])
            if recurse:
                continue
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on[w] = False
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1 or any(t == v for _, t in edges[v]):
                    out.append(sorted(comp))
            if work:
                u, _ = work[-1]
                low[u] = min(low[u], low[v])
    return out


def _fair_part(
    comp: list[int],
    edges: list[list[tuple[int, int]]],
    aut: Automaton,
    nodes: list[Node],
    weak: int,
    strong: int,
    group_of: Callable[[int], int],
    enabled_at: Callable[[int], int],
) -> list[int] | None:
    """A fair accepting component inside ``comp`` (its node list), or None."""
    todo = [comp]
    while todo:
        part = todo.pop()
        members = set(part)
        if not all(any(nodes[k][1] in acc for k in part) for acc in aut.accepting):
            continue
        taken = 0
        for k in part:
            for ai, t in edges[k]:
                if t in members:
                    taken |= group_of(ai)
        everywhere = ~0
        somewhere = 0
        for k in part:
            everywhere &= enabled_at(k)
            somewhere |= enabled_at(k)
        if weak & everywhere & ~taken:
            continue  # a weakly fair group enabled throughout, never taken: no fair cycle
        unmet = strong & somewhere & ~taken
        if unmet:
            keep = {k for k in part if not enabled_at(k) & unmet}
            n = len(edges)
            todo += [x for x in _sccs(n, edges, keep)]
            continue
        return part
    return None


def _path(
    edges: list[list[tuple[int, int]]], start: int, goal: Callable[[int], bool], inside: set[int]
) -> list[tuple[int, int]]:
    """The shortest path (as (action, node) steps) from ``start`` to a node where ``goal``
    holds, staying ``inside``; ``[]`` when ``start`` itself is a goal."""
    if goal(start):
        return []
    prev: dict[int, tuple[int, int]] = {start: (-2, -1)}
    queue = deque([start])
    while queue:
        v = queue.popleft()
        for ai, w in edges[v]:
            if w in inside and w not in prev:
                prev[w] = (ai, v)
                if goal(w):
                    steps = []
                    while w != start:
                        a, u = prev[w]
                        steps.append((a, w))
                        w = u
                    return steps[::-1]
                queue.append(w)
    raise AssertionError("no path inside a strongly connected component")


def _lasso(
    c: Compiled,
    g: Graph,
    p: Property,
    aut: Automaton,
    nodes: list[Node],
    parent: list[int],
    edges: list[list[tuple[int, int]]],
    comp: list[int],
    group_of: Callable[[int], int],
    fair: Sequence[Fairness],
    enabled_at: Callable[[int], int],
) -> Trace:
    inside = set(comp)
    start = min(comp)  # node ids are in BFS order: the smallest is nearest the initial nodes
    # Stem: the BFS tree path to `start` (parent pointers), with the actions between.
    chain = [start]
    while parent[chain[-1]] != -1:
        chain.append(parent[chain[-1]])
    chain.reverse()
    stem: list[tuple[int, int]] = [(-2, chain[0])]
    for u, v in itertools.pairwise(chain):
        ai = next(a for a, w in edges[u] if w == v)
        stem.append((ai, v))

    # Cycle: through a node of each acceptance set and an edge of each fair group taken inside.
    def in_set(acc: frozenset[int]) -> Callable[[int], bool]:
        return lambda k: nodes[k][1] in acc

    targets = [in_set(acc) for acc in aut.accepting]
    taken_groups = {
        bit for k in comp for ai, t in edges[k] if t in inside for bit in _bits(group_of(ai))
    }
    cycle: list[tuple[int, int]] = []
    here = start
    for goal in targets:
        steps = _path(edges, here, goal, inside)
        cycle += steps
        here = steps[-1][1] if steps else here
    for bit in sorted(taken_groups):
        if any(group_of(ai) >> bit & 1 for ai, _ in cycle):
            continue
        src = next(k for k in comp for ai, t in edges[k] if t in inside and group_of(ai) >> bit & 1)
        steps = _path(edges, here, src.__eq__, inside)
        ai, t = next((ai, t) for ai, t in edges[src] if t in inside and group_of(ai) >> bit & 1)
        cycle += [*steps, (ai, t)]
        here = t
    # A weakly fair group that is never taken in the component is disabled somewhere in it
    # (else the component was dropped): the cycle passes such a state.
    for bit, f in enumerate(fair):
        if f.kind != "weak" or bit in taken_groups:
            continue

        def off(k: int, bit: int = bit) -> bool:
            return not enabled_at(k) >> bit & 1

        if off(start) or any(off(t) for _, t in cycle):
            continue
        steps = _path(edges, here, off, inside)
        cycle += steps
        here = steps[-1][1] if steps else here
    if here != start:
        cycle += _path(edges, here, lambda k: k == start, inside)
    elif not cycle:
        # Nothing to visit on the way: the shortest nonempty cycle through `start`.
        best: list[tuple[int, int]] | None = None
        for ai, w in edges[start]:
            if w in inside:
                way = [(ai, w), *_path(edges, w, lambda k: k == start, inside)]
                if best is None or len(way) < len(best):
                    best = way
        assert best is not None, "a component's node without a successor inside it"
        cycle = best
    # The lasso's states: the stem ends at `start`; the cycle's last step returns to it.
    seq = stem + cycle[:-1]
    loop = len(stem) - 1
    # A stutter step repeats its state (a state without successors); the trace leaves it out,
    # so such a lasso ends in that state with `loop` pointing at it.
    shown: list[Step] = []
    new_loop = 0
    for i, (ai, k) in enumerate(seq):
        if i > 0 and ai == STUTTER:
            continue
        if i <= loop:
            new_loop = len(shown)
        shown.append(trace_step(c, g.states[nodes[k][0]], None if ai < 0 else ai))
    trace = Trace(tuple(shown), new_loop, c.system.name)
    check_lasso(c, p, fair, trace)  # the same check as every other engine's lassos
    return trace


def _bits(m: int) -> list[int]:
    return [i for i in range(m.bit_length()) if m >> i & 1]


def check_lasso(c: Compiled, p: Property, fair: Sequence[Fairness], trace: Trace) -> None:
    """Raise unless ``trace`` (a lasso: after its last state comes ``states[loop]``) violates
    ``p`` by the direct semantics and its cycle is fair, for some step closing the loop.

    Every lasso an engine reports passes through here, independently of how it was found."""
    from tcpmodel.semantics import values_of

    if p.ltl is None or p.atoms is None or trace.loop is None:
        raise ModelError(f"internal error: no lasso or no LTL formula for {p.name}")
    system = c.system
    states = [c.encode(values_of(system, s.state)) for s in trace.steps]
    loop = trace.loop
    flags = c.flags(list(p.atoms))
    if holds_on_lasso(p.ltl, [flags(s) for s in states], loop):
        raise ModelError(f"internal error: the lasso reported for {p.name} satisfies it")
    index = {a.label: i for i, a in enumerate(system.actions)}
    groups = _groups(system, fair)
    cycle = [index[s.action] for s in trace.steps[loop + 1 :] if s.action is not None]
    last = c.successors(states[-1])
    closing = [ai for ai, t in last if t == states[loop]]
    if not last and loop == len(states) - 1:
        closing = [STUTTER]
    if not closing:
        raise ModelError(f"internal error: the lasso reported for {p.name} does not close")
    enabled = [_enabled(groups, c.successors(s)) for s in states[loop:]]
    every = ~0
    some = 0
    for m in enabled:
        every &= m
        some |= m
    for close in closing:
        taken = 0
        for ai in [*cycle, close]:
            taken |= 0 if ai == STUTTER else groups[ai]
        if all(
            taken >> b & 1 or not ((every if f.kind == "weak" else some) >> b & 1)
            for b, f in enumerate(fair)
        ):
            return
    raise ModelError(f"internal error: the lasso reported for {p.name} is not fair")
