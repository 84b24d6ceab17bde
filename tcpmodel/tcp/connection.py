"""The ``connection`` model: client ``a`` and server ``b`` on one 4-tuple, over a faulty network.

Components (each adds variables and actions to one `Builder`; the hosts are in
`tcpmodel.tcp.hosts`, the attacker in `tcpmodel.tcp.attacker`):

* `Client` ``a``: actively opens (OPEN), sends ``data`` units, closes, may ABORT (RST,
  SO_LINGER 0) or crash (all state lost), and reconnects on the same 4-tuple up to
  ``incarnations`` times.  ``a.hold`` counts the ticks before it may open again: one after an
  close (time passes between incarnations), MSL after a crash when ``quiet_time`` is on
  (RFC 9293 3.4.3), during which it sends nothing at all.
* `Server` ``b``: LISTENs from the start and again as soon as a connection ends (RFC 9293
  3.10.1 passive OPEN; its CLOSED instant is not a state of its own), may do one active OPEN
  from LISTEN (SEND in LISTEN, for simultaneous open), closes passively or first, and may
  delay the ACK of a FIN so that it rides on its own FIN (three-way close).  With
  ``syn_in_time_wait = "rfc6191"`` a newer SYN reaching it in TIME-WAIT opens the next
  connection at once (RFC 6191), as LISTEN would.
* `Network` (`tcpmodel.tcp.network`): loss, duplication, reordering, MSL.
* the clock: ``tick`` ages segments and runs timers; timers are urgent (no tick while one is
  due), and the ISN clock ``isn.clock`` advances ``isn_rate`` per tick modulo 2**seq_bits.

* the off-path attacker (``attacker = "offpath"``, RFC 1948 section 1): it knows the ISN clock
  and the ISN policy but sees no segment; it sends ``b`` a SYN with ``a``'s address, then,
  without seeing ``b``'s SYN,ACK, an ACK of the ISS it predicts (``isn.clock + att.delta``)
  carrying one data unit.  ``att.delta``, its strategy, is chosen in the initial state over the
  whole sequence space, as is the keyed ISN's secret ``isn.secret`` with ``isn_secret =
  "any"``; ``exists_forall(att.delta, isn.secret, b.injected)`` (`tcpmodel.formula`) asks for
  one strategy that wins whatever the secret.  ``a_down``: the real ``a`` is down or flooded
  and answers nothing (the classic attack needs its silence).

Incarnations: ``a.inc`` numbers a's connections; every segment carries the sender's ``inc`` as
a ghost tag, and ``b.inc`` is the tag of the SYN ``b`` synchronised on.  So "data from an older
incarnation was accepted" is the state predicate ``b.old_data``.
"""

from __future__ import annotations

from collections.abc import Mapping

from tcpmodel.kernel.expr import (
    Expr,
    and_,
    ite,
    lift,
    not_,
)
from tcpmodel.kernel.system import Builder, System, Updates
from tcpmodel.kernel.types import BOOL, IntType, SeqType
from tcpmodel.models.base import DEADLOCK_FREE, LibraryProperty, Model, ParamValue
from tcpmodel.tcp.attacker import add_attacker
from tcpmodel.tcp.endpoint import STATE, SYNCHRONIZED
from tcpmodel.tcp.hosts import Client, Server
from tcpmodel.tcp.network import Network
from tcpmodel.tcp.params import LINUX, PARAMS, ConnectionParams


