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
Pure and deterministic: the text depends on the trace and the caption only.
"""

from __future__ import annotations

from collections.abc import Sequence

from tcpmodel.render.flow import Event, Flow, Segment, flow
from tcpmodel.results import Trace

FONT = "Helvetica"
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
LEGEND = (
    "orange: a segment of an older incarnation; dashed: a copy made by the network; "
    "X: lost; dotted, no arrowhead: still in flight at the end; dotted across: a tick"
)

Attr = str | float | int | bool


def quote(text: str, newline: str = "\\n") -> str:
    """A DOT double-quoted string; a line break becomes ``newline`` (``\\l``: left-justified)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", newline) + '"'


def attrs(kv: dict[str, Attr], left: bool = False) -> str:
    """``[k=v, ...]`` in the given order; with ``left`` the label's lines are left-justified."""
    parts = []
    for k, v in kv.items():
        if isinstance(v, bool):
            text = "true" if v else "false"
        elif isinstance(v, str):
            text = quote(v, "\\l" if left and k == "label" else "\\n")
        else:
            text = str(v)
        parts.append(f"{k}={text}")
    return "[" + ", ".join(parts) + "]"


def ladder(trace: Trace, caption: Sequence[str] = ()) -> str:
    """The DOT text of ``trace``'s ladder diagram; ``caption`` lines go under it."""
    f = flow(trace)
    last = len(trace.steps) - 1
    steps = len(trace.steps) + (1 if any(s.end is None for s in f.segments) else 0)
    ranks = 2 * steps - 1
    marks = _marks(f)
    labels = _placed_labels(f, steps, marks)
    graph: dict[str, Attr] = {
        "rankdir": "TB",
        "splines": False,
        "newrank": True,
        "forcelabels": True,
        "outputorder": "edgesfirst",
        "nodesep": 0.25,
        "ranksep": 0.1,
        "fontname": FONT,
        "fontsize": 11,
        "labelloc": "b",
        "labeljust": "l",
        "label": "".join(line + "\n" for line in (*caption, *_lasso_note(trace), LEGEND)),
    }
    out = [
        "digraph ladder {",
        "  graph " + attrs(graph, left=True) + ";",
        "  node " + attrs({"fontname": FONT, "fontsize": 10}) + ";",
        "  edge " + attrs({"fontname": FONT, "fontsize": 9}) + ";",
    ]
    lasso = trace.loop is not None
    out += _header(lasso)
    for r in range(ranks):
        out += _rank(r, trace, f, last, steps, marks, labels)
    for col in ("s", "an", "m", "bn"):
        out.append(f"  h{col} -> {col}0 [style=invis, weight=100];")
        out += [f"  {col}{r} -> {col}{r + 1} [style=invis, weight=100];" for r in range(ranks - 1)]
    line = attrs({"arrowhead": "none", "weight": 100, "color": COLOUR["grey"]})
    for side in ("a", "b"):
        out.append(f"  h{side} -> {side}0 {line};")
        out += [f"  {side}{r} -> {side}{r + 1} {line};" for r in range(ranks - 1)]
    out += _segments(f, last, steps, labels)
    if trace.loop is not None:
        # A lasso: after the last step the run goes back to step `loop` and repeats forever,
        # drawn as a bar in the loop column from the last step up to the loop's start.
        look: dict[str, Attr] = {"weight": 100, "color": COLOUR["loop"], "penwidth": 2.5}
        bar = attrs({**look, "arrowhead": "none"})
        up = attrs({**look, "dir": "back"})
        out.append("  hlp -> lp0 [style=invis, weight=100];")
        for r in range(ranks - 1):
            inside = 2 * trace.loop <= r < 2 * last
            kind = (up if r == 2 * trace.loop else bar) if inside else "[style=invis, weight=100]"
            out.append(f"  lp{r} -> lp{r + 1} {kind};")
    out.append("}")
    return "\n".join(out) + "\n"


def _lasso_note(trace: Trace) -> list[str]:
    if trace.loop is None:
        return []
    last = len(trace.steps) - 1
    return [f"lasso: steps {trace.loop + 1}..{last} repeat forever (the bar at the left)"]


