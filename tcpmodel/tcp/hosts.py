"""The two hosts of the ``connection`` model (`tcpmodel.tcp.connection`): client ``a`` and
server ``b``, each an `Endpoint` (RFC 9293's state machine) with what only that side does.

* `Client` ``a`` actively opens, sends ``data`` units, closes, may ABORT or crash, and
  reconnects on the same 4-tuple up to ``incarnations`` times, holding off ``a.hold`` ticks
  between incarnations (MSL after a crash with ``quiet_time``, RFC 9293 3.4.3).
* `Server` ``b`` LISTENs, and again as soon as a connection ends (RFC 9293 3.10.1); it may do
  one active OPEN from LISTEN (simultaneous open), close passively or first, delay the ACK of
  a FIN, and with ``syn_in_time_wait`` take a newer SYN in TIME-WAIT (RFC 6191, Linux).
"""

from __future__ import annotations

from tcpmodel.kernel.expr import (
    FALSE,
    TRUE,
    Expr,
    and_,
    enum_const,
    ite,
    lift,
    not_,
    or_,
    seq_lt,
)
from tcpmodel.kernel.system import Updates
from tcpmodel.kernel.types import BOOL, EnumType, IntType
from tcpmodel.tcp.endpoint import Endpoint, st
from tcpmodel.tcp.network import Segment

HOW = EnumType("ended", ("NORMAL", "ABORT", "CRASH"))


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
