"""The abstraction from real segments to the model's: roles, data units, numbers, parameters.

* Roles: ``a`` is the end that sent the connection's first SYN without ACK, ``b`` the other.
* Sequence spaces: one per (end, incarnation), its origin the ISN of that end's SYN.  Every
  real SEQ and ACK is taken relative to the space it counts in (SEQ: the sender's, ACK: the
  receiver's); an RST with SEQ 0 (the reply of a port without a connection to a segment
  without ACK) keeps the literal 0.
* Data units: within a space the SYN, each distinct payload range and the FIN are *pieces*;
  each piece is one model unit (a segment's payload, whatever its length, is one unit; a
  stretch never seen between two pieces is one unit).  A relative number maps to the index
  of the piece that starts there, or to the count of pieces at the end of the last: so an
  acknowledgment maps to the units it covers, and a number in the middle of a piece (a
  partial acknowledgment) or past the end maps to nothing and matches no model segment.
  Payload ranges that overlap without being equal (a retransmission that repacketized data)
  cannot be units: the connection's verdict is ``unknown``.
* Dropped: windows, options (MSS, SACK, window scale; timestamps: see docs/validate.md), PSH,
  URG, and the payload bytes.

`parameters` chooses the ``connection`` model's parameters from the capture itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tcpmodel.models.base import ParamValue
from tcpmodel.validate.capture import Connection, Packet
from tcpmodel.validate.search import Obs

MOD = 1 << 32


class Unmappable(Exception):
    """The capture's numbers do not abstract into units (repacketized data, no SYN)."""


@dataclass(frozen=True, slots=True)
class Space:
    isn: int
    starts: tuple[int, ...]  # relative start of each piece
    end: int  # relative end of the last piece

    def units(self, absolute: int) -> int | None:
        r = (absolute - self.isn) % MOD
        if r == self.end:
            return len(self.starts)
        try:
            return self.starts.index(r)
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class Abstraction:
    conn: Connection
    role: dict[tuple[str, int], str]  # endpoint -> "a" | "b"
    spaces: dict[tuple[str, int], Space]  # (end, incarnation)
    obs: tuple[Obs, ...]

    def sender(self, p: Packet) -> str:
        return self.role[p.source]


def abstract(conn: Connection) -> Abstraction:
    first = next((p for p in conn.packets if p.syn and not p.has_ack), None)
    if first is None:
        raise Unmappable(
            "no SYN: the capture starts inside this connection, and the model starts at CLOSED "
            "and LISTEN (capture from before the connection opens)"
        )
    role = {first.source: "a", (first.dst, first.dport): "b"}
    pieces: dict[tuple[str, int], set[tuple[int, int]]] = {}
    isn: dict[tuple[str, int], int] = {}
    for p, inc in zip(conn.packets, conn.incarnation, strict=True):
        key = (role[p.source], inc)
        if p.syn and key not in isn:
            isn[key] = p.seq
    for p, inc in zip(conn.packets, conn.incarnation, strict=True):
        key = (role[p.source], inc)
        if key not in isn:
            continue
        r = (p.seq - isn[key]) % MOD
        ps = pieces.setdefault(key, {(0, 1)})
        if p.rst:
            continue
        at = r + (1 if p.syn else 0)
        if p.syn and r != 0:
            continue  # a SYN with another ISN: its numbers map to nothing
        if p.length:
            ps.add((at, at + p.length))
            at += p.length
        if p.fin:
            ps.add((at, at + 1))
    spaces: dict[tuple[str, int], Space] = {}
    for key, ps in pieces.items():
        ordered = sorted(ps)
        starts: list[int] = []
        end = 0
        for s, e in ordered:
            if starts and s < end:
                prev = (starts[-1], end)
                if (s, e) != prev:
                    raise Unmappable(
                        f"{key[0]}'s data in incarnation {key[1]} was repacketized (bytes "
                        f"{prev[0]}..{prev[1]} and {s}..{e} overlap): segments are units only "
                        "when every retransmission resends the same range"
                    )
                continue
            if starts and s > end:
                starts.append(end)  # a stretch never seen: one unit
            starts.append(s)
            end = e
        spaces[key] = Space(isn[key], tuple(starts), end)
    obs: list[Obs] = []
    for k, (p, inc) in enumerate(zip(conn.packets, conn.incarnation, strict=True)):
        me = role[p.source]
        peer = "b" if me == "a" else "a"
        zero = p.rst and p.seq == 0
        sp = spaces.get((me, inc))
        seq = sp.units(p.seq) if sp is not None else None
        their = spaces.get((peer, inc))
        ackno = their.units(p.ack) if their is not None and p.has_ack else None
        obs.append(
            Obs(
                k,
                p.time,
                me,
                p.syn,
                p.has_ack,
                p.fin,
                p.rst,
                seq,
                ackno,
                1 if p.length else 0,
                inc,
                zero,
            )
        )
    return Abstraction(conn, role, spaces, tuple(obs))


