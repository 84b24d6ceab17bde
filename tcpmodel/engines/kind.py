"""k-induction with simple-path constraints, optionally strengthened by invariants.

For each ``k = 0, 1, ...`` (up to the depth bound, default `DEFAULT_MAX_DEPTH`):

* *Base case*: the `bmc` search at step ``k`` (`tcpmodel.engines.bmc.BaseCase`): a bad state
  gives ``violated`` / ``reachable`` with a shortest, replayed trace; a reachable update out of
  range raises the explorer's `ModelError`; no loop-free path of ``k + 1`` steps proves every
  undecided property (completeness threshold).
* *Inductive step*: a second solver holds a path ``t0 .. t(k+1)`` from an arbitrary state
  (in the variables' domains, arrays canonical) with pairwise distinct states.  Property ``P``
  is proved when no such path has ``P'`` at ``t0 .. tk`` and not ``P'`` at ``t(k+1)``, where
  ``P'`` is ``P`` (``not p`` for ``reachable(p)``) and ``range_ok`` (no enabled update leaves
  its range, so a proof also rules out the explorer's range errors).  Then ``always`` is
  ``proved`` and ``reachable`` is ``unreachable``; the reason says ``k``.

Invariants: extra state predicates (`Property` ``always(...)`` or kernel `Expr`) are checked
first, Houdini-style: each must hold in every initial state, and the set kept must be inductive
together (from a state where all hold, every transition leads to a state where all hold);
candidates that fail are dropped until the rest are (`strengthen`: one query per action and
candidate, each in a fresh solver).  What is kept is assumed at every state of the inductive
step; what is dropped is never used and is named, with why, in the reason of every outcome
that is not a counterexample.  A property the kept invariants imply (no state where they all
hold is bad or leaves a range) is proved by them at once: they hold initially and are
preserved, so no reachable state is bad (`implied`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import z3

from tcpmodel.engines.bmc import BaseCase, bad_of, depth_bound, threshold
from tcpmodel.engines.explicit import Bounds, Progress, ProgressFn, rss_mb
from tcpmodel.engines.symbolic import (
    NO_BOUNDS,
    Budget,
    Encoding,
    Stopped,
    Unrolling,
    safety_only,
)
from tcpmodel.formula import Property
from tcpmodel.kernel import smt
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.expr import Expr
from tcpmodel.kernel.smt import Term
from tcpmodel.kernel.system import System
from tcpmodel.results import Outcome, Stats, Trace, Verdict

Invariant = Property | Expr


@dataclass(frozen=True, slots=True)
class Candidate:
    """An invariant offered to `kind`, by its text."""

    text: str
    predicate: Expr


@dataclass(frozen=True, slots=True)
class Strengthening:
    """The outcome of checking candidate invariants: the ones kept (inductive together) and
    the ones dropped, each with why."""

    kept: tuple[Candidate, ...]
    dropped: tuple[tuple[Candidate, str], ...]

    def note(self) -> str:
        return "".join(f"; invariant {c.text!r} not used: {why}" for c, why in self.dropped)


def candidate(inv: Invariant) -> Candidate:
    if isinstance(inv, Property):
        if inv.kind != "always":
            raise ValueError(f"invariant {inv.name} must be always(...), not {inv.kind}(...)")
        return Candidate(inv.formula, inv.predicate)
    return Candidate(repr(inv), inv)


# Per-query time limits of `strengthen`: first the candidate alone (most candidates are
# preserved by most actions whatever else holds), then with every kept candidate assumed.
SELF_SECONDS = 3.0
ALL_SECONDS = 60.0


def _tactic_solvers(enc: Encoding, seconds: float) -> list[z3.Solver]:
    """Fresh, non-incremental solvers for one query, tried in turn: bit-vector logic with
    the transition's if-then-else terms cofactored (slot arrays move records around, and
    cofactoring lets a predicate of a moved record meet its own copy), then Z3's QF_BV."""
    if not isinstance(enc.theory, smt.BitVectors):
        s = z3.Solver()
        s.set("timeout", max(1, int(seconds * 1000)))
        return [s]
    cof = z3.Then(
        "simplify",
        "propagate-values",
        "solve-eqs",
        "cofactor-term-ite",
        "simplify",
        "solve-eqs",
        "bit-blast",
        "sat",
    ).solver()
    cof.set("timeout", max(1, int(min(seconds, 30.0) * 1000)))
    plain = z3.SolverFor("QF_BV")
    plain.set("timeout", max(1, int(seconds * 1000)))
    return [cof, plain]


