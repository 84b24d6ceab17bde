"""Counterexample diagrams: a `Trace` of the ``connection`` model as pictures and text.

* `flow`: segment identities and per-step events, recovered by comparing consecutive states;
* `ladder`: the ladder (sequence) diagram as DOT text, pure and deterministic;
* `text`: a plain-text step table; `itf`: the ITF JSON of Apalache and Quint, and back;
* `graphviz`: the one module that runs the ``dot`` program (DOT to SVG or PNG).

`caption` gives the lines that name what a diagram shows.
"""

from __future__ import annotations

from tcpmodel.results import Result


def caption(r: Result) -> list[str]:
    """Spec (and variant), property and formula, verdict, and the rule of the last step."""
    where = r.spec if r.variant is None else f"{r.spec} (variant {r.variant})"
    lines = [f"{where}: {r.prop} = {r.formula}", f"verdict: {r.verdict} (expected {r.expect})"]
    if r.trace is not None and r.trace.steps:
        last = r.trace.steps[-1]
        if r.trace.loop is not None:
            what = "last step of the lasso (the whole run violates it)"
        else:
            what = "violating step" if r.verdict == "violated" else "last step"
        lines.append(
            f"{what} {len(r.trace) - 1}: {last.action or 'initial state'}"
            + (f" [{last.rule}]" if last.rule else "")
        )
    return lines
