"""A ``listener`` trace (SYN flood, SYN cookies, accept queue) as a ladder with the server's
queues drawn beside it, as Graphviz DOT text.

Columns, left to right: the lasso's loop bar (a lasso only), the step (number, ticks so far,
action, and the RFC 9293 / RFC 4987 / Linux rule it implements: in full the first time a rule
appears, by its citation afterwards), the client's notes (its state when it changes), the
client's lifeline, the network between client and server, the server, the attacker's side of
the network and the attacker's lifeline.  Time flows downward, as in RFC 9293's figures; trace
step ``k`` is rank ``2k`` and the odd ranks between steps hold segment labels.

The server's lifeline is its queues, one snapshot per step: the request queue (``backlog``
slots: ``S`` a spoofed entry, ``C`` the client's, with its SYN,ACK retransmissions so far;
red and green) and, after a gap, the accept queue (FIFO, head at the left: ``C`` the client's
connection, ``o`` another client's; ``accepted`` once the application has taken the client's).
A snapshot is framed when the queues changed in that step, so the flood's occupancy over time
reads down the column.

Segments between client and server (``net.cs``, ``net.sc``) are recovered by comparing
consecutive states: a record that appears was sent in that step, one that disappears was
received (or lost: ``net.lose_*``, an X in the middle) in that step; records are matched by
their flags, the oldest first.  Each is an arrow from its send row to its receive row, labelled
like RFC 9293 (``<CTL=SYN,ACK>``, ``cookie`` for a cookie SYN,ACK or an ACK returning one).
The attacker's SYNs reach the listener directly: a horizontal arrow in their step.  A SYN,ACK
the server sends to a spoofed address goes nowhere: a short dashed arrow.  A tick is a dotted
line across the lifelines.  The last step is highlighted; a lasso's cycle is a green bar from
its first step to its last.

Pure and deterministic: the text depends on the trace and the caption only.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

from graphviz import Digraph

from tcpmodel.render import digraph
from tcpmodel.render.digraph import FONT, INVISIBLE, Attr, Html, add_edge, column, html, row
from tcpmodel.render.ladder import (
    BLANK,
    BOX,
    COLOUR,
    LAYOUT,
    LOOP_HEAD,
    loop_bar,
    loop_node,
    title,
)
from tcpmodel.results import Shown, Trace

WIDTH = 2.0  # inches of the network column between client and server
SIDE = 1.9  # inches of the attacker's side of the network
RULE_WIDTH = 42  # characters per line of a rule written in full
STEP_WIDTH = 3.8  # inches of the step column: room for a rule's lines
FLAGS = ("syn", "ack", "rst")
SPOOFED = "#d6604d"  # a spoofed request entry
LEGIT = "#1b9e77"  # the client's entry or connection
OTHER = "#bbbbbb"  # another client's connection
INK = "#444444"  # cell borders, and the frame of a snapshot that changed
LEGEND = (
    "server: request queue (S spoofed, C the client's; the digit: SYN,ACKs resent) | accept "
    "queue (FIFO, head left: C the client's, o another client's); a framed snapshot changed "
    "in that step"
)
LEGEND2 = (
    "X: lost; dashed: a SYN,ACK to a spoofed address (nowhere); dotted across: a tick; "
    "t: ticks so far"
)
# The citation a rule starts with, or the first one it contains.
_CITE = re.compile(
    r"RFC \d+(?: \d+(?:\.\d+)*)?(?: [A-Z][A-Z-]+(?: \([a-z]+\))?)?(?: SYN cookies)?"
    r"|Linux [a-z_0-9]+(?: = \d)?"
)


def is_listener(trace: Trace) -> bool:
    """The trace is drawn as the ``listener`` model's queue ladder (`tcpmodel.render.drawing`)."""
    from tcpmodel.render import drawing

    return drawing.of(trace) is drawing.LISTENER


