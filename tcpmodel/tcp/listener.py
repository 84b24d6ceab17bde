"""The ``listener`` model: a Linux listen socket under a SYN flood, and its accept queue.

The server stays in LISTEN (RFC 9293 3.10.7.2) and keeps each half-open connection as a
*request entry* of the listener, as Linux does, plus an *accept queue* of established
connections that the application has not yet taken with accept().  Variables:

* ``req``: a `SlotArray` of request entries (a multiset: entries are unordered), fields
  ``spoofed`` (the SYN came from the attacker), ``retries`` (SYN,ACK retransmissions so far,
  Linux ``num_timeout``) and ``timer`` (0 off, 1 due now, ``k > 1`` due in ``k - 1`` ticks).
  It has ``backlog`` slots, one more with ``backlog_limit = false`` (the mutation that lets a
  SYN find room in a full queue).  An entry is retransmitted with RTO 1, 2, 4, ... ticks and
  dropped silently at the timeout after its ``synack_retries``-th retransmission (Linux
  ``tcp_synack_retries``: with 5, SYN,ACKs at 0, 1, 3, 7, 15, 31 s, dropped at 63 s).
* the accept queue: ``accept.others`` connections of other, well-behaved clients (at most
  ``other_clients`` join it in a run, each when the model chooses: their handshakes are not
  modelled), and the legitimate client's connection when ``srv.legit == QUEUED``, behind
  ``accept.ahead`` others (FIFO).  The application accepts the head of the queue at every tick
  that is a multiple of ``accept_rate`` (0: never).
* the legitimate client: ``client.state`` (CLOSED, SYN_SENT, ESTABLISHED), ``client.error``
  (NONE, ETIMEDOUT after its last SYN timed out, ECONNRESET after an RST in ESTABLISHED),
  ``client.timer``/``client.tries`` (SYN retransmission, Linux ``tcp_syn_retries``: RTO 1, 2,
  4, ... ticks), ``client.cookie`` (it synchronised on a cookie SYN,ACK).  It calls connect()
  at tick ``client_start``.
* the attacker: off-path, spoofing a new source address for every SYN, so every SYN it sends
  that gets an entry is a distinct half-open connection that is never completed, and every
  SYN,ACK (or cookie) sent to it goes nowhere.  It sends up to ``attack_rate`` SYNs per tick
  (``attacker.now`` counts them), ``attack_budget`` in all (``attacker.sent``) unless the budget
  is ``"unlimited"``.  Its SYNs arrive at the listener directly: they never share the client's
  channels.
* ``net.cs`` / ``net.sc``: the segments between client and server (flags ``syn``, ``ack``,
  ``rst``, and the ghost ``cookie``: a cookie SYN,ACK, or an ACK returning one), each a
  multiset of ``capacity`` slots.  The round trip is far below the 1-tick RTO unit, so a
  segment in flight is delivered (or lost, within the ``loss`` budget ``net.lost``) before time
  passes.  A send into a full channel is lost and sets the ghost ``net.overflow``.
* ``time``: ticks so far, at most ``horizon``.  A due timer, a segment in flight and the
  client's connect() at ``client_start`` are urgent: no tick until they are handled.  With
  ``horizon = 0`` runs are infinite (for liveness): ``time`` then stops counting at
  ``client_start`` (all it is needed for afterwards is "connect() is due"), and
  ``accept.phase`` counts ticks modulo ``accept_rate`` for the application's accept().
* ghosts: ``srv.ack_dropped`` (the client's final ACK found the accept queue full and was
  dropped), ``srv.client_syn_dropped`` (a SYN of the client found the request queue full and
  was dropped, which Linux counts as TCPReqQFullDrop; with cookies it is answered instead,
  TCPReqQFullDoCookies, and the ghost stays false).  It is a function of the other variables
  in every bundled configuration (no state count changes with it).

Definitions: ``settled`` (the horizon is reached and nothing is left to do at that instant:
no segment in flight, no timer due; only with a horizon) and ``over_backlog`` (more than
``backlog`` entries).

Fairness (for LTL properties such as ``legit-connects``): weak for the clock (time passes,
and with it the application's accept()), the request entries' timers and the client (its
connect(), SYN retransmissions and give-up); strong for each receive action with its slot, as
in the ``connection`` model.  The attacker, the other clients and the network's losses get
none: an attacker with an unlimited supply may send or stay silent as it likes, and the
network loses only what the ``loss`` budget allows.  Time cannot be stalled either way: the
attacker's SYNs per tick and the losses are bounded and every other step is urgent, so every
infinite run ticks infinitely often.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from tcpmodel.kernel.expr import TRUE, Expr, Lit, Var, and_, enum_const, ite, lift, not_, or_
from tcpmodel.kernel.system import Builder, System, Updates
from tcpmodel.kernel.types import BOOL, EnumType, IntType
from tcpmodel.models.base import (
    DEADLOCK_FREE,
    LibraryProperty,
    Model,
    ParamValue,
    schema,
)
from tcpmodel.tcp.listener_params import ListenerParams
from tcpmodel.tcp.network import Channels

CLIENT = EnumType("client_state", ("CLOSED", "SYN_SENT", "ESTABLISHED"))
ERROR = EnumType("client_error", ("NONE", "ETIMEDOUT", "ECONNRESET"))
LEGIT = EnumType("legit", ("NONE", "QUEUED", "ACCEPTED"))
FLAGS = {"SYN": ("syn",), "ACK": ("ack",), "RST": ("rst",), "SYNACK": ("syn", "ack")}

LISTEN_SYN = "RFC 9293 3.10.7.2 LISTEN: SYN -> <SEQ=ISS><ACK=SEG.SEQ+1><CTL=SYN,ACK>"
LISTEN_ACK = "RFC 9293 3.10.7.2 LISTEN: an ACK-bearing segment -> <SEQ=SEG.ACK><CTL=RST>"
FULL_ACCEPT = "Linux tcp_conn_request: a full accept queue drops every SYN"
NO_COOKIES = "Linux tcp_syncookies = 0: a SYN that finds the request queue full is dropped"
COOKIE = (
    "RFC 4987 SYN cookies (Linux tcp_syncookies): the request queue is full, so the SYN,ACK "
    "encodes the entry in its ISN; no state is kept and it is never retransmitted"
)


Effect = Callable[[Updates], None]


def assign(*pairs: tuple[Var, Lit]) -> Effect:
    """An effect that sets each variable to its value."""

    def run(u: Updates) -> None:
        for var, value in pairs:
            u.set(var, value)

    return run


def _rto_timer(tries: Expr, most: int) -> Expr:
    """The timer value that arms the timeout after ``tries`` retransmissions: RTO 2**tries."""
    value: Expr = lift((1 << most) + 1)
    for n in reversed(range(most)):
        value = ite(tries.eq(n), (1 << n) + 1, value)
    return value


class Listener:
    """Builds the ``listener`` system from validated parameters (see the module docstring)."""

    def __init__(self, p: ListenerParams) -> None:
        self.backlog = p.backlog
        self.limit = p.backlog_limit
        self.accept_backlog = p.accept_backlog
        self.synack_retries = p.synack_retries
        self.syn_retries = p.syn_retries
        self.cookies = p.syncookies
        self.abort = p.abort_on_overflow
        self.accept_rate = p.accept_rate
        self.others = p.other_clients
        self.rate = p.attack_rate
        self.budget = None if isinstance(p.attack_budget, str) else p.attack_budget
        self.start = p.client_start
        self.horizon = p.horizon
        self.loss = p.loss
        b = self.b = Builder("listener")
        if self.horizon:
            self.time = b.var("time", IntType(0, self.horizon), doc="ticks so far")
        else:
            # Unbounded runs: the clock only has to say whether connect() is due.
            self.time = b.var(
                "time", IntType(0, self.start), doc="ticks so far, up to client_start"
            )
        self.phase: Var | None = None
        if not self.horizon and self.accept_rate > 1:
            self.phase = b.var(
                "accept.phase",
                IntType(0, self.accept_rate - 1),
                doc="ticks modulo accept_rate (unbounded runs)",
            )
        # -- the listener -------------------------------------------------------------------
        self.req = b.array(
            "req",
            self.backlog + (0 if self.limit else 1),
            [
                ("spoofed", BOOL),
                ("retries", IntType(0, self.synack_retries)),
                ("timer", IntType(0, (1 << self.synack_retries) + 1)),
            ],
        )
        self.legit = b.var("srv.legit", LEGIT, "NONE", doc="the client's connection at the server")
        self.queued = b.var(
            "accept.others", IntType(0, self.others), doc="other clients' connections queued"
        )
        self.ahead = b.var(
            "accept.ahead", IntType(0, self.others), doc="others ahead of the client's (FIFO)"
        )
        self.joined = b.var(
            "others.joined", IntType(0, self.others), doc="other clients' connections so far"
        )
        self.ack_dropped = b.var(
            "srv.ack_dropped", BOOL, doc="ghost: the client's ACK met a full accept queue"
        )
        self.client_syn_dropped = b.var(
            "srv.client_syn_dropped",
            BOOL,
            doc="ghost: a SYN of the client was dropped because the request queue was full",
        )
        # -- the client ---------------------------------------------------------------------
        self.state = b.var("client.state", CLIENT, "CLOSED", doc="the client's TCP state")
        self.error = b.var("client.error", ERROR, "NONE", doc="how connect() failed")
        self.timer = b.var("client.timer", IntType(0, (1 << self.syn_retries) + 1), doc="SYN timer")
        self.tries = b.var("client.tries", IntType(0, self.syn_retries), doc="SYN retries")
        self.cookie = b.var("client.cookie", BOOL, doc="synchronised on a cookie SYN,ACK")
        # -- the attacker and the network ---------------------------------------------------
        self.now = b.var("attacker.now", IntType(0, self.rate), doc="spoofed SYNs this tick")
        self.sent: Var | None = None
        if self.budget is not None:
            self.sent = b.var("attacker.sent", IntType(0, self.budget), doc="spoofed SYNs")
        # The connection model's channels and fault model (`tcpmodel.tcp.network.Channels`),
        # with records of their own: the segments here carry flags and the cookie ghost but no
        # sequence numbers, incarnation or age (a round trip is far below a tick, so nothing
        # ages in flight), and never a duplicate.  A send into a full channel sets
        # ``net.overflow`` whatever the budget (`full_is_loss` off): the budget ``net.lost``
        # is the network's losses in the run, never reset.
        fields = [("syn", BOOL), ("ack", BOOL), ("rst", BOOL), ("cookie", BOOL)]
        self.net = Channels(
            b,
            {"cs": "net.cs", "sc": "net.sc"},
            fields,
            capacity=p.capacity,
            loss=self.loss,
            full_is_loss=False,
            loss_doc="segments lost so far",
        )
        self.cs = self.net.channel["cs"]
        self.sc = self.net.channel["sc"]

    # ---- expressions ----------------------------------------------------------------------
    def requests(self) -> Expr:
        return self.req.count()

    def queue_full(self) -> Expr:
        """No SYN gets an entry: `backlog` entries held (or every slot, without the cap)."""
        return self.requests().ge(self.backlog) if self.limit else self.req.full()

    def accept_len(self) -> Expr:
        return self.queued + ite(self.legit.eq("QUEUED"), 1, 0)

    def accept_full(self) -> Expr:
        return self.accept_len().ge(self.accept_backlog)

    def legit_entry(self, slot: int) -> Expr:
        return and_(self.req.present(slot), not_(self.req.field(slot, "spoofed")))

    def has_legit_entry(self) -> Expr:
        return or_(*(self.legit_entry(i) for i in range(self.req.capacity)))

    def channels_empty(self) -> Expr:
        return and_(not_(self.cs.present(0)), not_(self.sc.present(0)))

    def timers_due(self) -> Expr:
        return or_(
            self.timer.eq(1),
            *(
                and_(self.req.present(i), self.req.field(i, "timer").eq(1))
                for i in range(self.req.capacity)
            ),
        )

    # ---- helpers on updates ---------------------------------------------------------------
    def send(self, u: Updates, ch: str, kind: str, cookie: Lit = False) -> None:
        """A segment into channel ``ch`` (``cs`` or ``sc``); a full channel loses it and sets
        ``net.overflow``."""
        flags: dict[str, Lit] = {f: f in FLAGS[kind] for f in ("syn", "ack", "rst")}
        self.net.put(u, ch, {**flags, "cookie": cookie})

    def new_entry(self, u: Updates, spoofed: bool) -> None:
        self.req.send(u, {"spoofed": spoofed, "retries": 0, "timer": 2})
        if not spoofed:
            self.send(u, "sc", "SYNACK")

    def enqueue_legit(self, u: Updates) -> None:
        u.set(self.legit, "QUEUED")
        u.set(self.ahead, self.queued)

    def reply(self, ch: str, kind: str, cookie: Lit = False) -> Effect:
        return lambda u: self.send(u, ch, kind, cookie)

    def drop_entry(self, slot: int) -> Effect:
        return lambda u: self.req.remove(u, slot)

    def receive(
        self,
        ch: str,
        slot: int,
        name: str,
        guard: Expr,
        rule: str,
        *effects: Effect,
        entry: int | None = None,
    ) -> None:
        """One arrival: the segment in ``slot`` of ``ch`` is taken out and ``effects`` run."""
        u = Updates()
        self.net.take(u, ch, slot)
        for effect in effects:
            effect(u)
        params = {"slot": slot} if entry is None else {"slot": slot, "entry": entry}
        group = "client.receive" if ch == "sc" else "srv.receive"
        self.b.action(name, guard, u, rule, params, group)

    # ---- actions --------------------------------------------------------------------------
    def build(self) -> System:
        self.add_client()
        self.add_attacker()
        self.add_listener()
        self.add_request_timers()
        self.net.add_fault_actions()
        self.add_tick()
        b = self.b
        if self.horizon:
            at_end = self.time.eq(self.horizon)
            b.define("settled", and_(at_end, self.channels_empty(), not_(self.timers_due())))
            b.terminal = at_end
        b.define("over_backlog", self.requests().gt(self.backlog))
        # Fairness for LTL (module docstring): weak for time, the timers and the client's own
        # steps; strong per receive action and slot (a segment offered again and again is
        # received); none for the attacker, the other clients or losses.
        b.fair("weak", "clock")
        b.fair("weak", "srv.timer")
        b.fair("weak", "client")
        system = b.build()
        receive = ("client.receive", "srv.receive")
        for label in dict.fromkeys(a.label for a in system.actions if a.group in receive):
            b.fair("strong", label)
        return b.build()

    def add_client(self) -> None:
        b = self.b
        u = Updates()
        u.set(self.state, "SYN_SENT")
        u.set(self.timer, 2)
        self.send(u, "cs", "SYN")
        b.action(
            "client.connect",
            and_(self.state.eq("CLOSED"), self.error.eq("NONE"), self.time.eq(self.start)),
            u,
            "RFC 9293 3.10.1 OPEN (active): <SEQ=ISS><CTL=SYN>, SYN-SENT",
            group="client",
        )
        u = Updates()
        u.set(self.tries, self.tries + 1)
        u.set(self.timer, _rto_timer(self.tries + 1, self.syn_retries))
        self.send(u, "cs", "SYN")
        due = and_(self.state.eq("SYN_SENT"), self.timer.eq(1))
        b.action(
            "client.retransmit_syn",
            and_(due, self.tries.lt(self.syn_retries)),
            u,
            "Linux tcp_syn_retries: the SYN is resent, RTO doubled (RFC 6298 5.5)",
            group="client",
        )
        u = Updates()
        u.set(self.state, "CLOSED")
        u.set(self.error, "ETIMEDOUT")
        u.set(self.timer, 0)
        u.set(self.tries, 0)
        b.action(
            "client.give_up",
            and_(due, self.tries.eq(self.syn_retries)),
            u,
            "Linux tcp_syn_retries: the last SYN timed out, connect() fails with ETIMEDOUT "
            "(RFC 9293 3.8.3 R2)",
            group="client",
        )
        for i in range(self.sc.capacity):
            synack = and_(self.sc.present(i), self.sc.field(i, "syn"))
            reset = and_(self.sc.present(i), self.sc.field(i, "rst"))
            seg_cookie = self.sc.field(i, "cookie")
            self.receive(
                "sc",
                i,
                "client.synack",
                and_(synack, self.state.eq("SYN_SENT")),
                "RFC 9293 3.10.7.3 SYN-SENT: SYN,ACK acking our SYN -> <CTL=ACK>, ESTABLISHED",
                assign((self.state, "ESTABLISHED"), (self.timer, 0), (self.tries, 0)),
                assign((self.cookie, seg_cookie)),
                self.reply("cs", "ACK", seg_cookie),
            )
            self.receive(
                "sc",
                i,
                "client.reack",
                and_(synack, self.state.eq("ESTABLISHED")),
                "RFC 9293 3.10.7.4: a retransmitted SYN,ACK is not acceptable -> <CTL=ACK> "
                "(the final ACK again)",
                self.reply("cs", "ACK", self.cookie),
            )
            self.receive(
                "sc",
                i,
                "client.closed_synack",
                and_(synack, self.state.eq("CLOSED")),
                "RFC 9293 3.10.7.1 CLOSED: an ACK-bearing segment -> <SEQ=SEG.ACK><CTL=RST>",
                self.reply("cs", "RST"),
            )
            self.receive(
                "sc",
                i,
                "client.reset",
                and_(reset, self.state.eq("ESTABLISHED")),
                "RFC 9293 3.10.7.4 ESTABLISHED: an acceptable RST -> CLOSED, "
                "'connection reset' (ECONNRESET)",
                assign((self.state, "CLOSED"), (self.error, "ECONNRESET"), (self.cookie, False)),
            )
            self.receive(
                "sc",
                i,
                "client.drop_rst",
                and_(reset, not_(self.state.eq("ESTABLISHED"))),
                "RFC 9293 3.10.7.3 SYN-SENT: an RST without ACK is dropped "
                "(3.10.7.1 CLOSED: an RST is discarded)",
            )

    def add_attacker(self) -> None:
        if self.rate == 0 or self.budget == 0:
            return
        b = self.b
        may = and_(
            self.now.lt(self.rate),
            TRUE if self.sent is None else self.sent.lt(self.budget or 0),
        )

        def count(u: Updates) -> None:
            u.set(self.now, self.now + 1)
            if self.sent is not None:
                u.set(self.sent, self.sent + 1)

        cases: list[tuple[str, Expr, bool, str]] = [
            ("attacker.syn_dropped", self.accept_full(), False, FULL_ACCEPT),
            (
                "attacker.syn_entry",
                and_(not_(self.accept_full()), not_(self.queue_full())),
                True,
                LISTEN_SYN + "; Linux keeps a request entry, the listener stays in LISTEN "
                "(the SYN,ACK goes to the spoofed address: nowhere)",
            ),
            (
                "attacker.syn_full",
                and_(not_(self.accept_full()), self.queue_full()),
                False,
                (COOKIE + " (this one goes to the spoofed address: nowhere)")
                if self.cookies
                else NO_COOKIES,
            ),
        ]
        for name, guard, entry, rule in cases:
            u = Updates()
            count(u)
            if entry:
                self.new_entry(u, spoofed=True)
            b.action(name, and_(may, guard), u, rule, group="attacker")

    def add_listener(self) -> None:
        for i in range(self.cs.capacity):
            self.add_segment_arrival(i)

    def add_segment_arrival(self, i: int) -> None:
        """The listener's actions for the segment in ``net.cs`` slot ``i``, case by case."""
        here = self.cs.present(i)
        syn = and_(here, self.cs.field(i, "syn"))
        ack = and_(here, self.cs.field(i, "ack"))
        rst = and_(here, self.cs.field(i, "rst"))
        fresh = self.legit.eq("NONE")
        no_entry = not_(self.has_legit_entry())
        full = self.accept_full()
        cs = "cs"
        self.receive(cs, i, "srv.syn_accept_full", and_(syn, full), FULL_ACCEPT)
        open_ = and_(syn, not_(full), fresh)
        self.receive(
            cs,
            i,
            "srv.syn_again",
            and_(open_, self.has_legit_entry()),
            "Linux tcp_check_req: a retransmitted SYN for a request entry gets its SYN,ACK "
            "again (RFC 9293 3.10.7.4 SYN-RECEIVED)",
            self.reply("sc", "SYNACK"),
        )
        self.receive(
            cs,
            i,
            "srv.syn_entry",
            and_(open_, no_entry, not_(self.queue_full())),
            LISTEN_SYN + "; Linux keeps a request entry, the listener stays in LISTEN",
            lambda u: self.new_entry(u, spoofed=False),
        )
        if self.cookies:
            cookie_syn = (COOKIE, self.reply("sc", "SYNACK", True))
        else:
            cookie_syn = (NO_COOKIES, assign((self.client_syn_dropped, True)))
        self.receive(
            cs,
            i,
            "srv.syn_cookie" if self.cookies else "srv.syn_queue_full",
            and_(open_, no_entry, self.queue_full()),
            *cookie_syn,
        )
        self.receive(
            cs,
            i,
            "srv.syn_established",
            and_(syn, not_(full), not_(fresh)),
            "a SYN for a connection past the handshake goes to that connection, not to the "
            "listener (abstracted: dropped)",
        )
        # The client's ACK: for its request entry, for a cookie, or for nothing.
        if self.abort:
            overflow = (
                "Linux tcp_abort_on_overflow = 1: the accept queue is full, so the final ACK "
                "is answered with <CTL=RST> and the request entry dropped"
            )
        else:
            overflow = (
                "Linux tcp_abort_on_overflow = 0: the accept queue is full, so the final ACK "
                "is dropped; the request entry stays and resends its SYN,ACK"
            )
        for j in range(self.req.capacity):
            entry = and_(ack, self.legit_entry(j), not_(self.cs.field(i, "cookie")))
            self.receive(
                cs,
                i,
                "srv.ack_complete",
                and_(entry, not_(full)),
                "RFC 9293 3.10.7.4 SYN-RECEIVED: our SYN is acked -> ESTABLISHED; Linux "
                "moves the connection from the request entry to the accept queue",
                self.drop_entry(j),
                self.enqueue_legit,
                entry=j,
            )
            self.receive(
                cs,
                i,
                "srv.ack_overflow",
                and_(entry, full),
                overflow,
                assign((self.ack_dropped, True)),
                *((self.drop_entry(j), self.reply("sc", "RST")) if self.abort else ()),
                entry=j,
            )
            self.receive(
                cs,
                i,
                "srv.ack_mismatch",
                and_(ack, self.legit_entry(j), self.cs.field(i, "cookie")),
                "an ACK of a cookie while the client has a request entry does not ack the "
                "entry's ISS: Linux tcp_check_req passes it to the listener's cookie check; "
                "dropped here (unreachable: it needs a SYN,ACK delayed past a tick)",
                entry=j,
            )
            self.receive(
                cs,
                i,
                "srv.rst_entry",
                and_(rst, self.legit_entry(j)),
                "RFC 9293 3.10.7.4 SYN-RECEIVED (passive): an RST returns to LISTEN; "
                "Linux drops the request entry",
                self.drop_entry(j),
                entry=j,
            )
        stray = and_(ack, fresh, no_entry)
        valid = and_(self.cs.field(i, "cookie"), self.cookies)
        if self.cookies:
            self.receive(
                cs,
                i,
                "srv.cookie_ack",
                and_(stray, valid, not_(full)),
                "RFC 4987 SYN cookies: an ACK of a valid cookie recreates the connection, "
                "straight into the accept queue",
                self.enqueue_legit,
            )
            self.receive(
                cs,
                i,
                "srv.cookie_ack_overflow",
                and_(stray, valid, full),
                "Linux cookie_v4_check: a valid cookie but a full accept queue: the ACK is "
                "dropped (no state to keep, no RST)",
                assign((self.ack_dropped, True)),
            )
        self.receive(
            cs,
            i,
            "srv.ack_listen",
            and_(stray, not_(valid)),
            LISTEN_ACK,
            self.reply("sc", "RST"),
        )
        self.receive(
            cs,
            i,
            "srv.ack_established",
            and_(ack, not_(fresh)),
            "a duplicate ACK goes to the established connection (dropped there)",
        )
        self.receive(
            cs,
            i,
            "srv.rst_listen",
            and_(rst, no_entry),
            "RFC 9293 3.10.7.2 LISTEN: an RST is ignored",
        )

    def add_request_timers(self) -> None:
        b = self.b
        for j in range(self.req.capacity):
            here = self.req.present(j)
            spoofed = self.req.field(j, "spoofed")
            retries = self.req.field(j, "retries")
            due = and_(here, self.req.field(j, "timer").eq(1))
            u = Updates()
            u.set(retries, retries + 1)
            u.set(self.req.field(j, "timer"), _rto_timer(retries + 1, self.synack_retries))
            u.when(not_(spoofed), lambda w: self.send(w, "sc", "SYNACK"))
            b.action(
                "srv.retransmit_synack",
                and_(due, retries.lt(self.synack_retries)),
                u,
                "Linux tcp_synack_retries: the request entry resends its SYN,ACK, RTO doubled "
                "(to a spoofed address: nowhere)",
                {"entry": j},
                "srv.timer",
            )
            u = Updates()
            self.req.remove(u, j)
            b.action(
                "srv.drop_entry",
                and_(due, retries.eq(self.synack_retries)),
                u,
                "Linux tcp_synack_retries: the last SYN,ACK timed out, the request entry is "
                "dropped silently (no RST)",
                {"entry": j},
                "srv.timer",
            )
        if self.others:
            u = Updates()
            u.set(self.queued, self.queued + 1)
            u.set(self.joined, self.joined + 1)
            b.action(
                "others.connect",
                and_(self.joined.lt(self.others), not_(self.accept_full())),
                u,
                "another client completes its handshake (abstracted): its connection joins "
                "the accept queue",
                group="others",
            )

    def add_tick(self) -> None:
        u = Updates()
        nxt = self.time + 1
        if self.horizon:
            u.set(self.time, nxt)
        else:
            u.set(self.time, ite(self.time.lt(self.start), nxt, self.time))
        u.set(self.now, 0)
        u.set(self.timer, ite(self.timer.gt(1), self.timer - 1, self.timer))
        for j in range(self.req.capacity):
            t = self.req.field(j, "timer")
            u.set(t, ite(t.gt(1), t - 1, t))
        if self.accept_rate:
            # accept() at every multiple of accept_rate: the head of the FIFO queue is taken.
            turn: Expr
            if self.horizon:
                turn = (nxt % self.accept_rate).eq(0)
            elif self.phase is None:
                turn = TRUE
            else:
                last = self.accept_rate - 1
                turn = self.phase.eq(last)
                u.set(self.phase, ite(turn, 0, self.phase + 1))
            legit_head = and_(self.legit.eq("QUEUED"), self.ahead.eq(0))
            other_head = and_(self.queued.gt(0), not_(legit_head))
            u.set(
                self.legit, ite(and_(turn, legit_head), enum_const(LEGIT, "ACCEPTED"), self.legit)
            )
            u.set(self.queued, ite(and_(turn, other_head), self.queued - 1, self.queued))
            u.set(
                self.ahead,
                ite(and_(turn, other_head, self.ahead.gt(0)), self.ahead - 1, self.ahead),
            )
        connect_due = and_(self.state.eq("CLOSED"), self.error.eq("NONE"), self.time.eq(self.start))
        self.b.action(
            "tick",
            and_(
                self.time.lt(self.horizon) if self.horizon else TRUE,
                not_(self.timers_due()),
                self.channels_empty(),
                not_(connect_due),
            ),
            u,
            "time passes (1 tick = the initial RTO): timers run, the application accept()s "
            "every accept_rate ticks; a due timer and a segment in flight come first",
            group="clock",
        )


