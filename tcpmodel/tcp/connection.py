"""The ``connection`` model: client ``a`` and server ``b`` on one 4-tuple, over a faulty network.

Components (each adds variables and actions to one `Builder`):

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

from collections.abc import Callable, Mapping

from tcpmodel.kernel.expr import (
    FALSE,
    TRUE,
    Expr,
    Lit,
    Var,
    and_,
    enum_const,
    ite,
    lift,
    not_,
    or_,
    seq_lt,
)
from tcpmodel.kernel.system import Builder, System, Updates
from tcpmodel.kernel.types import BOOL, EnumType, IntType, SeqType
from tcpmodel.models.base import DEADLOCK_FREE, LibraryProperty, Model, ParamValue
from tcpmodel.tcp.endpoint import STATE, SYNCHRONIZED, Endpoint, st
from tcpmodel.tcp.network import Network, Segment
from tcpmodel.tcp.params import LINUX, PARAMS, ConnectionParams

HOW = EnumType("ended", ("NORMAL", "ABORT", "CRASH"))
ATT_PHASE = EnumType("att_phase", ("IDLE", "SYN_SENT", "DONE"))
# The ISN the attacker uses for its own side of the forged connection (any value would do).
ATT_ISN = 0


class Client(Endpoint):
    def declare(self) -> None:
        b, p = self.b, self.p
        self.msl = p.msl
        self.quiet = p.quiet_time
        self.a_unsent = self.declare_data(p.data)
        self.declare_unread(p.b_data > 0)
        self.started = b.var("a.started", BOOL, doc="a has opened a connection")
        self.hold = b.var("a.hold", IntType(0, self.msl), doc="ticks before a may open again")
        self.how = b.var("a.how", HOW, "NORMAL", doc="how the last connection ended")
        self.reuse = p.tw_reuse
        if self.reuse:
            self.tw_ticked = b.var("a.tw_ticked", BOOL, doc="a tick passed in TIME-WAIT")

    def to_closed(self, u: Updates, state: str | None = None) -> None:
        super().to_closed(u, state)
        # Any end but a completed close (reset, R2 timeout, ABORT) is abortive: whether the
        # client may reconnect after it is `reconnect_after_abort`.
        u.set(self.how, "ABORT")
        u.set(self.a_unsent, 0)
        u.set(self.hold, ite(u.current(self.hold).gt(1), u.current(self.hold), lift(1)))

    def closed_after_close(self, u: Updates) -> None:
        super().closed_after_close(u)
        u.set(self.how, "NORMAL")
        # TIME-WAIT's ticks already separate the incarnations; without it, one tick must pass.
        u.set(self.hold, 0 if self.time_wait else 1)

    def on_time_wait_reset(self, u: Updates, when: Expr) -> None:
        # The connection had closed normally, so a may reopen (after the usual tick): with
        # rfc1337 off, TIME-WAIT assassination ends the wait early (RFC 1337 section 2).
        u.set(self.how, ite(when, enum_const(HOW, "NORMAL"), u.current(self.how)))

    def may_reply_when_closed(self) -> Expr:
        return not_(and_(self.how.eq("CRASH"), self.hold.gt(0)))

    def on_abort(self, u: Updates) -> None:
        u.set(self.how, "ABORT")

    def add_user_actions(self) -> None:
        b, p, net = self.b, self.p, self.net
        incs = p.incarnations
        again = or_(
            self.how.eq("NORMAL"),
            and_(self.how.eq("ABORT"), p.reconnect_after_abort),
            and_(self.how.eq("CRASH"), p.reconnect_after_crash),
        )

        def opening(u: Updates) -> None:
            iss = self.isn()
            u.set(self.inc, ite(self.started, self.inc + 1, lift(0)))
            u.set(self.started, True)
            u.set(self.how, "NORMAL")
            u.set(self.iss, iss)
            u.set(self.irs, 0)
            u.set(self.rcv_nxt, 0)
            u.set(self.snd_una, iss)
            u.set(self.snd_nxt, iss + 1)
            u.set(self.state, st("SYN_SENT"))
            u.set(self.timer, self.p.rto + 1)
            u.set(self.tries, 0)
            u.set(self.a_unsent, self.data)
            net.reset_budgets(u)
            self.emit(u, {"syn": True, "seq": iss})

        u = Updates()
        opening(u)
        b.action(
            "a.open",
            and_(
                self.state.eq("CLOSED"),
                self.hold.eq(0),
                or_(not_(self.started), and_(self.inc.lt(incs - 1), again)),
            ),
            u,
            "RFC 9293 3.10.1 OPEN (active): <SEQ=ISS><CTL=SYN>, SYN-SENT",
            group="a.user",
        )
        if p.tw_reuse:
            # Linux tcp_tw_reuse: connect() may take over a 4-tuple in TIME-WAIT.  The new
            # connection keeps TS.Recent, so PAWS drops the old incarnation's duplicates.
            guard = and_(self.tw_ticked, p.timestamps) if p.tw_reuse_guard else lift(True)
            u = Updates()
            opening(u)
            b.action(
                "a.reuse",
                and_(self.state.eq("TIME_WAIT"), self.inc.lt(incs - 1), guard),
                u,
                "Linux tcp_tw_reuse: OPEN on a 4-tuple in TIME-WAIT"
                + (
                    " once the timestamp clock has ticked; TS.Recent is inherited"
                    if p.tw_reuse_guard
                    else " (without the timestamp guard)"
                ),
                group="a.user",
            )
        self.add_send()
        self.add_close()
        last = self.inc.eq(incs - 1)
        if p.abort:
            self.add_abort(or_(last, p.reconnect_after_abort))
        if p.close_early:
            # CLOSE in SYN-SENT: "Delete the TCB and return 'error: closing' responses to any
            # queued SENDs, or RECEIVEs" (RFC 9293 3.10.4).  Nothing is sent; the end is
            # abortive, so a reconnects only with `reconnect_after_abort`.
            u = Updates()
            self.to_closed(u)
            b.action(
                "a.close_syn_sent",
                and_(self.is_("SYN_SENT"), or_(last, p.reconnect_after_abort)),
                u,
                "RFC 9293 3.10.4 CLOSE in SYN-SENT: delete the TCB, send nothing",
                group="a.user",
            )
        if p.crash:
            u = Updates()
            self.to_closed(u)
            u.set(self.how, "CRASH")
            u.set(self.hold, self.msl if self.quiet else 1)
            u.set(self.killed, or_(self.killed, self.after_fin()))
            b.action(
                "a.crash",
                and_(not_(self.state.eq("CLOSED")), or_(last, p.reconnect_after_crash)),
                u,
                "host crash: all connection state is lost (RFC 9293 3.5.1)"
                + ("; quiet time of MSL (RFC 9293 3.4.3)" if self.quiet else ""),
                group="a.crash",
            )

    def tick(self, u: Updates) -> None:
        super().tick(u)
        u.set(self.hold, ite(self.hold.gt(0), self.hold - 1, self.hold))
        if self.reuse:
            u.set(self.tw_ticked, self.state.eq("TIME_WAIT"))

    def enter_time_wait(self, u: Updates) -> None:
        super().enter_time_wait(u)
        if self.reuse:
            u.set(self.tw_ticked, False)


class Server(Endpoint):
    client: Endpoint  # the client, whose ghosts b's new connections reset too

    def declare(self) -> None:
        b, p = self.b, self.p
        self.active_open = p.b_active_open
        self.close_first = p.b_close_first
        self.ack_delayed = b.var("b.ack_delayed", BOOL, doc="the ACK of a FIN is delayed")
        self.three_way = b.var("b.three_way", BOOL, doc="ghost: b sent FIN,ACK acking a FIN")
        self.active_used = b.var("b.active_used", BOOL, doc="b did its active OPEN")
        self.may_abort = p.b_abort
        self.recycle = 0
        if p.tw_recycle:
            self.declare_recycle()
        if p.b_data:
            self.declare_data(p.b_data)
        self.declare_unread(p.data > 0)
        self.age_cap = 0
        if p.synrcvd_age:
            # Ticks spent in SYN-RECEIVED: at most the whole SYN,ACK schedule (the first RTO
            # and one per retransmission), saturating one past it (and at 255 with unlimited
            # retries).
            k = self.p
            schedule = sum(min(k.rto << n, k.rto_cap) for n in range(k.synack_retries + 1))
            self.age_cap = 255 if k.retries_unlimited else schedule + 1
            self.synrcvd_age = b.var(
                "b.synrcvd_age",
                IntType(0, self.age_cap),
                doc="ghost: seconds (ticks) b has spent in SYN-RECEIVED",
            )

    def tick(self, u: Updates) -> None:
        super().tick(u)
        if self.recycle:
            age = self.peer_ts_age
            u.set(age, ite(and_(self.peer_ts_ok, age.lt(self.recycle)), age + 1, age))
        if self.age_cap:
            age = self.synrcvd_age
            u.set(
                age,
                ite(
                    self.state.eq("SYN_RECEIVED"),
                    ite(age.lt(self.age_cap), age + 1, age),
                    lift(0),
                ),
            )

    def delayed_ack_possible(self, state: str) -> bool:
        return state == "ESTABLISHED"

    def declare_recycle(self) -> None:
        """Linux tcp_tw_recycle (removed in 4.12): when a connection enters TIME-WAIT the
        listener caches, per peer address, the last timestamp it saw (tcp_tw_remember_stamp);
        for TCP_PAWS_MSL (60 s) a SYN from that address with an older TSval is dropped."""
        p = self.p
        self.recycle = 60 // p.tick_seconds  # a divisor of 60 (`ConnectionParams` checks)
        self.nat = p.nat
        self.lag = p.peer_ts_lag
        b = self.b
        self.peer_ts = b.var("b.peer_ts", self.seq_t, doc="tw_recycle: cached peer TSval")
        self.peer_ts_ok = b.var("b.peer_ts_ok", BOOL, doc="tw_recycle: a TSval is cached")
        self.peer_ts_age = b.var(
            "b.peer_ts_age", IntType(0, self.recycle), doc="tw_recycle: ticks since it was cached"
        )
        self.peer_inc = b.var(
            "b.peer_inc",
            IntType(0, self.p.incarnations - 1),
            doc="tw_recycle: the incarnation whose host's address the cache holds",
        )
        self.recycle_drop = b.var(
            "b.recycle_drop", BOOL, doc="ghost: LISTEN dropped a SYN on tw_recycle's cache"
        )

    def on_listen_drop(self, u: Updates) -> None:
        u.set(self.recycle_drop, True)

    def enter_time_wait(self, u: Updates) -> None:
        super().enter_time_wait(u)
        if self.recycle:
            u.set(self.peer_ts, self.ts_recent)
            u.set(self.peer_ts_ok, self.ts_ok)
            u.set(self.peer_ts_age, 0)
            u.set(self.peer_inc, self.inc)

    def other_address(self, seg: Segment) -> Expr:
        if not self.recycle or self.nat or not self.lag:
            return FALSE
        # Without NAT a's two hosts (odd and even incarnations) have addresses of their own.
        return (seg.inc % 2).ne(self.inc % 2)

    def listen_drops(self, seg: Segment) -> Expr:
        if not self.recycle or seg.ts is None:
            return FALSE
        # Behind one NAT every client has the NAT's address; otherwise a's incarnations are
        # hosts of their own and only the cached one's SYNs are looked up.
        same = TRUE if self.nat else seg.inc.eq(self.peer_inc)
        # tcp_peer_is_proven: (s32)(cached - TSval) > TCP_PAWS_WINDOW (1).
        return and_(
            self.peer_ts_ok,
            self.peer_ts_age.lt(self.recycle),
            same,
            seq_lt(seg.ts + 1, self.peer_ts),
        )

    def on_passive_open(self, u: Updates, s: Segment) -> None:
        if self.unsent is not None:
            u.set(self.unsent, self.data)
        self.new_incarnation(u, s.inc)

    def new_incarnation(self, u: Updates, inc: Expr) -> None:
        """b takes a connection of incarnation ``inc``: if it is a new one, the ghosts of
        clean-close (a reset in LAST-ACK, and its excuses: an ABORT, crash or give-up after a
        FIN, a loss past the budget) start anew, so that what happened to one incarnation
        excuses nothing in the next (a stale SYN of the same incarnation changes nothing)."""
        new = inc.ne(self.inc)
        for e in (self, self.client):
            u.set(e.fin_reset, and_(e.fin_reset, not_(new)))
            u.set(e.killed, and_(e.killed, not_(new)))
        u.set(self.net.overflow, and_(self.net.overflow, not_(new)))

    def to_closed(self, u: Updates, state: str | None = None) -> None:
        super().to_closed(u, state)
        u.set(self.ack_delayed, False)  # the delayed ACK dies with its connection
        if self.unsent is not None:
            u.set(self.unsent, 0)

    def on_delayed_ack(self, u: Updates, s: object) -> None:
        u.set(self.ack_delayed, True)

    def on_close(self, u: Updates, state: str) -> None:
        if state == "CLOSE_WAIT":
            u.set(self.three_way, or_(self.three_way, self.ack_delayed))
        u.set(self.ack_delayed, False)

    def add_user_actions(self, a: Client) -> None:
        b = self.b
        if self.p.close_early:
            # CLOSE in LISTEN: "Any outstanding RECEIVEs are returned with 'error: closing'
            # responses. Delete TCB, enter CLOSED state" (RFC 9293 3.10.4).  The listener is
            # gone for good (a's next SYN meets a closed port), so only in a's last incarnation.
            u = Updates()
            self.to_closed(u, "CLOSED")
            b.action(
                "b.close_listen",
                and_(self.state.eq("LISTEN"), a.inc.eq(self.p.incarnations - 1)),
                u,
                "RFC 9293 3.10.4 CLOSE in LISTEN: delete the TCB, CLOSED",
                group="b.user",
            )
        if self.active_open != "never":
            u = Updates()
            iss = self.isn()
            u.set(self.iss, iss)
            u.set(self.snd_una, iss)
            u.set(self.snd_nxt, iss + 1)
            u.set(self.state, st("SYN_SENT"))
            u.set(self.inc, a.inc)
            u.set(self.timer, self.p.rto + 1)
            u.set(self.active_used, True)
            if self.unsent is not None:
                u.set(self.unsent, self.data)
            self.new_incarnation(u, a.inc)
            self.emit(u, {"syn": True, "seq": iss})
            b.action(
                "b.connect",
                # The simultaneous-open scenario (RFC 9293 Figure 7): b's user opens while
                # a's SYN is on its way.  An OPEN at any other time sends a SYN that no
                # incarnation of a is waiting for, and its duplicates outlive a's TIME-WAIT.
                and_(
                    self.state.eq("LISTEN"),
                    not_(self.active_used),
                    a.state.eq("SYN_SENT"),
                    a.inc.eq(self.p.incarnations - 1) if self.active_open == "last" else TRUE,
                ),
                u,
                "RFC 9293 3.10.1 OPEN (active) or 3.10.2 SEND in LISTEN: "
                "<SEQ=ISS><CTL=SYN>, SYN-SENT",
                group="b.user",
            )
        first = {"always": TRUE, "never": FALSE, "last": self.inc.eq(self.p.incarnations - 1)}
        self.add_send()
        self.add_close(first[str(self.close_first)])
        if self.may_abort:
            self.add_abort(TRUE)
        u = Updates()
        u.set(self.ack_delayed, False)
        self.emit_ack(u)
        b.action(
            "b.delayed_ack",
            self.ack_delayed,
            u,
            "RFC 9293 3.8.6.3: the delayed ACK is sent",
            group="b.timer",
        )


def _add_attacker(
    b: Builder,
    seq: SeqType,
    net: Network,
    a: Client,
    clock: Var | None,
    ts_of: Callable[[int], Expr] | None,
) -> Var:
    """The off-path attacker of RFC 1948 section 1 (``X`` there, ``b`` its target, ``a`` the
    trusted host whose address it forges); returns its strategy variable ``att.delta``.

    It knows the ISN clock (RFC 1948: by connecting to the target itself just before) and the
    ISN policy, but sees no segment: its only choice is ``att.delta``, the difference it bets on
    between b's ISN and the clock, fixed in the initial state.  Its segments go into a's channel
    toward ``b`` with the ghost ``spoofed``; it sends each once and never retransmits."""
    phase = b.var("att.phase", ATT_PHASE, "IDLE", doc="the attacker's progress")
    delta = b.var(
        "att.delta",
        seq,
        doc="the attacker's strategy: b's ISN minus the ISN clock, as it guesses (fixed)",
    )
    guess = b.var("att.guess", seq, doc="the ISS the attacker predicts for b when it sends SYN")
    known = clock if clock is not None else lift(0, seq)  # a fixed ISN: clock 0
    forged: dict[str, Lit] = {"inc": a.inc, "spoofed": True}
    if ts_of is not None:
        forged["ts"] = ts_of(0)  # a plausible TSval of a's (RFC 7323): PAWS is no obstacle

    u = Updates()
    u.set(phase, "SYN_SENT")
    u.set(guess, known + delta)
    net.send(u, "a", {"syn": True, "seq": lift(ATT_ISN, seq), **forged})
    b.action(
        "att.syn",
        phase.eq("IDLE"),
        u,
        "RFC 1948 section 1: the off-path attacker X sends b <SEQ=ISN_X><CTL=SYN> with a's "
        "address; it predicts b's ISN as the ISN clock it knows plus att.delta",
        group="att",
    )
    u = Updates()
    u.set(phase, "DONE")
    u.set(guess, 0)
    net.send(
        u,
        "a",
        {"ack": True, "seq": lift(ATT_ISN + 1, seq), "ackno": guess + 1, "len": 1, **forged},
    )
    b.action(
        "att.inject",
        phase.eq("SYN_SENT"),
        u,
        "RFC 1948 section 1: X, without seeing b's SYN,ACK, sends "
        "<SEQ=ISN_X+1><ACK=predicted ISN+1><CTL=ACK> with one data unit",
        group="att",
    )
    return delta


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
        delta = _add_attacker(b, seq, net, a, clock, ts_of if ts is not None else None)
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
