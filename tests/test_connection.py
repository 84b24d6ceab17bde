"""The connection model against RFC 9293: conformance of its state changes, the seed scenarios
reachable with replayed witnesses, and no deadlock (every segment in every state is handled).

The conformance test is derived from the model itself: it explores small configurations,
collects every (endpoint, state before, state after) that some transition takes, and compares
that set with RFC 9293 Figure 5 and section 3.10 (the rows of the allowed table below)."""

from __future__ import annotations

from functools import cache

import pytest

from tcpmodel.engines.explicit import explore
from tcpmodel.formula import parse_property
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.system import System
from tcpmodel.models import MODELS
from tcpmodel.models.base import ParamValue
from tcpmodel.semantics import replay
from tcpmodel.tcp.endpoint import STATE

MODEL = MODELS["connection"]
SMALL: dict[str, ParamValue] = {
    "incarnations": 1,
    "loss": 0,
    "duplicate": 0,
    "data": 1,
    "isn": "fixed",
    "b_active_open": "always",
    "retries": 2,
    "capacity": 1,
}

# RFC 9293 Figure 5 and 3.10: every state change an endpoint may make.
ALLOWED = {
    ("CLOSED", "LISTEN"),  # passive OPEN
    ("CLOSED", "SYN_SENT"),  # active OPEN
    ("LISTEN", "SYN_RECEIVED"),  # SYN
    ("LISTEN", "SYN_SENT"),  # SEND in LISTEN
    ("SYN_SENT", "ESTABLISHED"),  # SYN,ACK
    ("SYN_SENT", "SYN_RECEIVED"),  # SYN (simultaneous open)
    ("SYN_SENT", "CLOSED"),  # RST with acceptable ACK, ABORT, timeout
    ("SYN_RECEIVED", "ESTABLISHED"),  # ACK of our SYN
    ("SYN_RECEIVED", "CLOSE_WAIT"),  # FIN that also acks our SYN
    ("SYN_RECEIVED", "FIN_WAIT_1"),  # CLOSE
    ("SYN_RECEIVED", "LISTEN"),  # RST, passively opened
    ("SYN_RECEIVED", "CLOSED"),  # RST, actively opened; ABORT; timeout
    ("ESTABLISHED", "FIN_WAIT_1"),  # CLOSE
    ("ESTABLISHED", "CLOSE_WAIT"),  # FIN
    ("ESTABLISHED", "CLOSED"),  # RST, ABORT, timeout
    ("FIN_WAIT_1", "FIN_WAIT_2"),  # ACK of our FIN
    ("FIN_WAIT_1", "CLOSING"),  # FIN (simultaneous close)
    ("FIN_WAIT_1", "TIME_WAIT"),  # FIN that acks our FIN
    ("FIN_WAIT_1", "CLOSED"),  # RST, ABORT, timeout
    ("FIN_WAIT_2", "TIME_WAIT"),  # FIN
    ("FIN_WAIT_2", "CLOSED"),  # RST, ABORT
    ("CLOSE_WAIT", "LAST_ACK"),  # CLOSE
    ("CLOSE_WAIT", "CLOSED"),  # RST, ABORT, timeout
    ("CLOSING", "TIME_WAIT"),  # ACK of our FIN
    ("CLOSING", "CLOSED"),  # RST, ABORT, timeout
    ("LAST_ACK", "CLOSED"),  # ACK of our FIN, RST, ABORT, timeout
    ("TIME_WAIT", "CLOSED"),  # 2MSL timeout, RST (no RFC 1337 F1), ABORT
}
# Any state -> CLOSED on a crash; with time_wait = 0 a close ends in CLOSED at once.
CRASH = {(s, "CLOSED") for s in STATE.values if s != "CLOSED"}


@cache
def system(**over: ParamValue) -> System:
    return MODEL.build({**MODEL.defaults(), **SMALL, **over})


@cache
def changes(**over: ParamValue) -> frozenset[tuple[str, str]]:
    return frozenset(state_changes(system(**over)))