def _preserved(
    enc: Encoding, act: int, assume: Sequence[Term], goal: Term, seconds: float, budget: Budget
) -> tuple[z3.CheckSatResult, z3.ModelRef | None]:
    """Whether action ``act`` from a state where ``assume`` holds always reaches a state
    where ``goal`` holds: ``unsat`` (yes), ``sat`` with a counterexample model, or ``unknown``
    (no answer within ``seconds``)."""
    for s in _tactic_solvers(enc, seconds):
        if budget.expired():
            raise Stopped(budget.reason())
        if budget.timeout is not None:
            left = budget.timeout - budget.seconds
            s.set("timeout", max(1, int(min(left, seconds) * 1000)))
        s.add(enc.domain, enc.canonical, enc.trans, enc.act == act, *assume, z3.Not(goal))
        r = budget.run(s)
        if r == z3.sat:
            return r, s.model()
        if r == z3.unsat:
            return r, None
    return z3.unknown, None


def strengthen(
    enc: Encoding,
    candidates: Sequence[Candidate],
    budget: Budget,
    progress: ProgressFn | None = None,
) -> Strengthening:
    """Houdini: drop candidates false initially, then those not preserved given the rest.

    Preservation is checked action by action and candidate by candidate, each query in a
    fresh solver (non-incremental solving keeps Z3's preprocessing, which settles most of
    these queries at once): first with the candidate alone assumed, then with every kept
    candidate assumed.  A candidate some action breaks, or that no query shows preserved
    within `ALL_SECONDS`, is dropped (never assumed), and the actions are checked again
    until nothing is dropped."""
    kept = list(candidates)
    dropped: list[tuple[Candidate, str]] = []
    s = enc.solver()
    s.add(enc.init)
    for c in list(kept):
        if budget.check(s, z3.Not(enc.pred(c.predicate))) == z3.sat:
            kept.remove(c)
            dropped.append((c, "it is false in an initial state"))
    cur = {id(c): enc.pred(c.predicate) for c in kept}
    nxt = {id(c): enc.theory.term(c.predicate, enc.nxt) for c in kept}
    actions = enc.system.actions
    changed = True
    while changed and kept:
        changed = False
        for i, action in enumerate(actions):
            if progress is not None:
                progress(Progress(0, 0, 0, budget.seconds))
            for c in list(kept):
                if c not in kept:
                    continue
                r, _ = _preserved(enc, i, [cur[id(c)]], nxt[id(c)], SELF_SECONDS, budget)
                if r == z3.unsat:
                    continue
                assume = [cur[id(k)] for k in kept]
                r, _ = _preserved(enc, i, assume, nxt[id(c)], ALL_SECONDS, budget)
                if r == z3.unsat:
                    continue
                why = (
                    f"not inductive: action {action.label} breaks it where the kept invariants hold"
                    if r == z3.sat
                    else f"not shown inductive: no answer for action {action.label} within "
                    f"{ALL_SECONDS:.0f} s"
                )
                kept.remove(c)
                dropped.append((c, why))
                changed = True
    return Strengthening(tuple(kept), tuple(dropped))


def implied(enc: Encoding, kept: Sequence[Candidate], bad: Expr, budget: Budget) -> bool:
    """Whether no state where every kept invariant holds (and no update leaves its range)
    is bad: then the property holds in every reachable state, since the kept invariants hold
    initially and are preserved by every action together."""
    if not kept:
        return False
    s = enc.solver()
    s.add(enc.domain, enc.canonical, *(enc.pred(c.predicate) for c in kept))
    s.add(z3.Or(enc.pred(bad), z3.Not(enc.range_ok)))
    try:
        return bool(budget.check(s) == z3.unsat)
    except Stopped:
        return False


