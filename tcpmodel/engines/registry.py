"""The engines, in one table: what each is called, how it runs and what it can decide.

An `EngineInfo` is one engine: its name (``--engine NAME``), its run function (the contract of
`tcpmodel.engines.explicit.explore`: a system, properties, bounds, a progress callback and the
compiled system if there is one, to an outcome per property and the run's `Stats`), and what
it can do: check ``always``/``reachable`` properties (every engine), check LTL properties
(``liveness``: its own LTL checker, else LTL goes to `liveness_engine`'s), decide
``exists_forall`` games (``games``: the explorers, whose state sets are exact), prove
(``proves``: a ``proved`` verdict is an unbounded proof, and ``--proofs`` writes an artefact),
count states (``counts_states``: the state and transition figures are meaningful), take a
configuration's ``[[invariant]]`` formulas (``with_invariants``), the C code it compiles
(``sources``).  ``auto`` (`AUTO`) is not an engine: it names the first available engine with
an ``auto`` rank, and k-induction (``auto_prover``) tries to prove what a bound kept that
engine from settling; when that engine is a compiled one whose code is not compiled yet, the
Python explorer runs while gcc compiles, and whichever ends first gives the outcomes
(`tcpmodel.engines.race`).

Every place that chooses or describes an engine reads this table: ``--engine``'s choices
(`choices`), `resolve`, the LTL and game routing, the proof fallback of ``auto``, ``--proofs``
and proof artefacts, which engines report state counts, the explorers behaviours need.  Adding
an engine is adding one entry to `ENGINES`; a test substitutes an engine by replacing its entry
(``dataclasses.replace(ENGINES[name], run=...)``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tcpmodel.engines import native
from tcpmodel.engines.bmc import bmc
from tcpmodel.engines.chc import chc
from tcpmodel.engines.explicit import explore
from tcpmodel.engines.kind import kind
from tcpmodel.engines.lasso import lasso_bmc
from tcpmodel.engines.liveness import check_ltl
from tcpmodel.engines.search import Bounds, ProgressFn
from tcpmodel.errors import UsageError
from tcpmodel.formula import Property
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.system import Fairness, System
from tcpmodel.results import Outcome, Stats

AUTO = "auto"

Outcomes = tuple[dict[str, Outcome], Stats]
Engine = Callable[
    [System, Sequence[Property], Bounds, ProgressFn | None, Compiled | None], Outcomes
]
"""An engine's run: ``run(system, properties, bounds, progress, compiled)``."""
Liveness = Callable[
    [System, Sequence[Property], Bounds, ProgressFn | None, Compiled | None, Sequence[Fairness]],
    Outcomes,
]
"""An LTL checker's run: the same, with the configuration's fairness assumptions."""
WithInvariants = Callable[
    [System, Sequence[Property], Bounds, ProgressFn | None, Compiled | None, Sequence[Property]],
    Outcomes,
]
"""A run that takes the configuration's ``[[invariant]]`` formulas as well."""


def _always() -> bool:
    return True


@dataclass(frozen=True, slots=True)
class EngineInfo:
    """One engine (see the module docstring)."""

    name: str
    run: Engine
    liveness: Liveness | None = None
    games: bool = False
    proves: bool = False
    counts_states: bool = False
    with_invariants: WithInvariants | None = None
    auto: int | None = None  # rank for ``auto`` (the lowest available one is chosen)
    available: Callable[[], bool] = _always
    auto_prover: bool = False  # tried by ``auto`` when a bound stops the explorer
    # The C code the engine compiles for the properties (a compiled engine): under ``auto``,
    # code not yet compiled is compiled while the Python explorer runs (`engines.race`).
    sources: Callable[[System, Sequence[Property]], list[str]] | None = None
    # The run with hash compaction (``--compact``: fingerprints instead of states), if the
    # engine has it.
    compact: Engine | None = None


ENGINES: dict[str, EngineInfo] = {
    "explicit": EngineInfo(
        "explicit", explore, liveness=check_ltl, games=True, counts_states=True, auto=1
    ),
    "native": EngineInfo(
        "native",
        native.explore,
        games=True,
        counts_states=True,
        auto=0,
        available=native.compiler_available,
        sources=native.sources,
        compact=native.explore_compact,
    ),
    "bmc": EngineInfo("bmc", bmc, liveness=lasso_bmc),
    "kind": EngineInfo("kind", kind, proves=True, with_invariants=kind, auto_prover=True),
    "chc": EngineInfo("chc", chc, proves=True),
}
"""Every engine, by name, in the order ``--engine`` lists them."""


def choices() -> tuple[str, ...]:
    """What ``--engine`` accepts: ``auto`` and every engine."""
    return (AUTO, *ENGINES)


def info(engine: str) -> EngineInfo:
    """The entry of ``engine`` (not ``auto``: `resolve` it first)."""
    try:
        return ENGINES[engine]
    except KeyError:
        raise UsageError(
            f"unknown engine {engine!r}; expected one of {', '.join(choices())}"
        ) from None


def resolve(engine: str) -> str:
    """The engine ``auto`` stands for: the available engine of lowest ``auto`` rank (``native``,
    the exploration compiled to C, about ten times faster, when the C compiler it needs is
    installed, else ``explicit``: both return the same verdicts, state counts and shortest
    traces, tests/test_native.py); any other name unchanged.

    The policy of ``auto``: the explorer whenever it can finish (exact, complete, with state
    counts and shortest traces; ``native``'s code not yet compiled: the Python explorer while
    gcc compiles it, `tcpmodel.engines.race`); when a bound stops it before an ``always``
    property with ``expect = "holds"`` is settled, the `auto_prover` tries to prove it; LTL
    properties go to the explorer's `liveness_engine`."""
    if engine != AUTO:
        return engine
    ranked = sorted((e.auto, e.name) for e in ENGINES.values() if e.auto is not None)
    for _, name in ranked:
        if ENGINES[name].available():
            return name
    raise UsageError("--engine auto: no engine is available")  # pragma: no cover


def python_explorer() -> EngineInfo:
    """The explorer that needs no compiler: it runs while a compiled engine's code compiles
    (`tcpmodel.engines.race`)."""
    return next(e for e in ENGINES.values() if e.games and e.sources is None)


def liveness_engine(engine: str) -> EngineInfo:
    """The engine that checks LTL properties when ``engine`` is chosen: its own LTL checker,
    else the first engine that has one."""
    own = info(engine)
    if own.liveness is not None:
        return own
    return next(e for e in ENGINES.values() if e.liveness is not None)


def auto_prover() -> EngineInfo:
    """The prover ``auto`` tries for ``holds`` expectations a bound left open."""
    return next(e for e in ENGINES.values() if e.auto_prover)


def provers() -> tuple[str, ...]:
    """The engines whose ``proved`` is an unbounded proof (``--proofs`` writes those)."""
    return tuple(e.name for e in ENGINES.values() if e.proves)


def explorers() -> tuple[str, ...]:
    """The engines that decide games (and enumerate behaviours): the explicit-state ones."""
    return tuple(e.name for e in ENGINES.values() if e.games)


def counts_states(engine: str) -> bool:
    """Whether ``engine``'s state and transition figures are counts (unknown names: no)."""
    e = ENGINES.get(engine)
    return e is not None and e.counts_states


def compacting() -> tuple[str, ...]:
    """The engines with a hash-compaction mode (``--compact``)."""
    return tuple(e.name for e in ENGINES.values() if e.compact is not None)


def one_of(names: Sequence[str]) -> str:
    """``a, b or c``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
