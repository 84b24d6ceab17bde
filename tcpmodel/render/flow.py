"""Segment flow of a ``connection`` trace, reconstructed by comparing consecutive states.

The model gives segments no identity (an identity would split states that differ only in it),
so the renderers recover one here, without touching the model:

* A channel (``net.ab`` carries what ``a`` sends, ``net.ba`` what ``b`` sends) is a prefix of
  occupied slots, kept sorted or in FIFO order, so a segment's slot index moves between states.
  Segments are matched across a step by their fields (all but ``age``), first those whose age
  is what the step makes it (one more after a ``tick``, unchanged otherwise), then any with
  the same fields; among equals the oldest identity wins, so the result is deterministic.
* The segment a delivery (``b.listen_syn(slot=0)``) or a loss (``net.lose_a(slot=1)``) takes
  is the one in the named slot of the state before the step.  A segment that disappears in
  any other step is ``dropped``.  A segment that appears is ``sent`` by the channel's sender,
  except the copy a ``net.duplicate_x(slot=i)`` makes (``duplicate_of`` names the original).
* A send into a full channel never appears: the model counts it in ``net.lost``; it is noted
  as an event of the step.

`flow(trace)` returns a `Flow`: the `Segment` list (ids from 1 in order of appearance) and the
per-step `Event` list: endpoint states when they change, user calls, timer firings, ticks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from tcpmodel.errors import UsageError
from tcpmodel.results import Shown, Trace

ENDS = ("a", "b")
CHANNEL = {"a": "net.ab", "b": "net.ba"}
PEER = {"a": "b", "b": "a"}

Fate = Literal["delivered", "lost", "dropped", "in flight"]
EventKind = Literal["state", "user", "timer", "tick", "loss"]

# User calls, written the way RFC 9293 3.10 names them.
USER_CALLS = {
    "open": "OPEN",
    "reuse": "OPEN (tw_reuse)",
    "connect": "OPEN (active)",
    "send": "SEND",
    "close": "CLOSE",
    "close_syn_sent": "CLOSE",
    "close_listen": "CLOSE",
    "close_unread": "CLOSE (unread data: RST)",
    "read": "RECEIVE",
    "abort": "ABORT",
    "abort_quiet": "ABORT (quiet)",
    "crash": "CRASH",
}
TIMERS = {
    "retransmit": "retransmission timeout",
    "give_up": "R2: give up",
    "time_wait_expires": "2MSL timeout",
    "delayed_ack": "delayed ACK",
}


@dataclass(frozen=True, slots=True)
class Fields:
    """A segment's header as the model holds it (``ts`` is None without timestamps)."""

    syn: bool
    ack: bool
    fin: bool
    rst: bool
    seq: int
    ackno: int
    len: int
    inc: int
    ts: int | None = None

    @property
    def ctl(self) -> str:
        flags = (("SYN", self.syn), ("FIN", self.fin), ("RST", self.rst), ("ACK", self.ack))
        return ",".join(name for name, on in flags if on)

    def label(self) -> str:
        """RFC 9293 figure style: ``<SEQ=5><ACK=9><CTL=SYN,ACK>``, then ``<LEN=1>``, ``<TS=3>``."""
        parts = [f"<SEQ={self.seq}>"]
        if self.ack:
            parts.append(f"<ACK={self.ackno}>")
        if self.ctl:
            parts.append(f"<CTL={self.ctl}>")
        if self.len:
            parts.append(f"<LEN={self.len}>")
        if self.ts is not None:
            parts.append(f"<TS={self.ts}>")
        return "".join(parts)