@dataclass(frozen=True, slots=True)
class Segment:
    """A segment between client and server: sender ``c`` or ``s``, flags, its send step and
    the step that took it out of the network (None: still in flight), ``lost`` or not."""

    id: int
    sender: str
    flags: tuple[bool, bool, bool, bool]  # syn, ack, rst, cookie
    sent: int
    end: int | None
    lost: bool

    def label(self) -> str:
        ctl = ",".join(n.upper() for n, on in zip(FLAGS, self.flags[:3], strict=True) if on)
        return f"<CTL={ctl}>" + (" cookie" if self.flags[3] else "")


def segments(trace: Trace) -> list[Segment]:
    """The client-server segments of ``trace`` (see the module docstring), in send order."""
    live: dict[str, list[tuple[int, tuple[bool, bool, bool, bool], int]]] = {"cs": [], "sc": []}
    done: list[tuple[int, str, tuple[bool, bool, bool, bool], int, int | None, bool]] = []
    counter = 0
    prev = _channels(trace.steps[0].state)
    for ch in ("cs", "sc"):
        for rec in prev[ch]:
            counter += 1
            live[ch].append((counter, rec, 0))
    for k in range(1, len(trace.steps)):
        now = _channels(trace.steps[k].state)
        action, _ = trace.steps[k].call()
        for ch in ("cs", "sc"):
            gone = _minus(prev[ch], now[ch])
            new = _minus(now[ch], prev[ch])
            for rec in gone:
                i = next(i for i, (_, r, _) in enumerate(live[ch]) if r == rec)
                sid, r, sent = live[ch].pop(i)
                lost = action.startswith(f"net.lose_{ch}")
                done.append((sid, ch, r, sent, k, lost))
            for rec in new:
                counter += 1
                live[ch].append((counter, rec, k))
        prev = now
    for ch in ("cs", "sc"):
        done += [(sid, ch, r, sent, None, False) for sid, r, sent in live[ch]]
    return [
        Segment(sid, "c" if ch == "cs" else "s", r, sent, end, lost)
        for sid, ch, r, sent, end, lost in sorted(done)
    ]


def _channels(state: Mapping[str, Shown]) -> dict[str, list[tuple[bool, bool, bool, bool]]]:
    out: dict[str, list[tuple[bool, bool, bool, bool]]] = {}
    for ch in ("cs", "sc"):
        recs = []
        i = 0
        while f"net.{ch}[{i}].present" in state:
            p = f"net.{ch}[{i}]."
            if state[p + "present"]:
                recs.append(
                    (
                        bool(state[p + "syn"]),
                        bool(state[p + "ack"]),
                        bool(state[p + "rst"]),
                        bool(state[p + "cookie"]),
                    )
                )
            i += 1
        out[ch] = recs
    return out


def _minus(
    a: list[tuple[bool, bool, bool, bool]], b: list[tuple[bool, bool, bool, bool]]
) -> list[tuple[bool, bool, bool, bool]]:
    """The multiset difference ``a - b``, in ``a``'s order."""
    rest = list(b)
    out = []
    for x in a:
        if x in rest:
            rest.remove(x)
        else:
            out.append(x)
    return out


def cite(rule: str) -> str:
    """The short citation of a rule: its first RFC section or Linux setting, else its start."""
    m = _CITE.search(rule)
    if m:
        return m.group(0)
    return rule.split(" (")[0].split(":")[0]


