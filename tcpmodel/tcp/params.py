"""The ``connection`` model's parameters: one typed, frozen `ConnectionParams`.

The dataclass is the schema: each field's type, default and `Param` metadata (doc, range,
choices) are declared once here (`tcpmodel.models.base.param`), and `PARAMS`, what the spec
loader validates a spec against and ``tcpmodel list`` shows, is generated from its fields
(`tcpmodel.models.base.schema`).  `tcpmodel.tcp.connection.build`
turns the validated mapping (the spec's profile and its own values applied by the loader)
into one `ConnectionParams` with `ConnectionParams.of`, and every component (`Network`, the
endpoints, the attacker) reads that object: no component looks a parameter up by name.

Values a parameter states in another unit are derived here (`time_wait_ticks`,
`fin_timeout_ticks`, `rto_cap`), each raising `ModelError` with the fix when the parameters
do not fit together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tcpmodel.errors import ModelError
from tcpmodel.models.base import ParamValue, param, schema, values_of

# Linux's fixed times (include/net/tcp.h): TCP_TIMEWAIT_LEN, and tcp_fin_timeout's default
# (TCP_FIN_TIMEOUT); both 60 s.
LINUX_SECONDS = {"time_wait": 60, "fin_timeout": 60}
# `isn_secret = "any"` and the attacker's strategy make one initial state per value.
MAX_CHOICE_BITS = 8


@dataclass(frozen=True, slots=True)
class ConnectionParams:
    """Every parameter of the ``connection`` model, typed, with the schema's default."""

    seq_bits: int = param(
        3,
        "bits of sequence numbers (RFC 9293 3.4: modulo 2**bits)",
        2,
        32,
    )
    window: int = param(
        2,
        "receive window RCV.WND of each endpoint",
        1,
        16,
    )
    data: int = param(
        1,
        "data units a sends per incarnation (one per segment)",
        0,
        4,
    )
    b_data: int = param(
        0,
        "data units b sends per connection (one per segment)",
        0,
        4,
    )
    fin_with_data: bool = param(
        False,
        "a CLOSE with the last data unit unsent sends it with the FIN "
        "(<CTL=FIN,ACK><LEN=1>), and a retransmission from SND.UNA resends data and FIN "
        "together (Linux)",
    )
    close_mode: str = param(
        "shutdown",
        "what the user's CLOSE is: shutdown (half-close: the closer still receives) or "
        "close (socket close(), RFC 1122 4.2.2.13: new data after CLOSE draws RST and "
        "deletes the connection; CLOSE with unread data sends RST instead of FIN)",
        choices=("shutdown", "close"),
    )
    msl: int = param(
        2,
        "maximum segment lifetime, ticks",
        1,
        255,
    )
    incarnations: int = param(
        2,
        "connections a may open on the 4-tuple",
        1,
        4,
    )
    isn: str = param(
        "clock",
        "ISN policy",
        choices=("fixed", "clock", "keyed"),
    )
    isn_rate: int = param(
        1,
        "ISN clock increments per tick",
        0,
        2147483648,
    )
    isn_secret: int | str = param(
        3,
        'keyed ISN: the secret\'s per-4-tuple offset, or "any": isn.secret, one initial '
        "state per value of the sequence space",
        0,
        2147483648,
        choices=("any",),
    )
    time_wait: int | str = param(
        "2msl",
        'TIME-WAIT length in ticks; "linux": TCP_TIMEWAIT_LEN, 60 s in ticks of tick_seconds',
        0,
        510,
        choices=("2msl", "linux"),
    )
    tick_seconds: int = param(
        0,
        'the length of a tick in seconds, for parameters given as "linux" (0: not stated)',
        0,
        3600,
    )
    rfc1337: bool = param(
        True,
        "TIME-WAIT ignores RST (RFC 1337 F1)",
    )
    rfc5961: bool = param(
        False,
        "RST and SYN need exact RCV.NXT, else challenge ACK",
    )
    syn_in_time_wait: str = param(
        "off",
        "a SYN reaching b in TIME-WAIT: off (as in any synchronized state), rfc6191 (a "
        "newer SYN opens a new connection, RFC 6191; an older one is dropped silently) or"
        " linux (a newer SYN opens a new connection with ISS = SND.NXT + 65537; any other"
        " draws an ACK: tcp_timewait_state_process)",
        choices=("off", "rfc6191", "linux"),
    )
    time_wait_rst: str = param(
        "rfc9293",
        "an RST reaching TIME-WAIT: rfc9293 (as in any synchronized state: in window, or "
        "with rfc5961 exact or a challenge ACK) or linux (only an RST at exactly RCV.NXT "
        "counts, ending TIME-WAIT unless rfc1337; any other is ignored, never challenged:"
        " tcp_timewait_state_process)",
        choices=("rfc9293", "linux"),
    )
    abort_rst_ack: bool = param(
        False,
        "ABORT sends <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK> (Linux "
        "tcp_send_active_reset) instead of RFC 9293's <SEQ=SND.NXT><CTL=RST>",
    )
    synrcvd_syn: str = param(
        "rfc9293",
        "a new in-window SYN reaching a passive SYN-RECEIVED: rfc9293 (back to LISTEN, "
        "nothing sent: RFC 9293 3.10.7.4 fourth) or linux "
        "(<SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>, and the request is dropped, back to "
        "LISTEN: tcp_check_req, embryonic_reset)",
        choices=("rfc9293", "linux"),
    )
    synrcvd_synack: str = param(
        "rfc9293",
        "the peer's SYN,ACK reaching a SYN-RECEIVED entered from SYN-SENT (simultaneous "
        "open): rfc9293 (SEG.SEQ = RCV.NXT-1 is unacceptable: "
        "<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, SYN-RECEIVED stays) or linux (a SYN,ACK "
        "without data or FIN, SEG.SEQ+1 = RCV.NXT and SEG.ACK = SND.NXT acknowledges our "
        "SYN: ESTABLISHED, and the same ACK is sent: tcp_validate_incoming, step 4)",
        choices=("rfc9293", "linux"),
    )
    rst_before_rcv_nxt: bool = param(
        False,
        "an RST at RCV.NXT-1 resets CLOSE-WAIT, LAST-ACK and CLOSING (Linux "
        "tcp_reset_check: the peer's RST after its FIN)",
    )
    rfc5961_ack: bool = param(
        False,
        "RFC 5961 5.2: an ACK below SND.UNA - MAX.SND.WND draws a challenge ACK and is "
        "dropped (Linux tcp_ack)",
    )
    quiet_time: bool = param(
        True,
        "after a crash, send nothing for MSL (RFC 9293 3.4.3)",
    )
    horizon: int = param(
        0,
        "ticks a run may last (0: unbounded)",
        0,
        65535,
    )
    capacity: int = param(
        2,
        "segments in flight per direction",
        1,
        4,
    )
    loss: int = param(
        1,
        "segments the network may lose per incarnation",
        0,
        4,
    )
    loss_unlimited: bool = param(
        False,
        "the network may lose any segment any number of times (for liveness, under fairness)",
    )
    duplicate: int = param(
        1,
        "segments the network may duplicate per incarnation",
        0,
        4,
    )
    reorder: bool = param(
        True,
        "the network may reorder segments",
    )
    abort: bool = param(
        False,
        "a may ABORT (RST, SO_LINGER 0): in the last incarnation, or in any if it may reconnect",
    )
    crash: bool = param(
        False,
        "a may crash (all state lost): in the last incarnation, or in any if it may reconnect",
    )
    close_early: bool = param(
        False,
        "CLOSE before synchronizing deletes the TCB (RFC 9293 3.10.4): a in SYN-SENT, b's listener",
    )
    b_abort: bool = param(
        False,
        "b may ABORT (RST, SO_LINGER 0)",
    )
    reconnect_after_abort: bool = param(
        False,
        "a may reconnect after an ABORT",
    )
    reconnect_after_crash: bool = param(
        False,
        "a may reconnect after a crash",
    )
    rto: int = param(
        1,
        "initial retransmission timeout, ticks",
        1,
        16,
    )
    rto_max: int = param(
        2,
        "retransmission timeout cap, ticks",
        1,
        255,
    )
    retries: int = param(
        2,
        "retransmissions of data or FIN before giving up (R2)",
        0,
        8,
    )
    syn_retries: int = param(
        2,
        "retransmissions of a SYN before giving up",
        0,
        8,
    )
    synack_retries: int = param(
        2,
        "retransmissions of a SYN,ACK before giving up",
        0,
        8,
    )
    retries_unlimited: bool = param(
        False,
        "retransmit SYN, SYN,ACK, data and FIN forever (no R2 give-up), RTO capped at rto_max",
    )
    b_active_open: str = param(
        "never",
        "when b may do one active OPEN (simultaneous open)",
        choices=("always", "last", "never"),
    )
    b_close_first: str = param(
        "always",
        "when b may CLOSE before a's FIN (and so hold the TIME-WAIT)",
        choices=("always", "last", "never"),
    )
    fin_timeout: int | str = param(
        0,
        "Linux tcp_fin_timeout: ticks in FIN-WAIT-2 before the connection is deleted (0: "
        'none); "linux": 60 s in ticks of tick_seconds, after close() only (close_mode)',
        0,
        64,
        choices=("linux",),
    )
    synrcvd_age: bool = param(
        False,
        "track b.synrcvd_age, the ticks b has spent in SYN-RECEIVED (a ghost for timing bounds)",
    )
    timestamps: bool = param(
        False,
        "RFC 7323 timestamps with PAWS; TS clock 1 per tick",
    )
    tw_reuse: bool = param(
        False,
        "Linux tcp_tw_reuse: a may reopen from TIME-WAIT",
    )
    tw_recycle: bool = param(
        False,
        "Linux tcp_tw_recycle (removed in 4.12): b's TIME-WAIT lasts 3.5 RTO and b caches"
        " the peer's last TSval when it enters TIME-WAIT; for 60 s LISTEN drops a SYN "
        "from that address with an older TSval (needs timestamps and tick_seconds)",
    )
    nat: bool = param(
        False,
        "a's incarnations are different hosts behind one NAT address (tw_recycle's cache "
        "sees one peer); false: each has an address of its own",
    )
    peer_ts_lag: int = param(
        0,
        "a's odd incarnations run on a second host whose timestamp clock lags the first's"
        " by this many ticks (unrelated clocks; 0: one host)",
        0,
        255,
    )
    tw_reuse_guard: bool = param(
        True,
        "tw_reuse only with timestamps and after the timestamp clock ticked in TIME-WAIT",
    )
    attacker: str = param(
        "none",
        "offpath: RFC 1948's attacker, knowing the ISN clock and policy but seeing no "
        "segment, forges a's SYN and then an ACK with data toward b; its guess att.delta "
        "is chosen in the initial state",
        choices=("none", "offpath"),
    )
    a_down: bool = param(
        False,
        "a is down (or flooded, RFC 1948 section 1): it never opens and answers nothing",
    )

    def __post_init__(self) -> None:
        """Parameters that do not fit together: `ModelError` saying which to change."""
        self.time_wait_ticks  # noqa: B018 (a "linux" time needs a fitting tick_seconds)
        self.fin_timeout_ticks  # noqa: B018
        if self.tw_reuse and self.time_wait == 0:
            raise ModelError("tw_reuse needs a TIME-WAIT to reuse; set time_wait above 0")
        if (self.isn_secret == "any" or self.offpath) and self.seq_bits > MAX_CHOICE_BITS:
            raise ModelError(
                f'isn_secret = "any" and attacker = "offpath" choose a value per sequence number '
                f"in the initial state (2**seq_bits states); set seq_bits <= {MAX_CHOICE_BITS}"
            )
        if self.offpath and self.data == 0:
            raise ModelError("the off-path attacker injects one data unit; set data >= 1")
        if self.tw_recycle:
            tick = self.tick_seconds
            if not self.timestamps:
                raise ModelError("tw_recycle works on timestamps; set timestamps = true")
            if self.syn_in_time_wait == "off":
                raise ModelError(
                    'tw_recycle is Linux\'s; set syn_in_time_wait = "linux" (or profile = "linux")'
                )
            if tick == 0 or 60 % tick:
                raise ModelError(
                    "tw_recycle keeps its cache for TCP_PAWS_MSL = 60 s; set tick_seconds to a "
                    f"divisor of 60 (got {tick})"
                )

    @classmethod
    def of(cls, p: Mapping[str, ParamValue]) -> ConnectionParams:
        """The parameters of a validated mapping (a missing name takes its default)."""
        return cls(**values_of(cls, p))

    # ---- derived values ------------------------------------------------------------------
    def _ticks(self, key: str, value: int | str, default: int) -> int:
        """A duration parameter in ticks: an integer, "2msl" (``default``), or "linux"
        (Linux's value in seconds, converted with ``tick_seconds``, which must divide it)."""
        if value == "linux":
            tick = self.tick_seconds
            secs = LINUX_SECONDS[key]
            if tick == 0 or secs % tick:
                raise ModelError(
                    f'{key} = "linux" is {secs} s; set tick_seconds to a divisor of {secs} '
                    f"(the length of a tick in seconds; got {tick})"
                )
            return secs // tick
        if isinstance(value, str):
            return default
        return value

    @property
    def time_wait_ticks(self) -> int:
        """TIME-WAIT's length in ticks ("2msl": twice ``msl``)."""
        return self._ticks("time_wait", self.time_wait, 2 * self.msl)

    @property
    def fin_timeout_ticks(self) -> int:
        """Ticks in FIN-WAIT-2 before the connection is deleted (0: none).  Linux's
        tcp_fin_timeout applies to orphaned sockets (after close()); after shutdown()
        FIN-WAIT-2 waits for the peer indefinitely (tcp_rcv_state_process, tcp_close)."""
        if self.fin_timeout == "linux" and self.close_mode == "shutdown":
            return 0
        return self._ticks("fin_timeout", self.fin_timeout, 0)

    @property
    def rto_cap(self) -> int:
        """The retransmission timeout's cap: ``rto_max``, never below ``rto``."""
        return max(self.rto_max, self.rto)

    @property
    def offpath(self) -> bool:
        """RFC 1948's off-path attacker is on."""
        return self.attacker == "offpath"