def relative_label(ab: Abstraction, p: Packet, inc: int) -> str:
    """RFC 9293 figure style with the capture's numbers relative to each side's ISN."""
    me = ab.role[p.source]
    peer = "b" if me == "a" else "a"
    sp, their = ab.spaces.get((me, inc)), ab.spaces.get((peer, inc))
    seq = p.seq if (p.rst and p.seq == 0) or sp is None else (p.seq - sp.isn) % MOD
    parts = [f"<SEQ={seq}>"]
    if p.has_ack:
        ack = p.ack if their is None else (p.ack - their.isn) % MOD
        parts.append(f"<ACK={ack}>")
    parts.append(f"<CTL={p.ctl()}>")
    if p.length:
        parts.append(f"<LEN={p.length}>")
    return "".join(parts)


def half_close(ab: Abstraction) -> str:
    """``shutdown`` when an end that sent its FIN later receives new data and acknowledges it
    (a half-close: the application called shutdown()), else ``close``."""
    fin_sent: set[tuple[str, int]] = set()
    data_after: set[tuple[str, int]] = set()
    for p, inc in zip(ab.conn.packets, ab.conn.incarnation, strict=True):
        me = ab.sender(p)
        peer = "b" if me == "a" else "a"
        if p.length and (peer, inc) in fin_sent:
            data_after.add((peer, inc))
        if (me, inc) in data_after and p.has_ack and not p.rst:
            return "shutdown"
        if p.fin:
            fin_sent.add((me, inc))
    return "close"


def parameters(ab: Abstraction, profile: str, close_mode: str) -> dict[str, ParamValue]:
    """The model configuration this capture needs (see docs/validate.md)."""
    from tcpmodel.tcp.connection import LINUX

    conn = ab.conn
    data = {e: 0 for e in ("a", "b")}
    for (e, inc), sp in ab.spaces.items():
        # Data units before the sender's FIN (what follows a FIN is no data it may send).
        fins = [
            sp.units(p.seq + p.length)
            for p, i in zip(conn.packets, conn.incarnation, strict=True)
            if p.fin and i == inc and ab.sender(p) == e
        ]
        fin = min((f for f in fins if f is not None), default=len(sp.starts))
        data[e] = max(data[e], fin - 1)
    retrans: dict[str, int] = {"a": 0, "b": 0}
    seen: dict[tuple[str, int, int, int], int] = {}
    for p, inc in zip(conn.packets, conn.incarnation, strict=True):
        if p.flags & 0x07 or p.length:
            k = (ab.sender(p), inc, p.seq, p.flags & 0x07)
            seen[k] = seen.get(k, 0) + 1
    for (e, _i, _s, _f), n in seen.items():
        retrans[e] = max(retrans[e], n - 1)
    resent = sum(n - 1 for n in seen.values())
    incs = max(conn.incarnations, 1)
    both_syn = any(
        sum(1 for p, i in zip(conn.packets, conn.incarnation, strict=True) if i == k and
            p.syn and not p.has_ack and ab.sender(p) == "b") > 0
        for k in range(incs)
    )  # fmt: skip
    rst = {e: any(p.rst and ab.sender(p) == e for p in conn.packets) for e in ("a", "b")}
    retries = min(8, max(2, max(retrans.values()) + 1))
    params: dict[str, ParamValue] = dict(LINUX) if profile == "linux" else {}
    params.update(
        {
            "seq_bits": 32,
            "window": min(16, max(data.values()) + 1),
            "data": min(data["a"], 4),
            "b_data": min(data["b"], 4),
            "close_mode": close_mode,
            "incarnations": incs,
            "isn": "clock" if incs > 1 else "fixed",
            "isn_rate": 1024,
            "capacity": 2,
            "loss": min(4, resent),
            "duplicate": 0,
            "reorder": False,
            "abort": rst["a"],
            "b_abort": rst["b"],
            "reconnect_after_abort": rst["a"] and incs > 1,
            "b_active_open": "always" if both_syn else "never",
            "b_close_first": "always",
            "retries": retries,
            "syn_retries": retries,
            "synack_retries": retries,
            "horizon": 0,
            # A segment may wait in a queue (a qdisc) across retransmission timeouts: the
            # host's FIN resent twice while the peer's ACK of it waited is in flight 3 ticks.
            # Linux has no MSL on this scale (a tick here is an RTO), so the model's MSL is
            # taken from the capture: one tick more than the most retransmissions of one
            # segment, at least 2.
            "msl": max(2, max(retrans.values()) + 1),
        }
    )
    if max(data.values()) > 4:
        raise Unmappable(
            f"{max(data.values())} data units from one end in one incarnation; the connection "
            "model has at most 4 (data, b_data): validate shorter connections"
        )
    return params


def describe(params: Mapping[str, ParamValue]) -> str:
    keys = (
        "data",
        "b_data",
        "close_mode",
        "incarnations",
        "isn",
        "window",
        "capacity",
        "loss",
        "duplicate",
        "abort",
        "b_abort",
        "b_active_open",
        "retries",
        "msl",
    )
    return ", ".join(f"{k}={params[k]}" for k in keys if k in params)
