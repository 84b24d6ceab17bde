"""Lasso-shaped bounded model checking of LTL properties with Z3 (it finds violations only).

For k = 0, 1, ... (up to ``--max-depth``), the transition relation is unrolled over states
``s0 .. sk`` from an initial state (`tcpmodel.engines.symbolic.Unrolling`, the same encoding
as ``--engine bmc``), and for each loop start ``l <= k`` one query asks for a lasso: either a
transition from ``sk`` back to ``sl`` (the loop-back encoding of Biere, Cimatti, Clarke and
Zhu), or, for ``l == k``, a state ``sk`` where no action is enabled (it stutters forever).  On
the lasso, the negated formula is encoded by its semantics on an ultimately periodic word:
positions ``0..k``, the successor of ``k`` is ``l``; ``next`` is the successor; ``until`` and
``release`` are the least and greatest fixed points, reached after ``k + 1`` rounds of their
one-step unfolding.  Fairness inside the loop: a weakly fair group is taken in the loop or
disabled at some loop position; a strongly fair one is taken or disabled at every position.

A model of the query is decoded into a trace with ``loop = l``, replayed through the concrete
semantics and checked again with `tcpmodel.engines.liveness.check_lasso` (the direct semantics
and the fairness conditions), so a lasso that does not stand is an internal error.  No lasso
within the bound is ``unknown``: this engine never says ``holds``.
"""

from __future__ import annotations

from collections.abc import Sequence

import z3

from tcpmodel.engines.liveness import check_lasso
from tcpmodel.engines.search import Bounds, Progress, ProgressFn, rss_mb
from tcpmodel.engines.symbolic import Budget, Encoding, Stopped, Unrolling
from tcpmodel.formula import Property
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.smt import Term
from tcpmodel.kernel.system import Fairness, System
from tcpmodel.ltl import And, Atom, Const, Ltl, Next, Not, Or, Release, Until, nnf
from tcpmodel.results import Outcome, Stats, Trace
from tcpmodel.semantics import replay

DEFAULT_MAX_DEPTH = 30


def lasso_bmc(
    system: System,
    properties: Sequence[Property],
    bounds: Bounds | None = None,
    progress: ProgressFn | None = None,
    compiled: Compiled | None = None,
    fairness: Sequence[Fairness] | None = None,
) -> tuple[dict[str, Outcome], Stats]:
    """Look for fair lassos violating the LTL ``properties`` (see the module docstring)."""
    bounds = bounds or Bounds()
    c = compiled or Compiled(system)
    fair = tuple(system.fairness if fairness is None else fairness)
    budget = Budget.of(bounds.timeout, bounds.interrupt)
    max_depth = DEFAULT_MAX_DEPTH if bounds.max_depth is None else bounds.max_depth
    note = "" if bounds.max_depth is not None else f" (default --max-depth {DEFAULT_MAX_DEPTH})"
    atoms = [e for p in properties if p.atoms for e in p.atoms]
    enc = Encoding(system, atoms)
    solver = enc.solver()
    path = Unrolling(enc, solver)
    members = [
        [i for i, a in enumerate(system.actions) if f.group in (a.group, a.name, a.label)]
        for f in fair
    ]
    out: dict[str, Outcome] = {}
    todo = [p for p in properties]
    k = 0
    reason = ""
    try:
        while todo:
            # Lassos of k + 1 states: first those ending in a state without successors
            # (states 0..k), then, with state k + 1 added, those whose step k -> k + 1
            # returns to some state l <= k.
            for stutter in (True, False):
                if not stutter:
                    path.extend()
                for p in list(todo):
                    trace = _find(system, c, enc, path, p, k, fair, members, budget, stutter)
                    if trace is not None:
                        out[p.name] = Outcome("violated", trace)
                        todo.remove(p)
            if progress is not None:
                progress(Progress(0, k, 0, budget.seconds))
            if k >= max_depth:
                reason = f"no fair violating lasso with at most {k + 1} states{note}"
                break
            k += 1
    except Stopped as s:
        reason = f"{s.reason} at lasso length {k + 1}; no fair violating lasso shorter"
    for p in todo:
        out[p.name] = Outcome("unknown", reason=reason)
    return out, Stats(0, 0, k, budget.seconds, rss_mb(), False)