# The schema the spec loader validates against, in the fields' order.
PARAMS = schema(ConnectionParams)

# Where Linux 6.x differs from RFC 9293's text on the wire or in a verdict (a spec's
# ``profile = "linux"``; its own parameters still override).  Each is a parameter of its own,
# documented with the kernel function that implements it.  A tick is 15 s, so MSL (2 ticks)
# is 30 s and TCP_TIMEWAIT_LEN (60 s) is 4 ticks, 2 MSL; retransmission timeouts stay in
# ticks.  Left to the spec: close_mode (the application's choice of close() or shutdown()),
# timestamps (on in Linux, costly in states), tw_reuse.
LINUX: Mapping[str, ParamValue] = {
    "syn_in_time_wait": "linux",  # tcp_timewait_state_process
    "time_wait_rst": "linux",  # tcp_timewait_state_process
    "rfc1337": False,  # net.ipv4.tcp_rfc1337 = 0
    "rfc5961": True,  # tcp_validate_incoming
    "rfc5961_ack": True,  # tcp_ack
    "abort_rst_ack": True,  # tcp_send_active_reset
    "synrcvd_syn": "linux",  # tcp_check_req
    "synrcvd_synack": "linux",  # tcp_validate_incoming
    "rst_before_rcv_nxt": True,  # tcp_reset_check
    "fin_with_data": True,  # tcp_send_fin appends the FIN to the last queued segment
    "tick_seconds": 15,
    "msl": 2,
    "time_wait": "linux",  # TCP_TIMEWAIT_LEN
    "fin_timeout": "linux",  # net.ipv4.tcp_fin_timeout = 60, after close() only
}
