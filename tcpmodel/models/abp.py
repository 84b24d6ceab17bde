"""The alternating-bit protocol over lossy, duplicating channels (Bartlett, Scantlebury and
Wilkinson, 1969): the classic first protocol for a model checker.

The sender transmits message ``sender.next`` tagged with ``sender.bit`` until an ACK carrying
that bit returns, then flips the bit and moves on; the receiver delivers a message whose bit is
the one it expects, and acknowledges every message with the message's bit.  Both channels are
``capacity``-slot arrays: FIFO queues (``channel = "fifo"``, where the protocol is correct) or
multisets (``"reordering"``, where an old duplicate with the right bit breaks in-order delivery).
A channel may lose any message and duplicate its head (deliver it without removing it); a send
into a full channel is a loss.  The receiver's ghost ``receiver.last`` remembers the payload it
delivered last, so in-order delivery is the state predicate ``got == last + 1``.
"""

from __future__ import annotations

from collections.abc import Mapping

from tcpmodel.kernel.expr import and_, ite, not_
from tcpmodel.kernel.system import Builder, System, Updates
from tcpmodel.kernel.types import BOOL, IntType
from tcpmodel.models.base import DEADLOCK_FREE, LibraryProperty, Model, Param, ParamValue


def build(params: Mapping[str, ParamValue]) -> System:
    n = int(params["messages"])
    cap = int(params["capacity"])
    ordered = params["channel"] == "fifo"
    b = Builder("alternating-bit")
    s_bit = b.var("sender.bit", BOOL, doc="bit of the message being sent")
    s_next = b.var("sender.next", IntType(0, n), doc="index of the message being sent")
    r_exp = b.var("receiver.expect", BOOL, doc="bit of the next message to deliver")
    r_got = b.var("receiver.got", IntType(0, n), doc="messages delivered")
    r_last = b.var("receiver.last", IntType(-1, n - 1), init=-1, doc="ghost: last payload")
    msg = b.array("msg", cap, [("bit", BOOL), ("data", IntType(0, n - 1))], ordered)
    ack = b.array("ack", cap, [("bit", BOOL)], ordered)
    # A FIFO delivers its head only; a multiset any slot.
    heads = [0] if ordered else list(range(cap))

    u = Updates()
    msg.send(u, {"bit": s_bit, "data": s_next})
    b.action("send", s_next.lt(n), u, "sender: (re)transmit the current message")

    for i in heads:
        u = Updates()
        ack.remove(u, i)
        fresh = ack.field(i, "bit").eq(s_bit)
        u.set(s_bit, ite(fresh, not_(s_bit), s_bit))
        u.set(s_next, ite(and_(fresh, s_next.lt(n)), s_next + 1, s_next))
        b.action(
            "recv_ack",
            ack.present(i),
            u,
            "sender: an ACK with the current bit completes the message",
            {"slot": i},
        )
        for dup in (False, True):
            u = Updates()
            if not dup:
                msg.remove(u, i)
            bit, data = msg.field(i, "bit"), msg.field(i, "data")
            fresh = and_(bit.eq(r_exp), r_got.lt(n))
            u.set(r_exp, ite(fresh, not_(r_exp), r_exp))
            u.set(r_got, ite(fresh, r_got + 1, r_got))
            u.set(r_last, ite(fresh, data, r_last))
            ack.send(u, {"bit": bit})
            b.action(
                "recv_msg_dup" if dup else "recv_msg",
                msg.present(i),
                u,
                "receiver: deliver a message with the expected bit; acknowledge every message"
                + (" (duplicated by the channel: a copy stays in flight)" if dup else ""),
                {"slot": i},
                group="recv_msg",
            )
    for name, ch in (("msg", msg), ("ack", ack)):
        for i in range(cap):
            u = Updates()
            ch.remove(u, i)
            b.action(f"lose_{name}", ch.present(i), u, "channel: loss", {"slot": i}, "lose")
    done = and_(s_next.eq(n), r_got.eq(n))
    b.define("done", done)
    b.terminal = done
    return b.build()


MODEL = Model(
    "alternating-bit",
    "Alternating-bit protocol over lossy, duplicating channels (FIFO or reordering).",
    (
        Param("messages", "int", 2, "messages the sender transmits", 1, 20),
        Param("capacity", "int", 2, "slots per channel direction", 1, 6),
        Param("channel", "choice", "fifo", "channel discipline", choices=("fifo", "reordering")),
    ),
    build,
    (
        LibraryProperty(
            "delivers-in-order",
            "always(receiver.got == receiver.last + 1)",
            "the k-th message delivered is message k-1: no loss, duplicate or reordering "
            "is visible to the receiver's user",
        ),
        LibraryProperty(
            "ack-consistent",
            "always(receiver.got == sender.next or receiver.got == sender.next + 1)",
            "the receiver is never behind the sender, nor more than one message ahead",
        ),
        LibraryProperty(
            "all-delivered",
            "reachable(done)",
            "some run delivers every message and has every ACK back (`done`)",
        ),
        DEADLOCK_FREE,
    ),
)