def build(values: Mapping[str, ParamValue]) -> System:
    p = ConnectionParams.of(values)
    bits = p.seq_bits
    seq = SeqType(bits)
    msl = p.msl
    tw = p.time_wait_ticks
    b = Builder("connection")
    policy = p.isn
    clock = (
        b.var("isn.clock", seq, doc="the ISN clock (RFC 9293 3.4.1)") if policy != "fixed" else None
    )
    any_secret = p.isn_secret == "any"
    offpath = p.offpath
    secret_var = (
        b.var(
            "isn.secret",
            seq,
            doc="keyed ISN: F(4-tuple, secret) of RFC 6528, chosen in the initial state",
        )
        if any_secret
        else None
    )
    secret = 0 if isinstance(p.isn_secret, str) else p.isn_secret
    # RFC 7323 timestamp clock: one per host, monotonic across incarnations (also across a
    # crash: RFC 1323 B.1), kept modulo 2**seq_bits and compared like sequence numbers.
    ts = b.var("ts.clock", seq, doc="the timestamp clock") if p.timestamps else None

    def ts_of(host: int) -> Expr:
        assert ts is not None
        return ts + host * (1 << (bits - 1))

    def isn_of(host: int) -> Expr:
        offset = host * (1 << (bits - 1))  # the two hosts' clocks are unrelated
        if clock is None:
            return lift(offset, seq)
        if policy == "keyed" and secret_var is not None:
            return clock + secret_var + offset  # RFC 6528: M + F, F ranging over every value
        if policy == "keyed":
            return clock + (secret * (host + 1) + offset)  # RFC 6528: M + F(4-tuple, secret)
        return clock + offset

    net = Network(b, p)
    lag = p.peer_ts_lag

    def a_ts(inc: Expr) -> Expr:
        # Two hosts take turns as a (odd incarnations: the second), with unrelated clocks.
        return (
            ts_of(0) if not lag else ts_of(0) - ite((inc % 2).eq(1), lift(lag, seq), lift(0, seq))
        )

    a = Client(b, "a", seq, net, p, lambda: isn_of(0), "CLOSED", a_ts)
    a.declare()
    b_time_wait = tw
    if p.tw_recycle:
        # Linux tcp_time_wait with recycle: TIME-WAIT lasts 3.5 RTO, (rto << 2) - (rto >> 1),
        # the connection's RTO: about TCP_TIMEOUT_INIT (1 s) without RTT samples, far below
        # a tick of tick_seconds (15 s in the Linux profile): one tick.
        tick = p.tick_seconds
        b_time_wait = max(1, -(-7 // (2 * tick)) if tick else 1)
    srv = Server(
        b, "b", seq, net, p, lambda: isn_of(1), "LISTEN", lambda inc: ts_of(1), b_time_wait
    )
    srv.rest = "LISTEN"  # a server listens again as soon as a connection ends
    srv.declare()
    srv.client = a
    # Only b's active OPEN brings either end into an active SYN-RECEIVED (Figure 7).
    a.close_unsynced = srv.close_unsynced = p.b_active_open != "never"
    a.silent = p.a_down
    if offpath:
        srv.injected = b.var(
            "b.injected",
            BOOL,
            doc="ghost: b's RCV.NXT advanced over data of a segment the attacker forged",
        )
    for e in (a, srv):
        e.add_receive_actions()
        e.add_timer_actions()
    if not p.a_down:
        a.add_user_actions()
    srv.add_user_actions(a)
    net.add_fault_actions()
    u = Updates()
    a.tick(u)
    srv.tick(u)
    net.age(u)
    if clock is not None:
        u.set(clock, clock + p.isn_rate)
    if ts is not None:
        u.set(ts, ts + 1)
    horizon = p.horizon
    can_tick = and_(a.timer.ne(1), srv.timer.ne(1), not_(srv.ack_delayed), net.may_tick())
    tick_rule = (
        "time passes: segments age (none outlives MSL), timers run (a due timer fires first)"
    )
    if offpath:
        delta = add_attacker(b, seq, net, a, clock, ts_of if ts is not None else None)
        # The attacker knows the path delay: its forged segments arrive (or are lost) before
        # the ISN clock moves, so a network delay can never line its guess up with a secret
        # (that would be luck, not a strategy).
        can_tick = and_(can_tick, not_(net.spoofed_in_flight()))
        tick_rule += "; not while a forged segment is in flight (the attacker knows the delay)"
        for s_value in range(1 << bits) if any_secret else [None]:
            for d_value in range(1 << bits):
                over = {delta.name: d_value}
                if s_value is not None:
                    over["isn.secret"] = s_value
                b.initial(**over)
    elif any_secret:
        for s_value in range(1 << bits):
            b.initial(**{"isn.secret": s_value})
    if horizon:
        # A bounded run: `horizon` ticks in all.  Keeping it below the ISN clock's period
        # (2**seq_bits / isn_rate ticks) keeps the clock from wrapping, as a 32-bit clock does
        # not within the lifetimes that matter (4.55 hours at 250,000 per second, RFC 793).
        now = b.var("time", IntType(0, horizon), doc="ticks so far (the run's horizon)")
        u.set(now, now + 1)
        can_tick = and_(can_tick, now.lt(horizon))
        # The run ends at the horizon: a state there with nothing left to do is its end, not
        # a deadlock.
        b.terminal = now.eq(horizon)
    b.action("tick", can_tick, u, tick_rule, group="clock")
    # Fairness for liveness (RFC 9293's progress assumptions): time passes and due timers fire
    # (weak); a segment offered again and again is delivered again and again (strong), which
    # is what retransmission relies on.  The model gives segments no identity, so delivery
    # fairness is per arrival of a segment in a given slot: each receive action with its slot
    # (``b.ack_closing(slot=1)``) that is possible infinitely often is taken infinitely often.
    # A network that delivers some other segment each time does not count.
    # Names for invariants (specs' [[invariant]]s, k-induction): the ISN each host would
    # choose now, and what its ISN policy adds to the ISN clock, so that
    # ``seq_to_int(b.iss - isn.b_offset)`` is the clock reading when b chose its ISS whatever
    # the policy adds; and the configuration's timing constants.
    b.define("isn.a", isn_of(0))
    b.define("isn.b", isn_of(1))
    b.define("isn.a_offset", isn_of(0) if clock is None else isn_of(0) - clock)
    b.define("isn.b_offset", isn_of(1) if clock is None else isn_of(1) - clock)
    b.define("cfg.msl", lift(msl))
    b.define("cfg.time_wait", lift(tw))
    b.define("cfg.isn_rate", lift(p.isn_rate))
    b.define("cfg.horizon", lift(horizon))
    b.fair("weak", "clock")
    b.fair("weak", "a.timer")
    b.fair("weak", "b.timer")
    system = b.build()
    for label in dict.fromkeys(a.label for a in system.actions if a.group.endswith(".recv")):
        b.fair("strong", label)
    return b.build()


# The states of an end that has called CLOSE (RFC 9293 Figure 5, below ESTABLISHED).
CLOSING_STATES = ("FIN_WAIT_1", "FIN_WAIT_2", "CLOSING", "TIME_WAIT", "LAST_ACK")


def _both(fmt: str) -> str:
    return f"({fmt.format(x='a', y='b')}) and ({fmt.format(x='b', y='a')})"


PROPERTIES = (
    LibraryProperty(
        "handshake",
        "reachable(a.state == ESTABLISHED and b.state == ESTABLISHED)",
        "the three-way handshake completes (RFC 9293 3.5, Figure 6)",
    ),
    LibraryProperty(
        "simultaneous-open",
        "reachable(a.state == SYN_RECEIVED and b.state == SYN_RECEIVED "
        "and not a.passive and not b.passive)",
        "both ends open actively and their SYNs cross (RFC 9293 Figure 7)",
    ),
    LibraryProperty(
        "simultaneous-close",
        "reachable(a.state == CLOSING and b.state == CLOSING)",
        "both ends close at once and their FINs cross (RFC 9293 Figure 13)",
    ),
    LibraryProperty(
        "three-way-close",
        "reachable(b.three_way and a.state == TIME_WAIT)",
        "the passive closer's FIN carries the ACK of the active closer's FIN",
    ),
    LibraryProperty(
        "isn-agreement",
        "always(a.state == ESTABLISHED and b.state == ESTABLISHED and a.inc == b.inc implies "
        + _both(
            "{x}.irs == {y}.iss and seq_le({y}.snd_una, {x}.rcv_nxt) "
            "and seq_le({x}.rcv_nxt, {y}.snd_nxt)"
        )
        + ")",
        "two established ends of one incarnation agree on each other's sequence numbers",
    ),
    LibraryProperty(
        "no-old-data",
        "always(not a.old_data and not b.old_data)",
        "no RCV.NXT ever advances over data sent by an older incarnation",
    ),
    LibraryProperty(
        "no-old-fin",
        "always(not a.old_fin and not b.old_fin)",
        "no FIN of an older incarnation ever moves a newer incarnation's state",
    ),
    LibraryProperty(
        "clean-close",
        "always((a.fin_reset or b.fin_reset) implies (a.killed or b.killed or net.overflow))",
        "the passive closer, after sending its FIN (LAST-ACK), is never reset (by an RST, or "
        "a SYN in window), assuming no ABORT, crash or retransmission give-up after the first "
        "FIN (the `killed` ghosts) and no more losses than the budget (`net.overflow`) in that "
        "incarnation (the ghosts start anew when b takes a newer incarnation); other segments "
        "arrive within MSL",
    ),
    LibraryProperty(
        "close-terminates",
        "leads_to("
        + " and ".join(
            "(" + " or ".join(f"{x}.state == {s}" for s in CLOSING_STATES) + ")" for x in "ab"
        )
        + ", a.state == CLOSED and (b.state == CLOSED or b.state == LISTEN))",
        "once both ends have called CLOSE (both in a closing state), eventually both are CLOSED "
        "(b, a passive opener, back in LISTEN); a liveness property, checked under fairness",
    ),
    LibraryProperty(
        "no-old-rst",
        "always(not a.old_rst and not b.old_rst)",
        "no RST of an older incarnation ever resets a newer incarnation's connection (an RST "
        "a port without a connection sends belongs to the segment it answers)",
    ),
    LibraryProperty(
        "connects",
        "leads_to(a.state == SYN_SENT, a.state == ESTABLISHED)",
        "every connection a opens is eventually established; a liveness property, checked "
        "under fairness",
    ),
    DEADLOCK_FREE,
)

MODEL = Model(
    "connection",
    "RFC 9293 connection management: client a and server b on one 4-tuple, lossy network.",
    PARAMS,
    build,
    PROPERTIES,
    {"linux": LINUX},
)

__all__ = ["LINUX", "MODEL", "PARAMS", "STATE", "SYNCHRONIZED", "ConnectionParams"]
