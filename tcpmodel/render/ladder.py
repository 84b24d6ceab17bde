"""A ladder (sequence) diagram of a ``connection`` trace, as Graphviz DOT text.

Layout, for ``dot``: trace step ``k`` is rank ``2k`` (and a last step row ``end`` follows when
segments are still in flight); the odd ranks between steps hold segment labels.  Each rank is
a ``rank=same`` group of six nodes kept in this order by invisible flat edges: the step
(``s<r>``), a's notes (``an<r>``), a's lifeline point (``a<r>``), the middle of the network
(``m<r>``), b's lifeline point (``b<r>``), b's notes (``bn<r>``).  Heavy vertical edges join
each column from rank to rank (the lifelines are the visible ones).  A segment is an edge with
``constraint=false`` from its send row on the sender's side to its delivery row on the
receiver's side, drawn straight (``splines=false``): the rows fix the layout, the segments
never move it.

A segment from step ``s`` to step ``e`` crosses the middle column exactly at rank ``s + e``,
so its label is that rank's middle node, filled white and drawn over the edges
(``outputorder=edgesfirst``): the label sits on its own arrow.  When two segments cross the
middle at the same rank, or the middle node is taken, the label is an ``xlabel`` that
Graphviz places near the edge.

Conventions: a lost segment ends at an X in the middle of its loss row; a copy made by the
network is dashed, drawn from the sender's side of its duplication row; a segment of an older
incarnation is orange; a segment still in flight at the end is dotted, without an arrowhead,
towards the receiver's side of the ``end`` row; a tick is a dotted line across both lifelines.
The last step (the violating state of a counterexample, the goal of a witness) is highlighted.
Built with `tcpmodel.render.digraph` (`header` and `lifelines` draw the capture ladder of
``tcpmodel validate`` too).  Pure and deterministic: the text depends on the trace and the
caption only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from graphviz import Digraph

from tcpmodel.render import digraph
from tcpmodel.render.digraph import FONT, INVISIBLE, Attr, add_edge, column, row
from tcpmodel.render.flow import Event, Flow, Segment, flow
from tcpmodel.results import Trace

WIDTH = 4.2  # inches between the lifelines: room for the segment labels
OFFSET = 0.5  # inches a label may sit off its arrow's midpoint, along the middle column
COLOUR = {
    "normal": "black",
    "old": "#d95f02",  # an older incarnation's segment
    "lost": "#7570b3",
    "last": "#e7298a",
    "timer": "#2166ac",
    "loop": "#1b9e77",
    "grey": "#888888",
}
# Rows fix a ladder's layout: straight arrows that never move them, every label placed (an
# xlabel too), the labels of the middle column drawn over the arrows.
LAYOUT: Mapping[str, Attr] = {
    "rankdir": "TB",
    "splines": False,
    "newrank": True,
    "forcelabels": True,
    "outputorder": "edgesfirst",
}
BLANK: Mapping[str, Attr] = {"label": "", "shape": "point", "width": 0.01, "style": "invis"}
BOX: Mapping[str, Attr] = {"shape": "box", "style": "filled", "fillcolor": "#eeeeee"}  # an end
LOOP_HEAD: tuple[str, Mapping[str, Attr]] = (
    "hlp",
    {"label": "loop", "shape": "plaintext", "fontcolor": COLOUR["loop"]},
)
LEGEND = (
    "orange: a segment of an older incarnation; dashed: a copy made by the network; "
    "X: lost; dotted, no arrowhead: still in flight at the end; dotted across: a tick"
)


def ladder(trace: Trace, caption: Sequence[str] = ()) -> str:
    """The DOT text of ``trace``'s ladder diagram; ``caption`` lines go under it."""
    f = flow(trace)
    last = len(trace.steps) - 1
    steps = len(trace.steps) + (1 if any(s.end is None for s in f.segments) else 0)
    ranks = 2 * steps - 1
    marks = _marks(f)
    labels = _placed_labels(f, steps, marks)
    graph: dict[str, Attr] = {**LAYOUT, "nodesep": 0.25, "ranksep": 0.1}
    g = digraph.new("ladder", (*caption, *_lasso_note(trace), LEGEND), graph)
    header(g, lasso=trace.loop is not None)
    for r in range(ranks):
        _rank(g, r, trace, f, last, steps, marks, labels)
    lifelines(g, ("s", "an", "m", "bn"), ("a", "b"), ranks)
    _segments(g, f, last, steps, labels)
    if trace.loop is not None:
        loop_bar(g, trace.loop, last, ranks)
    return digraph.source(g)


def lifelines(g: Digraph, hidden: Sequence[str], lines: Sequence[str], ranks: int) -> None:
    """Each column from its header down: the ``hidden`` ones invisible, the ``lines`` drawn as
    grey lifelines (all heavy, so that they stay straight)."""
    for col in hidden:
        column(g, col, ranks, INVISIBLE)
    line: dict[str, Attr] = {"arrowhead": "none", "weight": 100, "color": COLOUR["grey"]}
    for col in lines:
        column(g, col, ranks, line)


