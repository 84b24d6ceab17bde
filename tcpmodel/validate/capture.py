"""Packet captures read with dpkt, split into TCP connections.

`read(path)` returns the `Packet` list of a pcap or pcapng file: IPv4 or IPv6 over Ethernet
(with 802.1Q tags), Linux cooked capture (SLL, SLL2), raw IP or BSD loopback.  Only the TCP
header fields the model speaks about are kept: addresses, ports, control bits, SEQ, ACK and
the payload length (from the IP length fields, so a capture cut at a snap length still gives
it).  `connections(packets)` groups them by 4-tuple and splits each group into incarnations:
a SYN without ACK starts the next incarnation when the current one has seen a FIN or an RST,
or when its sender already sent a SYN with another ISN in it.

A file that is not a capture, is cut short, has a link type not listed above or holds no
TCP raises `CaptureError` (exit status 2 at the command line) naming the file and the reason.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dpkt

from tcpmodel.errors import TcpModelError


class CaptureError(TcpModelError, ValueError):
    """A capture file cannot be read: not pcap/pcapng, cut short, unknown link type, no TCP."""


# dpkt's link-type numbers (pcap LINKTYPE_*).
ETHERNET = 1
RAW = (12, 14, 101)  # DLT_RAW on various systems, LINKTYPE_RAW
LOOP = (0, 108)  # BSD loopback (null, loop)
SLL = 113
SLL2 = 276
IPV4 = 228
IPV6 = 229
LINK_TYPES = {ETHERNET, *RAW, *LOOP, SLL, SLL2, IPV4, IPV6}

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


@dataclass(frozen=True, slots=True)
class Packet:
    """One TCP segment as captured: ``number`` counts packets of the file from 1."""

    number: int
    time: float
    src: str
    sport: int
    dst: str
    dport: int
    flags: int
    seq: int
    ack: int
    length: int  # payload bytes

    @property
    def syn(self) -> bool:
        return bool(self.flags & SYN)

    @property
    def fin(self) -> bool:
        return bool(self.flags & FIN)

    @property
    def rst(self) -> bool:
        return bool(self.flags & RST)

    @property
    def has_ack(self) -> bool:
        return bool(self.flags & ACK)

    @property
    def source(self) -> tuple[str, int]:
        return (self.src, self.sport)

    def ctl(self) -> str:
        names = (("SYN", SYN), ("FIN", FIN), ("RST", RST), ("ACK", ACK))
        return ",".join(n for n, bit in names if self.flags & bit)


@dataclass(frozen=True, slots=True)
class Connection:
    """The packets of one 4-tuple, split into incarnations (``incs[k]`` lists packet indexes)."""

    ends: tuple[tuple[str, int], tuple[str, int]]
    packets: tuple[Packet, ...]
    incarnation: tuple[int, ...]  # incarnation of each packet

    @property
    def name(self) -> str:
        (h1, p1), (h2, p2) = self.ends
        return f"{_addr(h1)}:{p1} <-> {_addr(h2)}:{p2}"

    @property
    def incarnations(self) -> int:
        return max(self.incarnation, default=-1) + 1


def _addr(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def read(path: str | Path) -> list[Packet]:
    p = Path(path)
    try:
        f = p.open("rb")
    except OSError as e:
        raise CaptureError(f"{p}: cannot read: {e.strerror}") from None
    with f:
        head = f.read(4)
        f.seek(0)
        try:
            pcapng = head == b"\x0a\x0d\x0d\x0a"
            reader = dpkt.pcapng.Reader(f) if pcapng else dpkt.pcap.Reader(f)
        except (ValueError, dpkt.UnpackError, struct.error) as e:
            raise CaptureError(
                f"{p}: not a pcap or pcapng capture ({e}); write one with tcpdump -w or Wireshark"
            ) from None
        link = reader.datalink()
        if link not in LINK_TYPES:
            raise CaptureError(
                f"{p}: link type {link} is not supported; expected Ethernet, Linux cooked "
                "(SLL, SLL2), raw IP or loopback (capture with tcpdump -i <device> or -i any)"
            )
        out: list[Packet] = []
        try:
            for n, (ts, buf) in enumerate(_records(reader), start=1):
                pkt = _decode(n, float(ts), link, bytes(buf))
                if pkt is not None:
                    out.append(pkt)
            if isinstance(reader, dpkt.pcap.Reader):
                _check_records(p)
        except (ValueError, dpkt.UnpackError, struct.error, EOFError) as e:
            raise CaptureError(
                f"{p}: the capture is malformed or cut short after {len(out)} TCP segments "
                f"({e or type(e).__name__})"
            ) from None
    if not out:
        raise CaptureError(f"{p}: no TCP segment in the capture (expected IPv4 or IPv6 TCP)")
    return out


def _check_records(p: Path) -> None:
    """dpkt returns a pcap record cut short as a shorter packet: walk the record headers."""
    data = p.read_bytes()
    order = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    pos, n = 24, 0
    while pos < len(data):
        if pos + 16 > len(data):
            raise ValueError(f"the header of record {n + 1} is cut short")
        (incl,) = struct.unpack(order + "I", data[pos + 8 : pos + 12])
        if pos + 16 + incl > len(data):
            raise ValueError(
                f"record {n + 1} is cut short ({len(data) - pos - 16} of {incl} bytes)"
            )
        pos += 16 + incl
        n += 1


def _records(reader: dpkt.pcap.Reader | dpkt.pcapng.Reader) -> Iterator[tuple[float, bytes]]:
    # dpkt stops silently at a record cut short; the file size tells.
    yield from reader


def _decode(n: int, ts: float, link: int, buf: bytes) -> Packet | None:
    ip: dpkt.Packet | None = None
    if link == ETHERNET:
        eth = dpkt.ethernet.Ethernet(buf)
        ip = eth.data if isinstance(eth.data, dpkt.ip.IP | dpkt.ip6.IP6) else None
    elif link == SLL:
        ip = _ip_from(dpkt.sll.SLL(buf).data)
    elif link == SLL2:
        if len(buf) < 20:
            raise ValueError("SLL2 header cut short")
        proto = struct.unpack("!H", buf[:2])[0]
        ip = _ip_by_proto(proto, buf[20:])
    elif link in LOOP:
        ip = _ip_version(buf[4:])
    elif link == IPV6:
        ip = dpkt.ip6.IP6(buf)
    else:
        ip = _ip_version(buf)
    if ip is None:
        return None
    if isinstance(ip, dpkt.ip.IP):
        frag = struct.unpack("!H", bytes(ip)[6:8])[0] & 0x1FFF
        if ip.p != dpkt.ip.IP_PROTO_TCP or frag:
            return None
        src, dst = _v4(ip.src), _v4(ip.dst)
        payload = ip.len - 4 * ip.hl
        tcp_raw = bytes(ip)[4 * ip.hl :]
    else:
        if ip.nxt != dpkt.ip.IP_PROTO_TCP:
            return None
        src, dst = _v6(ip.src), _v6(ip.dst)
        payload = ip.plen
        tcp_raw = bytes(ip)[40:]
    if len(tcp_raw) < 20:
        raise ValueError(f"packet {n}: TCP header cut short")
    sport, dport, seq, ack, off, flags = struct.unpack("!HHIIBB", tcp_raw[:14])
    hlen = (off >> 4) * 4
    return Packet(n, ts, src, sport, dst, dport, flags, seq, ack, max(payload - hlen, 0))


def _ip_from(data: object) -> dpkt.Packet | None:
    return data if isinstance(data, dpkt.ip.IP | dpkt.ip6.IP6) else None


def _ip_by_proto(proto: int, buf: bytes) -> dpkt.Packet | None:
    if proto == 0x0800:
        return dpkt.ip.IP(buf)
    if proto == 0x86DD:
        return dpkt.ip6.IP6(buf)
    return None


def _ip_version(buf: bytes) -> dpkt.Packet | None:
    if not buf:
        return None
    v = buf[0] >> 4
    return dpkt.ip.IP(buf) if v == 4 else dpkt.ip6.IP6(buf) if v == 6 else None


def _v4(b: bytes) -> str:
    return ".".join(str(x) for x in b)


def _v6(b: bytes) -> str:
    import ipaddress

    return str(ipaddress.IPv6Address(b))


def connections(packets: list[Packet]) -> list[Connection]:
    """The capture's connections by 4-tuple, in order of first packet, split by incarnation."""
    groups: dict[frozenset[tuple[str, int]], list[Packet]] = {}
    for p in packets:
        groups.setdefault(frozenset((p.source, (p.dst, p.dport))), []).append(p)
    out: list[Connection] = []
    for pkts in groups.values():
        first = pkts[0]
        ends = (first.source, (first.dst, first.dport))
        for p in pkts:
            if p.syn and not p.has_ack:
                ends = (p.source, (p.dst, p.dport))
                break
        inc = 0
        closed = False
        syns: dict[tuple[str, int], int] = {}
        marks: list[int] = []
        for p in pkts:
            if p.syn and not p.has_ack:
                seen = syns.get(p.source)
                if (closed or (seen is not None and seen != p.seq)) and marks:
                    inc += 1
                    closed = False
                    syns = {}
                syns[p.source] = p.seq
            if p.fin or p.rst:
                closed = True
            marks.append(inc)
        out.append(Connection(ends, tuple(pkts), tuple(marks)))
    return out
