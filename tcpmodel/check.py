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
stands for and the prover it falls back on are the registry's entries, not names here.

``exists_forall(S, K, p)`` properties (`tcpmodel.formula`) are games: one strategy value for
every secret value.  The strategy and secret variables never change, so the reachable states
split by the initial state's strategy: `check_exists_forall` explores the states of each
strategy once (the system restricted to that strategy's initial states), with one
``reachable(p and K == k)`` per secret value ``k``, and answers ``reachable`` only when one
strategy reaches ``p`` under every secret, with a shortest witness for that strategy; a
strategy that wins for some secrets only is a lucky guess, and the verdict is ``unreachable``,
its reason naming the best strategy and how many secrets it wins.  Only the explorers
(``explicit``, ``native``) decide it; the symbolic engines answer ``unknown`` and say so.

One configuration's failure is not the run's: each engine run is guarded (`_guarded`).  A Z3
exception or a `MemoryError` gives its properties ``unknown`` with the reason; a `NativeError`
(the native engine cannot compile or hold this system) hands the run to the Python explorer
with the bounds left, each reason saying so.  A `ReplayError` (a trace the semantics rejects)
and the model's own errors propagate.  An interrupt (``Bounds.interrupt``) stops the engine
running as a bound does, and every run not yet started is ``unknown``, `NOT_STARTED`.

A configuration's ``[[invariant]]`` formulas go to ``kind``, which checks them first and
assumes only those it keeps; the reason of every proof says which it used (`used_invariants`).
"""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import z3

from tcpmodel.engines import registry
from tcpmodel.engines.explicit import Bounds, Progress, ProgressFn, interrupted
from tcpmodel.engines.registry import AUTO, Outcomes, info, resolve
from tcpmodel.errors import NativeError
from tcpmodel.formula import Property
from tcpmodel.kernel import expr as E
from tcpmodel.kernel.cgen import MAX_PREDICATES
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.system import System, Value, Variable
from tcpmodel.kernel.types import EnumType, show
from tcpmodel.results import Outcome, Result, Stats, Trace
from tcpmodel.semantics import replay
from tcpmodel.spec import Check, Configuration, Spec


def auto_proof_bounds(b: Bounds) -> Bounds:
    """Bounds for the proof attempt of ``auto``: the user's, with a 60 s time limit and
    k <= 20 when none is given."""
    return Bounds(b.max_depth or 20, None, b.timeout or 60.0, b.max_memory_mb, b.interrupt)


@dataclass(frozen=True, slots=True)
class Options:
    engine: str = AUTO
    bounds: Bounds = field(default_factory=Bounds)
    only: frozenset[str] | None = None


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
    )


NOT_STARTED = "interrupted before it started"


def check_spec(
    spec: Spec,
    options: Options,
    progress: Callable[[str, Progress], None] | None = None,
) -> list[Result]:
    engine = resolve(options.engine)
    info(engine)  # an unknown name is a UsageError
    options = dataclasses.replace(options, bounds=with_spec_bounds(options.bounds, spec.bounds))
    results: list[Result] = []
    for cfg in spec.configurations:
        idx = selected(cfg, options.only)
        if not idx:
            continue
        label = spec.name if cfg.variant is None else f"{spec.name}/{cfg.variant}"
        on_progress = None if progress is None else (lambda p, lab=label: progress(lab, p))
        checks = [cfg.checks[i] for i in idx]
        compiled: Compiled | None = None
        if interrupted(options.bounds):  # not even compiled: the user is waiting
            outcomes = {c.prop.name: Outcome("unknown", reason=NOT_STARTED) for c in checks}
            stats_of = {c.prop.name: (Stats(), engine) for c in checks}
        else:
            compiled = Compiled(cfg.system)
            outcomes, stats_of = _check_configuration(
                cfg, compiled, checks, engine, options, on_progress
            )
        for c in checks:
            stats, used = stats_of[c.prop.name]
            o = _shown(outcomes[c.prop.name], used)
            if o.trace is not None:
                replay(cfg.system, o.trace, compiled)
            results.append(
                Result(
                    spec=spec.name,
                    file=spec.file,
                    variant=cfg.variant,
                    prop=c.prop.name,
                    formula=c.prop.formula,
                    expect=c.expect,
                    verdict=o.verdict,
                    engine=used,
                    stats=stats,
                    trace=o.trace,
                    reason=o.reason,
                    invariant=o.invariant,
                    invariants=o.invariants,
                    k=o.k,
                    strategy=o.strategy,
                    game=c.prop.kind == "exists_forall",
                )
            )
    return results


def _shown(o: Outcome, engine: str) -> Outcome:
    """``o`` as it may be shown: a counterexample or witness comes with its trace, which is
    replayed before it is shown; without one the verdict is ``unknown``, saying why."""
    if o.verdict in ("violated", "reachable") and o.trace is None:
        said = f": {o.reason}" if o.reason else ""
        return Outcome(
            "unknown", reason=f"the {engine} engine said {o.verdict} with no trace to replay{said}"
        )
    return o


def _check_configuration(
    cfg: Configuration,
    compiled: Compiled,
    checks: Sequence[Check],
    engine: str,
    options: Options,
    on_progress: ProgressFn | None,
) -> tuple[dict[str, Outcome], dict[str, tuple[Stats, str]]]:
    """The outcome of each of ``checks`` on ``cfg``, with the statistics and the name of the
    engine that gave it.  Each engine run is `_guarded`: its failure, or an interrupt before
    it starts, gives its properties ``unknown`` with the reason."""
    bounds = options.bounds
    # LTL properties go to the explicit liveness checker (under the configuration's
    # fairness); always/reachable ones to the chosen engine, all in one run each.
    safety = [c.prop for c in checks if c.prop.kind in ("always", "reachable")]
    live = [c.prop for c in checks if c.prop.kind == "ltl"]
    games = [c.prop for c in checks if c.prop.kind == "exists_forall"]
    outcomes: dict[str, Outcome] = {}
    stats_of: dict[str, tuple[Stats, str]] = {}
    if safety:

        def run_safety(name: str, b: Bounds) -> Outcomes:
            e = info(name)
            if e.with_invariants is not None and cfg.invariants:
                got, stats = e.with_invariants(
                    cfg.system, safety, b, on_progress, compiled, cfg.invariants
                )
                return {n: _say_invariants(o) for n, o in got.items()}, stats
            return e.run(cfg.system, safety, b, on_progress, compiled)

        got, stats, used = _guarded(engine, run_safety, safety, bounds)
        outcomes.update(got)
        stats_of.update({p.name: (stats, used) for p in safety})
        if options.engine == AUTO and not interrupted(bounds):
            # The explorer could not settle a `holds` expectation (a bound stopped it):
            # try to prove it by k-induction, within the same time limit.
            open_ = [
                c.prop
                for c in checks
                if c.prop.kind == "always"
                and c.expect == "holds"
                and got[c.prop.name].verdict == "unknown"
            ]
            if open_:
                prover = registry.auto_prover()

                def run_prover(name: str, b: Bounds) -> Outcomes:
                    e = info(name)
                    pb = auto_proof_bounds(b)
                    if e.with_invariants is None:
                        return e.run(cfg.system, open_, pb, on_progress, None)
                    tried, kstats = e.with_invariants(
                        cfg.system, open_, pb, on_progress, None, cfg.invariants
                    )
                    if cfg.invariants:
                        tried = {n: _say_invariants(o) for n, o in tried.items()}
                    return tried, kstats

                tried, kstats, _ = _guarded(prover.name, run_prover, open_, bounds)
                for name, o in tried.items():
                    if o.verdict in ("proved", "holds", "violated"):
                        outcomes[name] = o
                        stats_of[name] = (kstats, prover.name)
    if live:
        # The engine's own LTL checker (bmc: lasso-shaped BMC, which finds violations only),
        # else the explicit liveness checker.
        live_engine = registry.liveness_engine(engine).name

        def run_live(name: str, b: Bounds) -> Outcomes:
            check_live = registry.liveness_engine(name).liveness
            assert check_live is not None
            return check_live(cfg.system, live, b, on_progress, compiled, cfg.fairness)

        got, stats, used = _guarded(live_engine, run_live, live, bounds)
        outcomes.update(got)
        stats_of.update({p.name: (stats, used) for p in live})
    for game in games:

        def run_game(name: str, b: Bounds, game: Property = game) -> Outcomes:
            o, st = check_exists_forall(cfg.system, game, name, b, on_progress, compiled)
            return {game.name: o}, st

        got, gstats, used = _guarded(engine, run_game, [game], bounds)
        outcomes.update(got)
        stats_of[game.name] = (gstats, used)
    return outcomes, stats_of


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
        left = _remaining(bounds, 0, time.monotonic() - start)
        if left is None:
            return unknown(f"{failed}; no time left for the Python explorer")
        fallback = _guarded("explicit", run, props, left)
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


def check_exists_forall(
    system: System,
    prop: Property,
    engine: str,
    bounds: Bounds | None = None,
    progress: ProgressFn | None = None,
    compiled: Compiled | None = None,
) -> tuple[Outcome, Stats]:
    """Decide ``exists_forall(S, K, p)`` (see the module docstring) with the explorer
    ``engine``; ``bounds`` apply to all the strategies' explorations together."""
    shape = f"exists_forall over {', '.join(prop.strategy)} and {', '.join(prop.secret)}"
    if not info(engine).games:
        which = registry.one_of([*registry.explorers(), AUTO])
        return Outcome(
            "unknown",
            reason=f"{shape} is decided by the explorers only (--engine {which}); "
            f"--engine {engine} does not support it",
        ), Stats()
    bounds = bounds or Bounds()
    strat_vars = [system.var(n) for n in prop.strategy]
    secret_vars = [system.var(n) for n in prop.secret]

    def project(state: Sequence[Value], vs: Sequence[Variable]) -> tuple[Value, ...]:
        return tuple(state[system.index[v.name]] for v in vs)

    strategies = sorted(dict.fromkeys(project(s, strat_vars) for s in system.init))
    secrets = sorted(dict.fromkeys(project(s, secret_vars) for s in system.init))
    base = (compiled or Compiled(system)) if engine == "explicit" else None
    start = time.monotonic()
    totals = Stats(complete=True)
    # per strategy: the secrets it wins, with a shortest witness each
    wins: dict[tuple[Value, ...], dict[tuple[Value, ...], Trace]] = {s: {} for s in strategies}
    stop = ""  # why some (strategy, secret) pair is undecided
    # One predicate per (strategy, secret) pair, at most MAX_PREDICATES per exploration (the
    # native engine's limit): strategies in groups, each group's states explored once (more
    # than MAX_PREDICATES secrets: once per slice of them).
    size = max(1, MAX_PREDICATES // len(secrets))
    for g in range(0, len(strategies), size):
        group = strategies[g : g + size]
        init = tuple(s for s in system.init if project(s, strat_vars) in group)
        restricted = dataclasses.replace(system, init=init)
        sub_compiled: Compiled | None = None
        if base is not None:
            sub_compiled = copy.copy(base)  # the same generated code, other initial states
            sub_compiled.system = restricted
        for lo in range(0, len(secrets), MAX_PREDICATES):
            pairs = [(strat, sec) for strat in group for sec in secrets[lo : lo + MAX_PREDICATES]]
            subs = [
                Property(
                    f"{prop.name}#{k}",
                    "reachable",
                    E.and_(
                        prop.predicate,
                        *(_is(v, x) for v, x in zip(strat_vars, strat, strict=True)),
                        *(_is(v, x) for v, x in zip(secret_vars, sec, strict=True)),
                    ),
                    prop.formula,
                )
                for k, (strat, sec) in enumerate(pairs)
            ]
            left = _remaining(bounds, totals.states, time.monotonic() - start)
            if interrupted(bounds):
                stop = stop or NOT_STARTED
                totals = dataclasses.replace(totals, complete=False)
                break
            if left is None:
                stop = stop or "a bound was reached before every strategy was explored"
                totals = dataclasses.replace(totals, complete=False)
                break
            got, st = info(engine).run(restricted, subs, left, progress, sub_compiled)
            totals = Stats(
                states=totals.states + st.states,
                transitions=totals.transitions + st.transitions,
                depth=max(totals.depth, st.depth),
                seconds=time.monotonic() - start,
                peak_memory_mb=max(totals.peak_memory_mb, st.peak_memory_mb),
                complete=totals.complete and st.complete,
            )
            for sub, (strat, sec) in zip(subs, pairs, strict=True):
                o = got[sub.name]
                if o.verdict == "reachable" and o.trace is not None:
                    wins[strat][sec] = o.trace
                elif o.verdict == "unknown":
                    stop = stop or o.reason
    return _game_verdict(strat_vars, secret_vars, strategies, secrets, wins, stop), totals


def _is(v: Variable, value: Value) -> E.Expr:
    """``v == value`` for a value as the state holds it (an enum by its code)."""
    if isinstance(v.vtype, EnumType):
        return E.eq(v.ref, E.enum_const(v.vtype, v.vtype.values[int(value)]))
    return v.ref.eq(value)


def _remaining(bounds: Bounds, states: int, seconds: float) -> Bounds | None:
    """The bounds left for the next exploration, or ``None`` if a state or time bound is
    already used up."""
    max_states = None if bounds.max_states is None else bounds.max_states - states
    timeout = None if bounds.timeout is None else bounds.timeout - seconds
    if (max_states is not None and max_states <= 0) or (timeout is not None and timeout <= 0):
        return None
    return Bounds(bounds.max_depth, max_states, timeout, bounds.max_memory_mb, bounds.interrupt)


def _game_verdict(
    strat_vars: Sequence[Variable],
    secret_vars: Sequence[Variable],
    strategies: Sequence[tuple[Value, ...]],
    secrets: Sequence[tuple[Value, ...]],
    wins: dict[tuple[Value, ...], dict[tuple[Value, ...], Trace]],
    stop: str,
) -> Outcome:
    """The verdict of an ``exists_forall`` property from what each strategy won."""

    def fmt(vs: Sequence[Variable], vals: tuple[Value, ...]) -> str:
        return ", ".join(f"{v.name}={show(v.vtype, x)}" for v, x in zip(vs, vals, strict=True))

    secret_names = ", ".join(v.name for v in secret_vars)
    n, m = len(secrets), len(strategies)
    winners = [s for s in strategies if len(wins[s]) == n]
    if winners:
        # the winner with the shortest witness, and that witness (the first secret of its length)
        best, trace, sec = min(
            ((s, t, k) for s in winners for k, t in wins[s].items()),
            key=lambda x: len(x[1]),
        )
        return Outcome(
            "reachable",
            trace,
            strategy={v.name: show(v.vtype, x) for v, x in zip(strat_vars, best, strict=True)},
            reason=f"the strategy {fmt(strat_vars, best)} succeeds for all {n} values of "
            f"{secret_names} ({len(winners)} of the {m} strategies win); the trace shows "
            f"{fmt(secret_vars, sec)}",
        )
    top = max(strategies, key=lambda s: len(wins[s]), default=None)
    best_text = (
        f"the best, {fmt(strat_vars, top)}, succeeds for {len(wins[top])} of the {n} values of "
        f"{secret_names}"
        if top is not None
        else "no strategy was explored"
    )
    if stop:
        return Outcome(
            "unknown",
            reason=f"{stop}; no strategy yet succeeds for every secret ({best_text} so far)",
        )
    lucky = " (a lucky guess, not an attack)" if top is not None and wins[top] else ""
    return Outcome(
        "unreachable",
        reason=f"no strategy succeeds for every secret: {best_text}{lucky}; "
        f"{m} strategies explored",
    )


def _say_invariants(o: Outcome) -> Outcome:
    """kind names in a proof's reason the invariants it used (``strengthened by ...``) and
    each one it dropped; a proof that used none says so too."""
    if o.verdict in ("proved", "unreachable") and not o.invariants:
        return dataclasses.replace(o, reason=o.reason + "; no invariant used")
    return o
