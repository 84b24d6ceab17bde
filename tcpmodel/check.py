"""Run the checks of specs: configurations to engines to `Result` values.

`check_spec` explores each configuration of a spec once, checking all of its (selected)
properties in that one exploration, replays every trace through `tcpmodel.semantics`, and
returns one `Result` per (configuration, property).  It prints nothing.

Engines come from the registry (`tcpmodel.engines.registry`), all with the contract of
`tcpmodel.engines.explicit.explore`: ``explicit`` and ``native`` search states breadth-first;
``bmc`` unrolls the Z3 transition relation (`tcpmodel.engines.bmc`); ``kind`` proves by
k-induction (`tcpmodel.engines.kind`); ``chc`` asks Z3's Spacer for an inductive invariant
(`tcpmodel.engines.chc`).  The symbolic engines check each configuration's properties in one
run too, and replay their traces.  What an engine can decide (LTL, games), the engine ``auto``
stands for and the prover it falls back on are the registry's entries, not names here.  Under
``auto``, a compiled engine whose code is not in the cache races the Python explorer for the
state properties (`tcpmodel.engines.race`); the result records the engine that gave them.

The steps, each a function: the spec's ``[bounds]`` under the command line's
(`with_spec_bounds`); per configuration, its selected checks split by what decides them
(`_split`: ``always``/``reachable`` to the chosen engine, LTL to its `liveness_engine`, each
``exists_forall`` game to `tcpmodel.engines.game` with the explorer); one guarded run per part
(`_run_safety`, `_prove_open` for ``auto``'s proof fallback, `_run_liveness`, `_run_games`),
each giving its properties an outcome and the statistics and engine of the run that decided
them (`_Decided`); then each outcome checked for a trace (`_shown`), the trace replayed, and
the `Result` built (`_result`).

One configuration's failure is not the run's: each engine run is guarded (`_guarded`).  A Z3
exception or a `MemoryError` gives its properties ``unknown`` with the reason; a `NativeError`
(the native engine cannot compile or hold this system) hands the run to the Python explorer
with the bounds left, each reason saying so.  A `ReplayError` (a trace the semantics rejects)
and the model's own errors propagate.  An interrupt (``Bounds.interrupt``) stops the engine
running as a bound does, and every run not yet started is ``unknown``, `NOT_STARTED`.

``Options.compact`` (``check --compact``) runs the state properties with the engine's
hash-compaction mode (`EngineInfo.compact`, the native engine's), without ``auto``'s race: a
usage error (`compact_engine`) for an engine that has none; LTL properties and games are
checked exactly, and so is a configuration the Python explorer takes over.

A configuration's ``[[invariant]]`` formulas go to the engines that take them (``kind``),
which check them first and assume only those they keep; the outcome lists those
(``Outcome.invariants``) and the reason of every proof says which it used.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import z3

from tcpmodel.engines import game, race, registry
from tcpmodel.engines.registry import AUTO, Outcomes, info, resolve
from tcpmodel.engines.search import (
    NOT_STARTED,
    Bounds,
    Progress,
    ProgressFn,
    interrupted,
    remaining,
)
from tcpmodel.errors import NativeError, UsageError
from tcpmodel.formula import Property
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.system import System
from tcpmodel.results import Outcome, Result, Stats
from tcpmodel.semantics import replay
from tcpmodel.spec import Check, Configuration, Spec

__all__ = [
    "NOT_STARTED",
    "Options",
    "auto_proof_bounds",
    "check_exists_forall",
    "check_spec",
    "compact_engine",
    "selected",
    "with_spec_bounds",
]


def auto_proof_bounds(b: Bounds) -> Bounds:
    """Bounds for the proof attempt of ``auto``: the user's, with a 60 s time limit and
    k <= 20 when none is given."""
    return Bounds(b.max_depth or 20, None, b.timeout or 60.0, b.max_memory_mb, b.interrupt)


@dataclass(frozen=True, slots=True)
class Options:
    engine: str = AUTO
    bounds: Bounds = field(default_factory=Bounds)
    only: frozenset[str] | None = None
    compact: bool = False  # hash compaction for the state properties (`compact_engine`)


def compact_engine(engine: str) -> None:
    """A `UsageError` unless ``engine`` (or what ``auto`` stands for) has a hash-compaction
    mode.  ``--compact`` applies to the exploration of the ``always`` and ``reachable``
    properties; LTL properties and games are checked exactly."""
    name = resolve(engine)
    if info(name).compact is None:
        have = registry.compacting()
        why = " (auto stands for it only when gcc is installed)" if engine == AUTO else ""
        raise UsageError(
            f"--compact (hash compaction) needs --engine {registry.one_of([*have, AUTO])}{why}, "
            f"not {name}; drop --compact or choose that engine"
        )


def selected(cfg: Configuration, only: frozenset[str] | None) -> list[int]:
    return [i for i, c in enumerate(cfg.checks) if only is None or c.prop.name in only]


def with_spec_bounds(given: Bounds, own: Bounds) -> Bounds:
    """The given bounds (the command line's), the spec's own ``[bounds]`` where none is given."""
    return Bounds(
        given.max_depth or own.max_depth,
        given.max_states or own.max_states,
        given.timeout or own.timeout,
        given.max_memory_mb or own.max_memory_mb,
        given.interrupt,
        given.por,
    )


@dataclass(frozen=True, slots=True)
class _Decided:
    """Outcomes by property name, each with the statistics and the engine of its run."""

    outcomes: dict[str, Outcome] = field(default_factory=dict)
    stats: dict[str, tuple[Stats, str]] = field(default_factory=dict)

    def add(self, outcomes: dict[str, Outcome], stats: Stats, engine: str) -> None:
        self.outcomes.update(outcomes)
        self.stats.update({n: (stats, engine) for n in outcomes})


@dataclass(frozen=True, slots=True)
class _Run:
    """What every step of one configuration's check needs."""

    cfg: Configuration
    compiled: Compiled
    engine: str  # resolved
    bounds: Bounds
    progress: ProgressFn | None
    auto: bool = False  # chosen by ``auto``: a compiled engine races the Python explorer
    compact: bool = False  # the state properties explored with hash compaction


def check_spec(
    spec: Spec,
    options: Options,
    progress: Callable[[str, Progress], None] | None = None,
) -> list[Result]:
    engine = resolve(options.engine)
    info(engine)  # an unknown name is a UsageError
    if options.compact:
        compact_engine(options.engine)
    bounds = with_spec_bounds(options.bounds, spec.bounds)
    results: list[Result] = []
    for cfg in spec.configurations:
        checks = [cfg.checks[i] for i in selected(cfg, options.only)]
        if not checks:
            continue
        label = spec.name if cfg.variant is None else f"{spec.name}/{cfg.variant}"
        on_progress = None if progress is None else (lambda p, lab=label: progress(lab, p))
        compiled: Compiled | None = None
        if interrupted(bounds):  # not even compiled: the user is waiting
            decided = _Decided()
            decided.add(_unknown(c.prop for c in checks), Stats(), engine)
        else:
            compiled = Compiled(cfg.system)
            auto = options.engine == AUTO
            run = _Run(cfg, compiled, engine, bounds, on_progress, auto, options.compact)
            decided = _check_configuration(run, checks, auto)
        for c in checks:
            stats, used = decided.stats[c.prop.name]
            o = _shown(decided.outcomes[c.prop.name], used)
            if o.trace is not None:
                replay(cfg.system, o.trace, compiled)
            results.append(_result(spec, cfg, c, o, stats, used))
    return results


def _check_configuration(run: _Run, checks: Sequence[Check], auto: bool) -> _Decided:
    """The outcome of each of ``checks`` on the configuration, with the statistics and the
    name of the engine that gave it.  Each engine run is `_guarded`: its failure, or an
    interrupt before it starts, gives its properties ``unknown`` with the reason."""
    safety, live, games = _split(checks)
    decided = _Decided()
    if safety:
        _run_safety(run, safety, decided)
        if auto and not interrupted(run.bounds):
            _prove_open(run, [c for c in checks if c.prop in safety], decided)
    if live:
        _run_liveness(run, live, decided)
    for g in games:
        _run_game(run, g, decided)
    return decided


def _split(checks: Sequence[Check]) -> tuple[list[Property], list[Property], list[Property]]:
    """The properties of ``checks`` by what decides them: state properties (``always``,
    ``reachable``: the chosen engine, all in one run), LTL (the liveness checker, in one run),
    games (one game solve each)."""
    props = [c.prop for c in checks]
    return (
        [p for p in props if p.kind in ("always", "reachable")],
        [p for p in props if p.kind == "ltl"],
        [p for p in props if p.kind == "exists_forall"],
    )


def _with_invariants(run: _Run, name: str, props: Sequence[Property], b: Bounds) -> Outcomes:
    """Engine ``name`` on ``props``, given the configuration's invariants if it takes them
    (each proof then says whether it used any)."""
    e = info(name)
    cfg = run.cfg
    if run.compact and e.compact is not None:  # else the Python explorer, after a NativeError
        return e.compact(cfg.system, props, b, run.progress, run.compiled)
    if e.with_invariants is None or not cfg.invariants:
        return e.run(cfg.system, props, b, run.progress, run.compiled)
    got, stats = e.with_invariants(cfg.system, props, b, run.progress, run.compiled, cfg.invariants)
    return {n: _say_invariants(o) for n, o in got.items()}, stats


def _run_safety(run: _Run, safety: Sequence[Property], decided: _Decided) -> None:
    """The state properties, in one run of the chosen engine; under ``auto``, a compiled
    engine whose code is not compiled yet races the Python explorer (`tcpmodel.engines.race`)
    and the engine that gave the outcomes is recorded."""
    raced: list[str] = []

    def go(name: str, b: Bounds) -> Outcomes:
        e = info(name)
        if not run.auto or e.sources is None or run.compact:
            return _with_invariants(run, name, safety, b)
        cfg = run.cfg
        python = registry.python_explorer()
        got, stats, used = race.explore(
            cfg.system,
            safety,
            dataclasses.replace(b, por=False),  # the stand-in explores what native explores
            run.progress,
            run.compiled,
            e.run,
            python.run,
            e.sources(cfg.system, safety),
        )
        raced.append(used)
        return got, stats

    got, stats, used = _guarded(run.engine, go, safety, run.bounds)
    if raced and used == run.engine:  # not the fallback: the engine that won the race
        used = raced[-1]
    decided.add(got, stats, used)


def _prove_open(run: _Run, checks: Sequence[Check], decided: _Decided) -> None:
    """``auto``'s proof fallback: the explorer could not settle a ``holds`` expectation (a
    bound stopped it), so the registry's `auto_prover` tries to prove it, within the same
    time limit (`auto_proof_bounds`); only a definite verdict replaces the explorer's."""
    open_ = [
        c.prop
        for c in checks
        if c.prop.kind == "always"
        and c.expect == "holds"
        and decided.outcomes[c.prop.name].verdict == "unknown"
    ]
    if not open_:
        return
    prover = registry.auto_prover()

    def go(name: str, b: Bounds) -> Outcomes:
        e = info(name)
        pb = auto_proof_bounds(b)
        cfg = run.cfg
        if e.with_invariants is None:
            return e.run(cfg.system, open_, pb, run.progress, None)
        tried, stats = e.with_invariants(cfg.system, open_, pb, run.progress, None, cfg.invariants)
        if cfg.invariants:
            tried = {n: _say_invariants(o) for n, o in tried.items()}
        return tried, stats

    tried, stats, _ = _guarded(prover.name, go, open_, run.bounds)
    settled = {n: o for n, o in tried.items() if o.verdict in ("proved", "holds", "violated")}
    decided.add(settled, stats, prover.name)
    # The explorer's unknown stays, saying why the proof did not settle it either.
    for name, o in tried.items():
        if name not in settled and o.reason:
            mine = decided.outcomes[name]
            decided.outcomes[name] = dataclasses.replace(
                mine, reason=f"{mine.reason}; {prover.name}: {o.reason}"
            )


def _run_liveness(run: _Run, live: Sequence[Property], decided: _Decided) -> None:
    """LTL properties, by the chosen engine's own LTL checker (bmc: lasso-shaped BMC, which
    finds violations only), else the explicit liveness checker."""

    def go(name: str, b: Bounds) -> Outcomes:
        check_live = registry.liveness_engine(name).liveness
        assert check_live is not None
        cfg = run.cfg
        return check_live(cfg.system, live, b, run.progress, run.compiled, cfg.fairness)

    got, stats, used = _guarded(registry.liveness_engine(run.engine).name, go, live, run.bounds)
    decided.add(got, stats, used)


def _run_game(run: _Run, prop: Property, decided: _Decided) -> None:
    def go(name: str, b: Bounds) -> Outcomes:
        o, st = check_exists_forall(run.cfg.system, prop, name, b, run.progress, run.compiled)
        return {prop.name: o}, st

    got, stats, used = _guarded(run.engine, go, [prop], run.bounds)
    decided.add(got, stats, used)


def check_exists_forall(
    system: System,
    prop: Property,
    engine: str,
    bounds: Bounds | None = None,
    progress: ProgressFn | None = None,
    compiled: Compiled | None = None,
) -> tuple[Outcome, Stats]:
    """Decide the game ``prop`` with ``engine`` (`tcpmodel.engines.game`) if the registry says
    it decides games, else ``unknown`` saying which engines do."""
    e = info(engine)
    if not e.games:
        shape = f"exists_forall over {', '.join(prop.strategy)} and {', '.join(prop.secret)}"
        which = registry.one_of([*registry.explorers(), AUTO])
        return Outcome(
            "unknown",
            reason=f"{shape} is decided by the explorers only (--engine {which}); "
            f"--engine {engine} does not support it",
        ), Stats()
    return game.exists_forall(system, prop, e.run, bounds, progress, compiled)


def _unknown(props: Iterable[Property], reason: str = NOT_STARTED) -> dict[str, Outcome]:
    return {p.name: Outcome("unknown", reason=reason) for p in props}


def _shown(o: Outcome, engine: str) -> Outcome:
    """``o`` as it may be shown: a counterexample or witness comes with its trace, which is
    replayed before it is shown; without one the verdict is ``unknown``, saying why."""
    if o.verdict in ("violated", "reachable") and o.trace is None:
        said = f": {o.reason}" if o.reason else ""
        return Outcome(
            "unknown", reason=f"the {engine} engine said {o.verdict} with no trace to replay{said}"
        )
    return o


def _result(
    spec: Spec, cfg: Configuration, c: Check, o: Outcome, stats: Stats, engine: str
) -> Result:
    return Result(
        spec=spec.name,
        file=spec.file,
        variant=cfg.variant,
        prop=c.prop.name,
        formula=c.prop.formula,
        expect=c.expect,
        verdict=o.verdict,
        engine=engine,
        stats=stats,
        trace=o.trace,
        reason=o.reason,
        invariant=o.invariant,
        invariants=o.invariants,
        k=o.k,
        strategy=o.strategy,
        game=c.prop.kind == "exists_forall",
    )


def _guarded(
    engine: str,
    run: Callable[[str, Bounds], Outcomes],
    props: Sequence[Property],
    bounds: Bounds,
) -> tuple[dict[str, Outcome], Stats, str]:
    """``run(engine, bounds)``, its outcomes, statistics and engine, with one configuration's
    failure kept to it: an interrupt before it starts, a Z3 exception or running out of
    memory gives ``props`` ``unknown`` with the reason; the native engine's failure
    (`NativeError`: no gcc, gcc failed, a value beyond 64 bits) hands the run to the Python
    explorer with the bounds left, saying so in every reason.  `ReplayError` and the model's
    own errors are not failures of an engine and are raised."""

    def unknown(reason: str) -> tuple[dict[str, Outcome], Stats, str]:
        return {p.name: Outcome("unknown", reason=reason) for p in props}, Stats(), engine

    if interrupted(bounds):
        return unknown(NOT_STARTED)
    start = time.monotonic()
    try:
        got, stats = run(engine, bounds)
        return got, stats, engine
    except NativeError as e:
        failed = f"the native engine failed ({e})"
        if interrupted(bounds):  # gcc may have been stopped by the same Ctrl-C
            return unknown(f"{NOT_STARTED} ({failed})")
        left = remaining(bounds, 0, time.monotonic() - start)
        if left is None:
            return unknown(f"{failed}; no time left for the Python explorer")
        fallback = _guarded(registry.python_explorer().name, run, props, left)
        note = f"{failed}; checked by the Python explorer"
        return (
            {n: _noted(o, note) for n, o in fallback[0].items()},
            fallback[1],
            fallback[2],
        )
    except MemoryError:
        return unknown(
            f"out of memory in the {engine} engine (MemoryError); lower --max-memory so that "
            "the bound stops the search first, or check fewer properties"
        )
    except z3.Z3Exception as e:
        return unknown(f"Z3 failed in the {engine} engine: {e}")


def _noted(o: Outcome, note: str) -> Outcome:
    return dataclasses.replace(o, reason=f"{note}; {o.reason}" if o.reason else note)


def _say_invariants(o: Outcome) -> Outcome:
    """kind names in a proof's reason the invariants it used (``strengthened by ...``) and
    each one it dropped; a proof that used none says so too."""
    if o.verdict in ("proved", "unreachable") and not o.invariants:
        return dataclasses.replace(o, reason=o.reason + "; no invariant used")
    return o
