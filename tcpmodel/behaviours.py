"""Observable steps of a system: which ones are reachable, each with a shortest trace.

A `Behaviour` is a kind of step: an action (its name without parameters) of an actor (the
prefix of the action's name: ``a`` in ``a.reset``) with the actor's control state before and
after it (``b: LAST_ACK --reset--> CLOSED``).  The control state is the actor's enum variable
``<actor>.state`` or ``<actor>.pc``; an actor without one (the network, the clock) is observed
by its action alone.  A behaviour is *reachable* when some reachable state has a transition of
that kind.

Every behaviour is a state predicate, because an action's guard and updates are expressions of
the state before the step: ``reachable(guard and x.state == S and update(x.state) == D)`` (or
over the action's parameter instances).  So `explore_behaviours` asks the explorer engines
(``explicit`` or ``native``, the latter in compiled C) the usual ``reachable`` question, for
every candidate the model's actions allow at once:

* Candidates: for each action name and each control state its guard allows (the guard's
  top-level ``x.state == S`` conjuncts, else every value), each state its update can produce
  (a constant, unchanged, or every value when the update is an expression).
* Group testing: one exploration checks at most 64 predicates (the native engine's limit),
  each the disjunction of a group of candidates.  A group never reached is unreachable as a
  whole; for a group reached, every candidate true in its first state (in BFS order) is
  reachable, and that state is as shallow as any state of the candidate (it is the first
  state of a weaker predicate): the trace to it plus the step is a shortest trace.  The
  candidates left go into the next exploration, until none is left.
* Bounds: each exploration gets the bounds (``timeout`` is shared by all of them); when one
  stops an exploration, its undecided candidates are `Explored.undecided`, never absent.

Every trace is replayed by `tcpmodel.semantics.replay` before it is returned.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from tcpmodel.engines import registry
from tcpmodel.engines.explicit import explore
from tcpmodel.engines.search import Bounds, ProgressFn, trace_step
from tcpmodel.errors import UsageError
from tcpmodel.formula import Property
from tcpmodel.kernel import expr as E
from tcpmodel.kernel.cgen import MAX_PREDICATES
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.system import Action, System
from tcpmodel.kernel.types import EnumType
from tcpmodel.results import Stats, Trace
from tcpmodel.semantics import replay, values_of


def engines() -> tuple[str, ...]:
    """The engines that enumerate behaviours: ``auto`` and the registry's explorers (read at
    each call, so an explorer registered later is offered too)."""
    return (registry.AUTO, *registry.explorers())


CONTROL = ("state", "pc")  # the names of an actor's control-state variable


@dataclass(frozen=True, order=True, slots=True)
class Behaviour:
    """An observable kind of step; ``src``/``dst`` are ``None`` for an actor without a
    control state."""

    actor: str
    action: str
    src: str | None = None
    dst: str | None = None

    def __str__(self) -> str:
        who = f"{self.actor}: " if self.actor else ""
        if self.src is None:
            return f"{who}{self.action}"
        return f"{who}{self.src} --{self.action}--> {self.dst}"

    @property
    def slug(self) -> str:
        """A file-name-safe name: ``b.LAST_ACK.reset.CLOSED``."""
        parts = [self.actor, self.src, self.action, self.dst]
        return ".".join(p for p in parts if p)


@dataclass(frozen=True, slots=True)
class Candidate:
    behaviour: Behaviour
    predicate: E.Expr
    rule: str


@dataclass(frozen=True, slots=True)
class Explored:
    """What `explore_behaviours` found: reachable behaviours with a shortest trace each (its
    last step is the behaviour), the candidates proved unreachable, those a bound left
    undecided (with ``reason``), and the rule each behaviour's action implements."""

    found: dict[Behaviour, Trace]
    absent: frozenset[Behaviour]
    undecided: frozenset[Behaviour]
    rules: dict[Behaviour, str]
    runs: int
    stats: Stats
    reason: str = ""
    engine: str = ""

    @property
    def complete(self) -> bool:
        return not self.undecided

    def reachable(self, b: Behaviour) -> bool | None:
        """True, False (a candidate proved unreachable, or no action of the model can take
        it), or None (a bound stopped the search before it was decided)."""
        if b in self.found:
            return True
        if b in self.undecided:
            return None
        return False


@dataclass(slots=True)
class _Acc:
    found: dict[Behaviour, Trace] = field(default_factory=dict)
    absent: set[Behaviour] = field(default_factory=set)
    states: int = 0
    transitions: int = 0
    depth: int = 0


