"""A trace of any model as a chain of states, as Graphviz DOT text.

The ladder diagram (`tcpmodel.render.ladder`) needs the ``connection`` model's channels and
endpoints; this is the diagram for every other model (alternating-bit, mutex).  One box per
state, top to bottom: the step number and the action label, the rule in brackets, then one
``name = value`` line per variable that changed from the previous state (every variable for
the initial state).  Edges join the states in order; the last step (the violating state of a
counterexample, the goal of a witness) and the edge into it are highlighted; a lasso's cycle
is a dashed edge marked ``loop`` from the last state back to ``trace.loop``.  The caption
lines go under the graph.

Pure and byte-for-byte deterministic: the text depends on the trace and the caption only.
`tcpmodel.render.drawing` says which diagram a trace gets.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

from tcpmodel.render import digraph
from tcpmodel.render.digraph import FONT, Attr, add_edge, add_node
from tcpmodel.render.ladder import COLOUR
from tcpmodel.results import Shown, Trace

RULE_WIDTH = 60  # characters per line of a rule: long RFC rules wrap


def is_connection(trace: Trace) -> bool:
    """The trace is drawn as the ``connection`` model's ladder (`tcpmodel.render.drawing`)."""
    from tcpmodel.render import drawing

    return drawing.of(trace) is drawing.CONNECTION


def chain(trace: Trace, caption: Sequence[str] = ()) -> str:
    """The DOT text of ``trace`` as a chain of states; ``caption`` lines go under it."""
    last = len(trace.steps) - 1
    graph: dict[str, Attr] = {"rankdir": "TB", "nodesep": 0.3, "ranksep": 0.25}
    g = digraph.new("chain", caption, graph, node={"shape": "box"})
    prev: Mapping[str, Shown] = {}
    for k, step in enumerate(trace.steps):
        head = f"{k}  {step.action or 'initial state'}"
        lines = [head]
        if step.rule:
            lines += textwrap.wrap(f"[{step.rule}]", RULE_WIDTH, subsequent_indent="  ")
        changed = [
            f"{name} = {_show(v)}"
            for name, v in step.state.items()
            if k == 0 or name not in prev or prev[name] != v
        ]
        lines += changed or ["(no change)"]
        node: dict[str, Attr] = {
            "label": "".join(line + "\n" for line in lines),
            "id": f"step{k}",  # kept by the SVG: the explorer page highlights the step by it
            "style": "rounded",
        }
        if k == last:
            node |= {
                "color": COLOUR["last"],
                "fontcolor": COLOUR["last"],
                "fontname": FONT + "-Bold",
                "penwidth": 2,
            }
        add_node(g, f"s{k}", node, left=True)
        prev = step.state
    for k in range(1, last + 1):
        edge: dict[str, Attr] = {}
        if k == last:
            edge = {"color": COLOUR["last"], "penwidth": 2}
        add_edge(g, f"s{k - 1}", f"s{k}", edge)
    if trace.loop is not None and trace.steps:
        back: dict[str, Attr] = {
            "label": "loop",
            "style": "dashed",
            "color": COLOUR["timer"],
            "fontcolor": COLOUR["timer"],
            "constraint": False,
        }
        add_edge(g, f"s{last}", f"s{trace.loop}", back)
    return digraph.source(g)


def _show(v: Shown) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)