def listen_ladder(trace: Trace, caption: Sequence[str] = ()) -> str:
    """The DOT text of ``trace``'s diagram; ``caption`` lines go under it."""
    steps = trace.steps
    last = len(steps) - 1
    ranks = 2 * last + 1
    segs = segments(trace)
    ticks = _ticks(trace)
    lasso = trace.loop is not None
    loop_note = []
    if trace.loop == last:
        loop_note = [
            f"lasso: the run stays in step {last}'s state forever (a self-loop or a stutter)"
        ]
    elif trace.loop is not None:
        loop_note = [f"lasso: steps {trace.loop + 1}..{last} repeat forever (the bar at the left)"]
    graph: dict[str, Attr] = {**LAYOUT, "nodesep": 0.2, "ranksep": 0.08}
    g = digraph.new("listen", (*caption, *loop_note, LEGEND, LEGEND2), graph)
    spoof = attacked(trace)
    cols = (["lp"] if lasso else []) + ["s", "cn", "c", "m", "v"] + (["n", "x"] if spoof else [])
    _header(g, lasso, spoof, _slots(steps[0].state))
    labels = _placed(segs, ranks)
    seen_rules: set[str] = set()
    for r in range(ranks):
        _rank(g, r, trace, ticks, labels, segs, seen_rules, spoof)
    line: dict[str, Attr] = {"arrowhead": "none", "weight": 100, "color": COLOUR["grey"]}
    for col in cols[1:] if lasso else cols:
        column(g, col, ranks, line if col in ("c", "v", "x") else INVISIBLE)
    if trace.loop is not None:
        loop_bar(g, trace.loop, last, ranks)
    _arrows(g, trace, segs, labels, last, spoof)
    return digraph.source(g)


def attacked(trace: Trace) -> bool:
    """The trace has an attacker's step: only then are its lifeline and its side drawn."""
    return any(s.call()[0].startswith("attacker.") for s in trace.steps)


def _ticks(trace: Trace) -> list[int]:
    """Ticks taken up to each step (``time`` stops counting in unbounded runs)."""
    out, n = [], 0
    for s in trace.steps:
        n += s.action == "tick"
        out.append(n)
    return out


def _slots(state: Mapping[str, Shown]) -> int:
    n = 0
    while f"req[{n}].present" in state:
        n += 1
    return n


def _header(g: Digraph, lasso: bool, spoof: bool, slots: int) -> None:
    nodes: list[tuple[str, Mapping[str, Attr]]] = [LOOP_HEAD] if lasso else []
    nodes += [
        ("hs", {"label": "step  (t: ticks)", "shape": "plaintext"}),
        ("hcn", BLANK),
        ("hc", {"label": "client", **BOX}),
        ("hm", title("network", WIDTH)),
        ("hv", {"label": f"server (listener)\nrequest queue ({slots}) | accept queue", **BOX}),
        ("hn", title("spoofed sources", SIDE)),
        ("hx", {"label": "attacker", **BOX}),
    ]
    row(g, nodes if spoof else nodes[:-2])


def _placed(segs: Sequence[Segment], ranks: int) -> dict[int, int]:
    """Rank -> the segment whose label sits in that rank's middle node: the midpoint of its
    arrow, or the nearest free rank on it; the others get an ``xlabel``."""
    out: dict[int, int] = {}
    lost_rows = {2 * s.end for s in segs if s.lost and s.end is not None}
    for s in sorted(segs, key=lambda s: (_stop(s, ranks) - s.sent, s.id)):
        a, b = 2 * s.sent, 2 * _stop(s, ranks)
        mid = (a + b) // 2
        for r in sorted(range(a + 1, b), key=lambda r: (abs(r - mid), r)) or [mid]:
            if r not in out and r not in lost_rows:
                out[r] = s.id
                break
    return out


def _stop(s: Segment, ranks: int) -> int:
    return (ranks - 1) // 2 if s.end is None else s.end