def actor_of(system: System, action: Action) -> tuple[str, str, str | None]:
    """(actor, action name without the actor, control-state variable or None)."""
    actor, dot, rest = action.name.partition(".")
    if not dot:
        return "", action.name, None
    for c in CONTROL:
        name = f"{actor}.{c}"
        if name in system.index and isinstance(system.var(name).vtype, EnumType):
            return actor, rest, name
    return actor, rest, None


def _conjuncts(e: E.Expr) -> Iterable[E.Expr]:
    if isinstance(e, E.Op) and e.op == "and":
        for a in e.args:
            yield from _conjuncts(a)
    else:
        yield e


def _allowed(guard: E.Expr, var: str, values: Sequence[str]) -> list[int]:
    """The control states ``guard`` allows, read off its ``var == S`` conjuncts (a sound
    over-approximation: every value when the guard says nothing simple about ``var``)."""
    allowed = set(range(len(values)))
    for c in _conjuncts(guard):
        got = _states_of(c, var)
        if got is not None:
            allowed &= got
    return sorted(allowed)


def _states_of(c: E.Expr, var: str) -> set[int] | None:
    if isinstance(c, E.Op) and c.op == "eq":
        x, y = c.args
        if isinstance(x, E.Var) and x.name == var and isinstance(y, E.Const):
            return {int(y.value)}
        if isinstance(y, E.Var) and y.name == var and isinstance(x, E.Const):
            return {int(x.value)}
    if isinstance(c, E.Op) and c.op == "or":
        out: set[int] = set()
        for a in c.args:
            got = _states_of(a, var)
            if got is None:
                return None
            out |= got
        return out
    return None


def candidates(system: System) -> list[Candidate]:
    """Every behaviour the actions of ``system`` might take, each as a state predicate."""
    parts: dict[Behaviour, list[E.Expr]] = {}
    rules: dict[Behaviour, str] = {}
    for a in system.actions:
        actor, name, var = actor_of(system, a)
        if var is None:
            b = Behaviour(actor, name)
            parts.setdefault(b, []).append(a.guard)
            rules.setdefault(b, a.rule)
            continue
        vtype = system.var(var).vtype
        assert isinstance(vtype, EnumType)
        ref = system.ref(var)
        upd = dict(a.updates).get(var)
        for s in _allowed(a.guard, var, vtype.values):
            # the control state first: the generated code tests it before the guard
            at = E.and_(E.eq(ref, E.enum_const(vtype, vtype.values[s])), a.guard)
            if upd is None:
                dsts: list[tuple[int, E.Expr]] = [(s, at)]
            elif isinstance(upd, E.Const):
                dsts = [(int(upd.value), at)]
            else:
                dsts = [
                    (d, E.and_(at, E.eq(upd, E.enum_const(vtype, vtype.values[d]))))
                    for d in range(len(vtype.values))
                ]
            for d, pred in dsts:
                b = Behaviour(actor, name, vtype.values[s], vtype.values[d])
                parts.setdefault(b, []).append(pred)
                rules.setdefault(b, a.rule)
    return [Candidate(b, E.or_(*ps) if len(ps) > 1 else ps[0], rules[b]) for b, ps in parts.items()]