def build(values: Mapping[str, ParamValue]) -> System:
    return Listener(ListenerParams.of(values)).build()


PROPERTIES = (
    LibraryProperty(
        "legit-connects",
        "eventually(srv.legit != NONE)",
        "the server eventually has the legitimate client's connection in its accept queue (or "
        "accepted): a liveness property, checked under fairness; use horizon = 0 (with a "
        "horizon the run stutters at it, and this reads 'by the horizon')",
    ),
    LibraryProperty(
        "legit-connects-by-horizon",
        "always(settled implies srv.legit != NONE)",
        "by the horizon the server has the legitimate client's connection in its accept queue "
        "or accepted (bounded-time form, for the safety engines; needs a horizon: with one "
        "past the client's give-up time, a violation means the client never gets in)",
    ),
    LibraryProperty(
        "queue-bounded",
        "always(not over_backlog)",
        "the listener never holds more than `backlog` request entries",
    ),
    LibraryProperty(
        "full-queue-answers-client-syn",
        "always(not srv.client_syn_dropped)",
        "the legitimate client's SYN is never dropped because the request queue is full: a "
        "full queue answers it with a cookie SYN,ACK (what SYN cookies buy; without them a "
        "flood that fills the queue first drops it, Linux TCPReqQFullDrop)",
    ),
    LibraryProperty(
        "client-reset",
        "reachable(client.error == ECONNRESET)",
        "the client is reset while it believes it is ESTABLISHED",
    ),
    LibraryProperty(
        "accepted-after-overflow",
        "reachable(srv.ack_dropped and srv.legit == ACCEPTED)",
        "the client's final ACK met a full accept queue, yet the application accepts its "
        "connection later",
    ),
    LibraryProperty(
        "handshake",
        "reachable(srv.legit == ACCEPTED)",
        "the application accepts the legitimate client's connection",
    ),
    DEADLOCK_FREE,
)

PARAMS = schema(ListenerParams)

MODEL = Model(
    "listener",
    "A Linux listener under a SYN flood: request entries, SYN cookies, the accept queue.",
    PARAMS,
    build,
    PROPERTIES,
)

__all__ = ["MODEL", "PARAMS", "PROPERTIES", "ListenerParams", "build"]
