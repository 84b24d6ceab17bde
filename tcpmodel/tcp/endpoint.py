"""One TCP endpoint: the RFC 9293 state machine as guarded commands.

Variables of endpoint ``x`` (``a`` or ``b``), named as RFC 9293 section 3.3.1 spells them:

* ``x.state``: one of the eleven states (`STATE`), ``x.passive``: reached SYN-RECEIVED from
  LISTEN;
* ``x.iss``, ``x.irs``, ``x.snd_una``, ``x.snd_nxt``, ``x.rcv_nxt``: sequence numbers modulo
  ``2**seq_bits``;
* ``x.inc``: the incarnation of the connection (ghost; ``b`` takes the tag of the SYN it
  synchronised on);
* ``x.timer``: 0 = off, 1 = due now, ``k > 1`` = due in ``k - 1`` ticks; it is the
  retransmission timer, or the 2MSL timer in TIME-WAIT; ``x.tries``: retransmissions so far.
* ghosts for the properties: ``x.old_data`` (RCV.NXT advanced over data of an older
  incarnation), ``x.old_fin`` (a FIN of an older incarnation moved the state), ``x.fin_reset``
  (reset in LAST-ACK: the passive closer lost its clean close), ``x.killed`` (the connection was
  aborted, crashed, or gave up retransmitting after a FIN had been sent: the assumption under
  which clean close is promised does not hold); with an off-path attacker, ``b.injected``
  (RCV.NXT advanced over data of a segment the attacker forged, RFC 1948 section 1).

A delivery is one action per (state, case, slot), named after the case and citing the clause
of RFC 9293 section 3.10.7 it implements, so that traces say which rule fired.  Every variable
that has no meaning in the current state (CLOSED, LISTEN) is reset to 0, so that states that
differ only in stale values are one state.
"""

from __future__ import annotations

from collections.abc import Callable

from tcpmodel.kernel.expr import (
    FALSE,
    TRUE,
    Expr,
    Lit,
    Var,
    and_,
    enum_const,
    in_window,
    ite,
    lift,
    not_,
    or_,
    seq_le,
    seq_lt,
)
from tcpmodel.kernel.system import Builder, Updates
from tcpmodel.kernel.types import BOOL, EnumType, IntType, SeqType
from tcpmodel.tcp.network import Network, Segment
from tcpmodel.tcp.params import ConnectionParams

STATE = EnumType(
    "tcp_state",
    (
        "CLOSED",
        "LISTEN",
        "SYN_SENT",
        "SYN_RECEIVED",
        "ESTABLISHED",
        "FIN_WAIT_1",
        "FIN_WAIT_2",
        "CLOSE_WAIT",
        "CLOSING",
        "LAST_ACK",
        "TIME_WAIT",
    ),
)
# The states handled by RFC 9293 3.10.7.4 ("Other States"): SYN-RECEIVED and every later one.
SYNCHRONIZED = STATE.values[STATE.index("SYN_RECEIVED") :]
FIN_SENT = ("FIN_WAIT_1", "CLOSING", "LAST_ACK")
RECEIVES_DATA = ("ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2")


def st(name: str) -> Expr:
    return enum_const(STATE, name)


