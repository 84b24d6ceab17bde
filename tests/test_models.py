"""Known answers for the classic models: state counts pinned, and cross-checked against an
independent brute-force enumeration written here from the protocols' textbook rules (not from
the kernel's expressions)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

import pytest

from tcpmodel.engines.explicit import explore
from tcpmodel.models import MODELS
from tcpmodel.results import Stats

S = TypeVar("S")


def brute_force(init: S, succ: Callable[[S], Iterable[S]]) -> tuple[int, int]:
    """(distinct states, transitions) of a plain BFS over hashable states."""
    seen = {init}
    todo = [init]
    transitions = 0
    while todo:
        s = todo.pop()
        for t in succ(s):
            transitions += 1
            if t not in seen:
                seen.add(t)
                todo.append(t)
    return len(seen), transitions


def full(model: str, **params: object) -> Stats:
    m = MODELS[model]
    system = m.build({**m.defaults(), **params})  # type: ignore[dict-item]
    _, stats = explore(system, [])
    assert stats.complete
    return stats


# ---- alternating bit: state = (sbit, snext, rexp, rgot, rlast, msg, ack) -------------------
AbpState = tuple[bool, int, bool, int, int, tuple[tuple[bool, int], ...], tuple[bool, ...]]


def abp_successors(n: int, cap: int, fifo: bool) -> Callable[[AbpState], list[AbpState]]:
    def norm(ch: tuple[S, ...]) -> tuple[S, ...]:
        return ch if fifo else tuple(sorted(ch, reverse=True))  # type: ignore[type-var]

    def put(ch: tuple[S, ...], x: S) -> tuple[S, ...]:
        return norm((*ch, x)) if len(ch) < cap else ch  # a full channel loses it

    def succ(s: AbpState) -> list[AbpState]:
        sbit, snext, rexp, rgot, rlast, msg, ack = s
        out: list[AbpState] = []
        if snext < n:  # (re)transmit the current message
            out.append((sbit, snext, rexp, rgot, rlast, put(msg, (sbit, snext)), ack))
        heads_m = [0] if fifo else range(len(msg))
        heads_a = [0] if fifo else range(len(ack))
        for i in heads_a if ack else []:
            a = ack[i]
            rest = norm(ack[:i] + ack[i + 1 :])
            if a == sbit:
                out.append((not sbit, min(snext + 1, n), rexp, rgot, rlast, msg, rest))
            else:
                out.append((sbit, snext, rexp, rgot, rlast, msg, rest))
        for i in heads_m if msg else []:
            bit, data = msg[i]
            fresh = bit == rexp and rgot < n
            r = (not rexp, rgot + 1, data) if fresh else (rexp, rgot, rlast)
            for keep in (False, True):  # deliver, or deliver a duplicate (a copy stays)
                m2 = msg if keep else norm(msg[:i] + msg[i + 1 :])
                out.append((sbit, snext, r[0], r[1], r[2], m2, put(ack, bit)))
        for i in range(len(msg)):
            out.append((sbit, snext, rexp, rgot, rlast, norm(msg[:i] + msg[i + 1 :]), ack))
        for i in range(len(ack)):
            out.append((sbit, snext, rexp, rgot, rlast, msg, norm(ack[:i] + ack[i + 1 :])))
        return out

    return succ


@pytest.mark.parametrize("channel", ["fifo", "reordering"])
@pytest.mark.parametrize("messages", [1, 2, 3])
@pytest.mark.parametrize("capacity", [1, 2, 3])
def test_abp_matches_brute_force(channel: str, messages: int, capacity: int) -> None:
    stats = full("alternating-bit", messages=messages, capacity=capacity, channel=channel)
    init: AbpState = (False, 0, False, 0, -1, (), ())
    want = brute_force(init, abp_successors(messages, capacity, channel == "fifo"))
    assert (stats.states, stats.transitions) == want


# ---- mutual exclusion: state = (pc0, pc1, flag0, flag1, turn) ----------------------------
MxState = tuple[str, str, bool, bool, int]


def mutex_successors(algo: str) -> Callable[[MxState], list[MxState]]:
    def succ(s: MxState) -> list[MxState]:
        out: list[MxState] = []
        for i in (0, 1):
            pc, flag = [s[0], s[1]], [s[2], s[3]]
            turn = s[4]
            j = 1 - i
            me = pc[i]
            nxt: tuple[str, bool, int] | None = None
            if algo == "peterson":
                if me == "IDLE":
                    nxt = ("SET", True, turn)
                elif me == "SET":
                    nxt = ("WAIT", flag[i], j)
                elif me == "WAIT" and (not flag[j] or turn == i):
                    nxt = ("CRIT", flag[i], turn)
            else:
                if me == "IDLE":
                    nxt = ("CHECK", flag[i], turn)
                elif me == "CHECK" and not flag[j]:
                    nxt = ("SET", flag[i], turn)
                elif me == "SET":
                    nxt = ("CRIT", True, turn)
            if me == "CRIT":
                nxt = ("IDLE", False, turn)
            if nxt is not None:
                pc[i], flag[i], turn = nxt
                out.append((pc[0], pc[1], flag[0], flag[1], turn))
        return out

    return succ


@pytest.mark.parametrize("algo", ["peterson", "naive"])
def test_mutex_matches_brute_force(algo: str) -> None:
    stats = full("mutex", algorithm=algo)
    assert (stats.states, stats.transitions) == brute_force(
        ("IDLE", "IDLE", False, False, 0), mutex_successors(algo)
    )


@pytest.mark.parametrize(
    ("model", "params", "states", "transitions"),
    [
        ("mutex", {"algorithm": "peterson"}, 20, 34),
        ("mutex", {"algorithm": "naive"}, 16, 30),
        ("alternating-bit", {"messages": 3, "capacity": 2, "channel": "fifo"}, 93, 493),
        ("alternating-bit", {"messages": 3, "capacity": 2, "channel": "reordering"}, 444, 3069),
        ("alternating-bit", {"messages": 4, "capacity": 3, "channel": "reordering"}, 5096, 56346),
    ],
)
def test_pinned_state_counts(
    model: str, params: dict[str, object], states: int, transitions: int
) -> None:
    stats = full(model, **params)
    assert (stats.states, stats.transitions) == (states, transitions)