def loop_bar(g: Digraph, loop: int, last: int, ranks: int) -> None:
    """A lasso's cycle: after step ``last`` the run goes back to step ``loop`` and repeats
    forever, drawn as a bar in the loop column (``lp``) from the last step up to the loop's
    start, with an arrowhead there."""
    look: dict[str, Attr] = {"weight": 100, "color": COLOUR["loop"], "penwidth": 2.5}
    bar: dict[str, Attr] = {**look, "arrowhead": "none"}
    up: dict[str, Attr] = {**look, "dir": "back"}
    add_edge(g, "hlp", "lp0", INVISIBLE)
    for r in range(ranks - 1):
        inside = 2 * loop <= r < 2 * last
        kind = (up if r == 2 * loop else bar) if inside else INVISIBLE
        add_edge(g, f"lp{r}", f"lp{r + 1}", kind)


def loop_node(r: int, loop: int, last: int, text: str) -> tuple[str, Mapping[str, Attr]]:
    """Rank ``r``'s node in the loop column: ``text`` beside the last step, a joint of the bar
    inside the cycle, else nothing."""
    if r == 2 * last:
        kv: Mapping[str, Attr] = {
            "label": text,
            "shape": "plaintext",
            "fontcolor": COLOUR["loop"],
            "fontsize": 9,
        }
    elif 2 * loop <= r < 2 * last:
        kv = {"label": "", "shape": "point", "width": 0.01, "color": COLOUR["loop"]}
    else:
        kv = BLANK
    return (f"lp{r}", kv)


def title(label: str, width: float) -> dict[str, Attr]:
    """The head of a column between lifelines: a grey title as wide as the column."""
    return {
        "label": label,
        "shape": "plaintext",
        "fontcolor": COLOUR["grey"],
        "width": width,
        "fixedsize": True,
    }


def _lasso_note(trace: Trace) -> list[str]:
    if trace.loop is None:
        return []
    last = len(trace.steps) - 1
    return [f"lasso: steps {trace.loop + 1}..{last} repeat forever (the bar at the left)"]


def header(
    g: Digraph,
    step: str = "step",
    a: str = "a (client)",
    b: str = "b (server)",
    lasso: bool = False,
) -> None:
    """The heads of the columns: the step column's title, both ends' boxes, the network."""
    loop = [LOOP_HEAD] if lasso else []
    row(
        g,
        [
            *loop,
            ("hs", {"label": step, "shape": "plaintext"}),
            ("han", BLANK),
            ("ha", {"label": a, **BOX}),
            ("hm", title("network", WIDTH)),
            ("hb", {"label": b, **BOX}),
            ("hbn", BLANK),
        ],
    )


def _marks(f: Flow) -> dict[int, tuple[str, str]]:
    """The middle of step rows where a segment ends in the network: an X."""
    return {
        s.end: ("X", COLOUR["lost"])
        for s in f.segments
        if s.end is not None and s.fate in ("lost", "dropped")
    }


