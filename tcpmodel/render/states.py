"""The state diagram of the ``connection`` model, generated from its actions.

Nothing here is drawn by hand.  `explore_transitions` runs the model's compiled successor
function over every reachable state of a configuration and, for every step an endpoint takes,
records a `Transition`: the endpoint's state before and after, the event (the user call, the
timer, or ``rcv`` and the control bits of the segment the step consumed) and the segments the
step put into the network (``snd`` and their control bits), as RFC 9293 Figure 5 labels its
arcs (``rcv SYN / snd SYN,ACK``).  The same labelling reads a trace (`trace_transitions`), so
a counterexample's path can be drawn over the diagram, each arc numbered with its trace steps.

`COVERAGE` lists the small configurations the default diagram explores: together they take
every row of RFC 9293's state table (``tests/test_states.py`` checks this against
``../shared/domain.md``).  A spec's own configuration can be explored instead; its state space
may be too large to finish, in which case the diagram says how many states it saw.

Two conventions keep the picture RFC-shaped:

* The server listens again as soon as a connection ends (``b`` goes straight back to LISTEN);
  that step is drawn as the arc to CLOSED followed by ``passive OPEN`` from CLOSED to LISTEN,
  as in Figure 5.  Its initial LISTEN is the same ``passive OPEN``.
* A step whose reply went into a full channel (the model counts it as lost) is not used for
  labelling: its ``snd`` part would be missing.  The same step from a state with room labels it.

`diagram` turns a set of transitions into DOT text: one arc per (state, next state) pair,
its label the sorted ``event / sent`` lines; states in Figure 5's rows.  Pure and
deterministic: the same transitions and trace give byte-identical text.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape

from tcpmodel.errors import UsageError
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.system import System
from tcpmodel.kernel.types import EnumType, decode
from tcpmodel.models.base import ParamValue
from tcpmodel.render import digraph
from tcpmodel.render.digraph import Attr, Html, add_edge, row
from tcpmodel.render.flow import CHANNEL, ENDS, PEER, TIMERS, USER_CALLS, capacity
from tcpmodel.results import Shown, Trace

# The eleven states in the rows of RFC 9293 Figure 5.
ROWS: tuple[tuple[str, ...], ...] = (
    ("CLOSED",),
    ("LISTEN",),
    ("SYN_RECEIVED", "SYN_SENT"),
    ("ESTABLISHED",),
    ("FIN_WAIT_1", "CLOSE_WAIT"),
    ("FIN_WAIT_2", "CLOSING", "LAST_ACK"),
    ("TIME_WAIT",),
)
STATES: tuple[str, ...] = tuple(s for row in ROWS for s in row)
RANK = {s: i for i, row in enumerate(ROWS) for s in row}
PASSIVE_OPEN = "passive OPEN"

# Small configurations of the connection model that together take every row of RFC 9293's
# state table: an open with every user call, a crash and TIME-WAIT assassination, losses and
# RFC 5961's challenge ACKs, old duplicates meeting synchronized states.
_SMALL: dict[str, ParamValue] = {
    "incarnations": 1,
    "loss": 0,
    "duplicate": 0,
    "data": 1,
    "isn": "fixed",
    "b_active_open": "always",
    "retries": 1,
    "syn_retries": 1,
    "synack_retries": 1,
    "capacity": 1,
}
COVERAGE: tuple[Mapping[str, ParamValue], ...] = (
    {**_SMALL, "abort": True, "close_early": True},
    {**_SMALL, "abort": True, "crash": True, "rfc1337": False},
    {**_SMALL, "loss": 1, "rfc5961": True, "data": 0},
    {
        **_SMALL,
        "incarnations": 2,
        "seq_bits": 2,
        "isn": "clock",
        "horizon": 3,
        "duplicate": 1,
        "data": 0,
        "time_wait": 0,
        "b_active_open": "never",
        "crash": True,
        "reconnect_after_crash": True,
        "quiet_time": False,
    },
)

COLOUR = {"a": "#2166ac", "b": "#b2182b", "both": "#762a83"}

Get = Callable[[str], Shown]
SEGMENT_FIELDS = ("syn", "ack", "fin", "rst", "seq", "ackno", "len")


@dataclass(frozen=True, order=True, slots=True)
class Transition:
    """One kind of step an endpoint takes: ``src`` to ``dst`` on ``event``, sending ``sends``
    (control bits of each segment sent, ``""`` for none)."""

    src: str
    dst: str
    event: str
    sends: str
    end: str

    @property
    def label(self) -> str:
        return f"{self.event} / {'snd ' + self.sends if self.sends else '-'}"


@dataclass(frozen=True, slots=True)
class Explored:
    transitions: frozenset[Transition]
    states: int
    complete: bool


def _segments(get: Get, channel: str, cap: int) -> list[tuple[Shown, ...]]:
    out = []
    for i in range(cap):
        p = f"{channel}[{i}]."
        if get(p + "present"):
            out.append(tuple(get(p + f) for f in SEGMENT_FIELDS))
    return out


def _ctl(seg: tuple[Shown, ...]) -> str:
    names = ("SYN", "ACK", "FIN", "RST")
    on = dict(zip(names, seg[:4], strict=True))
    ctl = ",".join(n for n in ("SYN", "FIN", "RST", "ACK") if on[n])
    return ctl + "+data" if int(seg[6]) else ctl


def _overflowed(before: Get, after: Get) -> bool:
    """Whether a send of this step went into a full channel (counted as a loss)."""
    return int(after("net.lost")) > int(before("net.lost")) or bool(after("net.overflow"))


def step_transitions(
    call: tuple[str, Mapping[str, str]], before: Get, after: Get, caps: Mapping[str, int]
) -> list[Transition] | None:
    """The transitions one step takes (``[]`` for a step of the network or the clock), or
    ``None`` when a send of the step may have gone into a full channel; ``call`` is the
    action's name and parameters (`tcpmodel.results.Step.call`)."""
    name, params = call
    end, _, what = name.partition(".")
    if end not in ENDS:
        return []
    src, dst = str(before(f"{end}.state")), str(after(f"{end}.state"))
    out_ch = CHANNEL[end]
    old = _segments(before, out_ch, caps[out_ch])
    if len(old) == caps[out_ch] and _overflowed(before, after):
        return None
    sent = Counter(_segments(after, out_ch, caps[out_ch])) - Counter(old)
    sends = "; ".join(sorted(_ctl(s) for s in sent.elements()))
    if what in USER_CALLS:
        event = USER_CALLS[what]
    elif what in TIMERS:
        event = TIMERS[what]
    elif "slot" in params:
        in_ch = CHANNEL[PEER[end]]
        got = _segments(before, in_ch, caps[in_ch])
        slot = int(params["slot"])
        event = f"rcv {_ctl(got[slot])}" if slot < len(got) else f"rcv ({what})"
    else:
        event = what.replace("_", " ")
    if end == "b" and dst == "LISTEN" and src not in ("LISTEN", "SYN_RECEIVED"):
        return [
            Transition(src, "CLOSED", event, sends, end),
            Transition("CLOSED", "LISTEN", PASSIVE_OPEN, "", end),
        ]
    return [Transition(src, dst, event, sends, end)]


