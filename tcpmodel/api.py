"""The Python API: the same checks as the command line, as values that notebooks display.

* `load(path)`: a spec file as a `Spec` (every configuration built, every error raised now);
* `check(path_or_spec, ...)`: the `Result` values ``tcpmodel check`` prints, as `Results`, a
  tuple that Jupyter shows as a verdict table;
* `Result.diagram()` and `Trace.ladder()` (in `tcpmodel.results`): the trace's diagram as a
  `graphviz.Source`; a `Result` and a `Trace` also display themselves inline;
* `state_diagram(...)`: the ``connection`` model's state diagram, generated from its actions,
  optionally with a trace's path, as a `graphviz.Source`;
* `diff(a, b)`: two designs compared (`tcpmodel.diff`).

The state graph as a `networkx.MultiDiGraph` is in `tcpmodel.graph`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tcpmodel import report
from tcpmodel.check import Options
from tcpmodel.check import check_spec as _check_spec
from tcpmodel.diff import Diff, parse_design
from tcpmodel.diff import diff as _diff
from tcpmodel.engines.search import Bounds
from tcpmodel.errors import UsageError
from tcpmodel.results import Result, Trace
from tcpmodel.spec import Spec, configuration
from tcpmodel.spec import load as _load

if TYPE_CHECKING:
    import graphviz

ALL = "*"  # `check(..., variant=ALL)`: every configuration of the spec


class Results(tuple[Result, ...]):
    """The results of `check`, in order; shown by Jupyter as a verdict table."""

    __slots__ = ()

    @property
    def exit_code(self) -> int:
        """The exit code ``tcpmodel check`` would give (0 met, 1 missed, 3 unknown)."""
        return report.exit_code(self)

    def get(self, prop: str, variant: str | None = None) -> Result:
        """The result of property ``prop`` in ``variant`` (None: the base configuration)."""
        for r in self:
            if r.prop == prop and r.variant == variant:
                return r
        known = ", ".join(r.case_name for r in self)
        where = f" in variant {variant}" if variant else ""
        raise KeyError(f"no result for {prop}{where}; known: {known}")

    def _repr_html_(self) -> str:
        from tcpmodel.render.html import verdict_table

        s = report.summary(self)
        foot = f"{s['results']} results: {s['met']} met, {s['unmet']} unmet, {s['unknown']} unknown"
        return f"{verdict_table(self)}\n<p>{foot}</p>"


def load(path: str | Path) -> Spec:
    """The spec file at ``path`` (a `SpecError` names the file, key and fix when it is bad)."""
    return _load(Path(path))


def check(
    spec: str | Path | Spec,
    *,
    variant: str | None = ALL,
    properties: Sequence[str] | None = None,
    engine: str = "auto",
    max_states: int | None = None,
    max_depth: int | None = None,
    timeout: float | None = None,
    max_memory_mb: float | None = None,
    por: bool = True,
    compact: bool = False,
) -> Results:
    """Check ``spec`` (a path or a loaded `Spec`) as ``tcpmodel check`` does.

    ``variant``: every configuration (`ALL`, the default), the base (None) or one variant by
    name; ``properties``: only these (default all); the bounds as the command line's options
    (the spec's ``[bounds]`` apply where none is given); ``por``: partial-order reduction in
    the explicit explorer, as ``--por/--no-por``; ``compact``: hash compaction, as
    ``--compact`` (a `UsageError` with an engine that has none)."""
    s = spec if isinstance(spec, Spec) else load(spec)
    if variant != ALL:
        s = dataclasses.replace(s, configurations=(configuration(s, variant),))
    only = frozenset(properties) if properties is not None else None
    if only is not None:
        known = {c.prop.name for cfg in s.configurations for c in cfg.checks}
        missing = sorted(only - known)
        if missing:
            raise UsageError(
                f"{s.file}: no property {missing[0]!r}; known: {', '.join(sorted(known))}"
            )
    bounds = Bounds(max_depth, max_states, timeout, max_memory_mb, por=por)
    return Results(_check_spec(s, Options(engine, bounds, only, compact)))


def state_diagram(
    spec: str | Path | Spec | None = None,
    *,
    variant: str | None = None,
    trace: Trace | None = None,
    max_states: int = 2_000_000,
) -> graphviz.Source:
    """The ``connection`` model's state diagram generated from its actions (as ``tcpmodel
    diagram``): without ``spec``, small configurations that take every row of RFC 9293's state
    table; with ``spec``, that configuration's (up to ``max_states``); ``trace``'s path drawn
    over it, numbered."""
    from tcpmodel import render
    from tcpmodel.render import states

    caption: list[str] = []
    if spec is None:
        found = states.coverage_transitions()
        caption.append(f"connection model: {found.states:,} states explored")
    else:
        s = spec if isinstance(spec, Spec) else load(spec)
        cfg = configuration(s, variant)
        found = states.explore_transitions(cfg.system, max_states)
        seen = f"{found.states:,} states explored" + ("" if found.complete else " (cut short)")
        caption.append(f"{s.name}{f' ({variant})' if variant else ''}: {seen}")
    path = states.trace_transitions(trace) if trace is not None else []
    return render.source(states.diagram(found.transitions, caption, path))


def diff(a: str, b: str, **bounds: float | int | None) -> Diff:
    """Two designs (``SPEC`` or ``SPEC:VARIANT``) compared; ``bounds``: ``max_states``,
    ``max_depth``, ``timeout``, ``max_memory_mb``."""
    unknown = sorted(set(bounds) - {"max_states", "max_depth", "timeout", "max_memory_mb"})
    if unknown:
        raise UsageError(f"diff: unknown bound {unknown[0]!r}")
    return _diff(
        parse_design(a),
        parse_design(b),
        bounds=Bounds(
            _int(bounds.get("max_depth")),
            _int(bounds.get("max_states")),
            bounds.get("timeout"),
            bounds.get("max_memory_mb"),
        ),
    )


def _int(x: float | int | None) -> int | None:
    return None if x is None else int(x)
