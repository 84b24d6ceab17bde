"""Run the checks of specs: configurations to engines to `Result` values.

`check_spec` explores each configuration of a spec once, checking all of its (selected)
properties in that one exploration, replays every trace through `tcpmodel.semantics`, and
returns one `Result` per (configuration, property).  It prints nothing.

Engines (``ENGINES``), all with the contract of `tcpmodel.engines.explicit.explore`:
``explicit`` and ``native`` search states breadth-first; ``bmc`` unrolls the Z3 transition
relation (`tcpmodel.engines.bmc`); ``kind`` proves by k-induction (`tcpmodel.engines.kind`);
``chc`` asks Z3's Spacer for an inductive invariant (`tcpmodel.engines.chc`).  The symbolic
engines check each configuration's properties in one run too, and replay their traces.

A configuration's ``[[invariant]]`` formulas go to ``kind``, which checks them first and
assumes only those it keeps; the reason of every proof says which it used (`used_invariants`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tcpmodel.engines import native
from tcpmodel.engines.bmc import bmc
from tcpmodel.engines.chc import chc
from tcpmodel.engines.explicit import Bounds, Progress, ProgressFn, explore
from tcpmodel.engines.kind import kind
from tcpmodel.engines.lasso import lasso_bmc
from tcpmodel.engines.liveness import check_ltl
from tcpmodel.errors import UsageError
from tcpmodel.formula import Property
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.system import System
from tcpmodel.results import Outcome, Result, Stats
from tcpmodel.semantics import replay
from tcpmodel.spec import Configuration, Spec

ENGINES = ("auto", "explicit", "native", "bmc", "kind", "chc")

Engine = Callable[
    [System, Sequence[Property], Bounds, ProgressFn | None, Compiled | None],
    tuple[dict[str, Outcome], Stats],
]

RUNS: dict[str, Engine] = {
    "explicit": explore,
    "native": native.explore,
    "bmc": bmc,
    "kind": kind,
    "chc": chc,
}


def auto_proof_bounds(b: Bounds) -> Bounds:
    """Bounds for the proof attempt of ``auto``: the user's, with a 60 s time limit and
    k <= 20 when none is given."""
    return Bounds(b.max_depth or 20, None, b.timeout or 60.0, b.max_memory_mb)


def resolve(engine: str) -> str:
    """The engine ``auto`` stands for: ``native`` (the same exploration compiled to C, about
    ten times faster) when the C compiler it needs is installed, else ``explicit``.  Both
    return the same verdicts, state counts and shortest traces (tests/test_native.py).

    The policy of ``auto``: the explorer whenever it can finish (exact, complete, with state
    counts and shortest traces); when a bound stops it before an ``always`` property with
    ``expect = "holds"`` is settled, k-induction tries to prove it (`auto_proof_bounds`); LTL
    properties go to the explicit liveness checker."""
    if engine != "auto":
        return engine
    return "native" if native.compiler_available() else "explicit"


@dataclass(frozen=True, slots=True)
class Options:
    engine: str = "auto"
    bounds: Bounds = field(default_factory=Bounds)
    only: frozenset[str] | None = None


def selected(cfg: Configuration, only: frozenset[str] | None) -> list[int]:
    return [i for i, c in enumerate(cfg.checks) if only is None or c.prop.name in only]


def check_spec(
    spec: Spec,
    options: Options,
    progress: Callable[[str, Progress], None] | None = None,
) -> list[Result]:
    if options.engine not in ENGINES:
        raise UsageError(f"unknown engine {options.engine!r}; expected one of {', '.join(ENGINES)}")
    engine = resolve(options.engine)
    results: list[Result] = []
    for cfg in spec.configurations:
        idx = selected(cfg, options.only)
        if not idx:
            continue
        label = spec.name if cfg.variant is None else f"{spec.name}/{cfg.variant}"
        compiled = Compiled(cfg.system)
        on_progress = None if progress is None else (lambda p, lab=label: progress(lab, p))
        checks = [cfg.checks[i] for i in idx]
        # LTL properties go to the explicit liveness checker (under the configuration's
        # fairness); always/reachable ones to the chosen engine, all in one run each.
        safety = [c.prop for c in checks if c.prop.kind != "ltl"]
        live = [c.prop for c in checks if c.prop.kind == "ltl"]
        outcomes: dict[str, Outcome] = {}
        stats_of: dict[str, tuple[Stats, str]] = {}
        if safety:
            if engine == "kind" and cfg.invariants:
                got, stats = kind(
                    cfg.system, safety, options.bounds, on_progress, compiled, cfg.invariants
                )
                got = {n: _say_invariants(o) for n, o in got.items()}
            else:
                got, stats = RUNS[engine](cfg.system, safety, options.bounds, on_progress, compiled)
            outcomes.update(got)
            stats_of.update({p.name: (stats, engine) for p in safety})
            if options.engine == "auto":
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
                    tried, kstats = kind(
                        cfg.system,
                        open_,
                        auto_proof_bounds(options.bounds),
                        invariants=cfg.invariants,
                    )
                    if cfg.invariants:
                        tried = {n: _say_invariants(o) for n, o in tried.items()}
                    for name, o in tried.items():
                        if o.verdict in ("proved", "holds", "violated"):
                            outcomes[name] = o
                            stats_of[name] = (kstats, "kind")
        if live:
            # --engine bmc: lasso-shaped BMC (finds violations only); otherwise explicit.
            check_live = lasso_bmc if engine == "bmc" else check_ltl
            got, stats = check_live(
                cfg.system, live, options.bounds, on_progress, compiled, cfg.fairness
            )
            outcomes.update(got)
            used = "bmc" if engine == "bmc" else "explicit"
            stats_of.update({p.name: (stats, used) for p in live})
        for c in checks:
            o = outcomes[c.prop.name]
            stats, used = stats_of[c.prop.name]
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
                )
            )
    return results


def used_invariants(reason: str, invariants: Sequence[Property]) -> list[Property]:
    """The invariants kind assumed for an outcome with ``reason``: those it did not drop (it
    names each dropped one as ``invariant '<formula>' not used``)."""
    return [i for i in invariants if f"invariant {i.formula!r} not used" not in reason]


def _say_invariants(o: Outcome) -> Outcome:
    """kind names in a proof's reason the invariants it used (``strengthened by ...``) and
    each one it dropped; a proof that used none says so too."""
    if o.verdict in ("proved", "unreachable") and "strengthened by" not in o.reason:
        return dataclasses.replace(o, reason=o.reason + "; no invariant used")
    return o
