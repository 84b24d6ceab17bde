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

import queue
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import z3

from tcpmodel.engines.bmc import BaseCase, depth_bound, threshold
from tcpmodel.engines.search import (
    NO_BOUNDS,
    Bounds,
    Progress,
    ProgressFn,
    Proof,
    bad_of,
    rss_mb,
    solver_threads,
    verdicts,
)
from tcpmodel.engines.symbolic import (
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
from tcpmodel.results import Outcome, Stats, Trace

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


# Per-query limits of `strengthen`: first every candidate an action may change at once, then
# each on its own, first with the candidate alone assumed (most candidates are preserved by
# most actions whatever else holds), then with every kept candidate assumed.  The first stage
# tries the cofactoring tactic only (on rfc9293-32bit, plain QF_BV never answered a query of it
# that cofactoring had not); the others give cofactoring at most `COFACTOR_UNITS` before plain
# QF_BV, which settles some queries far faster.  The limits of the early stages and of
# cofactoring are Z3 resource units (the solver's ``rlimit``, a count of its basic steps), not
# seconds, so that a query is settled at the same stage however loaded the machine is: a
# loaded machine makes a proof slower, never a different proof.  Z3 spends 2.5 to 6 million a
# second on these queries on a 2-core x86_64 machine, so the units below are about 5 s, 3 s
# and 60 s there (the heavy first-stage queries run at about 2.5 million a second).  On
# rfc9293-32bit the first-stage queries that are answered need at most 11.3 million units, and
# the three that are not (the hard actions' conjunctions, settled candidate by candidate after)
# would spend all of any limit: 12 million rather than 25 saves each proof 7 to 12 s of CPU
# (docs/benchmarks.md).  Only the last word is limited by time: the run's time left, or
# `ALL_SECONDS` without a time limit.
BATCH_UNITS = 12_000_000
SELF_UNITS = 12_000_000
COFACTOR_UNITS = 240_000_000
ALL_SECONDS = 120.0


@dataclass(frozen=True, slots=True)
class _Frame:
    """The transition relation's terms in one Z3 context (`strengthen` gives each solver
    thread its own copy, since a Z3 context must not be shared between threads)."""

    ctx: z3.Context
    bitvectors: bool
    base: tuple[Term, ...]  # domain, canonical, trans
    act: Term
    cur: tuple[Term, ...]  # per candidate, in the order given
    nxt: tuple[Term, ...]

    @classmethod
    def of(cls, enc: Encoding, cur: Sequence[Term], nxt: Sequence[Term]) -> _Frame:
        return cls(
            z3.main_ctx(),
            isinstance(enc.theory, smt.BitVectors),
            (enc.domain, enc.canonical, enc.trans),
            enc.act,
            tuple(cur),
            tuple(nxt),
        )

    def translate(self) -> _Frame:
        ctx = z3.Context()
        return _Frame(
            ctx,
            self.bitvectors,
            tuple(t.translate(ctx) for t in self.base),
            self.act.translate(ctx),
            tuple(t.translate(ctx) for t in self.cur),
            tuple(t.translate(ctx) for t in self.nxt),
        )


def _tactic_solvers(
    frame: _Frame, units: int | None, fallback: bool = True
) -> list[tuple[z3.Solver, int | None]]:
    """Fresh, non-incremental solvers for one query, tried in turn, with their resource
    limits (``None``: none): bit-vector logic with the transition's if-then-else terms
    cofactored (slot arrays move records around, and cofactoring lets a predicate of a moved
    record meet its own copy), then, if ``fallback``, Z3's QF_BV."""
    ctx = frame.ctx
    if not frame.bitvectors:
        return [(z3.Solver(ctx=ctx), units)]
    cof = z3.Then(
        "simplify",
        "propagate-values",
        "solve-eqs",
        "cofactor-term-ite",
        "simplify",
        "solve-eqs",
        "bit-blast",
        "sat",
        ctx=ctx,
    ).solver()
    if not fallback:
        return [(cof, units)]
    capped = COFACTOR_UNITS if units is None else min(units, COFACTOR_UNITS)
    return [(cof, capped), (z3.SolverFor("QF_BV", ctx=ctx), units)]


def _query(
    frame: _Frame,
    act: int,
    assume: Sequence[Term],
    goal: Term,
    units: int | None,
    budget: Budget,
    fallback: bool = True,
) -> tuple[z3.CheckSatResult, z3.ModelRef | None]:
    """One preservation query (see `_preserved`); ``units`` its resource limit, ``None`` for
    the last word: until the run's time is up, or `ALL_SECONDS`."""
    for s, limit in _tactic_solvers(frame, units, fallback):
        if budget.expired():
            raise Stopped(budget.reason())
        if limit is not None:
            s.set("rlimit", limit)
        seconds = None if budget.timeout is None else budget.timeout - budget.seconds
        if seconds is None and limit is None:
            seconds = ALL_SECONDS
        if seconds is not None:
            s.set("timeout", max(1, int(seconds * 1000)))
        s.add(*frame.base, frame.act == act, *assume, z3.Not(goal))
        r = budget.run(s)
        if r == z3.sat:
            return r, s.model()
        if r == z3.unsat:
            return r, None
    return z3.unknown, None


def _preserved(
    enc: Encoding, act: int, assume: Sequence[Term], goal: Term, budget: Budget
) -> tuple[z3.CheckSatResult, z3.ModelRef | None]:
    """Whether action ``act`` from a state where ``assume`` holds always reaches a state
    where ``goal`` holds: ``unsat`` (yes), ``sat`` with a counterexample model, or ``unknown``
    (no answer within the limits of `strengthen`'s last word)."""
    return _query(_Frame.of(enc, (), ()), act, assume, goal, None, budget)


def writes(system: System, action: int) -> frozenset[str]:
    """The variables ``action`` may change: those it assigns, and every variable of an
    unordered slot array it assigns to (canonical sorting may move any slot)."""
    names = {v for v, _ in system.actions[action].updates}
    for arr in system.arrays:
        every = {v for i in range(arr.capacity) for v in arr.slot_vars(i)}
        if names & every:
            names |= every
    return frozenset(names)


@dataclass(frozen=True, slots=True)
class _Task:
    """One preservation question of a Houdini round: does action ``act`` keep ``goal`` (the
    candidates' indices, as a conjunction) true, assuming ``assume``?"""

    act: int
    assume: tuple[int, ...]
    goal: tuple[int, ...]
    units: int | None  # the resource limit; None: the last word (`_query`)
    fallback: bool = False  # plain QF_BV after the cofactoring tactic (`_tactic_solvers`)


def _answer(frame: _Frame, t: _Task, budget: Budget) -> tuple[str, tuple[int, ...]]:
    """``("unsat", ())``, ``("sat", broken)`` with the goal candidates the counterexample
    breaks, or ``("unknown", ())``; run in a solver thread on its own context."""
    goal = z3.And(*(frame.nxt[g] for g in t.goal)) if len(t.goal) > 1 else frame.nxt[t.goal[0]]
    assume = [frame.cur[a] for a in t.assume]
    r, model = _query(frame, t.act, assume, goal, t.units, budget, t.fallback)
    if r == z3.unsat:
        return "unsat", ()
    if r == z3.sat and model is not None:
        return "sat", tuple(g for g in t.goal if z3.is_false(model.eval(frame.nxt[g], True)))
    return "unknown", ()


def strengthen(
    enc: Encoding,
    candidates: Sequence[Candidate],
    budget: Budget,
    progress: ProgressFn | None = None,
    jobs: int | None = None,
) -> Strengthening:
    """Houdini: drop candidates false initially, then those not preserved given the rest.

    Preservation is checked action by action, in rounds; the questions of a round are
    answered by ``jobs`` solver threads (default: `solver_threads`), each on its own copy of the
    transition relation.  A candidate that reads no variable the action may change (`writes`)
    is preserved by it: its value is the same before and after.  The others are checked
    together first, in one query with every kept candidate assumed and their conjunction as
    the goal (`BATCH_UNITS`); a counterexample is a state where the kept candidates hold
    and the action breaks those false in it, which are dropped.  When that query has no
    answer within its limit, each candidate is checked on its own, in a fresh solver
    (non-incremental solving keeps Z3's preprocessing, which settles most of these queries at
    once): first with the candidate alone assumed, then with every kept candidate assumed.
    A candidate some action breaks, or that no query shows preserved within the time left
    (`ALL_SECONDS` without a time limit), is dropped (never assumed), and the rounds go on
    until one drops nothing."""
    kept = list(candidates)
    dropped: list[tuple[Candidate, str]] = []
    s = enc.solver()
    s.add(enc.init)
    for c in list(kept):
        if budget.check(s, z3.Not(enc.pred(c.predicate))) == z3.sat:
            kept.remove(c)
            dropped.append((c, "it is false in an initial state"))
    if not kept:
        return Strengthening((), tuple(dropped))
    cands = list(kept)
    main = _Frame.of(
        enc,
        [enc.pred(c.predicate) for c in cands],
        [enc.theory.term(c.predicate, enc.nxt) for c in cands],
    )
    n = max(1, jobs if jobs is not None else solver_threads())
    frames = [main] + [main.translate() for _ in range(n - 1)]
    reads = [c.predicate.variables() for c in cands]
    actions = enc.system.actions
    changes = [writes(enc.system, i) for i in range(len(actions))]
    alive = set(range(len(cands)))
    labels = [a.label for a in actions]

    def run(tasks: Sequence[_Task]) -> list[tuple[str, tuple[int, ...]]]:
        if progress is not None:
            progress(Progress(0, 0, 0, budget.seconds))
        if len(frames) == 1:
            return [_answer(main, t, budget) for t in tasks]
        free: queue.SimpleQueue[_Frame] = queue.SimpleQueue()
        for f in frames:
            free.put(f)

        def one(t: _Task) -> tuple[str, tuple[int, ...]]:
            f = free.get()
            try:
                return _answer(f, t, budget)
            finally:
                free.put(f)

        with ThreadPoolExecutor(max_workers=len(frames)) as pool:
            return list(pool.map(one, tasks))

    def drop(g: int, why: str) -> None:
        if g in alive:
            alive.discard(g)
            dropped.append((cands[g], why))

    changed = True
    while changed and alive:
        changed = False
        assume = tuple(sorted(alive))
        batch = []
        for i in range(len(actions)):
            touched = tuple(g for g in assume if reads[g] & changes[i])
            if touched:
                batch.append(_Task(i, assume, touched, BATCH_UNITS))
        single: list[_Task] = []
        for t, (r, broken) in zip(batch, run(batch), strict=True):
            if r == "unsat":
                continue
            if broken:
                for g in broken:
                    why = f"not inductive: action {labels[t.act]} breaks it where the kept "
                    drop(g, why + "invariants hold")
                changed = True
            else:
                single += [_Task(t.act, (g,), (g,), SELF_UNITS, True) for g in t.goal]
        if changed:
            continue
        again = [t for t, (r, _) in zip(single, run(single), strict=True) if r != "unsat"]
        # The last word on a candidate may take the time left, so that a loaded machine makes
        # a proof slower, not weaker; without a time limit, `ALL_SECONDS`.
        full = [_Task(t.act, assume, t.goal, None, True) for t in again]
        within = "the time left" if budget.timeout is not None else f"{ALL_SECONDS:.0f} s"
        for t, (r, _) in zip(full, run(full), strict=True):
            if r == "unsat":
                continue
            why = (
                f"not inductive: action {labels[t.act]} breaks it where the kept invariants hold"
                if r == "sat"
                else f"not shown inductive: no answer for action {labels[t.act]} within " + within
            )
            drop(t.goal[0], why)
            changed = True
    kept = [c for g, c in enumerate(cands) if g in alive]
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
    jobs: int | None = None,
) -> tuple[dict[str, Outcome], Stats]:
    """Prove or refute ``properties`` by k-induction; see the module docstring.  ``jobs``:
    solver threads for the invariants' check (default: `solver_threads`, one per core
    outside a pool of workers)."""
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
        extra = strengthen(enc, cands, budget, progress, jobs)
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
    kept = tuple(x.text for x in extra.kept)
    proofs = {
        i: Proof(why + used, proved=True, invariants=kept, k=base.k) for i, why in proof.items()
    }
    out = verdicts(properties, found, proofs, stop, note=extra.note())
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
