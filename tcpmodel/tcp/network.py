"""The network between ``a`` and ``b``: one channel per direction, lossy, duplicating, aging.

A channel is a `SlotArray` of ``capacity`` segments: a multiset when ``reorder`` is on (any
segment in flight may arrive next), a FIFO queue otherwise.  A segment record holds the header
fields the model uses (``syn``, ``ack``, ``fin``, ``rst``, ``seq``, ``ackno``, ``len``), a ghost
``inc`` (the incarnation whose connection sent it; `tcpmodel.tcp.connection`), its ``age``
in ticks, with timestamps its TSval ``ts`` (RFC 7323), and with an off-path attacker
(``spoofing``) a ghost ``spoofed``: the segment was forged by the attacker with ``a``'s address
(RFC 1948 section 1), not sent by ``a``.  A segment is delivered, or lost,
at an age of ``0 .. msl-1`` ticks: no tick makes it ``msl`` old (RFC 9293 3.4.1: MSL bounds
a segment's life in the network), so time alone never loses a segment.

Faults are budgets per incarnation, reset when ``a`` opens a new connection: ``net.lost``
counts segments dropped by the network, ``net.dups`` counts duplicates, each a copy of a
segment in flight with the same age.  A send into a full channel never blocks the sender: it is
a loss, counted in ``net.lost`` while the budget lasts; past it the ghost ``net.overflow``
records that the run left the fault model (properties that assume bounded loss say so).

`Channels` is that fault model over records of any shape (two slot arrays, the loss and
duplicate budgets with their actions, ``net.overflow``); `Network` is the ``connection``
model's, with TCP segments and aging, built from its `ConnectionParams`.  The ``listener``
model (`tcpmodel.tcp.listener`) uses `Channels` with records of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tcpmodel.kernel.expr import Expr, Lit, Var, and_, ite, lift, not_, or_
from tcpmodel.kernel.system import ArrayRef, Builder, Updates
from tcpmodel.kernel.types import BOOL, IntType, SeqType, VarType
from tcpmodel.tcp.params import ConnectionParams

ENDS = ("a", "b")


@dataclass(frozen=True, slots=True)
class Segment:
    """Expressions for the fields of the segment in one slot of a channel."""

    syn: Var
    ack: Var
    fin: Var
    rst: Var
    seq: Var
    ackno: Var
    len: Var
    inc: Var
    age: Var
    present: Var
    ts: Var | None = None
    spoofed: Var | None = None

    @property
    def seg_len(self) -> Expr:
        """SEG.LEN: data plus one for SYN and one for FIN (RFC 9293 3.4)."""
        return self.len + ite(self.syn, 1, 0) + ite(self.fin, 1, 0)


class Channels:
    """Two channels, one per sender, with the fault model both bundled TCP models share: a
    loss budget ``net.lost`` (or unlimited loss), optionally a duplication budget
    ``net.dups``, and the ghost ``net.overflow``.

    ``names`` maps each sender's key (used in action labels: ``net.lose_<key>``) to its
    array's name; every record has the same ``fields``.  ``full_is_loss``: a send into a full
    channel counts against the loss budget, and ``net.overflow`` records only a send past it
    (the ``connection`` model: the sender never blocks, the network drops); without it, any
    send into a full channel sets ``net.overflow`` and the budget is the network's own losses
    (the ``listener`` model, whose channels hold one round trip and never fill in a bundled
    configuration)."""

    def __init__(
        self,
        b: Builder,
        names: Mapping[str, str],
        fields: Sequence[tuple[str, VarType]],
        *,
        capacity: int,
        loss: int,
        reorder: bool = True,
        unlimited: bool = False,
        duplicate: int | None = None,
        full_is_loss: bool = True,
        loss_doc: str = "segments lost this incarnation",
    ) -> None:
        # With `unlimited` the network may lose any segment, any number of times (the budget
        # is not counted): the fault model of liveness checking, where fairness decides.
        self.unlimited = unlimited
        self.loss = loss
        self.duplicate = duplicate or 0
        self.full_is_loss = full_is_loss
        self.channel: dict[str, ArrayRef] = {
            key: b.array(name, capacity, list(fields), ordered=not reorder)
            for key, name in names.items()
        }
        self.lost = b.var("net.lost", IntType(0, loss), doc=loss_doc)
        # The connection model declares its duplicate budget even when it is 0, so that
        # configurations keep one state vector; a model that never duplicates has none.
        self.dups: Var | None = None
        if duplicate is not None:
            self.dups = b.var("net.dups", IntType(0, duplicate), doc="duplicates this incarnation")
        self.overflow = b.var(
            "net.overflow",
            BOOL,
            doc="ghost: a send into a full channel exceeded the loss budget"
            if full_is_loss
            else "ghost: a send met a full channel",
        )
        self._b = b

    def slots(self, sender: str) -> range:
        return range(self.channel[sender].capacity)

    def put(self, u: Updates, sender: str, record: Mapping[str, Lit]) -> None:
        """Put ``record`` (every field) into ``sender``'s channel; lost if it is full."""
        ch = self.channel[sender]
        was_full = and_(*(u.current(ch.present(i)) for i in range(ch.capacity)))
        ch.send(u, record)
        if not self.full_is_loss:
            u.set(self.overflow, or_(u.current(self.overflow), was_full))
            return
        # A send into a full channel is a loss: it uses the budget, and past the budget it
        # breaks the fault model's assumption, which `net.overflow` records.
        lost = u.current(self.lost)
        in_budget = lift(True) if self.unlimited else lost.lt(self.loss)
        if not self.unlimited:
            u.set(self.lost, ite(and_(was_full, in_budget), lost + 1, lost))
        u.set(self.overflow, or_(u.current(self.overflow), and_(was_full, not_(in_budget))))

    def take(self, u: Updates, sender: str, slot: int) -> None:
        """Remove the segment in ``slot`` (it has been delivered)."""
        self.channel[sender].remove(u, slot)

    def add_fault_actions(self) -> None:
        """Per channel and slot: the segment is lost, then (with a budget) duplicated."""
        b = self._b
        for x, ch in self.channel.items():
            for i in self.slots(x):
                if self.loss or self.unlimited:
                    u = Updates()
                    ch.remove(u, i)
                    if not self.unlimited:
                        u.set(self.lost, self.lost + 1)
                    b.action(
                        f"net.lose_{x}",
                        ch.present(i)
                        if self.unlimited
                        else and_(ch.present(i), self.lost.lt(self.loss)),
                        u,
                        "network: a segment is lost",
                        {"slot": i},
                        "net.lose",
                    )
                if self.duplicate and self.dups is not None:
                    # A copy of the whole record, age included.
                    u = Updates()
                    ch.send(u, {f: ch.field(i, f) for f, _ in ch.arr.fields if f != "present"})
                    u.set(self.dups, self.dups + 1)
                    b.action(
                        f"net.duplicate_{x}",
                        and_(ch.present(i), self.dups.lt(self.duplicate), ~ch.full()),
                        u,
                        "network: a segment is duplicated",
                        {"slot": i},
                        "net.duplicate",
                    )

    def reset_budgets(self, u: Updates) -> None:
        u.set(self.lost, 0)
        if self.dups is not None:
            u.set(self.dups, 0)