def kind(
    system: System,
    properties: Sequence[Property],
    bounds: Bounds = NO_BOUNDS,
    progress: ProgressFn | None = None,
    compiled: Compiled | None = None,
    invariants: Sequence[Invariant] = (),
) -> tuple[dict[str, Outcome], Stats]:
    """Prove or refute ``properties`` by k-induction; see the module docstring."""
    properties, skipped = safety_only(properties, "kind")
    c = compiled or Compiled(system)
    budget = Budget.of(bounds.timeout, bounds.interrupt)
    max_depth, note = depth_bound(bounds)
    cands = [candidate(i) for i in invariants]
    bads = [bad_of(p) for p in properties]
    enc = Encoding(system, [*bads, *(x.predicate for x in cands)])
    base = BaseCase(system, bads, c, budget, enc)
    found: dict[int, Trace] = {}
    proof: dict[int, str] = {}
    undecided = set(range(len(properties)))
    stop = ""
    extra = Strengthening((), ())
    last_report = 0.0
    try:
        extra = strengthen(enc, cands, budget, progress)
        for i in sorted(undecided):
            if implied(enc, extra.kept, bads[i], budget):
                proof[i] = "implied by the invariants, which hold initially and are inductive"
                undecided.discard(i)
        step = _Step(enc, [x.predicate for x in extra.kept], bads)
        while undecided:
            k = base.k
            hits = base.find(undecided, check_range=True)
            found.update(hits)
            undecided -= set(hits)
            if properties and not undecided:
                break
            for i in step.prove(undecided, budget):
                proof[i] = f"{k + 1}-induction"
                undecided.discard(i)
            if properties and not undecided:
                break
            if k >= max_depth:
                stop = f"no k-induction proof and no violation up to k = {k}{note}"
                break
            if not base.extend():
                for i in undecided:
                    proof[i] = threshold(k)
                undecided.clear()
                break
            if progress is not None and budget.seconds - last_report >= 1.0:
                last_report = budget.seconds
                progress(Progress(0, base.k, 0, budget.seconds))
    except Stopped as s:
        stop = f"{s.reason} at k = {base.k}"
    used = "; strengthened by " + ", ".join(x.text for x in extra.kept) if extra.kept else ""
    out: dict[str, Outcome] = {}
    for i, p in enumerate(properties):
        trace = found.get(i)
        if trace is not None:
            out[p.name] = Outcome("violated" if p.kind == "always" else "reachable", trace)
        elif i in proof:
            verdict: Verdict = "proved" if p.kind == "always" else "unreachable"
            out[p.name] = Outcome(verdict, reason=proof[i] + used + extra.note())
        else:
            out[p.name] = Outcome("unknown", reason=stop + extra.note())
    stats = Stats(0, 0, base.k, budget.seconds, rss_mb(), False)
    return {**out, **skipped}, stats


class _Step:
    """The inductive step's solver: a simple path ``t0 .. tn`` from any state, invariants
    assumed everywhere, each property's ``P'`` assumed (under its literal) at ``t0 .. t(n-1)``."""

    def __init__(self, enc: Encoding, invariants: Sequence[Expr], bads: Sequence[Expr]) -> None:
        self.enc = enc
        self.solver = enc.solver()
        self.path = Unrolling(enc, self.solver, prefix="t", initial=False)
        self.invariants = list(invariants)
        self.bads = list(bads)
        self.lits = [z3.Bool(f"assume-{i}") for i in range(len(bads))]
        self._assume_invariants(0)

    def _assume_invariants(self, k: int) -> None:
        for inv in self.invariants:
            self.solver.add(self.path.pred(inv, k))

    def good(self, i: int, k: int) -> Term:
        rng = self.path.at(self.enc.range_ok, k)
        return z3.And(z3.Not(self.path.pred(self.bads[i], k)), rng)

    def prove(self, undecided: set[int], budget: Budget) -> list[int]:
        """Extend the path by one step; the properties now proved."""
        k = self.path.depth
        for i in undecided:
            self.solver.add(z3.Implies(self.lits[i], self.good(i, k)))
        self.path.extend()
        self._assume_invariants(k + 1)
        for j in range(k + 1):
            self.solver.add(self.path.distinct(j, k + 1))
        proved = []
        for i in sorted(undecided):
            q = z3.Bool(f"step-{i}-{k}")
            self.solver.add(z3.Implies(q, z3.Not(self.good(i, k + 1))))
            if budget.check(self.solver, self.lits[i], q) == z3.unsat:
                proved.append(i)
            self.solver.add(z3.Not(q))
        return proved