def explore_transitions(
    system: System,
    max_states: int | None = None,
    progress: Callable[[int, float], None] | None = None,
) -> Explored:
    """Every transition an endpoint takes in ``system``'s reachable states (all of them, or
    the first ``max_states`` in depth-first order)."""
    c = Compiled(system)
    idx = system.index
    if "a.state" not in idx or "b.state" not in idx or "net.ab[0].present" not in idx:
        raise UsageError(f"a state diagram needs the `connection` model, not {system.name!r}")
    caps = {ch: capacity(idx, ch) for ch in CHANNEL.values()}
    calls = [(a.name, dict(a.shown_params)) for a in system.actions]
    layout = c.layout

    def getter(x: bytes) -> Get:
        def get(n: str) -> Shown:
            i = idx[n]
            o, w = layout.offsets[i], layout.widths[i]
            vtype = system.variables[i].vtype
            v = decode(vtype, int.from_bytes(x[o : o + w], "big"))
            return vtype.values[int(v)] if isinstance(vtype, EnumType) else v

        return get

    # A step's labels depend only on these variables: steps that agree on them share labels.
    names = ["a.state", "b.state", "net.lost", "net.overflow"] + [
        f"{ch}[{i}].{f}"
        for ch, cap in caps.items()
        for i in range(cap)
        for f in ("present", *SEGMENT_FIELDS)
    ]
    slices = [(layout.offsets[idx[n]], layout.widths[idx[n]]) for n in names]
    projected: dict[bytes, bytes] = {}

    def project(x: bytes) -> bytes:
        p = projected.get(x)
        if p is None:
            p = projected[x] = b"".join(x[o : o + w] for o, w in slices)
        return p

    out: set[Transition] = set()
    for st in _initial_transitions(system, c):
        out.add(st)
    todo = c.initial()
    seen = set(todo)
    start = last = time.monotonic()
    complete = True
    done: set[tuple[int, bytes, bytes]] = set()
    while todo:
        s = todo.pop()
        ps = project(s)
        for ai, t in c.successors(s):
            key = (ai, ps, project(t))
            if key not in done:
                done.add(key)
                got = step_transitions(calls[ai], getter(s), getter(t), caps)
                if got:
                    out.update(got)
            if t not in seen:
                if max_states is not None and len(seen) >= max_states:
                    complete = False
                    continue
                seen.add(t)
                todo.append(t)
        now = time.monotonic()
        if progress is not None and now - last >= 1.0:
            progress(len(seen), now - start)
            last = now
    return Explored(frozenset(out), len(seen), complete)