@dataclass(frozen=True, slots=True)
class Segment:
    """One segment's life: sent by ``sender`` at step ``sent``, gone at ``end`` (or in flight)."""

    id: int
    sender: str
    fields: Fields
    sent: int
    end: int | None
    fate: Fate
    duplicate_of: int | None = None
    old: bool = False  # its incarnation is older than the sender's when it leaves the network

    @property
    def receiver(self) -> str:
        return PEER[self.sender]

    @property
    def direction(self) -> str:
        return f"{self.sender}->{self.receiver}"

    @property
    def inc(self) -> int:
        return self.fields.inc

    @property
    def duplicate(self) -> bool:
        return self.duplicate_of is not None

    def label(self) -> str:
        return self.fields.label()


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened at ``step``: at endpoint ``end`` ("" for the clock)."""

    step: int
    end: str
    kind: EventKind
    text: str


@dataclass(frozen=True, slots=True)
class Flow:
    steps: int
    segments: tuple[Segment, ...]
    events: tuple[Event, ...]

    def at(self, step: int) -> tuple[Event, ...]:
        return tuple(e for e in self.events if e.step == step)

    def in_flight(self, step: int) -> tuple[Segment, ...]:
        """The segments in the network after ``step``."""
        return tuple(s for s in self.segments if s.sent <= step and (s.end is None or s.end > step))


def capacity(state: Mapping[str, Shown], channel: str) -> int:
    n = 0
    while f"{channel}[{n}].present" in state:
        n += 1
    return n


def segments_in(state: Mapping[str, Shown], channel: str) -> list[tuple[Fields, int]]:
    """The (fields, age) of each occupied slot, in slot order."""
    out: list[tuple[Fields, int]] = []
    for i in range(capacity(state, channel)):
        p = f"{channel}[{i}]."
        if not state[p + "present"]:
            continue
        ts = state.get(p + "ts")
        fields = Fields(
            syn=bool(state[p + "syn"]),
            ack=bool(state[p + "ack"]),
            fin=bool(state[p + "fin"]),
            rst=bool(state[p + "rst"]),
            seq=int(state[p + "seq"]),
            ackno=int(state[p + "ackno"]),
            len=int(state[p + "len"]),
            inc=int(state[p + "inc"]),
            ts=None if ts is None else int(ts),
        )
        out.append((fields, int(state[p + "age"])))
    return out


@dataclass(slots=True)
class _Live:
    id: int
    fields: Fields
    age: int


@dataclass(slots=True)
class _Builder:
    sender: dict[int, str]
    fields: dict[int, Fields]
    sent: dict[int, int]
    end: dict[int, tuple[int, Fate]]
    dup: dict[int, int]

    def new(self, sender: str, fields: Fields, step: int, dup: int | None) -> int:
        sid = len(self.sender) + 1
        self.sender[sid] = sender
        self.fields[sid] = fields
        self.sent[sid] = step
        if dup is not None:
            self.dup[sid] = dup
        return sid


def flow(trace: Trace) -> Flow:
    """The segments and events of a ``connection`` trace (`UsageError` for another model)."""
    if not trace.steps or any(
        f"{CHANNEL[x]}[0].present" not in trace.steps[0].state
        or f"{x}.state" not in trace.steps[0].state
        for x in ENDS
    ):
        raise UsageError(
            "diagrams need a trace of the `connection` model (channels net.ab, net.ba and "
            "endpoints a, b); use --format json or txt for other models"
        )
    bld = _Builder({}, {}, {}, {}, {})
    events: list[Event] = []
    first = trace.steps[0].state
    live: dict[str, list[_Live]] = {}
    for x in ENDS:
        events.append(Event(0, x, "state", str(first[f"{x}.state"])))
        live[x] = [
            _Live(bld.new(x, f, 0, None), f, age) for f, age in segments_in(first, CHANNEL[x])
        ]
    for k in range(1, len(trace.steps)):
        prev, cur = trace.steps[k - 1].state, trace.steps[k].state
        name, params = trace.steps[k].call()
        for x in ENDS:
            live[x] = _step_channel(bld, k, x, name, params, live[x], cur)
        events += _events(k, name, prev, cur)
    last = trace.steps[-1].state
    segments = []
    for sid in sorted(bld.sender):
        sender = bld.sender[sid]
        end: int | None = None
        fate: Fate = "in flight"
        if sid in bld.end:
            end, fate = bld.end[sid]
        at = trace.steps[end].state if end is not None else last
        inc = bld.fields[sid].inc
        segments.append(
            Segment(
                id=sid,
                sender=sender,
                fields=bld.fields[sid],
                sent=bld.sent[sid],
                end=end,
                fate=fate,
                duplicate_of=bld.dup.get(sid),
                old=inc < int(at.get(f"{sender}.inc", inc)),
            )
        )
    return Flow(len(trace.steps), tuple(segments), tuple(events))


def _step_channel(
    bld: _Builder,
    k: int,
    x: str,
    name: str,
    params: Mapping[str, str],
    before: list[_Live],
    cur: Mapping[str, Shown],
) -> list[_Live]:
    """Match the sender ``x``'s channel across step ``k``; record ends and new segments."""
    rest = list(before)
    slot = int(params["slot"]) if params.get("slot", "").isdigit() else None
    here = slot is not None and slot < len(before)
    takes = name.startswith(f"{PEER[x]}.") or name == f"net.lose_{x}"
    if here and takes and slot is not None:
        taken = rest.pop(slot)
        bld.end[taken.id] = (k, "lost" if name.startswith("net.lose") else "delivered")
    copies = here and name == f"net.duplicate_{x}"
    source = before[slot] if copies and slot is not None else None
    grow = 1 if name == "tick" else 0
    after = segments_in(cur, CHANNEL[x])
    matched: list[_Live | None] = [None] * len(after)
    # Two passes: the expected age first, so that equal segments of different ages keep
    # their identities; then the same fields at any age.
    for exact in (True, False):
        for i, (fields, age) in enumerate(after):
            if matched[i] is not None:
                continue
            candidates = [
                s for s in rest if s.fields == fields and (not exact or s.age + grow == age)
            ]
            if candidates:
                pick = min(candidates, key=lambda s: s.id)
                rest.remove(pick)
                matched[i] = _Live(pick.id, fields, age)
    for gone in rest:
        bld.end[gone.id] = (k, "dropped")
    out: list[_Live] = []
    for i, (fields, age) in enumerate(after):
        m = matched[i]
        if m is None:
            dup = None
            if source is not None and source.fields == fields:
                dup, source = source.id, None
            m = _Live(bld.new(x, fields, k, dup), fields, age)
        out.append(m)
    return out


def _events(k: int, name: str, prev: Mapping[str, Shown], cur: Mapping[str, Shown]) -> list[Event]:
    out: list[Event] = []
    end, _, what = name.partition(".")
    if name == "tick":
        out.append(Event(k, "", "tick", "tick"))
    elif end in ENDS and what in USER_CALLS:
        out.append(Event(k, end, "user", USER_CALLS[what]))
    elif end in ENDS and what in TIMERS:
        out.append(Event(k, end, "timer", TIMERS[what]))
    # The budget resets when a opens, so only a rise counts.
    rise = int(cur.get("net.lost", 0)) > int(prev.get("net.lost", 0))
    full = (rise and not name.startswith("net.lose")) or (
        cur.get("net.overflow") is True and prev.get("net.overflow") is False
    )
    if full:
        out.append(Event(k, end if end in ENDS else "", "loss", "sent into a full channel: lost"))
    for x in ENDS:
        if cur[f"{x}.state"] != prev[f"{x}.state"]:
            out.append(Event(k, x, "state", str(cur[f"{x}.state"])))
    return out