def _find(
    system: System,
    c: Compiled,
    enc: Encoding,
    path: Unrolling,
    p: Property,
    k: int,
    fair: Sequence[Fairness],
    members: list[list[int]],
    budget: Budget,
    stutter: bool,
) -> Trace | None:
    assert p.ltl is not None and p.atoms is not None
    neg = nnf(Not(p.ltl))
    solver = path.solver
    acts = path.acts  # acts[j]: the action from state j to j + 1
    for loop in [k] if stutter else range(k + 1):
        solver.push()
        if stutter:
            # s_k has no successor: it repeats forever, and nothing is enabled there.
            solver.add(_all([z3.Not(path.at(g, k)) for g in enc.guards]))
            nxt = {**{j: j + 1 for j in range(k)}, k: k}
        else:
            s1, s2 = path.states[k + 1], path.states[loop]
            solver.add(z3.And(*(s1[n] == s2[n] for n in enc.names)))
            nxt = {**{j: j + 1 for j in range(k)}, k: loop}
        solver.add(_holds(neg, p, path, k, nxt))
        if not stutter:
            solver.add(_fair_loop(enc, path, loop, k, fair, members, acts))
        result = budget.check(solver)
        trace = None
        if result == z3.sat:
            m = solver.model()
            trace = path.decode(m, k, c)
            trace = Trace(trace.steps, loop, trace.model)
            replay(system, trace, c)
            check_lasso(c, p, fair, trace)
        solver.pop()
        if trace is not None:
            return trace
    return None


def _holds(f: Ltl, p: Property, path: Unrolling, k: int, nxt: dict[int, int]) -> Term:
    """``f`` (in negation normal form) at position 0 of the lasso ``0..k`` with successor
    map ``nxt``."""
    assert p.atoms is not None
    memo: dict[Ltl, list[Term]] = {}
    n = k + 1

    def ev(g: Ltl) -> list[Term]:
        got = memo.get(g)
        if got is not None:
            return got
        if isinstance(g, Const):
            out = [z3.BoolVal(g.value)] * n
        elif isinstance(g, Atom):
            out = [path.pred(p.atoms[g.index], j) for j in range(n)]  # type: ignore[index]
        elif isinstance(g, Not):
            out = [z3.Not(x) for x in ev(g.arg)]
        elif isinstance(g, And):
            out = [z3.And(x, y) for x, y in zip(ev(g.left), ev(g.right), strict=True)]
        elif isinstance(g, Or):
            out = [z3.Or(x, y) for x, y in zip(ev(g.left), ev(g.right), strict=True)]
        elif isinstance(g, Next):
            a = ev(g.arg)
            out = [a[nxt[j]] for j in range(n)]
        else:
            a, b = ev(g.left), ev(g.right)
            until = isinstance(g, Until)
            cur = [z3.BoolVal(not until)] * n
            for _ in range(n):
                if until:
                    cur = [z3.Or(b[j], z3.And(a[j], cur[nxt[j]])) for j in range(n)]
                else:
                    cur = [z3.And(b[j], z3.Or(a[j], cur[nxt[j]])) for j in range(n)]
            out = cur
        memo[g] = out
        return out

    assert isinstance(f, Const | Atom | Not | And | Or | Next | Until | Release)
    return ev(f)[0]


def _any(xs: list[Term]) -> Term:
    return z3.Or(*xs) if xs else z3.BoolVal(False)


def _all(xs: list[Term]) -> Term:
    return z3.And(*xs) if xs else z3.BoolVal(True)


def _fair_loop(
    enc: Encoding,
    path: Unrolling,
    loop: int,
    k: int,
    fair: Sequence[Fairness],
    members: list[list[int]],
    acts: list[Term],
) -> Term:
    conds = []
    for f, ids in zip(fair, members, strict=True):
        taken = _any([acts[j] == i for j in range(loop, k + 1) for i in ids])
        enabled = [_any([path.at(enc.guards[i], j) for i in ids]) for j in range(loop, k + 1)]
        if f.kind == "weak":
            conds.append(_any([taken, *(z3.Not(e) for e in enabled)]))
        else:
            conds.append(_any([taken, _all([z3.Not(e) for e in enabled])]))
    return _all(conds)
