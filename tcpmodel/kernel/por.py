"""Partial-order reduction: which enabled actions of a state the explorer may expand alone.

Two interleaved actions often reach the same state in either order; exploring both orders is
wasted work when the properties cannot tell them apart.  This module computes, per state, a
*stubborn set* of actions (Valmari's strong stubborn sets, computed from guards as in
Laarman, Pater, van de Pol and Hansen, "Guard-based partial-order reduction", SPIN 2013), and
the explorer expands only its enabled members (the *ample set*).  Everything here is static
analysis of the guarded commands' expression trees, which give read and write sets exactly:

* ``reads(t)``: every variable in ``t``'s guard or the right-hand side of an update;
  ``writes(t)``: every variable ``t`` assigns.
* *Dependent* actions ``t`` and ``u`` (``dep[t]``): one writes a variable the other reads or
  writes.  Independent actions cannot enable or disable each other, and executed from one
  state in either order they reach the same state.
* A guard is a conjunction of *conjuncts* (``and`` flattened).  The *necessary enabling set*
  of a conjunct (``nes[j]``): every action that writes a variable the conjunct reads; while
  the conjunct is false, nothing outside that set can make it true.
* *Visible* actions: those writing a variable some property predicate reads.

The stubborn set of a state ``s`` from a seed (an enabled action) is the closure of: for an
enabled action, every action dependent on it; for a disabled action, the necessary enabling
set of one of its conjuncts false in ``s`` (the one with the smallest set).  Then no sequence
of actions outside the set can enable a disabled member or disable, or fail to commute with,
an enabled member (conditions D1 and D2), so the enabled members form an ample set meeting C0
(non-empty) and C1 (every path from ``s`` that avoids it stays independent of it).

The explorer adds the rest of the ample-set conditions:

* C2, visibility: a reduced expansion (ample set smaller than the enabled set) contains no
  visible action, so every property predicate is unchanged along the actions it postpones.
* C3, no ignoring, in the form for breadth-first search: a state is expanded in full when one
  of its ample successors was already discovered.  In breadth-first order every cycle of the
  reduced graph closes on a state discovered before the state that closes it, so every cycle
  holds a fully expanded state, and no action is postponed forever.

With C0 to C3, a state violating an ``always`` predicate (or satisfying a ``reachable`` one)
is reachable in the full graph iff one is in the reduced graph (Clarke, Grumberg and Peled,
*Model Checking*, chapter 10), so verdicts are unchanged; traces are paths of the full graph
and are replayed as every trace is, but may be longer than the shortest.  ``deadlock`` reads
every guard's variables, so a property that mentions it makes nearly every action visible.

Where the analysis finds no independence, nothing is reduced: a model with a global clock
(``tick`` writes both endpoints' timers, the network's segment ages and the ISN clock) makes
every action depend on ``tick``, and ``tick`` is enabled in most states.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from tcpmodel.kernel.analysis import simplify
from tcpmodel.kernel.compile import FlagsFn
from tcpmodel.kernel.expr import Const, Expr, Op
from tcpmodel.kernel.system import System


def conjuncts(guard: Expr) -> Iterator[Expr]:
    """The conjuncts of ``guard`` (nested ``and`` flattened, constant ``true`` left out)."""
    if isinstance(guard, Op) and guard.op == "and":
        for a in guard.args:
            yield from conjuncts(a)
    elif not (isinstance(guard, Const) and guard.value is True):
        yield guard


def _bits(mask: int) -> Iterator[int]:
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def _union(masks: Iterable[int]) -> int:
    out = 0
    for m in masks:
        out |= m
    return out


@dataclass(frozen=True, slots=True)
class Independence:
    """The static analysis of one system (see the module docstring); masks are over actions
    (bit ``i``: ``system.actions[i]``) or conjuncts (bit ``j``: ``conjuncts[j]``)."""

    conjuncts: tuple[Expr, ...]
    guards: tuple[int, ...]  # per action: its conjuncts
    dep: tuple[int, ...]  # per action: the actions dependent on it
    nes: tuple[int, ...]  # per conjunct: the actions that write what it reads
    visible: int  # the actions that write what a property reads

    @property
    def independent_pairs(self) -> int:
        """How many unordered pairs of actions are independent (0: nothing can reduce)."""
        n = len(self.dep)
        return sum(n - 1 - d.bit_count() for d in self.dep) // 2


def independence(system: System, predicates: Sequence[Expr]) -> Independence:
    """The static analysis of ``system`` for properties reading ``predicates``."""
    index: dict[Expr, int] = {}
    guards: list[int] = []
    reads: list[frozenset[str]] = []
    writes: list[frozenset[str]] = []
    for a in system.actions:
        mask = 0
        for c in conjuncts(simplify(a.guard)):
            mask |= 1 << index.setdefault(c, len(index))
        guards.append(mask)
        reads.append(frozenset(a.guard.variables().union(*(e.variables() for _, e in a.updates))))
        writes.append(frozenset(v for v, _ in a.updates))
    n = len(system.actions)
    readers: dict[str, int] = {}  # variable -> the actions that read it
    for u in range(n):
        for v in reads[u]:
            readers[v] = readers.get(v, 0) | 1 << u
    writers: dict[str, int] = {}  # variable -> the actions that write it
    for u in range(n):
        for v in writes[u]:
            writers[v] = writers.get(v, 0) | 1 << u
    # t and u are dependent iff t writes what u reads or writes, or u writes what t reads.
    dep = tuple(
        (
            _union(readers.get(v, 0) | writers.get(v, 0) for v in writes[t])
            | _union(writers.get(v, 0) for v in reads[t])
        )
        & ~(1 << t)
        for t in range(n)
    )
    conj = tuple(index)
    nes = tuple(_union(writers.get(v, 0) for v in c.variables()) for c in conj)
    seen: set[str] = set()
    for p in predicates:
        seen |= p.variables()
    visible = _union(writers.get(v, 0) for v in seen)
    return Independence(conj, tuple(guards), dep, nes, visible)


class Reducer:
    """Ample sets of states of one compiled system (see the module docstring)."""

    def __init__(self, ind: Independence, flags: FlagsFn) -> None:
        self.ind = ind
        self._flags = flags  # bit j: conjunct j holds

    def enabled(self, s: bytes) -> int:
        """The enabled actions of ``s`` as a mask (from the guards' conjuncts)."""
        holds = self._flags(s)
        en = 0
        for t, g in enumerate(self.ind.guards):
            if g & ~holds == 0:
                en |= 1 << t
        return en

    def ample(self, s: bytes, en: int) -> int:
        """An ample set of ``s``, whose enabled actions are ``en``: the smallest found over
        every enabled seed (conditions C0, C1, C2); ``en`` itself when nothing can be
        postponed."""
        if en & (en - 1) == 0:
            return en  # at most one action enabled
        best, size = en, en.bit_count()
        ind = self.ind
        holds = -1  # the conjuncts true in s, computed when a disabled action needs them
        for seed in _bits(en & ~ind.visible):
            stub = 1 << seed
            work = [seed]
            while work:
                t = work.pop()
                if en >> t & 1:
                    add = ind.dep[t]
                else:
                    if holds < 0:
                        holds = self._flags(s)
                    false = ind.guards[t] & ~holds
                    add = min((ind.nes[j] for j in _bits(false)), key=int.bit_count)
                new = add & ~stub
                if not new:
                    continue
                stub |= new
                if stub & en == en or stub & en & ind.visible:
                    break  # every enabled action, or a visible one: no reduction here
                work.extend(_bits(new))
            amp = stub & en
            if amp == en or amp & ind.visible:
                continue
            if amp.bit_count() < size:
                best, size = amp, amp.bit_count()
                if size == 1:
                    break
        return best
