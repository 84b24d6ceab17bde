"""Counterexample diagrams: a `Trace` of the ``connection`` model as pictures and text.

* `flow`: segment identities and per-step events, recovered by comparing consecutive states;
* `ladder`: the ladder (sequence) diagram as DOT text, pure and deterministic;
* `listen`: a ``listener`` trace (SYN flood) as a ladder of client, server and attacker with
  the server's request and accept queues drawn step by step; `chain`: any other model's;
* `text`: a plain-text step table; `itf`: the ITF JSON of Apalache and Quint, and back;
* `drawing`: which of them draws a trace, chosen by the trace's model (one entry per model);
* `digraph`: how they all build DOT (a `graphviz.Digraph`; labels as text, or HTML-like);
* `graphviz`: the one module that runs the ``dot`` program (DOT to SVG or PNG).

`caption` gives the lines that name what a diagram shows; `diagram` picks a trace's picture.
For notebooks: `source` wraps DOT text in a `graphviz.Source` (shown inline by Jupyter),
`svg` draws it for ``_repr_svg_``, and `result_html` shows a result with its diagram.
"""

from __future__ import annotations

import html as html_text
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tcpmodel.results import Result, Trace

if TYPE_CHECKING:
    import graphviz as graphviz_package


def diagram(trace: Trace, lines: Sequence[str] = ()) -> str:
    """The DOT text of ``trace``'s picture, as its model draws it (`drawing`): a ladder for
    the ``connection`` model, the queue ladder for the ``listener`` model, a chain of states
    for any other."""
    from tcpmodel.render import drawing

    return drawing.of(trace).diagram(trace, lines)


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


def source(dot: str) -> graphviz_package.Source:
    """``dot`` as a `graphviz.Source` (the Python package; Jupyter draws it inline)."""
    import graphviz as graphviz_package

    return graphviz_package.Source(dot)


def svg(dot: str) -> str:
    """``dot`` drawn as SVG text by `tcpmodel.render.graphviz` (needs the ``dot`` program)."""
    from tcpmodel.render import graphviz

    return graphviz.render(dot, "svg").decode()


def result_html(r: Result) -> str:
    """A result as HTML: spec, property, formula, verdict against the expectation, the reason,
    and the diagram of its trace (inline SVG) when it has one."""
    mark = "met" if r.met else ("unknown" if r.verdict == "unknown" else "NOT met")
    where = r.spec if r.variant is None else f"{r.spec} ({r.variant})"
    parts = [
        f"<p><b>{html_text.escape(where)}</b>: {html_text.escape(r.prop)} = "
        f"<code>{html_text.escape(r.formula)}</code><br>"
        f"verdict <b>{html_text.escape(r.verdict)}</b> "
        f"(expected {html_text.escape(r.expect)}: {mark}), {r.stats.states:,} states, "
        f"{r.stats.seconds:.2f} s</p>"
    ]
    if r.reason:
        parts.append(f"<p>{html_text.escape(r.reason)}</p>")
    if r.trace is not None:
        from tcpmodel.render.html import inline_svg, stem

        parts.append(inline_svg(svg(diagram(r.trace, caption(r))), stem(r) + "-"))
    return "\n".join(parts)