class Network(Channels):
    """The ``connection`` model's network: `Channels` of TCP segments between ``a`` and
    ``b`` (``net.ab``, ``net.ba``), with MSL aging."""

    def __init__(self, b: Builder, params: ConnectionParams) -> None:
        p = params
        seq = SeqType(p.seq_bits)
        self.msl = p.msl
        # With `spoofing` every segment carries the ghost `spoofed` (RFC 1948: forged with a's
        # address by an off-path attacker); only then, so other models keep their state vector.
        self.spoofing = p.offpath
        self.data = max(p.data, p.b_data)
        self.timestamps = p.timestamps
        fields: list[tuple[str, VarType]] = [
            ("syn", BOOL),
            ("ack", BOOL),
            ("fin", BOOL),
            ("rst", BOOL),
            ("seq", seq),
            ("ackno", seq),
            *([("ts", seq)] if self.timestamps else []),
            ("len", IntType(0, 1 if self.data else 0)),
            ("inc", IntType(0, p.incarnations - 1)),
            ("age", IntType(0, self.msl - 1)),
            *([("spoofed", BOOL)] if self.spoofing else []),
        ]
        # channel[x] carries what x sends
        super().__init__(
            b,
            {"a": "net.ab", "b": "net.ba"},
            fields,
            capacity=p.capacity,
            loss=p.loss,
            reorder=p.reorder,
            unlimited=p.loss_unlimited,
            duplicate=p.duplicate,
        )

    def segment(self, sender: str, slot: int) -> Segment:
        ch = self.channel[sender]
        f = ch.field
        return Segment(
            f(slot, "syn"),
            f(slot, "ack"),
            f(slot, "fin"),
            f(slot, "rst"),
            f(slot, "seq"),
            f(slot, "ackno"),
            f(slot, "len"),
            f(slot, "inc"),
            f(slot, "age"),
            f(slot, "present"),
            f(slot, "ts") if self.timestamps else None,
            f(slot, "spoofed") if self.spoofing else None,
        )

    def send(self, u: Updates, sender: str, fields: Mapping[str, Lit]) -> None:
        """Put a new segment (age 0) into ``sender``'s channel; lost if the channel is full."""
        self.put(
            u,
            sender,
            {
                "syn": False,
                "ack": False,
                "fin": False,
                "rst": False,
                "len": 0,
                "ackno": 0,
                **({"spoofed": False} if self.spoofing else {}),
                **fields,
                "age": 0,
            },
        )

    def age(self, u: Updates) -> None:
        """One tick: every segment in flight ages by one."""
        for x in ENDS:
            for i in self.slots(x):
                seg = self.segment(x, i)
                u.set(seg.age, ite(seg.present, seg.age + 1, lift(0)))

    def may_tick(self) -> Expr:
        """Time may pass only while no segment is about to outlive MSL.

        A segment is delivered or lost (within the loss budget) at ages ``0 .. msl-1``, so
        a segment that reaches ``msl - 1`` must go before the next tick: time cannot make the
        network lose more than the budget allows.
        """
        return and_(
            *(
                not_(and_(seg.present, seg.age.eq(self.msl - 1)))
                for x in ENDS
                for i in self.slots(x)
                for seg in [self.segment(x, i)]
            )
        )

    def spoofed_in_flight(self) -> Expr:
        """Some segment forged by the off-path attacker is in flight (toward ``b``)."""
        return or_(
            *(
                and_(seg.present, seg.spoofed)
                for i in self.slots("a")
                for seg in [self.segment("a", i)]
                if seg.spoofed is not None
            )
        )