def _placed_labels(f: Flow, steps: int, marks: dict[int, tuple[str, str]]) -> dict[int, int]:
    """Rank -> the segment whose label is that rank's middle node.

    Two segments that cross the middle at the same rank cross each other there; the shorter
    one gets the place (a long arrow's ``xlabel`` is easier to follow), then the older one.
    """
    out: dict[int, int] = {}
    placed = [s for s in f.segments if s.fate in ("delivered", "in flight")]
    for s in sorted(placed, key=lambda s: (_arrival(s, steps) - s.sent, s.id)):
        for r in _label_ranks(s.sent, _arrival(s, steps)):
            if r not in out and not (r % 2 == 0 and r // 2 in marks):
                out[r] = s.id
                break
    return out


def _label_ranks(sent: int, arrival: int) -> list[int]:
    """Ranks where a label in the middle column still sits on the arrow from step ``sent`` to
    step ``arrival``, nearest to its midpoint first.

    The arrow spans ``2 * (arrival - sent)`` ranks across ``WIDTH`` inches, so at ``d`` ranks
    from its midpoint it is ``WIDTH * d / (2 * span)`` inches off the middle; a label (about
    two inches wide, filled white) still covers it up to ``OFFSET`` inches away.  A long arrow
    therefore has a few ranks to choose from when another label has its midpoint."""
    mid = sent + arrival
    span = max(arrival - sent, 1)
    reach = int(OFFSET * 2 * span / WIDTH)
    out = [mid]
    for d in range(1, reach + 1):
        out += [r for r in (mid - d, mid + d) if 2 * sent < r < 2 * arrival]
    return out


def _arrival(s: Segment, steps: int) -> int:
    """The step row where ``s``'s arrow ends (the ``end`` row for a segment in flight)."""
    return steps - 1 if s.end is None else s.end


def _rank(
    g: Digraph,
    r: int,
    trace: Trace,
    f: Flow,
    last: int,
    steps: int,
    marks: dict[int, tuple[str, str]],
    labels: dict[int, int],
) -> None:
    k, odd = divmod(r, 2)
    on_step = not odd  # a step's rank, else one between steps
    hot = on_step and k == last
    end_row = on_step and k == len(trace.steps)
    colour = COLOUR["last"] if hot else "black"
    if on_step:
        point: dict[str, Attr] = {
            "label": "",
            "shape": "point",
            "width": 0.08 if hot else 0.03,
            "color": colour,
        }
    else:  # a joint of the lifeline, too small to see
        point = {"label": "", "shape": "point", "width": 0.01, "color": COLOUR["grey"]}
    mid: dict[str, Attr] = {"label": "", "shape": "plaintext", "width": WIDTH, "fixedsize": True}
    step = dict(BLANK)
    notes_a, notes_b = dict(BLANK), dict(BLANK)
    if end_row:
        step = {"label": "end", "shape": "plaintext", "fontcolor": COLOUR["grey"]}
        mid |= {"label": "(in flight)", "fontcolor": COLOUR["grey"], "fontsize": 9}
    elif on_step:
        events = f.at(k)
        tick = any(e.kind == "tick" for e in events)
        step = {
            "label": f"{k}  {trace.steps[k].action or 'initial state'}",
            "id": f"step{k}",  # kept by the SVG: the explorer page highlights the step by it
            "shape": "plaintext",
            "fontcolor": colour if hot else (COLOUR["timer"] if tick else "black"),
            "fontname": FONT + "-Bold" if hot else FONT,
        }
        for notes, end in ((notes_a, "a"), (notes_b, "b")):
            text = _notes(events, end)
            if text:
                notes.clear()
                notes |= {"label": text, "shape": "plaintext", "fontcolor": colour}
        if k in marks:
            mark, c = marks[k]
            mid |= {"label": mark, "fontcolor": c, "fontsize": 16 if mark == "X" else 8}
    if r in labels:
        s = f.segments[labels[r] - 1]  # ids count from 1 in order
        c = _colour(s)
        mid = {
            "label": _label(s),
            "shape": "plaintext",
            "style": "filled",
            "fillcolor": "white",
            "fontsize": 9,
            "fontcolor": c,
            "margin": "0.02,0.01",
            "height": 0.1,
        }
    loop: list[tuple[str, Mapping[str, Attr]]] = []
    if trace.loop is not None:
        loop = [loop_node(r, trace.loop, last, f"repeat from\nstep {trace.loop}")]
    row(
        g,
        [
            *loop,
            (f"s{r}", step),
            (f"an{r}", notes_a),
            (f"a{r}", point),
            (f"m{r}", mid),
            (f"b{r}", point),
            (f"bn{r}", notes_b),
        ],
    )
    if on_step and not end_row and any(e.kind == "tick" for e in f.at(k)):
        tick_edge: dict[str, Attr] = {
            "arrowhead": "none",
            "style": "dotted",
            "color": COLOUR["timer"],
            "constraint": False,
        }
        add_edge(g, f"a{r}", f"b{r}", tick_edge)


def _notes(events: Sequence[Event], end: str) -> str:
    """What happens at ``end`` in one step: user calls, timers, then the new state."""
    lines = []
    for e in events:
        if e.end != end:
            continue
        if e.kind == "user":
            lines.append(f"[{e.text}]")
        elif e.kind in ("timer", "loss"):
            lines.append(f"({e.text})")
    lines += [e.text for e in events if e.end == end and e.kind == "state"]
    return "\n".join(lines)


def _colour(s: Segment) -> str:
    if s.old:
        return COLOUR["old"]
    return COLOUR["lost"] if s.fate in ("lost", "dropped") else COLOUR["normal"]


def _label(s: Segment) -> str:
    label = f"#{s.id} {s.label()}"
    if s.old:
        label += f"\n(incarnation {s.inc}, old)"
    if s.duplicate:
        label += f"\n(copy of #{s.duplicate_of})"
    return label


def _segments(g: Digraph, f: Flow, last: int, steps: int, labels: dict[int, int]) -> None:
    placed = set(labels.values())
    for s in f.segments:
        start = f"{s.sender}{2 * s.sent}"
        if s.end is None:
            stop = f"{s.receiver}{2 * (steps - 1)}"
        elif s.fate == "delivered":
            stop = f"{s.receiver}{2 * s.end}"
        else:
            stop = f"m{2 * s.end}"
        colour = _colour(s)
        kv: dict[str, Attr] = {
            "color": colour,
            "style": "dotted" if s.end is None else ("dashed" if s.duplicate else "solid"),
            "constraint": False,
            "tooltip": _tooltip(s),
        }
        if s.id not in placed:
            kv |= {"xlabel": _label(s), "fontcolor": colour}
        if s.fate in ("lost", "dropped") or s.end is None:
            kv["arrowhead"] = "none"
        if s.end == last and s.fate == "delivered":
            kv["penwidth"] = 2.5
        add_edge(g, start, stop, kv)


def _tooltip(s: Segment) -> str:
    end = "in flight at the end" if s.end is None else f"{s.fate} at step {s.end}"
    return f"segment #{s.id} {s.direction} {s.label()} inc {s.inc}: sent at step {s.sent}, {end}"