def _initial_transitions(system: System, c: Compiled) -> list[Transition]:
    """The server's initial LISTEN is a passive OPEN."""
    i = system.index["b.state"]
    var = system.variables[i]
    assert isinstance(var.vtype, EnumType)
    return [
        Transition("CLOSED", "LISTEN", PASSIVE_OPEN, "", "b")
        for s in c.initial()
        if var.vtype.values[int(c.decode(s)[i])] == "LISTEN"
    ][:1]


def coverage_transitions(
    progress: Callable[[int, float], None] | None = None,
) -> Explored:
    """The transitions of every `COVERAGE` configuration (each explored completely)."""
    from tcpmodel.models import MODELS

    model = MODELS["connection"]
    found: set[Transition] = set()
    states = 0
    for over in COVERAGE:
        e = explore_transitions(model.build({**model.defaults(), **over}), progress=progress)
        found |= e.transitions
        states += e.states
    return Explored(frozenset(found), states, True)


def trace_transitions(trace: Trace) -> list[tuple[int, Transition]]:
    """The transitions a ``connection`` trace takes, with their step numbers."""
    if not trace.steps or "a.state" not in trace.steps[0].state:
        raise UsageError("a state diagram path needs a trace of the `connection` model")
    first = trace.steps[0].state
    caps = {ch: capacity(first, ch) for ch in CHANNEL.values()}
    out: list[tuple[int, Transition]] = []
    for k in range(1, len(trace.steps)):
        prev, cur = trace.steps[k - 1].state, trace.steps[k].state
        call = trace.steps[k].call()
        got = step_transitions(call, prev.__getitem__, cur.__getitem__, caps)
        if got is None:  # a reply into a full channel: label the step without it
            got = _unlabelled(call[0], prev, cur)
        out += [(k, t) for t in got]
    return out


def _unlabelled(name: str, prev: Mapping[str, Shown], cur: Mapping[str, Shown]) -> list[Transition]:
    end, _, what = name.partition(".")
    src, dst = str(prev[f"{end}.state"]), str(cur[f"{end}.state"])
    return [Transition(src, dst, what.replace("_", " ") + " (reply lost: channel full)", "", end)]


