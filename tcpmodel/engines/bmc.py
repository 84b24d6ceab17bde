"""Bounded model checking: the transition relation of `tcpmodel.engines.symbolic` unrolled
k = 0, 1, ... steps from the initial states in one incremental Z3 solver.

Contract of `bmc` (that of `tcpmodel.engines.explicit.explore`, by depth instead of by state):

* At step ``k`` every undecided property is asked for a *bad* state (its predicate false for
  ``always``, true for ``reachable``) at exactly step ``k``.  The first ``k`` with one is the
  length of the explorer's shortest trace (BFS depth), so a found trace is shortest.  It is
  decoded from the model, replayed by `tcpmodel.semantics.replay` (a failure raises
  `ReplayError`), and the property is ``violated`` / ``reachable``.
* Where the explorer would expand step ``k`` (some property undecided, ``k`` below the depth
  bound), a state at step ``k`` with an enabled action whose update leaves an Int range is
  looked for; the concrete semantics then raises the explorer's `ModelError` on it.
* Completeness threshold: after step ``k`` the solver is asked for a *loop-free* path (pairwise
  distinct states) of ``k + 1`` steps.  If none exists, every reachable state is reachable
  within ``k`` steps and was checked: undecided properties ``hold`` / are ``unreachable``.
  The distinctness constraints sit behind an assumption literal, so the property queries keep
  every path, as the explorer does.
* Otherwise, at ``bounds.max_depth`` (default `DEFAULT_MAX_DEPTH`, said in the reason) or at
  ``bounds.timeout``, undecided properties are ``unknown``, the reason saying how many steps were
  checked.  ``max_states`` and ``max_memory_mb`` do not apply: no states are stored.

`Stats` of a symbolic run: ``states`` and ``transitions`` are 0 (not counted), ``depth`` the
last step checked, ``complete`` whether the completeness threshold was reached.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import z3

from tcpmodel.engines.search import (
    NO_BOUNDS,
    Bounds,
    Progress,
    ProgressFn,
    Proof,
    bad_of,
    rss_mb,
    verdicts,
)
from tcpmodel.engines.symbolic import (
    DEFAULT_MAX_DEPTH,
    Budget,
    Encoding,
    Stopped,
    Unrolling,
    safety_only,
)
from tcpmodel.errors import ReplayError
from tcpmodel.formula import Property
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.expr import Expr
from tcpmodel.kernel.smt import Term
from tcpmodel.kernel.system import System
from tcpmodel.results import Outcome, Stats, Trace
from tcpmodel.semantics import replay


def depth_bound(bounds: Bounds) -> tuple[int, str]:
    """The depth bound to use and, for the default, a note for reasons."""
    if bounds.max_depth is not None:
        return bounds.max_depth, ""
    return DEFAULT_MAX_DEPTH, f" (default depth bound {DEFAULT_MAX_DEPTH}; set max_depth)"


class BaseCase:
    """Paths from the initial states, one step at a time (``path.depth`` is the step ``k``)."""

    def __init__(
        self, system: System, bads: Sequence[Expr], c: Compiled, budget: Budget, enc: Encoding
    ) -> None:
        self.system = system
        self.bads = list(bads)
        self.c = c
        self.budget = budget
        self.solver = enc.solver()
        self.path = Unrolling(enc, self.solver)
        self.simple = z3.Bool("simple-path")
        self._fresh = itertools.count()

    @property
    def k(self) -> int:
        return self.path.depth

    def ask(self, query: Term, *assume: Term) -> z3.ModelRef | None:
        """A model of the path so far with ``query`` (checked under a fresh literal, retired
        afterwards), or ``None`` if there is none."""
        lit = z3.Bool(f"query-{next(self._fresh)}")
        self.solver.add(z3.Implies(lit, query))
        try:
            r = self.budget.check(self.solver, lit, *assume)
            return self.solver.model() if r == z3.sat else None
        finally:
            self.solver.add(z3.Not(lit))

    def trace(self, m: z3.ModelRef) -> Trace:
        """The path of ``m`` to step ``k``, replayed through the concrete semantics."""
        t = self.path.decode(m, self.k, self.c)
        replay(self.system, t, self.c)
        return t

    def find(self, undecided: set[int], check_range: bool) -> dict[int, Trace]:
        """Bad states at step ``k`` of the ``undecided`` properties, with their traces; then, if
        ``check_range`` and some property is left undecided, the range check (`range_error`)."""
        bad = {i: self.path.pred(self.bads[i], self.k) for i in undecided}
        rng = z3.Not(self.path.at(self.path.enc.range_ok, self.k))
        any_bad = z3.Or(*bad.values(), *([rng] if check_range else []))
        m = self.ask(any_bad)
        if m is None:
            return {}
        found: dict[int, Trace] = {}
        for i in sorted(undecided):
            mi: z3.ModelRef | None = m
            if not z3.is_true(m.eval(bad[i], model_completion=True)):
                mi = self.ask(bad[i])
            if mi is not None:
                found[i] = self.trace(mi)
        if check_range and len(found) < len(undecided):
            m = self.ask(rng)
            if m is not None:
                self.range_error(m)
        return found

    def range_error(self, m: z3.ModelRef) -> None:
        """Raise the explorer's `ModelError` for the last state of ``m``'s path."""
        t = self.trace(m)
        s = self.c.encode(self.path.values(m, self.k))
        self.c.successors(s)  # raises ModelError: an update out of its range
        raise ReplayError(
            f"step {self.k} of {t.steps[-1].state}: Z3 finds an update out of its range that the "
            "concrete semantics does not"
        )

    def extend(self) -> bool:
        """Add step ``k + 1``; whether a loop-free path of that many steps exists."""
        self.path.extend()
        k = self.k
        for j in range(k):
            self.solver.add(z3.Implies(self.simple, self.path.distinct(j, k)))
        return self.ask(z3.BoolVal(True), self.simple) is not None


def bmc(
    system: System,
    properties: Sequence[Property],
    bounds: Bounds = NO_BOUNDS,
    progress: ProgressFn | None = None,
    compiled: Compiled | None = None,
) -> tuple[dict[str, Outcome], Stats]:
    """Check ``properties`` by bounded model checking; see the module docstring."""
    properties, skipped = safety_only(properties, "bmc")
    c = compiled or Compiled(system)
    budget = Budget.of(bounds.timeout, bounds.interrupt)
    max_depth, note = depth_bound(bounds)
    bads = [bad_of(p) for p in properties]
    base = BaseCase(system, bads, c, budget, Encoding(system, bads))
    undecided = set(range(len(properties)))
    found: dict[int, Trace] = {}
    complete = False
    stop = ""
    last_report = 0.0
    try:
        while True:
            k = base.k
            hits = base.find(undecided, check_range=k < max_depth)
            found.update(hits)
            undecided -= set(hits)
            if properties and not undecided:
                break
            if k >= max_depth:
                stop = f"no violation within {k} steps{note}"
                break
            if not base.extend():
                complete = True
                break
            if progress is not None and budget.seconds - last_report >= 1.0:
                last_report = budget.seconds
                progress(Progress(0, base.k, 0, budget.seconds))
    except Stopped as s:
        stop = f"{s.reason} at step {base.k}; no violation within {base.k - 1} steps"
    proofs = dict.fromkeys(range(len(properties)), Proof(threshold(base.k))) if complete else {}
    outcomes = verdicts(properties, found, proofs, stop)
    stats = Stats(0, 0, base.k, budget.seconds, rss_mb(), complete)
    return {**outcomes, **skipped}, stats


def threshold(k: int) -> str:
    """The reason of a verdict proved by the completeness threshold ``k``."""
    steps = "step" if k == 1 else "steps"
    return f"completeness threshold: no loop-free path has more than {k} {steps}"