def _rank(
    g: Digraph,
    r: int,
    trace: Trace,
    ticks: Sequence[int],
    labels: Mapping[int, int],
    segs: Sequence[Segment],
    seen_rules: set[str],
    spoof: bool,
) -> None:
    k, odd = divmod(r, 2)
    last = len(trace.steps) - 1
    joint: dict[str, Attr] = {"label": "", "shape": "point", "width": 0.01, "color": "grey"}
    mid: dict[str, Attr] = {"label": "", "shape": "plaintext", "width": WIDTH, "fixedsize": True}
    side: dict[str, Attr] = {"label": "", "shape": "plaintext", "width": SIDE, "fixedsize": True}
    step, notes, client, server, attacker = dict(BLANK), dict(BLANK), joint, joint, joint
    if not odd:
        st = trace.steps[k]
        hot = k == last
        colour = COLOUR["last"] if hot else "black"
        tick = st.action == "tick"
        head = f"{k}  t={ticks[k]}  {st.action or 'initial state'}"
        lines = [head]
        if st.rule:
            if st.rule in seen_rules:
                lines.append(f"[{cite(st.rule)}]")
            else:
                seen_rules.add(st.rule)
                lines += textwrap.wrap(f"[{st.rule}]", RULE_WIDTH, subsequent_indent=" ")
        step = {
            "label": "\n".join(lines) + "\n",
            "id": f"step{k}",  # kept by the SVG: the explorer page highlights the step by it
            "shape": "plaintext",
            "width": STEP_WIDTH,
            "fontsize": 9,
            "fontcolor": colour if hot else (COLOUR["timer"] if tick else "black"),
            "fontname": FONT + "-Bold" if hot else FONT,
        }
        text = _client_note(trace, k)
        if text:
            notes = {"label": text, "shape": "plaintext", "fontsize": 9, "fontcolor": colour}
        point: dict[str, Attr] = {
            "label": "",
            "shape": "point",
            "width": 0.08 if hot else 0.04,
            "color": colour,
        }
        client, attacker = point, dict(point)
        server = {
            "label": _queues(trace, k),
            "shape": "plaintext",
            "margin": 0,
        }
        if any(s.lost and s.end == k for s in segs):
            mid |= {"label": "X", "fontcolor": COLOUR["lost"], "fontsize": 16}
        action, _ = st.call()
        note: dict[str, Attr] = {"fontsize": 9, "style": "filled", "fillcolor": "white"}
        if action.startswith("attacker."):
            side |= {"label": "<CTL=SYN> spoofed source", "fontcolor": SPOOFED, **note}
        elif _nowhere(trace, k):
            side |= {"label": "SYN,ACK to nowhere", "fontcolor": COLOUR["grey"], **note}
    if r in labels:
        s = segs[labels[r] - 1]
        mid = {
            "label": f"#{s.id} {s.label()}",
            "shape": "plaintext",
            "style": "filled",
            "fillcolor": "white",
            "fontsize": 9,
            "margin": "0.02,0.01",
            "height": 0.1,
        }
    nodes: list[tuple[str, Mapping[str, Attr]]] = []
    if trace.loop is not None:
        nodes.append(loop_node(r, trace.loop, last, f"back to\nstep {trace.loop}"))
    nodes += [
        (f"s{r}", step),
        (f"cn{r}", notes),
        (f"c{r}", client),
        (f"m{r}", mid),
        (f"v{r}", server),
        (f"n{r}", side),
        (f"x{r}", attacker),
    ]
    row(g, nodes if spoof else nodes[:-2], left={f"s{r}"})


def _nowhere(trace: Trace, k: int) -> bool:
    """Step ``k`` resends a SYN,ACK of a spoofed request entry."""
    name, params = trace.steps[k].call()
    if name != "srv.retransmit_synack" or "entry" not in params:
        return False
    return bool(trace.steps[k - 1].state[f"req[{params['entry']}].spoofed"])


def _client_note(trace: Trace, k: int) -> str:
    s = trace.steps[k].state
    if k > 0:
        p = trace.steps[k - 1].state
        if all(s[x] == p[x] for x in ("client.state", "client.error", "client.cookie")):
            return ""
    text = str(s["client.state"]).replace("_", "-")
    if s["client.cookie"]:
        text += "\n(on a cookie)"
    if s["client.error"] != "NONE":
        text += f"\n{s['client.error']}"
    return text