class Endpoint:
    def __init__(
        self,
        b: Builder,
        name: str,
        seq: SeqType,
        net: Network,
        params: ConnectionParams,
        isn: Callable[[], Expr],
        initial: str,
        ts_clock: Callable[[Expr], Expr] | None = None,
        time_wait: int | None = None,
    ) -> None:
        self.b = b
        self.name = name
        self.peer = "b" if name == "a" else "a"
        self.net = net
        self.p = params
        # TIME-WAIT's length in ticks: the parameters' unless this end's differs (b's under
        # tcp_tw_recycle, `tcpmodel.tcp.connection`).
        self.time_wait = params.time_wait_ticks if time_wait is None else time_wait
        self.seq_t = seq
        self.isn = isn
        self.rest = "CLOSED"
        v = b.var
        self.state = v(f"{name}.state", STATE, initial, "RFC 9293 3.3.2 connection state")
        self.passive = v(f"{name}.passive", BOOL, doc="SYN-RECEIVED reached from LISTEN")
        self.iss = v(f"{name}.iss", seq, doc="initial send sequence number")
        self.irs = v(f"{name}.irs", seq, doc="initial receive sequence number")
        self.snd_una = v(f"{name}.snd_una", seq, doc="oldest unacknowledged sequence number")
        self.snd_nxt = v(f"{name}.snd_nxt", seq, doc="next sequence number to send")
        self.rcv_nxt = v(f"{name}.rcv_nxt", seq, doc="next sequence number expected")
        self.inc = v(f"{name}.inc", IntType(0, params.incarnations - 1), doc="incarnation (ghost)")
        tmax = max(params.rto_cap, self.time_wait) + 1
        self.timer = v(f"{name}.timer", IntType(0, tmax), doc="0 off, 1 due, k: due in k-1 ticks")
        if params.retries_unlimited:
            # Never give up: ``tries`` only selects the RTO, so it saturates where the doubled
            # RTO reaches rto_max (rto << most >= rto_max) and the state space stays finite.
            most = next(n for n in range(64) if params.rto << n >= params.rto_cap)
        else:
            most = max(params.retries, params.syn_retries, params.synack_retries)
        self.most_tries = most
        self.tries = v(f"{name}.tries", IntType(0, most), doc="retransmissions so far")
        self.old_data = v(f"{name}.old_data", BOOL, doc="ghost: accepted data of an older one")
        self.old_fin = v(f"{name}.old_fin", BOOL, doc="ghost: a FIN of an older one took effect")
        self.fin_reset = v(f"{name}.fin_reset", BOOL, doc="ghost: reset in LAST-ACK")
        self.killed = v(
            f"{name}.killed", BOOL, doc="ghost: aborted, crashed or timed out after a FIN"
        )
        self.old_rst = v(
            f"{name}.old_rst", BOOL, doc="ghost: an RST of an older incarnation reset this one"
        )
        self.rcv_wnd = params.window
        self.ts_clock = ts_clock
        # Set by a model with an off-path attacker (`tcpmodel.tcp.connection`): the ghost
        # "accepted data from a forged segment", and `silent`: a host that is down or flooded
        # answers nothing (RFC 1948 section 1).
        self.injected: Var | None = None
        self.silent = False
        # Data this endpoint sends per connection (``x.unsent``: units not yet handed to the
        # network) and, with close_mode = "close", ``x.unread``: data received that the
        # application has not read yet; models declare them (`declare_data`).
        self.data = 0
        self.unsent: Var | None = None
        # Whether CLOSE can leave the SYN unacknowledged behind the FIN (a CLOSE in an
        # active SYN-RECEIVED, which only a simultaneous open reaches): set by the model, so
        # that configurations without one keep the simpler retransmission (and the proofs
        # whose invariants rest on it).
        self.close_unsynced = True
        self.unread: Var | None = None
        if params.timestamps:
            self.ts_recent = v(f"{name}.ts_recent", seq, doc="RFC 7323 TS.Recent")
            self.ts_ok = v(f"{name}.ts_ok", BOOL, doc="TS.Recent holds a timestamp")
            # RFC 7323 5.5: TS.Recent older than half the timestamp space is outdated.
            self.ts_stale = seq.half
            self.ts_age = v(
                f"{name}.ts_age", IntType(0, self.ts_stale), doc="ticks since TS.Recent was set"
            )

    # ---- helpers -------------------------------------------------------------------------
    def declare_data(self, units: int) -> Var:
        """``units`` data units to send per connection (``x.unsent``)."""
        self.data = units
        self.unsent = self.b.var(
            f"{self.name}.unsent", IntType(0, units), doc="data units not yet sent"
        )
        return self.unsent

    def declare_unread(self, receives: bool) -> None:
        """With close_mode = "close" and data coming from the peer (``receives``), the flag
        ``x.unread`` that makes CLOSE abortive (RFC 1122 4.2.2.13)."""
        if self.p.close_mode == "close" and receives:
            self.unread = self.b.var(
                f"{self.name}.unread", BOOL, doc="data received and not yet read by the user"
            )

    def is_(self, *states: str) -> Expr:
        return or_(*(self.state.eq(s) for s in states))

    def emit(self, u: Updates, fields: dict[str, Lit]) -> None:
        """Send a segment from this endpoint, tagged with its current incarnation (or the
        ``inc`` in ``fields``: an RST that a port without a connection sends belongs to the
        segment it answers)."""
        extra: dict[str, Lit] = {"inc": u.current(self.inc)}
        if self.p.timestamps and self.ts_clock is not None:
            # TSval: the timestamp clock of this incarnation's host (RFC 7323 3.2)
            extra["ts"] = self.ts_clock(u.current(self.inc))
        self.net.send(u, self.name, {**extra, **fields})

    def mark_old_rst(self, u: Updates, s: Segment) -> None:
        """Record (ghost) that the RST ``s``, which resets this connection, is older."""
        u.set(self.old_rst, or_(self.old_rst, s.inc.lt(self.inc)))

    def emit_ack(self, u: Updates) -> None:
        """<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> with the values after this step's updates."""
        self.emit(
            u,
            {"ack": True, "seq": u.current(self.snd_nxt), "ackno": u.current(self.rcv_nxt)},
        )

    def emit_rst(self, u: Updates, seq: Lit) -> None:
        self.emit(u, {"rst": True, "seq": seq})

    def rto_after(self, tries: Expr) -> Expr:
        """The timer value that arms a retransmission after ``tries`` retransmissions."""
        value: Expr = lift(min(self.p.rto << self.most_tries, self.p.rto_cap) + 1)
        for n in reversed(range(self.most_tries)):
            value = ite(tries.eq(n), min(self.p.rto << n, self.p.rto_cap) + 1, value)
        return value

    def arm_if_idle(self, u: Updates) -> None:
        t = u.current(self.timer)
        u.set(self.timer, ite(t.eq(0), self.p.rto + 1, t))

    def to_closed(self, u: Updates, state: str | None = None) -> None:
        """End the connection: its variables are deleted (RFC 9293 3.3.2) and the endpoint
        goes to ``state``, by default ``self.rest`` (CLOSED; LISTEN for a server that listens
        again at once)."""
        u.set(self.state, st(state or self.rest))
        for var in (self.iss, self.irs, self.snd_una, self.snd_nxt, self.rcv_nxt):
            u.set(var, 0)
        u.set(self.passive, False)
        u.set(self.timer, 0)
        u.set(self.tries, 0)
        if self.p.timestamps:  # TS.Recent is discarded with the connection (RFC 1323 4.3)
            u.set(self.ts_recent, 0)
            u.set(self.ts_ok, False)
            u.set(self.ts_age, 0)
        if self.unread is not None:
            u.set(self.unread, False)

    def take_ts(self, u: Updates, s: Segment) -> None:
        """TS.Recent := SEG.TSval, on a SYN or SYN,ACK that synchronises (RFC 7323 4.3)."""
        if self.p.timestamps and s.ts is not None:
            u.set(self.ts_recent, s.ts)
            u.set(self.ts_ok, True)
            u.set(self.ts_age, 0)

    def paws_rejects(self, seg: Segment) -> Expr:
        """RFC 7323 5.3 R1: a non-RST segment whose TSval is older than TS.Recent."""
        if not self.p.timestamps or seg.ts is None:
            return FALSE
        return and_(
            self.ts_ok,
            self.ts_age.lt(self.ts_stale),
            not_(seg.rst),
            seq_lt(seg.ts, self.ts_recent),
        )

    def enter_fin_wait_2(self, u: Updates) -> None:
        """Our FIN is acknowledged; with `fin_timeout` the FIN-WAIT-2 timer starts."""
        u.set(self.state, st("FIN_WAIT_2"))
        if self.p.fin_timeout_ticks:
            u.set(self.timer, self.p.fin_timeout_ticks + 1)

    def enter_time_wait(self, u: Updates) -> None:
        """TIME-WAIT lasts ``time_wait`` ticks; with 0 the endpoint closes at once."""
        if self.time_wait == 0:
            self.closed_after_close(u)
        else:
            u.set(self.state, st("TIME_WAIT"))
            u.set(self.timer, self.time_wait + 1)
            u.set(self.tries, 0)

    def on_time_wait_reset(self, u: Updates, when: Expr) -> None:
        """Hook: extra effects of an RST that ends TIME-WAIT early (when ``when`` holds)."""

    def closed_after_close(self, u: Updates) -> None:
        """Hook: where the endpoint goes after a completed close (models may extend it)."""
        self.to_closed(u)

    def acceptable(self, seg: Segment) -> Expr:
        """RFC 9293 3.10.7.4 Table 6, for a receive window of ``window`` > 0."""
        w = self.rcv_wnd
        last = seg.seq + seg.seg_len - 1
        return ite(
            seg.seg_len.eq(0),
            in_window(seg.seq, self.rcv_nxt, w),
            or_(in_window(seg.seq, self.rcv_nxt, w), in_window(last, self.rcv_nxt, w)),
        )

    def recv(
        self,
        case: str,
        slot: int,
        guard: Lit,
        rule: str,
        body: Callable[[Updates, Segment], None],
        states: tuple[str, ...],
        paws: bool = True,
    ) -> None:
        """One delivery action: the peer's segment in ``slot`` arrives in one of ``states``;
        in synchronized states PAWS rejects it first unless ``paws`` is off."""
        seg = self.net.segment(self.peer, slot)
        u = Updates()
        self.net.take(u, self.peer, slot)
        body(u, seg)
        if paws and set(states) <= set(SYNCHRONIZED) and case != "paws_reject":
            guard = and_(guard, not_(self.paws_rejects(seg)))
        self.b.action(
            f"{self.name}.{case}",
            and_(seg.present, self.is_(*states), guard),
            u,
            rule,
            {"slot": slot},
            f"{self.name}.recv",
        )

    # ---- segment arrival -------------------------------------------------------------------
    def add_receive_actions(self) -> None:
        for i in self.net.slots(self.peer):
            seg = self.net.segment(self.peer, i)
            self._closed(i, seg)
            self._listen(i, seg)
            self._syn_sent(i, seg)
            self._synchronized(i, seg)

    def _closed(self, i: int, seg: Segment) -> None:
        if self.silent:
            self.recv(
                "down_drop",
                i,
                TRUE,
                "RFC 1948 section 1: the host whose address is spoofed is down (or flooded) "
                "and answers nothing, not even RST",
                lambda u, s: None,
                ("CLOSED",),
            )
            return
        self.recv(
            "drop_rst",
            i,
            seg.rst,
            "RFC 9293 3.10.7.1 CLOSED: an incoming RST is discarded",
            lambda u, s: None,
            ("CLOSED",),
        )

        def reply(u: Updates, s: Segment) -> None:
            self.emit(
                u,
                {
                    "rst": True,
                    "ack": not_(s.ack),
                    "seq": ite(s.ack, s.ackno, lift(0, self.seq_t)),
                    "ackno": ite(s.ack, lift(0, self.seq_t), s.seq + s.seg_len),
                    "inc": s.inc,
                },
            )

        self.recv(
            "reset_closed_port",
            i,
            not_(seg.rst) & self.may_reply_when_closed(),
            "RFC 9293 3.10.7.1 CLOSED: any segment but RST is answered by RST",
            reply,
            ("CLOSED",),
        )
        self.recv(
            "drop_quiet",
            i,
            not_(seg.rst) & not_(self.may_reply_when_closed()),
            "RFC 9293 3.4.3 quiet time: a host that crashed sends nothing for MSL",
            lambda u, s: None,
            ("CLOSED",),
        )

    def may_reply_when_closed(self) -> Expr:
        """Hook: whether a CLOSED endpoint answers segments with RST (not in quiet time)."""
        return TRUE

    def _listen(self, i: int, seg: Segment) -> None:
        L = ("LISTEN",)
        self.recv(
            "listen_drop_rst",
            i,
            seg.rst,
            "RFC 9293 3.10.7.2 LISTEN: an incoming RST is ignored",
            lambda u, s: None,
            L,
        )
        self.recv(
            "listen_reset_ack",
            i,
            not_(seg.rst) & seg.ack,
            "RFC 9293 3.10.7.2 LISTEN: an ACK draws <SEQ=SEG.ACK><CTL=RST>",
            lambda u, s: self.emit(u, {"rst": True, "seq": s.ackno, "inc": s.inc}),
            L,
        )

        dropped = self.listen_drops(seg)
        if dropped is not FALSE:
            self.recv(
                "listen_recycle_drop",
                i,
                and_(not_(seg.rst), not_(seg.ack), seg.syn, dropped),
                "Linux tcp_tw_recycle (tcp_v4_conn_request, tcp_peer_is_proven): a SYN whose "
                "TSval is older than the one cached for its address less than 60 s ago is "
                "dropped silently (LINUX_MIB_PAWSPASSIVEREJECTED)",
                lambda u, s: self.on_listen_drop(u),
                L,
            )
        self.recv(
            "listen_syn",
            i,
            and_(not_(seg.rst), not_(seg.ack), seg.syn)
            if dropped is FALSE
            else and_(not_(seg.rst), not_(seg.ack), seg.syn, not_(dropped)),
            "RFC 9293 3.10.7.2 LISTEN: SYN -> <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>, SYN-RECEIVED",
            self.accept_syn,
            L,
        )
        self.recv(
            "listen_drop",
            i,
            and_(not_(seg.rst), not_(seg.ack), not_(seg.syn)),
            "RFC 9293 3.10.7.2 LISTEN: any other segment is dropped",
            lambda u, s: None,
            L,
        )

    def listen_drops(self, seg: Segment) -> Expr:
        """Hook: SYNs a listener drops without answer (``FALSE``: none)."""
        return FALSE

    def on_listen_drop(self, u: Updates) -> None:
        """Hook: what a SYN dropped by `listen_drops` records."""

    def other_address(self, seg: Segment) -> Expr:
        """Hook: the segment comes from a host with another address than this connection's
        peer (``FALSE``: one peer address)."""
        return FALSE

    def accept_syn(self, u: Updates, s: Segment, iss: Expr | None = None) -> None:
        """A SYN opens a connection passively (RFC 9293 3.10.7.2 LISTEN): ISS from the ISN
        policy (or ``iss``), <SEQ=ISS><ACK=SEG.SEQ+1><CTL=SYN,ACK>, SYN-RECEIVED; ``inc``
        takes the SYN's tag."""
        if iss is None:
            iss = self.isn()
        self.take_ts(u, s)
        u.set(self.irs, s.seq)
        u.set(self.rcv_nxt, s.seq + 1)
        u.set(self.iss, iss)
        u.set(self.snd_una, iss)
        u.set(self.snd_nxt, iss + 1)
        u.set(self.state, st("SYN_RECEIVED"))
        u.set(self.passive, True)
        u.set(self.inc, s.inc)
        u.set(self.timer, self.p.rto + 1)
        u.set(self.tries, 0)
        self.on_passive_open(u, s)
        self.emit(u, {"syn": True, "ack": True, "seq": iss, "ackno": s.seq + 1})

    def on_passive_open(self, u: Updates, s: Segment) -> None:
        """Hook: extra effects of a passive OPEN taking a SYN."""

    def _syn_sent(self, i: int, seg: Segment) -> None:
        S = ("SYN_SENT",)
        acc = and_(seq_lt(self.iss, seg.ackno), seq_le(seg.ackno, self.snd_nxt))
        bad_ack = and_(seg.ack, not_(acc))
        self.recv(
            "syn_sent_bad_ack",
            i,
            bad_ack & not_(seg.rst),
            "RFC 9293 3.10.7.3 SYN-SENT: an unacceptable ACK draws <SEQ=SEG.ACK><CTL=RST>",
            lambda u, s: self.emit_rst(u, s.ackno),
            S,
        )
        self.recv(
            "syn_sent_drop",
            i,
            or_(
                bad_ack & seg.rst,
                and_(seg.rst, not_(seg.ack)),
                and_(not_(seg.rst), not_(seg.syn), not_(bad_ack)),
            ),
            "RFC 9293 3.10.7.3 SYN-SENT: dropped (RST without acceptable ACK, or "
            "neither SYN nor RST)",
            lambda u, s: None,
            S,
        )
        self.recv(
            "syn_sent_reset",
            i,
            and_(seg.rst, seg.ack, acc),
            "RFC 9293 3.10.7.3 SYN-SENT: RST with acceptable ACK: connection reset",
            self._reset_syn_sent,
            S,
        )

        def established(u: Updates, s: Segment) -> None:
            self.take_ts(u, s)
            u.set(self.irs, s.seq)
            u.set(self.rcv_nxt, s.seq + 1)
            u.set(self.snd_una, s.ackno)
            u.set(self.state, st("ESTABLISHED"))
            u.set(self.timer, 0)
            u.set(self.tries, 0)
            self.emit_ack(u)

        self.recv(
            "syn_sent_synack",
            i,
            and_(not_(seg.rst), seg.syn, seg.ack, acc),
            "RFC 9293 3.10.7.3 SYN-SENT: SYN,ACK acking ISS+1 -> ACK, ESTABLISHED",
            established,
            S,
        )

        def simultaneous(u: Updates, s: Segment) -> None:
            self.take_ts(u, s)
            u.set(self.irs, s.seq)
            u.set(self.rcv_nxt, s.seq + 1)
            u.set(self.state, st("SYN_RECEIVED"))
            self.emit(u, {"syn": True, "ack": True, "seq": self.iss, "ackno": s.seq + 1})

        self.recv(
            "syn_sent_syn",
            i,
            and_(not_(seg.rst), seg.syn, not_(seg.ack)),
            "RFC 9293 3.10.7.3 SYN-SENT: SYN without ACK (simultaneous open) -> "
            "<SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>, SYN-RECEIVED",
            simultaneous,
            S,
        )

    def _reset_syn_sent(self, u: Updates, s: Segment) -> None:
        self.mark_old_rst(u, s)
        self.to_closed(u)

    def rfc6191(self) -> bool:
        """Whether a SYN in TIME-WAIT may open a new connection (RFC 6191): only for an
        endpoint that listens again after a connection ends (the server)."""
        return self.p.syn_in_time_wait in ("rfc6191", "linux") and self.rest == "LISTEN"

    def newer_syn(self, seg: Segment) -> Expr:
        """RFC 6191 section 2: the SYN belongs to a newer incarnation than the one in TIME-WAIT.

        With a valid TS.Recent (set, and not outdated: RFC 7323 5.5), its TSval is above
        TS.Recent, or equal to it with SEG.SEQ above RCV.NXT; otherwise SEG.SEQ is above
        RCV.NXT."""
        by_seq = seq_lt(self.rcv_nxt, seg.seq)
        if not self.p.timestamps or seg.ts is None:
            return by_seq
        valid = and_(self.ts_ok, self.ts_age.lt(self.ts_stale))
        by_ts = or_(seq_lt(self.ts_recent, seg.ts), and_(seg.ts.eq(self.ts_recent), by_seq))
        return or_(and_(valid, by_ts), and_(not_(valid), by_seq))

    def _time_wait_syn(self, i: int, seg: Segment, tw_syn: Expr) -> None:
        """RFC 6191: a SYN (no ACK, no RST) in TIME-WAIT, decided before acceptability and
        PAWS.  The condition (2) of RFC 9293 MAY-2, going back to TIME-WAIT if the SYN turns
        out to be an old duplicate, is not modelled (Linux cannot do it either).

        With syn_in_time_wait = "linux" (tcp_timewait_state_process): a SYN that PAWS does not
        reject and whose SEG.SEQ is above RCV.NXT, or whose TSval is above TS.Recent, opens a
        new connection with ISS = the old SND.NXT + 65537 (mod 2**seq_bits); any other SYN
        is answered by <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> (rate-limited in Linux), and a
        PAWS-rejected one restarts the TIME-WAIT timer.

        A SYN from another address (`other_address`) is for another 4-tuple: the listener
        takes it as a new connection, whatever the TIME-WAIT of this one."""

        def reopen(u: Updates, s: Segment, iss: Expr | None = None) -> None:
            self.closed_after_close(u)  # the TIME-WAIT connection is deleted
            self.accept_syn(u, s, iss)  # and the SYN is processed as LISTEN would

        other = self.other_address(seg)
        if other is not FALSE:
            self.recv(
                "time_wait_syn_other_address",
                i,
                and_(tw_syn, other),
                "a SYN from another address is another 4-tuple's: the listener takes it "
                "(RFC 9293 3.10.7.2), as in LISTEN <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>, "
                "SYN-RECEIVED (the model's one server connection serves it)",
                reopen,
                ("TIME_WAIT",),
                paws=False,
            )
            tw_syn = and_(tw_syn, not_(other))
        if self.p.syn_in_time_wait == "linux":
            paws = self.paws_rejects(seg)
            by_ts = (
                and_(self.ts_ok, seq_lt(self.ts_recent, seg.ts))
                if self.p.timestamps and seg.ts is not None
                else FALSE
            )
            newer = and_(not_(paws), or_(seq_lt(self.rcv_nxt, seg.seq), by_ts))
            iss = self.snd_nxt + 65537 % (1 << self.seq_t.bits)

            def answer(u: Updates, s: Segment) -> None:
                u.set(self.timer, ite(paws, lift(self.time_wait + 1), self.timer))
                self.emit_ack(u)

            self.recv(
                "time_wait_syn_accept",
                i,
                and_(tw_syn, newer),
                "Linux tcp_timewait_state_process (RFC 9293 3.6.1 MAY-2): a SYN in TIME-WAIT "
                "above RCV.NXT (or with a newer TSval) opens a new connection, ISS = SND.NXT + "
                "65537; as in LISTEN <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>, SYN-RECEIVED",
                lambda u, s: reopen(u, s, iss),
                ("TIME_WAIT",),
                paws=False,
            )
            self.recv(
                "time_wait_syn_ack",
                i,
                and_(tw_syn, not_(newer)),
                "Linux tcp_timewait_state_process: any other SYN in TIME-WAIT draws "
                "<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>",
                answer,
                ("TIME_WAIT",),
                paws=False,
            )
            return
        newer = self.newer_syn(seg)
        self.recv(
            "time_wait_syn_accept",
            i,
            and_(tw_syn, newer),
            "RFC 6191 2 (RFC 9293 3.6.1 MAY-2): a SYN in TIME-WAIT with a newer timestamp (or "
            "higher sequence number) opens a new connection: the TIME-WAIT connection is "
            "deleted, and as in LISTEN <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>, SYN-RECEIVED",
            reopen,
            ("TIME_WAIT",),
            paws=False,
        )
        self.recv(
            "time_wait_syn_drop",
            i,
            and_(tw_syn, not_(newer)),
            "RFC 6191 2: a SYN in TIME-WAIT that is not newer (older timestamp, or sequence "
            "number not above RCV.NXT) is silently dropped; TIME-WAIT continues",
            lambda u, s: None,
            ("TIME_WAIT",),
            paws=False,
        )

    def _synchronized(self, i: int, seg: Segment) -> None:
        # With RFC 6191 a SYN in TIME-WAIT has rules of its own (`_time_wait_syn`): no PAWS,
        # no acceptability test, no challenge ACK or RST.
        tw_syn: Expr | None = None
        if self.rfc6191():
            tw_syn = and_(self.state.eq("TIME_WAIT"), seg.syn, not_(seg.ack), not_(seg.rst))
        if self.p.timestamps:
            paws = self.paws_rejects(seg)
            self.recv(
                "paws_reject",
                i,
                paws if tw_syn is None else and_(paws, not_(tw_syn)),
                "RFC 7323 5.3 R1 (PAWS): a segment with TSval older than TS.Recent is "
                "dropped and answered with <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>",
                lambda u, s: self.emit_ack(u),
                SYNCHRONIZED,
            )
        ok = self.acceptable(seg)
        dup_syn = and_(
            self.state.eq("SYN_RECEIVED"),
            seg.syn,
            not_(seg.ack),
            not_(seg.rst),
            seg.seq.eq(self.irs),
        )
        tw_fin = and_(
            self.state.eq("TIME_WAIT"),
            seg.fin,
            not_(seg.rst),
            not_(seg.syn),
            (seg.seq + seg.seg_len).eq(self.rcv_nxt),
        )
        special = or_(dup_syn, tw_fin) if tw_syn is None else or_(dup_syn, tw_fin, tw_syn)
        sim_synack = self.simultaneous_synack(seg)
        if sim_synack is not None:
            special = or_(special, sim_synack)
        if tw_syn is not None:
            self._time_wait_syn(i, seg, tw_syn)

        def resend_synack(u: Updates, s: Segment) -> None:
            self.emit(u, {"syn": True, "ack": True, "seq": self.iss, "ackno": self.rcv_nxt})

        self.recv(
            "syn_received_dup_syn",
            i,
            dup_syn,
            "RFC 9293 3.10.7.4 SYN-RECEIVED: a retransmitted SYN gets the SYN,ACK again",
            resend_synack,
            ("SYN_RECEIVED",),
        )

        def tw_restart(u: Updates, s: Segment) -> None:
            u.set(self.old_fin, or_(self.old_fin, s.inc.lt(self.inc)))
            u.set(self.timer, self.time_wait + 1)
            self.emit_ack(u)

        self.recv(
            "time_wait_fin",
            i,
            tw_fin,
            "RFC 9293 3.10.7.4 TIME-WAIT: a retransmitted FIN is acknowledged and the "
            "2 MSL timeout restarted",
            tw_restart,
            ("TIME_WAIT",),
        )
        self.recv(
            "unacceptable",
            i,
            and_(not_(ok), not_(seg.rst), not_(special)),
            "RFC 9293 3.10.7.4: an unacceptable segment draws <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>",
            lambda u, s: self.emit_ack(u),
            SYNCHRONIZED,
        )
        self.recv(
            "unacceptable_rst",
            i,
            and_(not_(ok), seg.rst)
            if not self.p.rst_before_rcv_nxt
            else and_(not_(ok), seg.rst, not_(self.rst_before_rcv_nxt(seg))),
            "RFC 9293 3.10.7.4: an unacceptable RST is dropped",
            lambda u, s: None,
            tuple(
                x
                for x in SYNCHRONIZED
                if not (x == "TIME_WAIT" and self.p.time_wait_rst == "linux")
            ),
        )
        self._rst(i, seg, ok)
        self._syn(i, seg, ok, special)
        self.recv(
            "drop_no_ack",
            i,
            and_(ok, not_(seg.rst), not_(seg.syn), not_(seg.ack), not_(special)),
            "RFC 9293 3.10.7.4 fifth: a segment without ACK is dropped",
            lambda u, s: None,
            SYNCHRONIZED,
        )
        for state in SYNCHRONIZED:
            self._ack_path(i, seg, ok, special, state)

    def simultaneous_synack(self, seg: Segment) -> Expr | None:
        """Linux tcp_validate_incoming (step 4): in a SYN-RECEIVED reached from SYN-SENT (a
        simultaneous open; ``sk->sk_socket`` set) the peer's SYN,ACK passes when it carries
        nothing else (``seq + 1 == end_seq``), SEG.SEQ + 1 = RCV.NXT and SEG.ACK = SND.NXT.
        None unless ``synrcvd_synack = "linux"``."""
        if self.p.synrcvd_synack != "linux":
            return None
        return and_(
            self.state.eq("SYN_RECEIVED"),
            not_(self.passive),
            seg.syn,
            seg.ack,
            not_(seg.rst),
            not_(seg.fin),
            seg.len.eq(0),
            (seg.seq + 1).eq(self.rcv_nxt),
            seg.ackno.eq(self.snd_nxt),
        )

    def _rst(self, i: int, seg: Segment, ok: Expr) -> None:
        exact = seg.seq.eq(self.rcv_nxt) if self.p.rfc5961 else TRUE
        # Linux's TIME-WAIT takes only an RST at exactly RCV.NXT and challenges none
        # (tcp_timewait_state_process): TIME-WAIT has rules of its own below.
        linux_tw = self.p.time_wait_rst == "linux"
        sync = tuple(x for x in SYNCHRONIZED if not (linux_tw and x == "TIME_WAIT"))
        if self.p.rfc5961:
            self.recv(
                "rst_challenge",
                i,
                and_(ok, seg.rst, not_(exact)),
                "RFC 5961 3.2: an in-window RST not at RCV.NXT draws a challenge ACK",
                lambda u, s: self.emit_ack(u),
                sync,
            )
        resettable = tuple(s for s in sync if not (s == "TIME_WAIT" and self.p.rfc1337))

        def reset(u: Updates, s: Segment) -> None:
            u.set(self.fin_reset, or_(self.fin_reset, self.state.eq("LAST_ACK")))
            self.mark_old_rst(u, s)
            back_to_listen = and_(self.state.eq("SYN_RECEIVED"), self.passive)
            in_time_wait = self.state.eq("TIME_WAIT")
            self.to_closed(u)
            u.set(self.state, ite(back_to_listen, st("LISTEN"), st(self.rest)))
            # In TIME-WAIT the close had completed: an RST only cuts the wait short (RFC 1337).
            self.on_time_wait_reset(u, in_time_wait)

        self.recv(
            "reset",
            i,
            and_(ok, seg.rst, exact),
            "RFC 9293 3.10.7.4 second: an acceptable RST closes the connection "
            "(SYN-RECEIVED from LISTEN returns to LISTEN)",
            reset,
            resettable,
        )
        if self.p.rst_before_rcv_nxt:
            self.recv(
                "reset_before_rcv_nxt",
                i,
                and_(seg.rst, self.rst_before_rcv_nxt(seg)),
                "Linux tcp_reset_check: in CLOSE-WAIT, LAST-ACK and CLOSING an RST at "
                "RCV.NXT-1 (the peer's RST after its FIN) closes the connection",
                reset,
                ("CLOSE_WAIT", "LAST_ACK", "CLOSING"),
            )
        tw_exact = and_(seg.rst, seg.seq.eq(self.rcv_nxt)) if linux_tw else and_(ok, seg.rst, exact)
        if linux_tw and not self.p.rfc1337:
            self.recv(
                "time_wait_reset",
                i,
                tw_exact,
                "Linux tcp_timewait_state_process, tcp_rfc1337 = 0: an RST at RCV.NXT ends "
                "TIME-WAIT (RFC 1337's assassination)",
                reset,
                ("TIME_WAIT",),
            )
        if self.p.rfc1337:
            self.recv(
                "time_wait_ignore_rst",
                i,
                tw_exact,
                "RFC 1337 F1: TIME-WAIT ignores RST",
                lambda u, s: None,
                ("TIME_WAIT",),
            )
        if linux_tw:
            self.recv(
                "time_wait_drop_rst",
                i,
                and_(seg.rst, seg.seq.ne(self.rcv_nxt)),
                "Linux tcp_timewait_state_process: an RST not at RCV.NXT is ignored in "
                "TIME-WAIT, without a challenge ACK",
                lambda u, s: None,
                ("TIME_WAIT",),
            )

    def rst_before_rcv_nxt(self, seg: Segment) -> Expr:
        """Linux tcp_reset_check: an RST at RCV.NXT-1 in CLOSE-WAIT, LAST-ACK or CLOSING."""
        if not self.p.rst_before_rcv_nxt:
            return FALSE
        return and_(self.is_("CLOSE_WAIT", "LAST_ACK", "CLOSING"), seg.seq.eq(self.rcv_nxt - 1))

    def _syn(self, i: int, seg: Segment, ok: Expr, special: Expr) -> None:
        guard = and_(ok, not_(seg.rst), seg.syn, not_(special))
        if self.rest == "LISTEN":
            # RFC 9293 3.10.7.4 fourth: in a SYN-RECEIVED reached from LISTEN a SYN returns the
            # connection to LISTEN (SYN-RECEIVED is not yet synchronized: RFC 5961's challenge
            # is for the states after it).  Linux keeps a passive SYN-RECEIVED as a request of
            # the listener (tcp_check_req): a new SYN in window resets it (embryonic_reset)
            # with the RST tcp_v4_send_reset makes for a segment without ACK.
            embryonic = and_(self.state.eq("SYN_RECEIVED"), self.passive)
            linux = self.p.synrcvd_syn == "linux"

            def drop_request(u: Updates, s: Segment) -> None:
                if linux:
                    self.emit(
                        u,
                        {
                            "rst": True,
                            "ack": True,
                            "seq": lift(0, self.seq_t),
                            "ackno": s.seq + s.seg_len,
                        },
                    )
                self.to_closed(u, "LISTEN")

            self.recv(
                "syn_received_syn_reset" if linux else "syn_received_syn_listen",
                i,
                and_(guard, self.passive),
                "Linux tcp_check_req (embryonic_reset): a new SYN in window in a passive "
                "SYN-RECEIVED draws <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>; the request is "
                "dropped, LISTEN"
                if linux
                else "RFC 9293 3.10.7.4 fourth, SYN-RECEIVED from a passive OPEN: a SYN returns "
                "the connection to LISTEN",
                drop_request,
                ("SYN_RECEIVED",),
            )
            guard = and_(guard, not_(embryonic))
        if self.p.rfc5961:
            self.recv(
                "syn_challenge",
                i,
                guard,
                "RFC 5961 4.2 (RFC 9293 3.10.7.4 fourth): a SYN in a synchronized state "
                "draws a challenge ACK",
                lambda u, s: self.emit_ack(u),
                SYNCHRONIZED,
            )
            return

        def reset(u: Updates, s: Segment) -> None:
            # A LAST-ACK ended by a SYN has lost its clean close as surely as by an RST.
            u.set(self.fin_reset, or_(self.fin_reset, self.state.eq("LAST_ACK")))
            back_to_listen = and_(self.state.eq("SYN_RECEIVED"), self.passive)
            self.emit_rst(u, self.snd_nxt)
            self.to_closed(u)
            u.set(self.state, ite(back_to_listen, st("LISTEN"), st(self.rest)))

        self.recv(
            "syn_reset",
            i,
            guard,
            "RFC 793 3.9 (RFC 9293 3.10.7.4 fourth without RFC 5961): an in-window SYN "
            "resets the connection",
            reset,
            SYNCHRONIZED,
        )

    def _ack_path(self, i: int, seg: Segment, ok: Expr, special: Expr, state: str) -> None:
        """ACK, data and FIN processing (RFC 9293 3.10.7.4 fifth to eighth) in ``state``."""
        base = and_(ok, not_(seg.rst), not_(seg.syn), seg.ack, not_(special))
        una, nxt = self.snd_una, self.snd_nxt
        new_ack = and_(seq_lt(una, seg.ackno), seq_le(seg.ackno, nxt))
        if state == "SYN_RECEIVED":
            self.recv(
                "syn_received_bad_ack",
                i,
                and_(base, not_(new_ack)),
                "RFC 9293 3.10.7.4 fifth, SYN-RECEIVED: an unacceptable ACK draws "
                "<SEQ=SEG.ACK><CTL=RST>",
                lambda u, s: self.emit_rst(u, s.ackno),
                (state,),
            )
            guard = and_(base, new_ack)
            rule = "RFC 9293 3.10.7.4 fifth, SYN-RECEIVED: ACK of our SYN -> ESTABLISHED"
        else:
            too_far = seq_lt(nxt, seg.ackno)
            self.recv(
                f"ack_unsent_{state.lower()}",
                i,
                and_(base, too_far),
                f"RFC 9293 3.10.7.4 fifth, {state}: an ACK of something not yet sent draws "
                "an ACK and is dropped",
                lambda u, s: self.emit_ack(u),
                (state,),
            )
            guard = and_(base, not_(too_far))
            rule = f"RFC 9293 3.10.7.4 fifth to eighth, {state}: ACK, data, FIN"
            if self.p.rfc5961_ack and state != "TIME_WAIT":
                # MAX.SND.WND is the peer's window, `window` like ours.
                too_old = seq_lt(seg.ackno, una - self.rcv_wnd)
                self.recv(
                    f"ack_too_old_{state.lower()}",
                    i,
                    and_(base, too_old),
                    f"RFC 5961 5.2, {state}: an ACK below SND.UNA - MAX.SND.WND draws a "
                    "challenge ACK and is dropped (Linux tcp_ack)",
                    lambda u, s: self.emit_ack(u),
                    (state,),
                )
                guard = and_(guard, not_(too_old))
            if self.p.close_mode == "close" and state in ("FIN_WAIT_1", "FIN_WAIT_2"):
                # After close() nobody will read: new data is answered by RST and the
                # connection is deleted (RFC 1122 4.2.2.13; Linux tcp_rcv_state_process,
                # LINUX_MIB_TCPABORTONDATA; the RST of tcp_v4_send_reset: <SEQ=SEG.ACK>).
                new_data = and_(seg.len.gt(0), in_window(seg.seq, self.rcv_nxt, self.rcv_wnd))

                def abort_on_data(u: Updates, s: Segment) -> None:
                    self.emit_rst(u, s.ackno)
                    u.set(self.killed, TRUE)
                    self.to_closed(u)

                self.recv(
                    f"data_after_close_{state.lower()}",
                    i,
                    and_(guard, new_data),
                    f"RFC 1122 4.2.2.13, {state} after close(): new data draws "
                    "<SEQ=SEG.ACK><CTL=RST> and the connection is deleted",
                    abort_on_data,
                    (state,),
                )
                guard = and_(guard, not_(new_data))

        def process(u: Updates, s: Segment, delay_ack: bool = False) -> None:
            if self.p.timestamps and s.ts is not None:
                # RFC 7323 4.3 R3: TS.Recent follows SEG.TSval if SEG.SEQ =< Last.ACK.sent.
                newer = and_(
                    seq_le(s.seq, self.rcv_nxt),
                    or_(seq_le(self.ts_recent, s.ts), self.ts_age.ge(self.ts_stale)),
                )
                u.set(self.ts_recent, ite(newer, s.ts, self.ts_recent))
                u.set(self.ts_age, ite(newer, lift(0), self.ts_age))
            una2 = ite(new_ack, s.ackno, una)
            u.set(una, una2)
            all_acked = una2.eq(nxt)
            if state != "TIME_WAIT" and not (state == "FIN_WAIT_2" and self.p.fin_timeout_ticks):
                # In TIME-WAIT the timer is the 2 MSL timeout (RFC 9293 3.10.7.4: only a
                # retransmitted FIN restarts it); an ACK must not stop it.
                u.set(self.timer, ite(all_acked, lift(0), ite(new_ack, self.p.rto + 1, self.timer)))
                u.set(self.tries, ite(new_ack, lift(0), self.tries))
            fin_acked = and_(all_acked, self.is_(*FIN_SENT))
            now = state
            if state == "SYN_RECEIVED":
                u.set(self.state, st("ESTABLISHED"))
                now = "ESTABLISHED"
            elif state == "FIN_WAIT_1":
                u.when(fin_acked, self.enter_fin_wait_2)
            elif state == "CLOSING":
                u.when(fin_acked, self.enter_time_wait)
                return
            elif state == "LAST_ACK":
                u.when(fin_acked, self.closed_after_close)
                return
            rcv: Expr = self.rcv_nxt
            send_ack: Expr = FALSE
            if now in RECEIVES_DATA:
                data_in_order = and_(s.len.gt(0), s.seq.eq(rcv))
                rcv = ite(data_in_order, rcv + s.len, rcv)
                u.set(self.rcv_nxt, rcv)
                u.set(self.old_data, or_(self.old_data, and_(data_in_order, s.inc.lt(self.inc))))
                if self.unread is not None:
                    u.set(self.unread, or_(self.unread, data_in_order))
                if self.injected is not None and s.spoofed is not None:
                    u.set(self.injected, or_(self.injected, and_(data_in_order, s.spoofed)))
                send_ack = s.len.gt(0)
            fin_in_order: Expr = FALSE
            if now in ("ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2"):
                fin_in_order = and_(s.fin, (s.seq + s.len).eq(rcv))
                u.set(self.rcv_nxt, ite(fin_in_order, rcv + 1, rcv))
                u.set(self.old_fin, or_(self.old_fin, and_(fin_in_order, s.inc.lt(self.inc))))
                send_ack = or_(send_ack, s.fin)
            # The ACK goes out before TIME-WAIT (or, without TIME-WAIT, CLOSED) is entered.
            if not delay_ack:
                u.when(send_ack, self.emit_ack)
            if now == "ESTABLISHED":
                u.when(fin_in_order, lambda v: v.set(self.state, st("CLOSE_WAIT")))
            elif now == "FIN_WAIT_1":
                u.when(and_(fin_in_order, fin_acked), self.enter_time_wait)
                u.when(
                    and_(fin_in_order, not_(fin_acked)),
                    lambda v: v.set(self.state, st("CLOSING")),
                )
            elif now == "FIN_WAIT_2":
                u.when(fin_in_order, self.enter_time_wait)

        self.recv(f"ack_{state.lower()}", i, guard, rule, process, (state,))
        sim_synack = self.simultaneous_synack(seg) if state == "SYN_RECEIVED" else None
        if sim_synack is not None:

            def synack(u: Updates, s: Segment) -> None:
                process(u, s)
                self.emit_ack(u)

            self.recv(
                "syn_received_synack",
                i,
                sim_synack,
                "Linux tcp_validate_incoming (step 4), simultaneous open: the peer's SYN,ACK "
                "with SEG.SEQ+1 = RCV.NXT and SEG.ACK = SND.NXT is taken as the ACK of our "
                "SYN -> ESTABLISHED; the old sequence number draws "
                "<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> (tcp_data_queue)",
                synack,
                (state,),
            )
        if self.delayed_ack_possible(state):
            self.recv(
                f"ack_{state.lower()}_delay_ack",
                i,
                and_(guard, seg.fin),
                f"{rule}; the ACK of the FIN is delayed (it may ride on our FIN: three-way close)",
                lambda u, s: self._delay(u, s, process),
                (state,),
            )

    def _delay(self, u: Updates, s: Segment, process: Callable[..., None]) -> None:
        process(u, s, delay_ack=True)
        self.on_delayed_ack(u, s)

    def delayed_ack_possible(self, state: str) -> bool:
        """Hook: whether the ACK of a FIN may be delayed in ``state`` (three-way close)."""
        return False

    def on_delayed_ack(self, u: Updates, s: Segment) -> None:
        """Hook: what a delayed ACK records."""

    # ---- timers --------------------------------------------------------------------------
    def add_timer_actions(self) -> None:
        due = self.timer.eq(1)
        outstanding = or_(
            self.is_("SYN_SENT", "SYN_RECEIVED"),
            and_(self.is_(*SYNCHRONIZED), self.snd_una.ne(self.snd_nxt)),
        )
        u = Updates()
        t = self.tries
        # What is outstanding from SND.UNA (RFC 9293 3.8.1): the SYN while SND.UNA = ISS, also
        # after a CLOSE in SYN-RECEIVED queued a FIN behind it (a SYN is resent alone, as
        # Linux never collapses one with other data); else the data unit at SND.UNA, then
        # the FIN, which rides with that unit under `fin_with_data` (Linux
        # tcp_retrans_try_collapse) and is otherwise resent alone once the data is acked.
        syn = (
            or_(
                self.is_("SYN_SENT", "SYN_RECEIVED"),
                and_(self.state.eq("FIN_WAIT_1"), self.snd_una.eq(self.iss)),
            )
            if self.close_unsynced
            else self.is_("SYN_SENT", "SYN_RECEIVED")
        )
        fin_sent = self.is_(*FIN_SENT)
        fin_only = and_(fin_sent, (self.snd_una + 1).eq(self.snd_nxt))
        data_fin = (
            and_(fin_sent, (self.snd_una + 2).eq(self.snd_nxt))
            if self.p.fin_with_data and self.data
            else FALSE
        )
        self.emit(
            u,
            {
                "syn": syn,
                "ack": not_(self.state.eq("SYN_SENT")),
                "fin": and_(not_(syn), or_(fin_only, data_fin)),
                "seq": ite(syn, self.iss, self.snd_una),
                "ackno": ite(self.state.eq("SYN_SENT"), lift(0, self.seq_t), self.rcv_nxt),
                "len": ite(or_(syn, fin_only), 0, 1) if self.data else 0,
            },
        )
        forever = self.p.retries_unlimited
        # Retrying forever, `tries` saturates at most_tries, where the RTO is rto_max.
        u.set(self.tries, ite(t.lt(self.most_tries), t + 1, t) if forever else t + 1)
        u.set(self.timer, self.rto_after(t + 1))
        self.b.action(
            f"{self.name}.retransmit",
            and_(
                due,
                outstanding,
                TRUE if forever else t.lt(self.limit()),
                not_(self.is_("TIME_WAIT")),
            ),
            u,
            "RFC 9293 3.8.1: the retransmission timer resends the oldest unacknowledged "
            "segment, RTO doubled (RFC 6298 5.5)"
            + (" up to rto_max; retried forever (R2 not applied)" if forever else ""),
            group=f"{self.name}.timer",
        )
        if not forever:
            self._give_up(and_(due, outstanding))
        if self.p.fin_timeout_ticks:
            u = Updates()
            self.to_closed(u)
            self.b.action(
                f"{self.name}.fin_timeout",
                and_(due, self.is_("FIN_WAIT_2")),
                u,
                "Linux tcp_fin_timeout: a FIN-WAIT-2 connection is deleted after the timeout "
                "(RFC 9293 gives FIN-WAIT-2 no timer)",
                group=f"{self.name}.timer",
            )
        u = Updates()
        self.closed_after_close(u)
        self.b.action(
            f"{self.name}.time_wait_expires",
            and_(due, self.is_("TIME_WAIT")),
            u,
            "RFC 9293 3.10.8: the 2 MSL timeout in TIME-WAIT deletes the TCB",
            group=f"{self.name}.timer",
        )

    def _give_up(self, due: Expr) -> None:
        u = Updates()
        back_to_listen = and_(self.state.eq("SYN_RECEIVED"), self.passive)
        u.set(self.killed, or_(self.killed, self.after_fin()))
        self.to_closed(u)
        u.set(self.state, ite(back_to_listen, st("LISTEN"), st(self.rest)))
        self.b.action(
            f"{self.name}.give_up",
            and_(due, self.tries.ge(self.limit()), not_(self.is_("TIME_WAIT"))),
            u,
            "RFC 9293 3.8.3 R2: too many retransmissions, the connection is aborted",
            group=f"{self.name}.timer",
        )

    def limit(self) -> Expr:
        """Retransmissions allowed in the current state (Linux tcp_syn_retries,
        tcp_synack_retries, tcp_retries2)."""
        return ite(
            self.state.eq("SYN_SENT"),
            lift(self.p.syn_retries),
            ite(self.state.eq("SYN_RECEIVED"), lift(self.p.synack_retries), lift(self.p.retries)),
        )

    def tick(self, u: Updates) -> None:
        u.set(self.timer, ite(self.timer.gt(1), self.timer - 1, self.timer))
        if self.p.timestamps:
            age = self.ts_age
            u.set(age, ite(and_(self.ts_ok, age.lt(self.ts_stale)), age + 1, age))

    # ---- user calls ----------------------------------------------------------------------
    def add_close(self, first: Lit = True) -> None:
        """CLOSE in each state that allows it; `first` guards the active close (before any FIN
        was received), which is what puts this end in TIME-WAIT.

        With ``fin_with_data`` a CLOSE issued while the last data unit is unsent sends it with
        the FIN (``<CTL=FIN,ACK><LEN=1>``, as Linux does); with close_mode = "close" a CLOSE
        while received data is unread sends RST instead of FIN (RFC 1122 4.2.2.13, RFC 2525
        2.17; Linux tcp_close)."""
        unread = FALSE if self.unread is None else self.unread
        for state, nxt in (
            ("ESTABLISHED", "FIN_WAIT_1"),
            ("SYN_RECEIVED", "FIN_WAIT_1"),
            ("CLOSE_WAIT", "LAST_ACK"),
        ):
            # A passively opened connection is not the user's until it is established.
            visible = not_(self.passive) if state == "SYN_RECEIVED" else TRUE
            when = TRUE if state == "CLOSE_WAIT" else first
            may = and_(self.state.eq(state), visible, when)
            u = Updates()
            self.emit(u, {"fin": True, "ack": True, "seq": self.snd_nxt, "ackno": self.rcv_nxt})
            u.set(self.snd_nxt, self.snd_nxt + 1)
            u.set(self.state, st(nxt))
            self.arm_if_idle(u)
            self.on_close(u, state)
            self.b.action(
                f"{self.name}.close",
                and_(self.state.eq(state), visible, self.can_close(), when)
                if self.unread is None
                else and_(self.state.eq(state), visible, self.can_close(), not_(unread), when),
                u,
                f"RFC 9293 3.10.4 CLOSE in {state}: send FIN, {nxt}",
                {"from": state},
                f"{self.name}.user",
            )
            if self.p.fin_with_data and self.unsent is not None and state != "SYN_RECEIVED":
                u = Updates()
                self.emit(
                    u,
                    {
                        "fin": True,
                        "ack": True,
                        "seq": self.snd_nxt,
                        "ackno": self.rcv_nxt,
                        "len": 1,
                    },
                )
                u.set(self.snd_nxt, self.snd_nxt + 2)
                u.set(self.unsent, 0)
                u.set(self.state, st(nxt))
                self.arm_if_idle(u)
                self.on_close(u, state)
                self.b.action(
                    f"{self.name}.close",
                    and_(may, self.unsent.eq(1), self.window_open(), not_(unread)),
                    u,
                    f"RFC 9293 3.10.4 CLOSE in {state} with the last data unit unsent: "
                    f"data and FIN in one segment <CTL=FIN,ACK><LEN=1> (Linux), {nxt}",
                    {"from": state, "data": 1},
                    f"{self.name}.user",
                )
            if self.unread is not None and state != "SYN_RECEIVED":
                u = Updates()
                self.emit_abort_rst(u)
                u.set(self.killed, or_(self.killed, self.after_fin()))
                self.to_closed(u)
                self.b.action(
                    f"{self.name}.close_unread",
                    and_(may, self.unread),
                    u,
                    f"RFC 1122 4.2.2.13 CLOSE in {state} with received data unread: RST "
                    "instead of FIN, the connection is deleted (Linux tcp_close)",
                    {"from": state},
                    f"{self.name}.user",
                )
        if self.unread is not None:
            u = Updates()
            u.set(self.unread, False)
            self.b.action(
                f"{self.name}.read",
                self.unread,
                u,
                "RFC 9293 3.10.3 RECEIVE: the user reads the data received",
                group=f"{self.name}.user",
            )

    def emit_abort_rst(self, u: Updates) -> None:
        """The RST of an abortive close: <SEQ=SND.NXT><CTL=RST> (RFC 9293 3.10.5), or with
        ``abort_rst_ack`` <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK> (Linux
        tcp_send_active_reset)."""
        if self.p.abort_rst_ack:
            self.emit(
                u,
                {"rst": True, "ack": True, "seq": self.snd_nxt, "ackno": self.rcv_nxt},
            )
        else:
            self.emit_rst(u, self.snd_nxt)

    def add_send(self) -> None:
        """SEND: one data unit per segment, within the peer's window (RFC 9293 3.10.2)."""
        if not self.data or self.unsent is None:
            return
        u = Updates()
        self.emit(u, {"ack": True, "seq": self.snd_nxt, "ackno": self.rcv_nxt, "len": 1})
        u.set(self.snd_nxt, self.snd_nxt + 1)
        u.set(self.unsent, self.unsent - 1)
        self.arm_if_idle(u)
        self.b.action(
            f"{self.name}.send",
            and_(self.is_("ESTABLISHED", "CLOSE_WAIT"), self.unsent.gt(0), self.window_open()),
            u,
            "RFC 9293 3.10.2 SEND: a data segment <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>",
            group=f"{self.name}.user",
        )

    def add_abort(self, allowed: Expr) -> None:
        """ABORT (RFC 9293 3.10.5, SO_LINGER 0): RST in SYN-RECEIVED (the user's), ESTABLISHED,
        FIN-WAIT-1/2 and CLOSE-WAIT; silent in SYN-SENT, CLOSING, LAST-ACK and TIME-WAIT."""
        after_fin = self.after_fin()
        loud = ("SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT")
        u = Updates()
        self.emit_abort_rst(u)
        self.to_closed(u)
        self.on_abort(u)
        u.set(self.killed, or_(self.killed, after_fin))
        mine = TRUE if self.rest == "CLOSED" else not_(self.passive)
        self.b.action(
            f"{self.name}.abort",
            and_(self.is_(*loud), allowed)
            if self.rest == "CLOSED"
            else and_(self.is_(*loud), allowed, or_(not_(self.state.eq("SYN_RECEIVED")), mine)),
            u,
            "RFC 9293 3.10.5 ABORT: <SEQ=SND.NXT><CTL=RST>"
            + (",ACK (Linux tcp_send_active_reset)" if self.p.abort_rst_ack else "")
            + f", {self.rest} (SO_LINGER 0)",
            group=f"{self.name}.user",
        )
        u = Updates()
        self.to_closed(u)
        self.on_abort(u)
        u.set(self.killed, or_(self.killed, after_fin))
        self.b.action(
            f"{self.name}.abort_quiet",
            and_(self.is_("SYN_SENT", "CLOSING", "LAST_ACK", "TIME_WAIT"), allowed),
            u,
            "RFC 9293 3.10.5 ABORT in SYN-SENT, CLOSING, LAST-ACK or TIME-WAIT: "
            "delete the TCB, send nothing",
            group=f"{self.name}.user",
        )

    def on_abort(self, u: Updates) -> None:
        """Hook: extra effects of ABORT."""

    def can_close(self) -> Expr:
        """Whether the user may CLOSE with a FIN alone: all data handed to TCP."""
        return TRUE if self.unsent is None else self.unsent.eq(0)

    def on_close(self, u: Updates, state: str) -> None:
        """Hook: extra effects of CLOSE."""

    def after_fin(self) -> Expr:
        """Some FIN of this connection has been sent or received."""
        return not_(self.is_("CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED"))

    def window_open(self) -> Expr:
        # SND.NXT - SND.UNA < window, modulo 2**bits (the same as seq_to_int(...) < window, in
        # a form whose Z3 terms stay narrow).
        return in_window(self.snd_nxt, self.snd_una, self.rcv_wnd)
