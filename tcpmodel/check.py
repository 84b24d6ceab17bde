"""Run the checks of specs: configurations to engines to `Result` values.

`check_spec` explores each configuration of a spec once, checking all of its (selected)
properties in that one exploration, replays every trace through `tcpmodel.semantics`, and
returns one `Result` per (configuration, property).  It prints nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tcpmodel.engines import native
from tcpmodel.engines.explicit import Bounds, Progress, explore
from tcpmodel.errors import UsageError
from tcpmodel.kernel.compile import Compiled
from tcpmodel.results import Result
from tcpmodel.semantics import replay
from tcpmodel.spec import Configuration, Spec

ENGINES = ("auto", "explicit", "native")


def resolve(engine: str) -> str:
    """The engine ``auto`` stands for: ``native`` (the same exploration compiled to C, about
    ten times faster) when the C compiler it needs is installed, else ``explicit``.  Both
    return the same verdicts, state counts and shortest traces (tests/test_native.py)."""
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
        run = native.explore if engine == "native" else explore
        outcomes, stats = run(
            cfg.system, [c.prop for c in checks], options.bounds, on_progress, compiled
        )
        for c in checks:
            o = outcomes[c.prop.name]
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
                    engine=engine,
                    stats=stats,
                    trace=o.trace,
                    reason=o.reason,
                )
            )
    return results
