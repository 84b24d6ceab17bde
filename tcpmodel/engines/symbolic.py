"""A `System` as a Z3 transition relation, and its unrollings.

Representation.  `Encoding` translates the system once, over *template* constants: ``cur``
(one Z3 constant per variable, named like the variable), ``nxt`` (the same names primed) and
``act`` (the index of the action that fires).  Terms are those of a `tcpmodel.kernel.smt.Theory`:
by default (`theory_for`) every Int and Enum value is a signed bit-vector wide enough for every
Int sub-expression of the system and the properties (interval analysis), Seq values are
bit-vectors anyway, so the whole formula is bit-vector logic and Z3 solves it by bit-blasting
to SAT (``QF_BV``): on the fixed-isn counterexample (13 steps, 167 actions) that is tens of times
faster than integer arithmetic.  `smt.INTEGERS` (mathematical integers) serves Spacer, whose
invariants read better over integers.

* ``init``: the disjunction of the system's initial valuations.
* ``trans``: ``0 <= act < |actions|``, ``act == i => guard_i(cur)``, and every ``nxt[v]``
  equal to ``canonical(post)[v]``, where ``post[v]`` is ``update_i[v](cur)`` for the action
  ``i == act`` that assigns ``v`` (else ``cur[v]``), and ``canonical`` sorts the slots of every
  unordered `SlotArray` with a sorting network of compare-swaps on the slots' code tuples
  (largest first, `smt.code_lt`), exactly as `System.canonical` and the explicit engine do;
  and every ``nxt[v]`` in its variable's domain.  A transition whose update leaves an `IntType`
  range is therefore not in ``trans``: see ``range_ok``.
* ``range_ok``: no enabled action sets an Int variable outside its range.  The explicit engine
  raises `ModelError` when it expands such a state; the symbolic engines look for a state where
  ``range_ok`` fails at the same point and let the concrete semantics raise the same error.
* ``canonical``: the slots of every unordered array are in canonical order.  It holds in every
  initial state (the Builder canonicalises them) and in every ``nxt`` by construction, so the
  induction engines may assume it of arbitrary states.

`Unrolling` instantiates the template at steps ``0..k`` (``{prefix}{k}:{name}`` and
``{prefix}{k}:act``) in one incremental solver, optionally from the initial states; `decode`
reads a Z3 model back into a `Trace` of shown values with the label and rule of each action,
ready for `tcpmodel.semantics.replay`.  `Budget` turns ``Bounds.timeout`` into Z3 time limits
and ``Bounds.interrupt`` into cancelled queries.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import z3

from tcpmodel.engines.search import trace_step
from tcpmodel.formula import Property
from tcpmodel.interrupt import Interrupt
from tcpmodel.kernel import smt
from tcpmodel.kernel.analysis import within
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.expr import Expr
from tcpmodel.kernel.smt import Term
from tcpmodel.kernel.system import System, Value
from tcpmodel.kernel.types import IntType, VarType, sort_of
from tcpmodel.results import Outcome, Trace

DEFAULT_MAX_DEPTH = 50


class Stopped(Exception):
    """A solver call gave up (time limit, or Z3's ``unknown``): ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class Budget:
    """The time left of ``timeout`` seconds (``None``: no limit), as Z3 time limits; and the
    run's stop request (`tcpmodel.interrupt`), read before each query and cancelling the query
    in progress."""

    timeout: float | None
    start: float
    interrupt: Interrupt | None = None

    @classmethod
    def of(cls, timeout: float | None, interrupt: Interrupt | None = None) -> Budget:
        return cls(timeout, time.monotonic(), interrupt)

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.start

    def interrupted(self) -> bool:
        return self.interrupt is not None and self.interrupt.requested

    def expired(self) -> bool:
        """The time is up or the run was interrupted: `reason` says which."""
        return self.interrupted() or (self.timeout is not None and self.seconds >= self.timeout)

    def reason(self) -> str:
        if self.interrupted():
            return "interrupted"
        return f"time limit {self.timeout:g} s reached" if self.timeout is not None else ""

    def run(self, solver: z3.Solver, *assumptions: Term) -> z3.CheckSatResult:
        """``solver.check(*assumptions)``, cancelled by an interrupt (`Stopped`); Z3's
        ``unknown`` for any other reason is returned."""
        if self.interrupted():
            raise Stopped(self.reason())
        if self.interrupt is None:
            r = solver.check(*assumptions)
        else:
            with self.interrupt.cancelling(solver.interrupt):
                r = solver.check(*assumptions)
        if self.interrupted():
            raise Stopped(self.reason())
        return r

    def check(self, solver: z3.Solver, *assumptions: Term) -> z3.CheckSatResult:
        """``solver.check(*assumptions)`` within the time left; `Stopped` if it gives up."""
        if self.expired():
            raise Stopped(self.reason())
        if self.timeout is not None:
            left = self.timeout - self.seconds
            solver.set("timeout", max(1, int(left * 1000)))
        r = self.run(solver, *assumptions)
        if r == z3.unknown:
            why = solver.reason_unknown()
            if self.expired() or (self.timeout is not None and why in ("timeout", "canceled")):
                raise Stopped(self.reason())
            raise Stopped(f"Z3 answered unknown ({why})")
        return r


def _network(n: int) -> list[tuple[int, int]]:
    """Comparators of an insertion-sort network on ``n`` items: position ``i < j`` ends up
    holding the larger record.  Capacities are small, so its ``n(n-1)/2`` comparators are few."""
    return [(j - 1, j) for i in range(1, n) for j in range(i, 0, -1)]


def record_lt(
    th: smt.Theory, a: Sequence[Term], b: Sequence[Term], types: Sequence[VarType]
) -> Term:
    """The lexicographic order of two slots' code tuples (field by field, first field first)."""
    lt: Term = z3.BoolVal(False)
    for x, y, t in reversed(list(zip(a, b, types, strict=True))):
        lt = z3.Or(th.code_lt(x, y, t), z3.And(x == y, lt))
    return lt


def theory_for(system: System, extra: Sequence[Expr] = ()) -> smt.Theory:
    """Bit-vectors wide enough for every Int expression of ``system`` and ``extra`` (solved
    by bit-blasting), else mathematical integers."""
    exprs = [*extra, *(d for _, d in system.definitions), system.terminal]
    for a in system.actions:
        exprs += [a.guard, *(e for _, e in a.updates)]
    w = smt.int_width(exprs, [v.vtype for v in system.variables])
    return smt.INTEGERS if w is None else smt.BitVectors(w)


class Encoding:
    """The template transition relation of a system (see the module docstring)."""

    def __init__(
        self, system: System, extra: Sequence[Expr] = (), theory: smt.Theory | None = None
    ) -> None:
        self.system = system
        self.names: tuple[str, ...] = tuple(v.name for v in system.variables)
        self.types: dict[str, VarType] = {v.name: v.vtype for v in system.variables}
        self.theory = theory or theory_for(system, extra)
        th = self.theory
        self.cur: dict[str, Term] = {n: th.constant(n, t) for n, t in self.types.items()}
        self.nxt: dict[str, Term] = {n: th.constant(n + "'", t) for n, t in self.types.items()}
        n = len(system.actions)
        if isinstance(th, smt.BitVectors):
            self.act: Term = z3.BitVec("act", max(1, n.bit_length()))
            act_ok = z3.ULT(self.act, n) if n < 2 ** self.act.size() else z3.BoolVal(True)
        else:
            self.act = z3.Int("act")
            act_ok = z3.And(self.act >= 0, self.act < n)
        self.init: Term = self._init()
        guards, post, range_ok, writers = self._actions()
        self.guards: tuple[Term, ...] = tuple(guards)
        self.range_ok: Term = range_ok
        post = self._sorted(post, writers)
        self.trans: Term = z3.And(
            act_ok,
            *(z3.Implies(self.act == i, g) for i, g in enumerate(guards)),
            *(self.nxt[v] == post[v] for v in self.names),
            *(th.domain(self.nxt[v], self.types[v]) for v in self.names),
        )
        self.canonical: Term = self._canonical()
        self.domain: Term = z3.And(*(th.domain(self.cur[v], self.types[v]) for v in self.names))

    def _init(self) -> Term:
        vs = self.system.variables
        return z3.Or(
            *(
                z3.And(
                    *(
                        self.cur[v.name] == self.theory.value(x, sort_of(v.vtype))
                        for v, x in zip(vs, s, strict=True)
                    )
                )
                for s in self.system.init
            )
        )

    def _actions(self) -> tuple[list[Term], dict[str, Term], Term, dict[str, set[int]]]:
        """Guards, the post-state before canonicalisation, ``range_ok``, and for every
        variable the actions that assign it."""
        assigned: dict[str, list[tuple[int, Term]]] = {v: [] for v in self.names}
        guards: list[Term] = []
        ok: list[Term] = []
        for i, a in enumerate(self.system.actions):
            g, *ups = self.theory.terms([a.guard, *(e for _, e in a.updates)], self.cur)
            guards.append(g)
            for (v, e), t in zip(a.updates, ups, strict=True):
                assigned[v].append((i, t))
                vt = self.types[v]
                if isinstance(vt, IntType) and not within(e, vt):
                    ok.append(z3.Implies(g, z3.And(t >= vt.lo, t <= vt.hi)))
        post: dict[str, Term] = {}
        for v in self.names:
            t = self.cur[v]
            for i, u in reversed(assigned[v]):
                t = z3.If(self.act == i, u, t)
            post[v] = t
        writers = {v: {i for i, _ in assigned[v]} for v in self.names}
        return guards, post, z3.And(*ok), writers

    def _slots(self) -> list[tuple[list[list[str]], list[VarType]]]:
        """Per unordered array: the variable names of each slot, and the field types."""
        out = []
        for arr in self.system.arrays:
            if not arr.ordered:
                names = [list(arr.slot_vars(k)) for k in range(arr.capacity)]
                out.append((names, [t for _, t in arr.fields]))
        return out

    def _sorted(self, post: dict[str, Term], writers: dict[str, set[int]]) -> dict[str, Term]:
        """The post-state with every unordered array sorted.  An array no action of this step
        writes keeps its (canonical) slots as they are: the sorting network is only applied
        under the actions that write it, which spares the solver proving that sorting a
        sorted array changes nothing."""
        out = dict(post)
        for names, types in self._slots():
            acts = sorted(set().union(*(writers[v] for slot in names for v in slot)))
            if not acts:
                continue
            rec = [[post[v] for v in slot] for slot in names]
            for i, j in _network(len(rec)):
                swap = record_lt(self.theory, rec[i], rec[j], types)
                rec[i], rec[j] = (
                    [z3.If(swap, y, x) for x, y in zip(rec[i], rec[j], strict=True)],
                    [z3.If(swap, x, y) for x, y in zip(rec[i], rec[j], strict=True)],
                )
            touched = z3.Or(*(self.act == i for i in acts))
            for slot, vals in zip(names, rec, strict=True):
                out.update(
                    (v, z3.If(touched, x, self.cur[v])) for v, x in zip(slot, vals, strict=True)
                )
        return out

    def _canonical(self) -> Term:
        conds = []
        for names, types in self._slots():
            for k in range(len(names) - 1):
                a = [self.cur[v] for v in names[k]]
                b = [self.cur[v] for v in names[k + 1]]
                conds.append(z3.Not(record_lt(self.theory, a, b, types)))
        return z3.And(*conds)

    def pred(self, e: Expr) -> Term:
        """A state predicate over ``cur``."""
        return self.theory.term(e, self.cur)

    def solver(self) -> z3.Solver:
        """An incremental solver suited to the theory: bit-blasting to SAT for bit-vectors."""
        return z3.SolverFor("QF_BV") if isinstance(self.theory, smt.BitVectors) else z3.Solver()


class Unrolling:
    """States ``0..k`` of paths of ``enc`` in ``solver``: ``{prefix}{k}:{name}`` constants,
    from an initial state if ``initial``, else from any canonical state in the domain."""

    def __init__(
        self, enc: Encoding, solver: z3.Solver, prefix: str = "s", initial: bool = True
    ) -> None:
        self.enc = enc
        self.solver = solver
        self.prefix = prefix
        self.initial = initial
        self.states: list[dict[str, Term]] = []
        self.acts: list[Term] = []
        self._add_state()
        if initial:
            solver.add(self.at(enc.init, 0))
        else:
            solver.add(self.at(z3.And(enc.domain, enc.canonical), 0))

    @property
    def depth(self) -> int:
        return len(self.states) - 1

    def _add_state(self) -> None:
        k = len(self.states)
        self.states.append(
            {
                n: self.enc.theory.constant(f"{self.prefix}{k}:{n}", t)
                for n, t in self.enc.types.items()
            }
        )

    def at(self, t: Term, k: int) -> Term:
        """A template term over ``cur`` at step ``k``."""
        s = self.states[k]
        return z3.substitute(t, *((self.enc.cur[n], s[n]) for n in self.enc.names))

    def pred(self, e: Expr, k: int) -> Term:
        return self.enc.theory.term(e, self.states[k])

    def extend(self) -> None:
        """Add step ``depth + 1`` and the transition to it."""
        k = self.depth
        self._add_state()
        act = z3.Const(f"{self.prefix}{k}:act", self.enc.act.sort())
        self.acts.append(act)
        e = self.enc
        pairs = [(e.cur[n], self.states[k][n]) for n in e.names]
        pairs += [(e.nxt[n], self.states[k + 1][n]) for n in e.names]
        self.solver.add(z3.substitute(e.trans, *pairs, (e.act, act)))

    def distinct(self, i: int, j: int) -> Term:
        """States ``i`` and ``j`` differ."""
        a, b = self.states[i], self.states[j]
        return z3.Or(*(a[n] != b[n] for n in self.enc.names))

    def values(self, m: z3.ModelRef, k: int) -> tuple[Value, ...]:
        s = self.states[k]
        return tuple(
            self.enc.theory.from_model(m.eval(s[v.name], model_completion=True), sort_of(v.vtype))
            for v in self.enc.system.variables
        )

    def action(self, m: z3.ModelRef, k: int) -> int:
        """The index of the action taken from step ``k`` to ``k + 1``."""
        return int(m.eval(self.acts[k], model_completion=True).as_long())

    def decode(self, m: z3.ModelRef, k: int, c: Compiled) -> Trace:
        """The path of ``m`` through steps ``0..k`` as a trace (not yet replayed)."""
        steps = [
            trace_step(c, c.encode(self.values(m, j)), None if j == 0 else self.action(m, j - 1))
            for j in range(k + 1)
        ]
        return Trace(tuple(steps), model=c.system.name)


def safety_only(
    properties: Sequence[Property], engine: str
) -> tuple[list[Property], dict[str, Outcome]]:
    """The ``always``/``reachable`` properties, and ``unknown`` outcomes for the others (LTL
    formulas are for the liveness checker)."""
    keep = [p for p in properties if p.kind in ("always", "reachable")]
    skipped = {
        p.name: Outcome(
            "unknown",
            reason=f"{engine} checks always(p) and reachable(p) only; {p.formula} is for the "
            "liveness checker",
        )
        for p in properties
        if p.kind not in ("always", "reachable")
    }
    return keep, skipped
