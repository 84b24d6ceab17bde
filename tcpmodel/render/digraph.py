"""DOT graphs built with the `graphviz` package's `Digraph`: how every renderer (ladder,
listener ladder, chain, state diagram, capture ladder) turns nodes, edges and attributes into
DOT text.

The package quotes identifiers and values and writes the statements; what it cannot know is
which strings are text.  It takes any value of the form ``<...>`` for an HTML-like label, so
an RFC-style label such as ``<SEQ=100><CTL=SYN>`` would be drawn as markup, or rejected by
``dot``.  Here every string value is text (`text`: backslashes and quotes kept as written,
a line break ending a centred line, or a left-justified one in a label drawn ``left``) unless
it is an `Html` label, whose content the caller has escaped (`html.escape`).

`new` starts a graph with the common fonts and the caption under it; `row` adds one rank of
nodes side by side (``rank=same``, kept in order by invisible edges); `column` joins a column
of nodes from its header down; `source` is the DOT text.  The text depends only on the calls
made, in order: the same picture gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from itertools import pairwise

import graphviz

Attr = str | float | int | bool

FONT = "Helvetica"
# The columns that only order a layout: invisible, and heavy so that they stay straight.
INVISIBLE: Mapping[str, Attr] = {"style": "invis", "weight": 100}


class Html(str):
    """An HTML-like label, ``<...>`` included (see `html`)."""

    __slots__ = ()


def html(body: str) -> Html:
    """The HTML-like label ``<body>``; ``body`` is markup (``<TABLE>``...) whose text the
    caller has escaped."""
    return Html(f"<{body}>")


def text(s: str, left: bool = False) -> str:
    """``s`` as a DOT text value: never taken for HTML (a `graphviz.nohtml` string, which the
    package quotes), backslashes and ``&`` literal (Graphviz reads escapes such as ``\\n`` and
    entities such as ``&amp;`` in every label), each line break the end of a centred line, or
    of a left-justified one with ``left``."""
    escaped = s.replace("\\", "\\\\").replace("&", "&amp;").replace("\n", "\\l" if left else "\\n")
    out: str = graphviz.nohtml(escaped)  # a str subclass: str() would make it plain again
    return out


def attrs(kv: Mapping[str, Attr], left: bool = False) -> list[tuple[str, str]]:
    """``kv`` as DOT values, in order; with ``left`` the label's lines are left-justified."""
    out = []
    for k, v in kv.items():
        if isinstance(v, Html):
            value: str = v
        elif isinstance(v, bool):
            value = "true" if v else "false"
        elif isinstance(v, str):
            value = text(v, left and k == "label")
        else:
            value = str(v)
        out.append((k, value))
    return out


def new(
    name: str,
    caption: Sequence[str],
    graph: Mapping[str, Attr],
    node: Mapping[str, Attr] | None = None,
    edge: Mapping[str, Attr] | None = None,
) -> graphviz.Digraph:
    """A digraph with ``graph``'s attributes, the fonts every picture uses and the
    ``caption`` lines under it, left-justified."""
    label = "".join(line + "\n" for line in caption)
    top: dict[str, Attr] = {
        **graph,
        "fontname": FONT,
        "fontsize": 11,
        "labelloc": "b",
        "labeljust": "l",
        "label": label,
    }
    return graphviz.Digraph(
        name,
        graph_attr=dict(attrs(top, left=True)),
        node_attr=dict(attrs({"fontname": FONT, "fontsize": 10, **(node or {})})),
        edge_attr=dict(attrs({"fontname": FONT, "fontsize": 9, **(edge or {})})),
    )


def add_node(g: graphviz.Digraph, name: str, kv: Mapping[str, Attr], left: bool = False) -> None:
    g.node(name, _attributes=attrs(kv, left))


def add_edge(
    g: graphviz.Digraph,
    tail: str,
    head: str,
    kv: Mapping[str, Attr] | None = None,
    left: bool = False,
) -> None:
    """An edge; ``tail`` and ``head`` may name a port or a side (``v4:w``)."""
    g.edge(tail, head, _attributes=attrs(kv or {}, left))


def row(
    g: graphviz.Digraph,
    nodes: Sequence[tuple[str, Mapping[str, Attr]]],
    left: Collection[str] = (),
    ordered: bool = True,
) -> None:
    """One rank: ``nodes`` side by side (in this order, by invisible edges, when ``ordered``);
    the labels of the nodes named in ``left`` are left-justified."""
    with g.subgraph() as s:
        s.attr(rank="same")
        for name, kv in nodes:
            add_node(s, name, kv, name in left)
    if ordered:
        for a, b in pairwise(name for name, _ in nodes):
            add_edge(g, a, b, {"style": "invis"})


def column(g: graphviz.Digraph, col: str, ranks: int, kv: Mapping[str, Attr]) -> None:
    """Column ``col``'s nodes joined from its header ``h<col>`` down to rank ``ranks - 1``."""
    names = [f"h{col}", *(f"{col}{r}" for r in range(ranks))]
    for a, b in pairwise(names):
        add_edge(g, a, b, kv)


def source(g: graphviz.Digraph) -> str:
    """The DOT text of ``g``."""
    return str(g.source)
