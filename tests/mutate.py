"""Mutated copies of a capture, made with dpkt: one segment changed (or inserted) so that no
RFC 9293 behaviour produces it.  `mutants(path)` yields (kind, packet number, pcap bytes)."""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from pathlib import Path

import dpkt

SYN, FIN, RST, ACK = 0x02, 0x01, 0x04, 0x10


def _records(path: Path) -> tuple[int, list[tuple[float, bytes]]]:
    with path.open("rb") as f:
        r = dpkt.pcap.Reader(f)
        return r.datalink(), [(float(ts), bytes(buf)) for ts, buf in r]


def _write(link: int, recs: list[tuple[float, bytes]]) -> bytes:
    out = io.BytesIO()
    w = dpkt.pcap.Writer(out, snaplen=65535, linktype=link)
    for ts, buf in recs:
        w.writepkt(buf, ts)
    return out.getvalue()


def _tcp_at(buf: bytes) -> tuple[int, int]:
    """Offsets of the IP header and the TCP header in an Ethernet frame."""
    ip = 14
    v = buf[ip] >> 4
    return ip, ip + (4 * (buf[ip] & 0x0F) if v == 4 else 40)


def _fields(buf: bytes) -> tuple[int, int, int]:
    _, t = _tcp_at(buf)
    seq, ack = struct.unpack("!II", buf[t + 4 : t + 12])
    return seq, ack, buf[t + 13]


def _set(buf: bytes, seq: int | None = None, ack: int | None = None, flags: int | None = None,
         extra: int = 0) -> bytes:  # fmt: skip
    b = bytearray(buf)
    ip, t = _tcp_at(buf)
    if seq is not None:
        b[t + 4 : t + 8] = struct.pack("!I", seq % 2**32)
    if ack is not None:
        b[t + 8 : t + 12] = struct.pack("!I", ack % 2**32)
    if flags is not None:
        b[t + 13] = flags
    if extra:
        if b[ip] >> 4 == 4:
            (n,) = struct.unpack("!H", b[ip + 2 : ip + 4])
            b[ip + 2 : ip + 4] = struct.pack("!H", n + extra)
        else:
            (n,) = struct.unpack("!H", b[ip + 4 : ip + 6])
            b[ip + 4 : ip + 6] = struct.pack("!H", n + extra)
        b += b"z" * extra
    return bytes(b)


def mutants(path: Path) -> Iterator[tuple[str, int, bytes]]:
    link, recs = _records(path)
    assert link == dpkt.pcap.DLT_EN10MB, "mutants are made of Ethernet captures"
    flags = [_fields(b)[2] for _, b in recs]
    synack = next(i for i, f in enumerate(flags) if f & SYN and f & ACK)
    # A retransmitted SYN,ACK with another ISN.
    ts, b = recs[synack]
    seq, ack, f = _fields(b)
    yield (
        "synack-isn",
        synack + 2,
        _write(
            link, [*recs[: synack + 1], (ts + 0.001, _set(b, seq=seq + 1000)), *recs[synack + 1 :]]
        ),
    )
    # An acknowledgment of data never sent: the last pure ACK acks 5000 bytes more.
    last_ack = max(i for i, f in enumerate(flags) if f == ACK and i > synack + 1)
    ts, b = recs[last_ack]
    seq, ack, f = _fields(b)
    yield (
        "ack-unsent",
        last_ack + 1,
        _write(link, [*recs[:last_ack], (ts, _set(b, ack=ack + 5000)), *recs[last_ack + 1 :]]),
    )
    # Data after a FIN: right after the first FIN, its sender sends 10 bytes after it.
    fin = next((i for i, f in enumerate(flags) if f & FIN), None)
    if fin is not None:
        ts, b = recs[fin]
        seq, ack, f = _fields(b)
        ip, t = _tcp_at(b)
        total = struct.unpack("!H", b[ip + 2 : ip + 4])[0] if b[ip] >> 4 == 4 else None
        hdr = 4 * (b[t + 12] >> 4)
        paylen = (total - (t - ip) - hdr) if total is not None else 0
        cut = bytearray(b[: t + hdr])
        if total is not None:
            cut[ip + 2 : ip + 4] = struct.pack("!H", (t - ip) + hdr)
        bare = bytes(cut)
        after = _set(bare, seq=seq + paylen + 1, flags=ACK, extra=10)
        yield (
            "data-after-fin",
            fin + 2,
            _write(link, [*recs[: fin + 1], (ts + 0.0005, after), *recs[fin + 1 :]]),
        )
    # A SYN in the middle of the connection from the end that sends the last segment.
    ts, b = recs[-1]
    seq, ack, f = _fields(b)
    yield "syn-late", len(recs), _write(link, [*recs[:-1], (ts, _set(b, flags=f | SYN))])
    # An RST whose SEQ is not the sender's SND.NXT.
    rst = next((i for i, f in enumerate(flags) if f & RST), None)
    if rst is not None:
        ts, b = recs[rst]
        seq, ack, f = _fields(b)
        yield (
            "rst-seq",
            rst + 1,
            _write(link, [*recs[:rst], (ts, _set(b, seq=seq + 50)), *recs[rst + 1 :]]),
        )
