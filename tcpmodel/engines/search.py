"""What every engine's search shares: its bounds, its progress reports, the process's memory,
the check points' stop reasons, and the rule from what a search found to verdicts.

* `Bounds`: the limits of one run (``None``: no limit) and the run's `Interrupt`; `limit`,
  `memory_stop` and `interrupted` are the reasons to stop at a check point; `remaining` the
  bounds left for a second run.
* `Progress`: one report of a running search, passed to a `ProgressFn`.
* `bad_of`: the states a property's search looks for.
* `verdicts` (`verdict` per property): a property with a *found* trace (a bad state for
  ``always``, a witness for ``reachable``) is ``violated`` / ``reachable``; one with a `Proof`
  (the search was exhaustive, or an engine proved it) ``holds`` / ``proved`` / ``unreachable``;
  any other is ``unknown``, its reason the bound that stopped the search.  Every engine that
  checks ``always`` and ``reachable`` properties decides them by this one rule.
* `trace_step`: a state found by a search as a step of a `Trace`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from tcpmodel.formula import Property
from tcpmodel.interrupt import Interrupt
from tcpmodel.kernel.compile import StateCodec
from tcpmodel.kernel.expr import Expr, not_
from tcpmodel.kernel.types import show
from tcpmodel.results import Outcome, Step, Trace, Verdict


@dataclass(frozen=True, slots=True)
class Bounds:
    """Limits of one exploration; ``None`` means no limit.  ``interrupt``: a stop request the
    engines poll with the other bounds (`tcpmodel.interrupt`)."""

    max_depth: int | None = None
    max_states: int | None = None
    timeout: float | None = None
    max_memory_mb: float | None = None
    interrupt: Interrupt | None = field(default=None, compare=False)
    # A search option, not a limit: partial-order reduction in `explore` (`tcpmodel.kernel.por`).
    por: bool = False


NO_BOUNDS = Bounds()
"""No limit at all (the engines' default)."""


@dataclass(frozen=True, slots=True)
class Progress:
    states: int
    depth: int
    frontier: int
    seconds: float
    engine: str = ""  # which engine is running, where a run uses several (`engines.race`)

    @property
    def rate(self) -> float:
        return self.states / self.seconds if self.seconds > 0 else 0.0


ProgressFn = Callable[[Progress], None]

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_mb() -> float:
    """Resident memory of this process now, in MiB."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE / 2**20
    except OSError:  # pragma: no cover - non-Linux
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def default_jobs() -> int:
    """The number of cores this process may run on (worker processes, solver threads)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


_SHARERS = [1]  # processes of one run sharing this machine's cores (`share_cores`)


def share_cores(processes: int) -> None:
    """Declare this process one of ``processes`` worker processes of a run, each busy on a
    core: `solver_threads` then defaults to this process's share of the cores."""
    _SHARERS[0] = max(1, processes)


def solver_threads() -> int:
    """Solver threads an engine runs by default: its process's share of the cores (all of
    them outside a pool of workers).  Threads beyond a process's share only contend with the
    other workers: a kind proof takes about a third more CPU in two threads than in one."""
    return max(1, default_jobs() // _SHARERS[0])


def memory_stop(bounds: Bounds, mem: float) -> str:
    """The reason to stop if resident memory ``mem`` (MiB) is past the bound, else ``""``."""
    if bounds.max_memory_mb is not None and mem > bounds.max_memory_mb:
        return f"memory bound {bounds.max_memory_mb:.0f} MiB reached ({mem:.0f} MiB)"
    return ""


def interrupted(bounds: Bounds) -> bool:
    return bounds.interrupt is not None and bounds.interrupt.requested


NOT_STARTED = "interrupted before it started"
"""The reason of every run an interrupt came before."""


def remaining(bounds: Bounds, states: int, seconds: float) -> Bounds | None:
    """The bounds left for the next exploration after ``states`` states and ``seconds``
    seconds, or ``None`` if a state or time bound is already used up."""
    max_states = None if bounds.max_states is None else bounds.max_states - states
    timeout = None if bounds.timeout is None else bounds.timeout - seconds
    if (max_states is not None and max_states <= 0) or (timeout is not None and timeout <= 0):
        return None
    return dataclasses.replace(bounds, max_states=max_states, timeout=timeout)


def limit(bounds: Bounds, states: int, seconds: float, depth: int) -> str:
    """The reason to stop at a check point (``depth``: the level being explored), else ``""``;
    an interrupt first."""
    if interrupted(bounds):
        return f"interrupted after {states} states, depth {depth}"
    if bounds.max_states is not None and states >= bounds.max_states:
        return f"state bound {bounds.max_states} reached"
    if bounds.timeout is not None and seconds >= bounds.timeout:
        return f"time limit {bounds.timeout:g} s reached"
    return ""


def bad_of(p: Property) -> Expr:
    """The states a property's search looks for: a violation of ``always``, a witness of
    ``reachable``."""
    return not_(p.predicate) if p.kind == "always" else p.predicate


@dataclass(frozen=True, slots=True)
class Proof:
    """Why a property without a bad state found is settled.  ``proved``: an unbounded proof
    (k-induction, an inductive invariant), ``proved`` for ``always``; otherwise the search
    covered every reachable state (``holds``).  ``reason``, ``invariant``, ``invariants`` and
    ``k`` go to the `Outcome` as they are."""

    reason: str = ""
    proved: bool = False
    invariant: str | None = None
    invariants: tuple[str, ...] | None = None
    k: int | None = None


EXHAUSTIVE = Proof()
"""The proof of an exhaustive search: every reachable state was checked."""

STOPPED = "search stopped before a verdict"
"""The reason of ``unknown`` when the search names no bound."""


def verdict(p: Property, trace: Trace | None, proof: Proof | None, stop: str) -> Outcome:
    """The outcome of ``p``: ``trace`` is the bad state's trace the search found (or
    ``None``), ``proof`` why no bad state exists (or ``None``), ``stop`` what stopped the
    search before either.  A stop reason speaks of a *violation*; for a ``reachable``
    property it says *witness*."""
    if trace is not None:
        return Outcome("violated" if p.kind == "always" else "reachable", trace)
    if proof is not None:
        settled: Verdict = "unreachable"
        if p.kind == "always":
            settled = "proved" if proof.proved else "holds"
        return Outcome(
            settled,
            reason=proof.reason,
            invariant=proof.invariant,
            invariants=proof.invariants,
            k=proof.k,
        )
    reason = stop or STOPPED
    if p.kind != "always":
        reason = reason.replace("violation", "witness")
    return Outcome("unknown", reason=reason)


def verdicts(
    properties: Sequence[Property],
    found: Mapping[int, Trace],
    proofs: Mapping[int, Proof],
    stop: str,
    note: str = "",
) -> dict[str, Outcome]:
    """The outcome of each property (`verdict`) from the traces a search found and the
    proofs it has, both by property index, and the bound that stopped it; ``note`` is added
    to the reason of every outcome that is not a counterexample or witness."""
    out: dict[str, Outcome] = {}
    for i, p in enumerate(properties):
        o = verdict(p, found.get(i), proofs.get(i), stop)
        if note and o.trace is None:
            o = Outcome(
                o.verdict, None, o.reason + note, o.invariant, o.invariants, o.k, o.strategy
            )
        out[p.name] = o
    return out


def exhaustive(properties: Sequence[Property], complete: bool) -> dict[int, Proof]:
    """Every property proved by the search's covering every state, if it did (``complete``),
    else none."""
    return dict.fromkeys(range(len(properties)), EXHAUSTIVE) if complete else {}


def trace_step(c: StateCodec, s: bytes, action: int | None) -> Step:
    """State ``s`` as a trace step, with the label and rule of the action that led to it."""
    system = c.system
    values = c.decode(s)
    state = {v.name: show(v.vtype, x) for v, x in zip(system.variables, values, strict=True)}
    if action is None:
        return Step(None, None, state)
    a = system.actions[action]
    return Step(a.label, a.rule, state, a.name, a.shown_params)
