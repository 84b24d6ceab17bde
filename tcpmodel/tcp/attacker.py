"""The off-path attacker of RFC 1948 section 1 in the ``connection`` model
(``attacker = "offpath"``): it knows the ISN clock and policy but sees no segment.
"""

from __future__ import annotations

from collections.abc import Callable

from tcpmodel.kernel.expr import (
    Expr,
    Lit,
    Var,
    lift,
)
from tcpmodel.kernel.system import Builder, Updates
from tcpmodel.kernel.types import EnumType, SeqType
from tcpmodel.tcp.hosts import Client
from tcpmodel.tcp.network import Network

ATT_PHASE = EnumType("att_phase", ("IDLE", "SYN_SENT", "DONE"))
# The ISN the attacker uses for its own side of the forged connection (any value would do).
ATT_ISN = 0


def add_attacker(
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