def diagram(
    transitions: Iterable[Transition],
    caption: Sequence[str] = (),
    path: Sequence[tuple[int, Transition]] = (),
) -> str:
    """DOT text of the state diagram; ``path`` (step, transition) pairs are highlighted and
    numbered.

    Layout as in RFC 9293 Figure 5: states in its rows; CLOSED twice, at the top (where
    connections start, and where LISTEN and SYN-SENT return) and at the bottom (where every
    later state ends: timeouts, RST, ABORT, crash, the last ACK).  A step that stays in its
    state is listed inside the state's box instead of drawn as a loop."""
    lines_of: dict[tuple[str, str], set[str]] = {}
    steps: dict[tuple[str, str, str], list[int]] = {}
    ends: dict[tuple[str, str], set[str]] = {}
    for t in transitions:
        lines_of.setdefault((t.src, t.dst), set()).add(t.label)
    for k, t in path:
        lines_of.setdefault((t.src, t.dst), set()).add(t.label)
        steps.setdefault((t.src, t.dst, t.label), []).append(k)
        ends.setdefault((t.src, t.dst), set()).add(t.end)
    unknown = sorted({s for pair in lines_of for s in pair} - set(STATES))
    if unknown:
        raise UsageError(f"unknown connection states {', '.join(unknown)}")

    def text(src: str, dst: str) -> list[tuple[str, list[int]]]:
        return [(line, steps.get((src, dst, line), [])) for line in sorted(lines_of[(src, dst)])]

    def colour(src: str, dst: str) -> str | None:
        who = ends.get((src, dst))
        if not who:
            return None
        return COLOUR["both" if len(who) > 1 else next(iter(who))]

    legend = (
        "arcs: event / segments sent (control bits); inside a box: steps that stay in the state"
    )
    if path:
        legend += "; [n]: step n of the trace, a's arcs blue, b's red"
    graph: dict[str, Attr] = {"rankdir": "TB", "nodesep": 0.5, "ranksep": 0.8, "newrank": True}
    g = digraph.new(
        "tcp_states",
        [*caption, legend, "generated from the model's actions"],
        graph,
        node={"shape": "plain", "fontsize": 12},
        edge={"color": "#555555", "arrowsize": 0.7},
    )
    on_path = {x for _, t in path for x in (t.src, t.dst)}
    rows = [*ROWS, (BOTTOM,)]
    for nodes in rows:
        members: list[tuple[str, Mapping[str, Attr]]] = []
        for node in nodes:
            state = "CLOSED" if node == BOTTOM else node
            loops = text(state, state) if node != BOTTOM and (state, state) in lines_of else []
            fg = colour(state, state) or COLOUR["a"]
            box = _box(state, loops, state in on_path, fg)
            members.append((node, {"label": box}))
        row(g, members, ordered=False)
    pairs = [p for p in lines_of if p[0] != p[1]]
    for src, dst in sorted(pairs, key=lambda p: (STATES.index(p[0]), STATES.index(p[1]))):
        head = BOTTOM if dst == "CLOSED" and RANK[src] > RANK["SYN_SENT"] else dst
        label = "".join(
            (f"[{', '.join(map(str, ks))}] " if ks else "") + line + "\n"
            for line, ks in text(src, dst)
        )
        e: dict[str, Attr] = {"label": label}
        c = colour(src, dst)
        if c is not None:
            e.update({"color": c, "fontcolor": c, "penwidth": 2.5})
        if head != BOTTOM and RANK[head] < RANK[src]:
            e["constraint"] = False
        add_edge(g, src, head, e, left=True)
    return digraph.source(g)


BOTTOM = "CLOSED_end"


def _box(state: str, loops: Sequence[tuple[str, list[int]]], highlight: bool, fg: str) -> Html:
    """An HTML-like label: the state's name, then the steps that stay in it."""
    fill = "#fff3c4" if highlight else "#eeeeee"
    width = 2 if highlight else 1
    rows = [f"<TR><TD><B>{escape(state)}</B></TD></TR>"]
    for line, ks in loops:
        mark = f"[{', '.join(map(str, ks))}] " if ks else ""
        body = escape(mark + line)
        if ks:
            body = f'<FONT COLOR="{fg}">{body}</FONT>'
        rows.append(f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="8">{body}</FONT></TD></TR>')
    return digraph.html(
        f'<TABLE BORDER="{width}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" '
        f'STYLE="ROUNDED" BGCOLOR="{fill}">' + "".join(rows) + "</TABLE>"
    )
