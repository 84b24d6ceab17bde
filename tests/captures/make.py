"""Regenerate the packet captures in this folder with real Linux TCP.

Usage (as root, with ``ip`` (iproute2), ``nft`` (nftables), ``tc`` and ``tcpdump``)::

    python tests/captures/make.py              # every scenario, into tests/captures/
    python tests/captures/make.py basic abort  # some of them
    python tests/captures/make.py --out DIR    # somewhere else

Each scenario runs in two fresh network namespaces joined by a veth pair: a client
``10.89.0.1`` / ``fd89::1`` and a server ``10.89.0.2`` / ``fd89::2``.  ``tcpdump`` runs on one
side (the capture point: a ``-c`` or ``-s`` in the table below) and a short socket script runs
in each namespace (this same file, ``--role client|server``).  The namespaces are set up so
that Linux's segments are the ones the model speaks about:

* ``ip route ... quickack 1``: every segment is acknowledged at once (no delayed ACK that
  would ride on the next data: the model acknowledges each data unit when it arrives);
* ``net.ipv4.tcp_timestamps = 0``: no timestamp options (TSvals are in milliseconds, the
  model's in ticks; see docs/validate.md);
* nftables rules in the namespace *opposite* the capture point drop chosen segments: a
  segment of the captured host is seen and then lost, a peer's segment is lost before the
  capture point, as the model's network loses it.  ``numgen inc mod 2 == 0`` drops the first
  matching segment and lets the next through;
* for crossing SYNs or FINs, a token bucket (``tc qdisc tbf``, 4 kbit/s, 200 bytes of burst)
  on the server's end only and a UDP datagram the server sends just before its SYN or FIN:
  the datagram takes the bucket's tokens, so the server's SYN (FIN) waits about 90 ms in its
  queue; the client sends its own 30 ms after the server, so the two cross.  The captured
  client has no queue of its own: tcpdump sees its segments when its TCP sends them (a queue
  below the capture point would show a segment later than TCP sent it).

Each script binds its sockets, prints ``ready`` and reads a shared start time from the
harness, so that the two sides act together.  A
run takes about 20 seconds; a scenario that fails (a tool missing, a timeout) is reported and
its committed capture kept.  ``tests/test_validate.py`` regenerates the captures into a
temporary folder when it runs as root with these tools (``TCPMODEL_REGENERATE=0`` turns
that off) and falls back to the committed files, with a warning, when it cannot.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PORT = 8000
CLIENT_PORT = 40100  # the client's port where the 4-tuple must stay the same
V4 = ("10.89.0.1", "10.89.0.2")
V6 = ("fd89::1", "fd89::2")
REQUEST = b"q" * 100
RESPONSE = b"r" * 120
TOOLS = ("ip", "nft", "tc", "tcpdump")


@dataclass(frozen=True)
class Scenario:
    name: str
    what: str
    capture: str = "c"  # "c": tcpdump in the client's namespace, "s": the server's
    rules: tuple[str, ...] = ()  # nft rules for the hook chains of the opposite namespace
    crossing: bool = False  # token buckets on both ends (crossing SYNs or FINs)
    ipv6: bool = False
    any_device: bool = False  # tcpdump -i any: Linux cooked capture (SLL2)
    seconds: float = 3.0  # how long the scripts may take


SCENARIOS = (
    Scenario("basic", "handshake, a request and a response, four-way close by the client"),
    Scenario(
        "basic6",
        "the same over IPv6, captured on all devices (Linux cooked capture, SLL2)",
        ipv6=True,
        any_device=True,
    ),
    Scenario("fin-with-data", "the client's request carries its FIN (TCP_CORK, then close())"),
    Scenario("server-first", "the server closes first and holds the TIME-WAIT"),
    Scenario("abort", "the client aborts with SO_LINGER 0 after the response: RST,ACK"),
    Scenario(
        "simultaneous-close",
        "both ends close at once: the FINs cross, both pass through CLOSING",
        crossing=True,
    ),
    Scenario(
        "simultaneous-open",
        "both ends connect to each other at once: the SYNs cross (RFC 9293 Figure 7)",
        crossing=True,
    ),
    Scenario(
        "fin-retransmission",
        "the client's first FIN is lost after the capture point and retransmitted",
        rules=("input tcp flags & fin == fin numgen inc mod 2 == 0 drop",),
    ),
    Scenario(
        "synack-retransmission",
        "the server's first SYN,ACK is lost before the capture point (client side)",
        rules=("output tcp flags & (syn|ack) == syn|ack numgen inc mod 2 == 0 drop",),
    ),
    Scenario(
        "data-retransmission",
        "the client's request is lost after the capture point and retransmitted",
        rules=("input tcp flags & (syn|fin|rst) == 0 ip length > 60 numgen inc mod 2 == 0 drop",),
    ),
    Scenario(
        "time-wait-reuse",
        "the server closes first; the client connects again from the same port and the "
        "server, in TIME-WAIT, accepts the new SYN (captured at the server)",
        capture="s",
    ),
    Scenario(
        "mixed",
        "300 connections unlike their neighbours, in turn: a request and a response closed by "
        "the client, by the server first, a request carrying its FIN, an abort (RST), two "
        "requests; one in eight of the client's data segments lost after the capture point "
        "(retransmitted); the benchmark's capture of differing connections",
        rules=(
            "input tcp flags & (syn|fin|rst) == 0 ip length > 60 numgen random mod 8 == 0 drop",
        ),
        seconds=240.0,
    ),
    Scenario(
        "many",
        "1,000 connections one after another, each a request, a response and a close: the "
        "benchmark's capture (headers only: snap length 96)",
        seconds=60.0,
    ),
)
MANY = 1000
MIXED = 300
# The connections of "mixed", in turn: what each does (both scripts read it by the index).
MIXED_KINDS = ("basic", "server-first", "fin-with-data", "abort", "two-requests")


# --- the socket scripts (run inside a namespace) -----------------------------------------


def _ready() -> float:
    """Tell the harness our sockets are bound; read the shared start time from it."""
    print("ready", flush=True)
    return float(sys.stdin.readline())


def _wait_until(at: float) -> None:
    delay = at - time.time()
    if delay > 0:
        time.sleep(delay)


def _recv_all(s: socket.socket, n: int) -> bytes:
    got = b""
    while len(got) < n:
        chunk = s.recv(n - len(got))
        if not chunk:
            break
        got += chunk
    return got


def _drain(s: socket.socket) -> None:
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass


def _shape(dev: str, on: bool) -> None:
    """Put a slow token bucket on ``dev`` (or take it off): see `_filler`."""
    cmd = ["tc", "qdisc", "replace" if on else "del", "dev", dev, "root"]
    if on:
        cmd += ["tbf", "rate", "4kbit", "burst", "200", "latency", "5s"]
    subprocess.run(cmd, check=True, capture_output=True)


def _filler(family: int, peer: str) -> None:
    """A datagram that empties our token bucket, so that the next segment waits in the queue."""
    u = socket.socket(family, socket.SOCK_DGRAM)
    u.sendto(b"x" * 150, (peer, 9))
    u.close()


def server(name: str, family: int) -> None:
    me, peer = (V6 if family == socket.AF_INET6 else V4)[::-1]
    sink = socket.socket(family, socket.SOCK_DGRAM)  # the fillers' port: no ICMP back
    sink.bind((me, 9))
    if name == "simultaneous-open":
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((me, PORT))
        _shape("tcpm1", True)
        at = _ready()
        _wait_until(at)
        _filler(family, peer)
        s.connect((peer, CLIENT_PORT))
        time.sleep(0.6)
        _shape("tcpm1", False)
        assert _recv_all(s, len(REQUEST)) == REQUEST
        s.sendall(RESPONSE)
        _drain(s)
        time.sleep(0.1)
        s.close()
        time.sleep(0.5)
        return
    ls = socket.socket(family, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((me, PORT))
    ls.listen(16)
    at = _ready()
    if name == "mixed":
        _mixed_server(ls)
        return
    rounds = MANY if name == "many" else 2 if name == "time-wait-reuse" else 1
    for _ in range(rounds):
        c, _addr = ls.accept()
        if name == "fin-with-data":
            assert _recv_all(c, len(REQUEST)) == REQUEST
            _drain(c)
            time.sleep(0.05)
            c.close()
            continue
        assert _recv_all(c, len(REQUEST)) == REQUEST
        c.sendall(RESPONSE)
        if name in ("server-first", "time-wait-reuse"):
            time.sleep(0.05)
            c.close()
            continue
        if name == "simultaneous-close":
            _shape("tcpm1", True)
            _wait_until(at + 0.5)
            _filler(family, peer)
            c.close()
            time.sleep(1.5)
            continue
        _drain(c)
        if name != "many":
            time.sleep(0.05)
        c.close()
    time.sleep(0.3)
    ls.close()


def client(name: str, family: int) -> None:
    me, peer = V6 if family == socket.AF_INET6 else V4
    sink = socket.socket(family, socket.SOCK_DGRAM)
    sink.bind((me, 9))
    rounds = MANY if name == "many" else 2 if name == "time-wait-reuse" else 1
    at = _ready()
    _wait_until(at + (0.03 if name == "simultaneous-open" else 0.0))
    if name == "mixed":
        _mixed_client(family, peer)
        return
    for k in range(rounds):
        s = socket.socket(family, socket.SOCK_STREAM)
        if name in ("simultaneous-open", "time-wait-reuse"):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((me, CLIENT_PORT))
        s.connect((peer, PORT))
        if name == "fin-with-data":
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
            s.sendall(REQUEST)
            s.close()
            time.sleep(0.5)
            return
        s.sendall(REQUEST)
        assert _recv_all(s, len(RESPONSE)) == RESPONSE
        if name == "abort":
            time.sleep(0.05)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
            time.sleep(0.2)
            return
        if name == "simultaneous-close":
            _wait_until(at + 0.53)
            s.close()
            time.sleep(1.5)
            return
        if name in ("server-first", "time-wait-reuse"):
            _drain(s)
            time.sleep(0.05)
            s.close()
            time.sleep(0.2)
            if k == 0 and name == "time-wait-reuse":
                time.sleep(0.1)
            continue
        if name != "many":
            time.sleep(0.05)
        s.close()
    time.sleep(0.6 if name == "fin-retransmission" else 0.2)


def _mixed_server(ls: socket.socket) -> None:
    for k in range(MIXED):
        kind = MIXED_KINDS[k % len(MIXED_KINDS)]
        c, _addr = ls.accept()
        assert _recv_all(c, len(REQUEST)) == REQUEST
        if kind != "fin-with-data":
            c.sendall(RESPONSE)
        if kind == "two-requests":
            assert _recv_all(c, len(REQUEST)) == REQUEST
            c.sendall(RESPONSE)
        if kind == "server-first":
            time.sleep(0.02)
        else:
            _drain(c)
        c.close()
    time.sleep(0.3)
    ls.close()


def _mixed_client(family: int, peer: str) -> None:
    for k in range(MIXED):
        kind = MIXED_KINDS[k % len(MIXED_KINDS)]
        s = socket.socket(family, socket.SOCK_STREAM)
        s.connect((peer, PORT))
        if kind == "fin-with-data":
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
            s.sendall(REQUEST)
            s.close()
            continue
        s.sendall(REQUEST)
        assert _recv_all(s, len(RESPONSE)) == RESPONSE
        if kind == "two-requests":
            s.sendall(REQUEST)
            assert _recv_all(s, len(RESPONSE)) == RESPONSE
        if kind == "abort":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif kind == "server-first":
            _drain(s)
        s.close()
    time.sleep(1.0)


# --- the harness (root) ------------------------------------------------------------------


class Failed(Exception):
    pass


def _run(*cmd: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False)
    if done.returncode != 0:
        raise Failed(f"{' '.join(cmd)}: {done.stderr.strip() or done.returncode}")


def _netns(tag: str, sc: Scenario) -> tuple[str, str]:
    c, s = f"tcpm{tag}c", f"tcpm{tag}s"
    for ns in (c, s):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)
        _run("ip", "netns", "add", ns)
    _run(
        "ip",
        "link",
        "add",
        "tcpm0",
        "netns",
        c,
        "type",
        "veth",
        "peer",
        "name",
        "tcpm1",
        "netns",
        s,
    )
    for ns, dev, k in ((c, "tcpm0", 0), (s, "tcpm1", 1)):
        _run("ip", "-n", ns, "link", "set", "lo", "up")
        _run("ip", "-n", ns, "addr", "add", f"{V4[k]}/24", "dev", dev)
        _run("ip", "-n", ns, "addr", "add", f"{V6[k]}/64", "dev", dev, "nodad")
        _run("ip", "-n", ns, "link", "set", dev, "up")
        _run("ip", "-n", ns, "route", "replace", "10.89.0.0/24", "dev", dev, "quickack", "1")
        _run("ip", "-n", ns, "-6", "route", "replace", "fd89::/64", "dev", dev, "quickack", "1")
        _run("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv4.tcp_timestamps=0")
    if sc.rules:
        other = s if sc.capture == "c" else c
        table = ["ip", "netns", "exec", other, "nft"]
        _run(*table, "add", "table", "inet", "tcpm")
        for hook in ("input", "output"):
            _run(
                *table,
                "add",
                "chain",
                "inet",
                "tcpm",
                hook,
                f"{{ type filter hook {hook} priority 0; }}",
            )
        for rule in sc.rules:
            hook, _, body = rule.partition(" ")
            _run(*table, "add", "rule", "inet", "tcpm", hook, *body.split())
    return c, s


def make(sc: Scenario, out: Path, tag: str) -> Path:
    c, s = _netns(tag, sc)
    target = out / f"{sc.name}.pcap"
    tmp = out / f".{sc.name}.pcap.tmp"
    dump = None
    try:
        dev = "any" if sc.any_device else ("tcpm0" if sc.capture == "c" else "tcpm1")
        ns = c if sc.capture == "c" else s
        dump = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                ns,
                "tcpdump",
                "-i",
                dev,
                # Each packet handed to tcpdump at once: otherwise the kernel holds them in a
                # block until it fills or times out, and a short scenario ends (SIGINT) with
                # "N packets received by filter" and none written.
                "--immediate-mode",
                "-U",
                "-n",
                "-s",
                "96",
                "-w",
                str(tmp),
                "tcp",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert dump.stderr is not None
        lines = [dump.stderr.readline()]  # "listening on ...", after a warning with -i any
        if "listening" not in lines[0]:
            lines.append(dump.stderr.readline())
        if not any("listening" in line for line in lines):
            raise Failed(f"tcpdump did not start: {' '.join(x.strip() for x in lines)}")
        family = "6" if sc.ipv6 else "4"
        me = str(Path(__file__).resolve())
        procs: list[subprocess.Popen[str]] = []
        for ns_, role in ((s, "server"), (c, "client")):
            p = subprocess.Popen(
                [
                    "ip",
                    "netns",
                    "exec",
                    ns_,
                    sys.executable,
                    me,
                    "--role",
                    role,
                    "--scenario",
                    sc.name,
                    "--family",
                    family,
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            assert p.stdout is not None and p.stdin is not None
            procs.append(p)
            ready = p.stdout.readline()  # each script says "ready" once its sockets are bound
            if ready.strip() != "ready":
                raise Failed(f"{sc.name}: the {role} script did not start: {ready.strip()}")
        at = time.time() + 0.2
        for p in procs:
            assert p.stdin is not None
            p.stdin.write(f"{at!r}\n")
            p.stdin.flush()
        for p in procs:
            try:
                output, _ = p.communicate(timeout=sc.seconds + 10)
            except subprocess.TimeoutExpired:
                p.kill()
                raise Failed(f"{sc.name}: a socket script did not finish") from None
            if p.returncode != 0:
                raise Failed(f"{sc.name}: a socket script failed: {output.strip()[-300:]}")
        time.sleep(0.2)
        dump.send_signal(signal.SIGINT)
        dump.wait(timeout=10)
        dump = None
        os.replace(tmp, target)
        return target
    finally:
        if dump is not None:
            dump.kill()
            dump.wait()
        tmp.unlink(missing_ok=True)
        for ns in (c, s):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)


def missing_tools() -> list[str]:
    return [t for t in TOOLS if shutil.which(t) is None]


def regenerate(out: Path, names: list[str] | None = None) -> dict[str, str]:
    """Make the captures ``names`` (default: all) in ``out``; scenario -> error for failures."""
    out.mkdir(parents=True, exist_ok=True)
    errors: dict[str, str] = {}
    if os.geteuid() != 0:
        return {"*": "not running as root (network namespaces need it)"}
    if missing_tools():
        return {"*": f"missing tools: {', '.join(missing_tools())}"}
    tag = str(os.getpid() % 10000)
    for sc in SCENARIOS:
        if names and sc.name not in names:
            continue
        try:
            for _attempt in range(2):  # tcpdump's first capture in a new namespace may be empty
                if make(sc, out, tag).stat().st_size > 24:
                    break
            else:
                errors[sc.name] = "tcpdump captured nothing"
        except (Failed, OSError, subprocess.SubprocessError) as e:
            errors[sc.name] = str(e)
    return errors


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("names", nargs="*", help="scenarios (default: all)")
    ap.add_argument("--out", type=Path, default=HERE)
    ap.add_argument("--role", choices=("client", "server"))
    ap.add_argument("--scenario")
    ap.add_argument("--family", default="4")
    args = ap.parse_args()
    if args.role:
        family = socket.AF_INET6 if args.family == "6" else socket.AF_INET
        (server if args.role == "server" else client)(args.scenario, family)
        return 0
    known = {sc.name for sc in SCENARIOS}
    unknown = [n for n in args.names if n not in known]
    if unknown:
        print(f"unknown scenario {unknown[0]}; known: {', '.join(sorted(known))}")
        return 2
    errors = regenerate(args.out, args.names or None)
    for name, why in errors.items():
        print(f"{name}: FAILED: {why}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