def _header(lasso: bool = False) -> list[str]:
    box: dict[str, Attr] = {"shape": "box", "style": "filled", "fillcolor": "#eeeeee"}
    loop: list[tuple[str, dict[str, Attr]]] = (
        [("hlp", {"label": "loop", "shape": "plaintext", "fontcolor": COLOUR["loop"]})]
        if lasso
        else []
    )
    return _group(
        [
            *loop,
            ("hs", {"label": "step", "shape": "plaintext"}),
            ("han", {"label": "", "shape": "point", "width": 0.01, "style": "invis"}),
            ("ha", {"label": "a (client)", **box}),
            (
                "hm",
                {
                    "label": "network",
                    "shape": "plaintext",
                    "fontcolor": COLOUR["grey"],
                    "width": WIDTH,
                    "fixedsize": True,
                },
            ),
            ("hb", {"label": "b (server)", **box}),
            ("hbn", {"label": "", "shape": "point", "width": 0.01, "style": "invis"}),
        ]
    )


def _group(nodes: list[tuple[str, dict[str, Attr]]]) -> list[str]:
    names = [n for n, _ in nodes]
    return [
        "  { rank=same; " + " ".join(f"{n} {attrs(a)};" for n, a in nodes) + " }",
        "  " + " -> ".join(names) + " [style=invis];",
    ]


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
    r: int,
    trace: Trace,
    f: Flow,
    last: int,
    steps: int,
    marks: dict[int, tuple[str, str]],
    labels: dict[int, int],
) -> list[str]:
    k, row = divmod(r, 2)
    row = 1 - row  # 1 on a step's rank, 0 between steps
    hot = row == 1 and k == last
    end_row = row == 1 and k == len(trace.steps)
    colour = COLOUR["last"] if hot else "black"
    blank: dict[str, Attr] = {"label": "", "shape": "point", "width": 0.01, "style": "invis"}
    if row:
        point: dict[str, Attr] = {
            "label": "",
            "shape": "point",
            "width": 0.08 if hot else 0.03,
            "color": colour,
        }
    else:  # a joint of the lifeline, too small to see
        point = {"label": "", "shape": "point", "width": 0.01, "color": COLOUR["grey"]}
    mid: dict[str, Attr] = {"label": "", "shape": "plaintext", "width": WIDTH, "fixedsize": True}
    step = dict(blank)
    notes_a, notes_b = dict(blank), dict(blank)
    if end_row:
        step = {"label": "end", "shape": "plaintext", "fontcolor": COLOUR["grey"]}
        mid |= {"label": "(in flight)", "fontcolor": COLOUR["grey"], "fontsize": 9}
    elif row:
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
    loop: list[tuple[str, dict[str, Attr]]] = []
    if trace.loop is not None:
        inside = 2 * trace.loop <= r <= 2 * last
        text = f"repeat from\nstep {trace.loop}" if r == 2 * last else ""
        loop = [
            (
                f"lp{r}",
                {"label": text, "shape": "plaintext", "fontcolor": COLOUR["loop"], "fontsize": 9}
                if text
                else (
                    {"label": "", "shape": "point", "width": 0.01, "color": COLOUR["loop"]}
                    if inside
                    else dict(blank)
                ),
            )
        ]
    lines = _group(
        [
            *loop,
            (f"s{r}", step),
            (f"an{r}", notes_a),
            (f"a{r}", point),
            (f"m{r}", mid),
            (f"b{r}", point),
            (f"bn{r}", notes_b),
        ]
    )
    if row and not end_row and any(e.kind == "tick" for e in f.at(k)):
        tick_edge: dict[str, Attr] = {
            "arrowhead": "none",
            "style": "dotted",
            "color": COLOUR["timer"],
            "constraint": False,
        }
        lines.append(f"  a{r} -> b{r} {attrs(tick_edge)};")
    return lines


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


def _segments(f: Flow, last: int, steps: int, labels: dict[int, int]) -> list[str]:
    placed = set(labels.values())
    out = []
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
        out.append(f"  {start} -> {stop} {attrs(kv)};")
    return out


def _tooltip(s: Segment) -> str:
    end = "in flight at the end" if s.end is None else f"{s.fate} at step {s.end}"
    return f"segment #{s.id} {s.direction} {s.label()} inc {s.inc}: sent at step {s.sent}, {end}"
