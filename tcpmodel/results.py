"""Outcomes as values: traces, statistics, verdicts and per-property results.

A `Trace` is the list of states from an initial state on; step ``k > 0`` names the action that
led to it (its label and RFC rule).  ``loop`` is the index where a lasso's cycle starts (``None``
for a finite trace); ``model`` the name of the system it is a run of.  States hold user-facing
values (enum names, booleans, integers) keyed by variable name, so a trace can be written as
JSON and read back without the model.

Verdicts: ``holds`` / ``violated`` for invariants, ``reachable`` / ``unreachable`` for
reachability, ``proved`` (an unbounded proof, which meets ``expect = "holds"``), and ``unknown``
(a bound or time limit stopped the engine; ``reason`` says which).  ``unknown`` never meets an
expectation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import graphviz

Verdict = Literal["holds", "violated", "reachable", "unreachable", "proved", "unknown"]
Expectation = Literal["holds", "violated", "reachable", "unreachable"]
EXPECTATIONS: tuple[str, ...] = ("holds", "violated", "reachable", "unreachable")

Shown = str | int | bool


@dataclass(frozen=True, slots=True)
class Step:
    """One state of a trace and the action that led to it: ``action`` its label (``None`` for
    the initial state), ``rule`` the RFC rule it implements, and, for drawing, the action's
    ``name`` and ``params`` as the model declared them (the label is made from them, so they
    are not part of a step's identity)."""

    action: str | None
    rule: str | None
    state: Mapping[str, Shown]
    name: str | None = field(default=None, compare=False)
    params: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def call(self) -> tuple[str, dict[str, str]]:
        """The action's name and parameters: ``("", {})`` for the initial state, the label
        and no parameters for a step that does not carry them."""
        if self.action is None:
            return "", {}
        if self.name is None:
            return self.action, {}
        return self.name, dict(self.params)


@dataclass(frozen=True, slots=True)
class Trace:
    steps: tuple[Step, ...]
    loop: int | None = None
    # The name of the `System` the trace is a run of (``None``: not known, as for a trace read
    # back from ITF); it chooses the trace's drawing (`tcpmodel.render.drawing`).  Not part of
    # a trace's identity: two traces with the same steps are the same trace.
    model: str | None = field(default=None, compare=False)

    def __len__(self) -> int:
        return len(self.steps)

    def to_json(self) -> list[dict[str, object]]:
        return [
            {"step": k, "action": s.action, "rule": s.rule, "state": dict(s.state)}
            for k, s in enumerate(self.steps)
        ]

    def ladder(self, caption: Sequence[str] = ()) -> graphviz.Source:
        """The trace's diagram (a ladder for the ``connection`` model, see
        `tcpmodel.render.diagram`) as a `graphviz.Source`, which Jupyter shows inline."""
        from tcpmodel import render

        return render.source(render.diagram(self, caption))

    def _repr_svg_(self) -> str:
        from tcpmodel import render

        return render.svg(render.diagram(self))


@dataclass(frozen=True, slots=True)
class Stats:
    """Exact figures of one exploration (shared by the properties checked in it).
    ``omission_probability``: under hash compaction (``--compact``), a bound on the probability
    that a state was omitted (two states with one fingerprint), so that ``holds`` and
    ``unreachable`` are not proofs; ``None`` for an exact search."""

    states: int = 0
    transitions: int = 0
    depth: int = 0
    seconds: float = 0.0
    peak_memory_mb: float = 0.0
    complete: bool = False
    omission_probability: float | None = None
    # Partial-order reduction, where the search tried it: (states expanded, of which reduced
    # to an ample set).  ``None``: every state was expanded in full.
    por: tuple[int, int] | None = None

    @property
    def states_per_second(self) -> float:
        return self.states / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, object]:
        return {
            "states": self.states,
            "transitions": self.transitions,
            "depth": self.depth,
            "seconds": round(self.seconds, 4),
            "states_per_second": round(self.states_per_second, 1),
            "peak_memory_mb": round(self.peak_memory_mb, 1),
            "complete": self.complete,
            "omission_probability": self.omission_probability,
            **self._por_json(),
        }

    def _por_json(self) -> dict[str, object]:
        if self.por is None:
            return {}
        return {"por": {"expanded": self.por[0], "reduced": self.por[1]}}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an engine says about one property.  ``reason`` is for people; what a program
    needs is in the other fields: ``invariant``, the inductive invariant Spacer found (``chc``,
    in the formula language or marked ``(Z3 syntax)``); ``invariants``, the ``[[invariant]]``
    formulas a ``kind`` proof assumed (``()``: none); ``k``, the depth the ``kind`` run reached
    (the bound with which it proves this again); ``strategy``, the winning strategy of an
    ``exists_forall`` game (variable to value)."""

    verdict: Verdict
    trace: Trace | None = None
    reason: str = ""
    invariant: str | None = None
    invariants: tuple[str, ...] | None = None
    k: int | None = None
    strategy: Mapping[str, Shown] | None = None


def meets(verdict: Verdict, expect: Expectation) -> bool:
    if verdict == "unknown":
        return False
    if verdict == "proved":
        return expect == "holds"
    return verdict == expect


@dataclass(frozen=True, slots=True)
class Result:
    spec: str
    file: str
    variant: str | None
    prop: str
    formula: str
    expect: Expectation
    verdict: Verdict
    engine: str
    stats: Stats
    trace: Trace | None = None
    reason: str = ""
    # what the engine found besides the verdict (see `Outcome`), and whether the property is
    # an ``exists_forall`` game
    invariant: str | None = None
    invariants: tuple[str, ...] | None = None
    k: int | None = None
    strategy: Mapping[str, Shown] | None = None
    game: bool = False

    @property
    def met(self) -> bool:
        return meets(self.verdict, self.expect)

    @property
    def case_name(self) -> str:
        return self.prop if self.variant is None else f"{self.variant}/{self.prop}"

    def diagram(self) -> graphviz.Source:
        """The counterexample's or witness's diagram with its caption (spec, property,
        verdict, last rule) as a `graphviz.Source`; a `ValueError` when there is no trace."""
        from tcpmodel import render

        if self.trace is None:
            raise ValueError(
                f"{self.spec} {self.case_name}: verdict {self.verdict}, no trace to draw"
            )
        return render.source(render.diagram(self.trace, render.caption(self)))

    def _repr_html_(self) -> str:
        from tcpmodel import render

        return render.result_html(self)

    def to_json(self) -> dict[str, object]:
        return {
            "property": self.prop,
            "variant": self.variant,
            "formula": self.formula,
            "expect": self.expect,
            "verdict": self.verdict,
            "met": self.met,
            "engine": self.engine,
            "reason": self.reason or None,
            "stats": self.stats.to_json(),
            "trace": self.trace.to_json() if self.trace is not None else None,
            "loop": self.trace.loop if self.trace is not None else None,
            "game": self.game,
            "k": self.k,
            "invariant": self.invariant,
            "invariants": list(self.invariants) if self.invariants is not None else None,
            "strategy": dict(self.strategy) if self.strategy is not None else None,
        }
