"""The connection model's optional rules: a SYN in TIME-WAIT (RFC 6191) and unlimited retries.

Small configurations in the style of `tests/test_connection.py`: one segment per direction, no
loss or duplication, no data (SYN and FIN only), two incarnations where a second connection
matters, and a horizon that keeps the ISN and timestamp clocks from wrapping (so that the state
spaces stay small).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from tcpmodel.check import Options, check_spec
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.system import System
from tcpmodel.models import MODELS
from tcpmodel.models.base import ParamValue
from tcpmodel.results import Result
from tcpmodel.semantics import replay
from tcpmodel.spec import load
from tcpmodel.tcp.endpoint import STATE
from tests.specfile import write_spec

MODEL = MODELS["connection"]
SMALL: dict[str, ParamValue] = {
    "incarnations": 2,
    "loss": 0,
    "duplicate": 0,
    "data": 0,
    "isn": "clock",
    "retries": 2,
    "capacity": 1,
    "horizon": 4,
    "b_close_first": "always",
}
# Without a horizon and with a fixed ISN (the SMALL configuration of tests/test_connection.py):
# no clock to wrap, so the state space is small and every run may go on (no deadlock).
UNBOUNDED: dict[str, ParamValue] = {"incarnations": 1, "isn": "fixed", "horizon": 0}
# The ISN clock (no timestamps) or the timestamp clock with a fixed ISN tells the new SYN apart.
CLOCKS = {"isn-clock": {}, "timestamps": {"isn": "fixed", "timestamps": True}}
NEW_SYN = "reachable(b.state == SYN_RECEIVED and b.inc == 1)"


def check(tmp: Path, params: dict[str, ParamValue], formula: str, expect: str) -> Result:
    prop = {"name": "p", "formula": formula, "expect": expect}
    path = write_spec(tmp / "options.toml", "options", params, [prop])
    (result,) = check_spec(load(path), Options())
    return result


@cache
def system(**over: ParamValue) -> System:
    return MODEL.build({**MODEL.defaults(), **SMALL, **over})


@cache
def server_view(**over: ParamValue) -> tuple[frozenset[tuple[str, str]], frozenset[str]]:
    """Every (state before, state after) of b that some reachable transition takes, and the
    actions that deliver a SYN (no ACK, no RST) to b in TIME-WAIT."""
    s = system(**over)
    c = Compiled(s)
    ib = s.index["b.state"]
    tw = STATE.index("TIME_WAIT")
    todo = c.initial()
    seen = set(todo)
    changes: set[tuple[str, str]] = set()
    syn_rules: set[str] = set()
    while todo:
        st = todo.pop()
        values = c.decode(st)
        before = values[ib]
        for ai, t in c.successors(st):
            action = s.actions[ai]
            after = c.decode(t)[ib]
            if before != after:
                changes.add((STATE.values[int(before)], STATE.values[int(after)]))
            slot = dict(action.params).get("slot")
            if action.group == "b.recv" and int(before) == tw:
                seg = {f: values[s.index[f"net.ab[{slot}].{f}"]] for f in ("syn", "ack", "rst")}
                if seg["syn"] and not seg["ack"] and not seg["rst"]:
                    syn_rules.add(action.name)
            if t not in seen:
                seen.add(t)
                todo.append(t)
    return frozenset(changes), frozenset(syn_rules)


def server_changes(**over: ParamValue) -> frozenset[tuple[str, str]]:
    return server_view(**over)[0]


@pytest.mark.parametrize("clock", CLOCKS.values(), ids=list(CLOCKS))
def test_rfc6191_a_new_syn_reopens_from_time_wait(
    clock: dict[str, ParamValue], tmp_path: Path
) -> None:
    params = {**SMALL, **clock, "syn_in_time_wait": "rfc6191"}
    r = check(tmp_path, params, NEW_SYN, "reachable")
    assert r.verdict == "reachable" and r.met
    assert r.trace is not None
    # The witness's last step is the RFC 6191 rule, taken in TIME-WAIT.
    before, last = r.trace.steps[-2], r.trace.steps[-1]
    assert before.state["b.state"] == "TIME_WAIT"
    assert last.action is not None and last.action.startswith("b.time_wait_syn_accept")
    assert last.rule is not None and last.rule.startswith("RFC 6191")
    assert last.state["b.passive"] is True and last.state["b.inc"] == 1
    replay(system(**clock, syn_in_time_wait="rfc6191"), r.trace)
    changes, syn_rules = server_view(**clock, syn_in_time_wait="rfc6191")
    assert ("TIME_WAIT", "SYN_RECEIVED") in changes
    # Only the RFC 6191 rules see a SYN in TIME-WAIT: no PAWS, challenge ACK, RST or ACK.
    assert syn_rules == {"b.time_wait_syn_accept", "b.time_wait_syn_drop"}


@pytest.mark.parametrize("clock", CLOCKS.values(), ids=list(CLOCKS))
def test_off_a_syn_never_moves_time_wait_to_syn_received(clock: dict[str, ParamValue]) -> None:
    changes, syn_rules = server_view(**clock, syn_in_time_wait="off")
    assert ("TIME_WAIT", "SYN_RECEIVED") not in changes
    # The SYN is handled as in any synchronized state (RFC 9293 3.10.7.4, RFC 793 here).
    assert syn_rules and syn_rules <= {"b.unacceptable", "b.syn_reset", "b.paws_reject"}
    names = {a.name for a in system(**clock, syn_in_time_wait="off").actions}
    assert not {n for n in names if n.startswith("b.time_wait_syn")}


def test_rfc6191_is_only_for_the_server() -> None:
    names = {a.name for a in system(syn_in_time_wait="rfc6191").actions}
    assert {"b.time_wait_syn_accept", "b.time_wait_syn_drop"} <= names
    assert not {n for n in names if n.startswith("a.time_wait_syn")}


def test_rfc6191_drops_a_syn_that_is_not_newer(tmp_path: Path) -> None:
    # A fixed ISN without timestamps: the next SYN is never above RCV.NXT, so it is dropped
    # and b leaves TIME-WAIT only when the 2 MSL timer expires.
    assert ("TIME_WAIT", "SYN_RECEIVED") not in server_changes(
        isn="fixed", syn_in_time_wait="rfc6191"
    )
    # The next connection still opens, from LISTEN once TIME-WAIT is over.
    params = {**SMALL, "isn": "fixed", "syn_in_time_wait": "rfc6191"}
    r = check(tmp_path, params, NEW_SYN, "reachable")
    assert r.verdict == "reachable" and r.trace is not None
    assert r.trace.steps[-2].state["b.state"] == "LISTEN"


def test_unlimited_retries_never_give_up(tmp_path: Path) -> None:
    over: dict[str, ParamValue] = {**UNBOUNDED, "retries_unlimited": True}
    names = {a.name for a in system(**over).actions}
    assert "a.retransmit" in names and "b.retransmit" in names
    assert not names & {"a.give_up", "b.give_up"}
    assert {"a.give_up", "b.give_up"} <= {a.name for a in system(**UNBOUNDED).actions}
    # A finite state space: the exploration completes, and no state is stuck.
    r = check(tmp_path, {**SMALL, **over}, "always(not deadlock)", "holds")
    assert r.verdict == "holds" and r.met and r.stats.complete


def test_unlimited_retries_saturate_where_the_rto_reaches_its_cap(tmp_path: Path) -> None:
    # rto 1 doubling to rto_max 4: 1, 2, 4, 4, ... so `tries` stops at 2.
    over: dict[str, ParamValue] = {
        **UNBOUNDED,
        "retries_unlimited": True,
        "rto_max": 4,
        "syn_retries": 0,
        "loss": 2,
    }
    s = system(**over)
    tries = s.variables[s.index["a.tries"]]
    assert tries.vtype.describe() == "Int(0..2)"
    # With syn_retries = 0 the SYN is still resent after each loss (RTO 1, then 2).
    r = check(
        tmp_path, {**SMALL, **over}, "reachable(a.state == SYN_SENT and a.tries == 2)", "reachable"
    )
    assert r.verdict == "reachable" and r.trace is not None
    assert sum((s.action or "").startswith("a.retransmit") for s in r.trace.steps) == 2