def _queue_cells(state: Mapping[str, Shown]) -> tuple[list[str], list[str], bool]:
    req = []
    for i in range(_slots(state)):
        p = f"req[{i}]."
        if state[p + "present"]:
            who = "S" if state[p + "spoofed"] else "C"
            req.append(f"{who}{state[p + 'retries']}")
        else:
            req.append("")
    others = int(state.get("accept.others", 0))
    ahead = int(state.get("accept.ahead", 0))
    acc = ["o"] * others
    if state["srv.legit"] == "QUEUED":
        acc.insert(min(ahead, others), "C")
    return req, acc, state["srv.legit"] == "ACCEPTED"


def _queues(trace: Trace, k: int) -> Html:
    """The HTML-like label of the server's queues after step ``k``."""
    now = _queue_cells(trace.steps[k].state)
    changed = k == 0 or now != _queue_cells(trace.steps[k - 1].state)
    req, acc, accepted = now
    cells = []
    for c in req:
        if not c:
            cells.append(f'<TD WIDTH="24" BGCOLOR="white" COLOR="{INK}"> </TD>')
        else:
            colour = SPOOFED if c[0] == "S" else LEGIT
            cells.append(
                f'<TD WIDTH="24" BGCOLOR="{colour}" COLOR="{INK}">'
                f'<FONT COLOR="white">{escape(c)}</FONT></TD>'
            )
    cells.append('<TD BORDER="0" WIDTH="10"> </TD>')
    for c in acc:
        colour = LEGIT if c == "C" else OTHER
        fg = "white" if c == "C" else "black"
        cells.append(
            f'<TD WIDTH="18" BGCOLOR="{colour}" COLOR="{INK}"><FONT COLOR="{fg}">{c}</FONT></TD>'
        )
    if not acc:
        cells.append('<TD BORDER="0"><FONT COLOR="#888888" POINT-SIZE="8">empty</FONT></TD>')
    if accepted:
        cells.append(f'<TD BORDER="0"><FONT COLOR="{LEGIT}">C accepted</FONT></TD>')
    frame = f'BORDER="1" COLOR="{INK}"' if changed else 'BORDER="1" COLOR="white"'
    return html(
        f'<TABLE {frame} CELLBORDER="1" CELLSPACING="1" CELLPADDING="1" BGCOLOR="white">'
        f"<TR>{''.join(cells)}</TR></TABLE>"
    )


def _arrows(
    g: Digraph,
    trace: Trace,
    segs: Sequence[Segment],
    labels: Mapping[int, int],
    last: int,
    spoof: bool,
) -> None:
    placed = set(labels.values())
    ranks = 2 * last + 1
    for s in segs:
        a = 2 * s.sent
        b = 2 * _stop(s, ranks)
        start = f"c{a}" if s.sender == "c" else f"v{a}:w"
        towards = f"v{b}:w" if s.sender == "c" else f"c{b}"
        stop = f"m{b}" if s.lost else towards  # a lost segment ends at its X
        colour = COLOUR["lost"] if s.lost else "black"
        kv: dict[str, Attr] = {"color": colour, "constraint": False}
        if s.id not in placed:
            kv |= {"xlabel": f"#{s.id} {s.label()}", "fontcolor": colour}
        if s.lost or s.end is None:
            kv["arrowhead"] = "none"
        if s.end is None:
            kv["style"] = "dotted"
        if s.end == last:
            kv["penwidth"] = 2.5
        add_edge(g, start, stop, kv)
    for k, st in enumerate(trace.steps):
        r = 2 * k
        action, _ = st.call()
        if action.startswith("attacker."):
            kv = {"color": SPOOFED, "constraint": False}
            add_edge(g, f"x{r}", f"v{r}", kv | {"headport": "e"})
        elif k and _nowhere(trace, k):
            kv = {"color": COLOUR["grey"], "style": "dashed", "constraint": False}
            add_edge(g, f"v{r}", f"n{r}", kv)
        elif action == "tick":
            kv = {
                "arrowhead": "none",
                "style": "dotted",
                "color": COLOUR["timer"],
                "constraint": False,
            }
            add_edge(g, f"c{r}", f"{'x' if spoof else 'v'}{r}", kv)