def explore_behaviours(
    system: System,
    engine: str = "auto",
    bounds: Bounds | None = None,
    progress: ProgressFn | None = None,
    prefix_states: int = 20_000,
) -> Explored:
    """The reachable behaviours of ``system`` (see the module docstring)."""
    if engine not in engines():
        raise UsageError(
            f"--engine {engine}: behaviours need an explorer; expected one of "
            f"{', '.join(engines())}"
        )
    used = registry.resolve(engine)
    run = registry.info(used).run
    # Behaviours are every reachable step, not a few properties: explored in full.
    bounds = dataclasses.replace(bounds or Bounds(), por=False)
    compiled = Compiled(system)
    cands = candidates(system)
    rules = {c.behaviour: c.rule for c in cands}
    acc = _Acc()
    start = time.monotonic()
    # A first, bounded search in Python decides the shallow candidates all at once (the
    # native engine takes at most 64 predicates per exploration).
    pending = _prefix(system, compiled, cands, bounds, prefix_states, acc)
    runs = 1
    reason = ""
    while pending:
        left = None if bounds.timeout is None else bounds.timeout - (time.monotonic() - start)
        if left is not None and left <= 0:
            reason = f"time limit {bounds.timeout:g} s reached"
            break
        if bounds.interrupt is not None and bounds.interrupt.requested:
            reason = f"interrupted by {bounds.interrupt.cause}"
            break
        n = min(MAX_PREDICATES, len(pending))
        groups = [pending[i::n] for i in range(n)]
        props = [
            Property(f"behaviours#{i}", "reachable", E.or_(*(c.predicate for c in g)), "")
            if len(g) > 1
            else Property(f"behaviours#{i}", "reachable", g[0].predicate, "")
            for i, g in enumerate(groups)
        ]
        outcomes, st = run(
            system,
            props,
            dataclasses.replace(bounds, timeout=left),
            progress,
            compiled,
        )
        runs += 1
        acc.states = max(acc.states, st.states)
        acc.transitions = max(acc.transitions, st.transitions)
        acc.depth = max(acc.depth, st.depth)
        pending = []
        stopped = ""
        for g, p in zip(groups, props, strict=True):
            o = outcomes[p.name]
            if o.verdict == "unreachable":
                acc.absent.update(c.behaviour for c in g)
            elif o.verdict == "reachable" and o.trace is not None:
                pending += _resolve_group(system, compiled, g, o.trace, acc)
            else:
                stopped = stopped or o.reason or "a bound stopped the search"
                pending += g
        if stopped:
            reason = stopped
            break
    undecided = frozenset(c.behaviour for c in pending)
    stats = Stats(
        states=acc.states,
        transitions=acc.transitions,
        depth=acc.depth,
        seconds=time.monotonic() - start,
        complete=not undecided,
    )
    return Explored(
        acc.found, frozenset(acc.absent), undecided, rules, runs, stats, reason, engine=used
    )


def _prefix(
    system: System,
    c: Compiled,
    cands: Sequence[Candidate],
    bounds: Bounds,
    max_states: int,
    acc: _Acc,
) -> list[Candidate]:
    """Every candidate checked by the Python explorer on the first ``max_states`` states (BFS
    order, within ``bounds``): those reached are recorded, the others returned; all of them are
    decided when that search is complete."""
    limit = max_states if bounds.max_states is None else min(max_states, bounds.max_states)
    props = [Property(f"b#{i}", "reachable", x.predicate, "") for i, x in enumerate(cands)]
    outcomes, st = explore(
        system,
        props,
        dataclasses.replace(bounds, max_states=limit),
        compiled=c,
    )
    acc.states, acc.transitions, acc.depth = st.states, st.transitions, st.depth
    rest = []
    for x, p in zip(cands, props, strict=True):
        o = outcomes[p.name]
        if o.verdict == "reachable" and o.trace is not None:
            acc.found[x.behaviour] = _with_step(system, c, o.trace, x.behaviour)
        elif o.verdict == "unreachable":
            acc.absent.add(x.behaviour)
        else:
            rest.append(x)
    return rest


def _resolve_group(
    system: System, c: Compiled, group: Sequence[Candidate], trace: Trace, acc: _Acc
) -> list[Candidate]:
    """Record the candidates of ``group`` true at the last state of ``trace`` (the group's
    first state in BFS order); return the others."""
    last = c.encode(values_of(system, trace.steps[-1].state))
    bits = c.flags([g.predicate for g in group])(last)
    rest = []
    for i, cand in enumerate(group):
        if bits >> i & 1:
            acc.found[cand.behaviour] = _with_step(system, c, trace, cand.behaviour)
        else:
            rest.append(cand)
    assert len(rest) < len(group), "a reached group has a candidate true in its first state"
    return rest


def _with_step(system: System, c: Compiled, trace: Trace, b: Behaviour) -> Trace:
    """``trace`` extended by the first step (in action order) of kind ``b`` from its last
    state."""
    last = c.encode(values_of(system, trace.steps[-1].state))
    for ai, t in c.successors(last):
        a = system.actions[ai]
        actor, name, var = actor_of(system, a)
        if (actor, name) != (b.actor, b.action):
            continue
        if var is not None:
            vtype = system.var(var).vtype
            assert isinstance(vtype, EnumType)
            i = system.index[var]
            if vtype.values[int(c.decode(t)[i])] != b.dst:
                continue
        out = Trace((*trace.steps, trace_step(c, t, ai)), model=trace.model)
        replay(system, out, c)
        return out
    raise AssertionError(f"no step {b} from the state its predicate holds in")