def state_changes(s: System) -> set[tuple[str, str]]:
    c = Compiled(s)
    ia, ib = s.index["a.state"], s.index["b.state"]
    todo = c.initial()
    seen = set(todo)
    out: set[tuple[str, str]] = set()
    while todo:
        st = todo.pop()
        before = c.decode(st)
        for _, t in c.successors(st):
            after = c.decode(t)
            for i in (ia, ib):
                if before[i] != after[i]:
                    old, new = STATE.values[int(before[i])], STATE.values[int(after[i])]
                    if i == ib and new == "LISTEN" and old != "SYN_RECEIVED":
                        # The server listens again at once: CLOSED, then a passive OPEN.
                        out |= {(old, "CLOSED"), ("CLOSED", "LISTEN")}
                    else:
                        out.add((old, new))
            if t not in seen:
                seen.add(t)
                todo.append(t)
    return out


@pytest.mark.parametrize(
    "over",
    [
        {},
        {"abort": True, "crash": True, "rfc1337": False},
        {"loss": 1, "rfc5961": True, "data": 0},
    ],
    ids=["plain", "abort-crash-no-f1", "loss-rfc5961"],
)
def test_conformance_every_state_change_is_allowed(over: dict[str, ParamValue]) -> None:
    seen = changes(**over)
    extra = seen - ALLOWED - (CRASH if over.get("crash") else set())
    assert not extra, f"transitions RFC 9293 does not allow: {sorted(extra)}"


def test_conformance_every_row_is_taken() -> None:
    seen: set[tuple[str, str]] = set()
    for over in ({}, {"abort": True, "crash": True, "rfc1337": False}):
        seen |= changes(**over)
    missing = ALLOWED - seen
    assert not missing, f"rows of RFC 9293 Figure 5 no action takes: {sorted(missing)}"


@pytest.mark.parametrize(
    "name",
    ["handshake", "simultaneous-open", "simultaneous-close", "three-way-close"],
)
def test_seed_scenarios_reachable_with_replayed_witness(name: str) -> None:
    s = system()
    lib = MODEL.property(name)
    assert lib is not None
    prop = parse_property(name, lib.formula, s)
    out, _ = explore(s, [prop])
    o = out[name]
    assert o.verdict == "reachable"
    assert o.trace is not None
    replay(s, o.trace)
    assert all(step.rule for step in o.trace.steps[1:])


def test_no_deadlock_every_segment_is_handled_in_every_state() -> None:
    s = system()
    lib = MODEL.property("deadlock-free")
    assert lib is not None
    out, stats = explore(s, [parse_property("d", lib.formula, s)])
    assert stats.complete
    assert out["d"].verdict == "holds"


def test_every_library_formula_is_written_out_in_the_docs() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "connection.md").read_text()
    for p in MODEL.properties:
        assert f"### `{p.name}`" in doc and p.formula in doc, p.name
    for q in MODEL.params:
        assert f"| `{q.name}` |" in doc, q.name


@pytest.mark.parametrize(
    ("over", "formula"),
    [
        # An ACK that reaches TIME-WAIT must not stop the 2 MSL timer: TIME-WAIT always ends.
        (
            {"b_close_first": "always", "loss": 1},
            "always((a.state == TIME_WAIT implies a.timer > 0) "
            "and (b.state == TIME_WAIT implies b.timer > 0))",
        ),
        # The ACK b delays dies with its connection: a listener sends nothing.
        (
            {"abort": True, "b_close_first": "always"},
            "always(b.state == LISTEN implies not b.ack_delayed)",
        ),
        # With tcp_fin_timeout, FIN-WAIT-2 always has its timer running.
        (
            {"fin_timeout": 2, "b_close_first": "always"},
            "always((a.state == FIN_WAIT_2 implies a.timer > 0) "
            "and (b.state == FIN_WAIT_2 implies b.timer > 0))",
        ),
    ],
    ids=["time-wait-timer", "no-delayed-ack-in-listen", "fin-wait-2-timer"],
)
def test_timer_invariants(over: dict[str, ParamValue], formula: str) -> None:
    s = system(**over)
    out, stats = explore(s, [parse_property("inv", formula, s)])
    assert stats.complete and out["inv"].verdict == "holds", out["inv"]
