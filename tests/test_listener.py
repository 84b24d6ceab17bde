"""The ``listener`` model: its specs, its mutants, its timers, its parameter schema.

* every configuration of the three listener specs meets its expectations on the explicit
  engines (the explorer for safety, the liveness checker under the configuration's fairness
  for LTL; state counts pinned), and every trace replays through `tcpmodel.semantics`;
* the flood's liveness counterexample has the shape the spec describes (a lasso: every SYN
  of the client meets a queue full of spoofed entries until it gives up), fairness is
  declared for everything but the attacker, the other clients and losses, and the verdicts do
  not depend on it (time cannot be stalled); unbounded runs (horizon = 0) keep Linux's
  schedules and the application's accept() turns;
* for every ``unreachable`` of those specs, the mutation that removes its protection
  (tcp_abort_on_overflow flipped) is checked at the same bounds and gives ``reachable``; an
  ``unreachable`` no mutant covers fails `test_every_holds_and_unreachable_is_covered`, and
  so does a ``holds`` with no mutant in tests/test_mutants.py (cookies off or the queue cap
  removed, beside the other models' mutants; this test looks at the listener specs alone);
* full-queue-answers-client-syn is decided by cookies alone: at the bounds of every flood
  configuration it holds with cookies and is violated without them, by the client's SYN
  dropped at a request queue full of spoofed entries;
* the retransmission schedules are Linux's (domain.md): SYN,ACKs at 1, 3, 7, 15, 31 s and the
  entry dropped at 63 s; SYNs at 1, 3, 7, 15, 31, 63 s and ETIMEDOUT at 127 s;
* the native engine agrees with the explicit one; bad parameter values are rejected.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from tcpmodel.engines import native
from tcpmodel.engines.explicit import explore
from tcpmodel.engines.liveness import check_ltl
from tcpmodel.errors import SpecError
from tcpmodel.formula import Property, parse_property
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.system import System
from tcpmodel.models import MODELS
from tcpmodel.models.base import ParamValue
from tcpmodel.results import Outcome, Trace
from tcpmodel.semantics import replay
from tcpmodel.spec import load, spec_files
from tests.specfile import toml_value

SPECS = Path(__file__).resolve().parent.parent / "specs"
MODEL = MODELS["listener"]
NAMES = ("syn-flood", "syn-flood-cookies", "accept-overflow")

# (spec, variant) -> (states, transitions) of the complete exploration (the ghost
# srv.client_syn_dropped of full-queue-answers-client-syn adds none: with cookies it is
# never set, and in syn-flood.toml it follows from the other variables)
COUNTS: dict[tuple[str, str | None], tuple[int, int]] = {
    ("syn-flood", None): (279, 446),
    ("syn-flood", "by-horizon"): (605, 888),
    ("syn-flood-cookies", None): (232, 358),
    ("syn-flood-cookies", "lost-ack"): (747, 1281),
    ("syn-flood-cookies", "by-horizon"): (579, 831),
    ("accept-overflow", None): (49, 56),
    ("accept-overflow", "no-abort"): (54, 61),
}

# (spec, variant, mutation, the verdicts the mutation must give).  The mutants of every
# `holds` (cookies off, the queue cap removed) are in tests/test_mutants.py's MUTANTS.
MUTANTS: list[tuple[str, str | None, dict[str, ParamValue], dict[str, str]]] = [
    (
        "accept-overflow",
        None,
        {"abort_on_overflow": False},
        {"accepted-after-overflow": "reachable"},
    ),
    ("accept-overflow", "no-abort", {"abort_on_overflow": True}, {"client-reset": "reachable"}),
]


def spec_params(spec: str, variant: str | None) -> dict[str, ParamValue]:
    doc: dict[str, Any] = tomllib.loads((SPECS / f"{spec}.toml").read_text())
    params: dict[str, ParamValue] = {**MODEL.defaults(), **doc.get("params", {})}
    if variant is not None:
        (v,) = [v for v in doc.get("variant", []) if v["name"] == variant]
        params.update(v.get("params", {}))
    return params


def library(system: System, names: Sequence[str]) -> list[Property]:
    props = {p.name: p for p in MODEL.properties}
    return [parse_property(n, props[n].formula, system) for n in names]


def check(
    system: System, props: Sequence[Property], fairness: str = "model"
) -> tuple[dict[str, Outcome], tuple[int, int]]:
    """Every property of ``system``: ``always``/``reachable`` by the explorer, LTL by the
    liveness checker (under the model's fairness, or none, over the whole state graph)."""
    safety = [p for p in props if p.kind != "ltl"]
    live = [p for p in props if p.kind == "ltl"]
    outcomes, stats = explore(system, safety)
    if live:
        got, stats = check_ltl(system, live, fairness=() if fairness == "none" else None)
        assert stats.complete
        outcomes |= got
    return outcomes, (stats.states, stats.transitions)


def configurations() -> list[tuple[str, str | None]]:
    return [
        (s.name, c.variant)
        for s in (load(SPECS / f"{n}.toml") for n in NAMES)
        for c in s.configurations
    ]


@pytest.mark.parametrize(("spec", "variant"), list(COUNTS), ids=lambda x: str(x))
def test_spec_meets_expectations_and_traces_replay(spec: str, variant: str | None) -> None:
    (cfg,) = [c for c in load(SPECS / f"{spec}.toml").configurations if c.variant == variant]
    extra = [
        parse_property("deadlock-free", "always(not deadlock)", cfg.system),
        parse_property("no-overflow", "always(not net.overflow)", cfg.system),
    ]
    checks = list(cfg.checks)
    safety = [c.prop for c in checks if c.prop.kind != "ltl"]
    live = [c.prop for c in checks if c.prop.kind == "ltl"]
    outcomes, stats = explore(cfg.system, safety + extra)
    assert stats.complete
    assert (stats.states, stats.transitions) == COUNTS[(spec, variant)]
    if live:
        got, lstats = check_ltl(cfg.system, live, fairness=cfg.fairness)
        assert (lstats.states, lstats.transitions) == COUNTS[(spec, variant)]
        outcomes |= got
    assert {c.prop.name: outcomes[c.prop.name].verdict for c in checks} == {
        c.prop.name: c.expect for c in checks
    }
    # The model's own sanity: no deadlock before the horizon, no segment lost to a full channel.
    assert outcomes["deadlock-free"].verdict == "holds"
    assert outcomes["no-overflow"].verdict == "holds"
    for o in outcomes.values():
        if o.trace is not None:
            replay(cfg.system, o.trace)


def test_counts_cover_every_configuration() -> None:
    assert sorted(COUNTS, key=str) == sorted(configurations(), key=str)
    # Read as TOML only: other models' specs are not this test's business.
    listener_specs = {
        f.stem for f in spec_files([str(SPECS)]) if 'model = "listener"' in f.read_text()
    }
    assert listener_specs == set(NAMES)


@pytest.mark.parametrize(
    ("spec", "variant", "mutation", "verdicts"),
    MUTANTS,
    ids=[f"{s}{'/' + v if v else ''}:{m}" for s, v, m, _ in MUTANTS],
)
def test_mutant_breaks_the_property(
    spec: str, variant: str | None, mutation: dict[str, ParamValue], verdicts: dict[str, str]
) -> None:
    system = MODEL.build(spec_params(spec, variant) | mutation)
    outcomes, _ = check(system, library(system, list(verdicts)))
    assert {n: o.verdict for n, o in outcomes.items()} == verdicts
    for o in outcomes.values():
        assert o.trace is not None
        replay(system, o.trace)


def test_every_holds_and_unreachable_is_covered() -> None:
    """Every `unreachable` of the listener specs has a mutant here, every `holds` one in
    tests/test_mutants.py (whose own coverage test also looks at the other models' specs)."""
    from tests.test_mutants import MUTANTS as HOLDS_MUTANTS

    covered = {(s, v, p) for s, v, _, verdicts in MUTANTS for p in verdicts}
    covered_holds = {(s, v, p) for s, v, _, props in HOLDS_MUTANTS for p in props}
    missing = [
        (s.name, cfg.variant, c.prop.name, c.expect)
        for s in (load(SPECS / f"{n}.toml") for n in NAMES)
        for cfg in s.configurations
        for c in cfg.checks
        if (c.expect == "unreachable" and (s.name, cfg.variant, c.prop.name) not in covered)
        or (c.expect == "holds" and (s.name, cfg.variant, c.prop.name) not in covered_holds)
    ]
    assert missing == []


FLOODS = [(s, v) for s, v in COUNTS if s.startswith("syn-flood")]


@pytest.mark.parametrize(("spec", "variant"), FLOODS, ids=lambda x: str(x))
def test_cookies_decide_full_queue_answers_client_syn(spec: str, variant: str | None) -> None:
    """full-queue-answers-client-syn (`always(not srv.client_syn_dropped)`) holds with cookies
    and is violated without them, at the bounds of every flood configuration, whichever way
    the spec sets them; with cookies it is not vacuous: the client's SYN does meet a full
    queue (a cookie SYN,ACK reaches it). Without cookies the counterexample is the 5-step
    trace of specs/syn-flood.toml: a spoofed entry at tick 0, the client's connect() at
    tick 1, a second spoofed SYN takes the last entry before the client's SYN arrives, and
    the client's SYN is dropped by a queue of `backlog` spoofed entries."""
    params = spec_params(spec, variant)
    name = "full-queue-answers-client-syn"
    for cookies in (True, False):
        system = MODEL.build(params | {"syncookies": cookies})
        props = library(system, [name])
        props.append(parse_property("cookie-synack", "reachable(client.cookie)", system))
        outcomes, _ = explore(system, props)
        assert outcomes[name].verdict == ("holds" if cookies else "violated")
        assert outcomes["cookie-synack"].verdict == ("reachable" if cookies else "unreachable")
        if cookies:
            continue
        trace = outcomes[name].trace
        assert trace is not None
        replay(system, trace)
        actions = [s.action for s in trace.steps[1:]]
        assert actions == [
            "attacker.syn_entry",
            "tick",
            "client.connect",
            "attacker.syn_entry",
            "srv.syn_queue_full(slot=0)",
        ]
        backlog = int(params["backlog"])
        assert spoofed_entries(trace.steps[-1].state, backlog) == backlog


# Configurations beyond the specs' that reach the rarer rules (losses, give-up with an entry).
CORNERS: list[dict[str, ParamValue]] = [
    {"loss": 1, "syn_retries": 0, "attack_rate": 0},
    {"loss": 2, "syncookies": False, "other_clients": 1, "accept_backlog": 1, "accept_rate": 2},
    {
        "loss": 2,
        "other_clients": 1,
        "accept_backlog": 1,
        "accept_rate": 3,
        "abort_on_overflow": True,
    },
    {"loss": 2, "attack_rate": 2, "client_start": 1},
]
# Kept so that every arrival has a rule, but unreachable: it needs a cookie SYN,ACK and a
# request entry for the same client, so a SYN,ACK delayed past a tick.
UNREACHABLE_RULES = {"srv.ack_mismatch"}


def fired(system: System) -> set[str]:
    """Names of the actions that fire in some reachable state of ``system``."""
    c = Compiled(system)
    names = [a.name for a in system.actions]
    seen = set(c.initial())
    todo = list(seen)
    used: set[str] = set()
    while todo:
        for ai, t in c.successors(todo.pop()):
            used.add(names[ai])
            if t not in seen:
                seen.add(t)
                todo.append(t)
    return used


def test_every_rule_fires_somewhere() -> None:
    systems = [c.system for n in NAMES for c in load(SPECS / f"{n}.toml").configurations]
    systems += [MODEL.build(MODEL.defaults() | corner) for corner in CORNERS]
    every = {a.name for s in systems for a in s.actions}
    used = set().union(*(fired(s) for s in systems))
    assert every - used == UNREACHABLE_RULES


def scripted(system: System, prefer: Sequence[str]) -> list[tuple[int, str]]:
    """Run ``system`` taking, at each state, the first enabled action in ``prefer`` order
    (by name); return (time, action name) of every step until none of them is enabled."""
    c = Compiled(system)
    names = [a.name for a in system.actions]
    when = system.index["time"]
    (s,) = c.initial()
    steps: list[tuple[int, str]] = []
    while True:
        succ = {names[ai]: t for ai, t in c.successors(s)}
        pick = next((n for n in prefer if n in succ), None)
        if pick is None:
            return steps
        s = succ[pick]
        steps.append((int(c.decode(s)[when]), pick))


def test_synack_schedule_is_linux() -> None:
    """tcp_synack_retries = 5: SYN,ACKs resent at 1, 3, 7, 15, 31 s, entry dropped at 63 s."""
    params = MODEL.defaults() | {
        "synack_retries": 5,
        "attack_budget": 1,
        "horizon": 70,
        "client_start": 69,
    }
    steps = scripted(
        MODEL.build(params),
        ["attacker.syn_entry", "srv.retransmit_synack", "srv.drop_entry", "tick"],
    )
    assert [t for t, a in steps if a == "srv.retransmit_synack"] == [1, 3, 7, 15, 31]
    assert [t for t, a in steps if a == "srv.drop_entry"] == [63]


def test_syn_schedule_is_linux() -> None:
    """tcp_syn_retries = 6: SYNs resent at 1, 3, 7, 15, 31, 63 s, ETIMEDOUT at 127 s (every
    SYN meets a full accept queue that the application never drains)."""
    params = MODEL.defaults() | {
        "syn_retries": 6,
        "attack_rate": 0,
        "accept_backlog": 1,
        "other_clients": 1,
        "accept_rate": 0,
        "horizon": 128,
    }
    steps = scripted(
        MODEL.build(params),
        [
            "others.connect",
            "client.connect",
            "srv.syn_accept_full",
            "client.retransmit_syn",
            "client.give_up",
            "tick",
        ],
    )
    assert [t for t, a in steps if a == "client.retransmit_syn"] == [1, 3, 7, 15, 31, 63]
    assert [t for t, a in steps if a == "client.give_up"] == [127]
    assert [a for _, a in steps].count("srv.syn_accept_full") == 7


@pytest.mark.skipif(not native.compiler_available(), reason="needs gcc")
@pytest.mark.parametrize(("spec", "variant"), list(COUNTS), ids=lambda x: str(x))
def test_native_engine_agrees(spec: str, variant: str | None) -> None:
    (cfg,) = [c for c in load(SPECS / f"{spec}.toml").configurations if c.variant == variant]
    props = [c.prop for c in cfg.checks if c.prop.kind != "ltl"]
    py, py_stats = explore(cfg.system, props)
    nat, nat_stats = native.explore(cfg.system, props)
    assert (nat_stats.states, nat_stats.transitions) == (py_stats.states, py_stats.transitions)
    assert {n: (o.verdict, o.trace) for n, o in nat.items()} == {
        n: (o.verdict, o.trace) for n, o in py.items()
    }


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"backlog": 0}, ("backlog", "out of range")),
        ({"syncookies": "yes"}, ("syncookies", "true or false")),
        ({"attack_budget": "lots"}, ("attack_budget", "not allowed")),
        ({"client_start": 9, "horizon": 9}, ("client_start", "horizon")),
    ],
)
def test_bad_parameters_are_rejected(
    params: Mapping[str, ParamValue], words: tuple[str, ...], tmp_path: Path
) -> None:
    body = "".join(f"{k} = {toml_value(v)}\n" for k, v in params.items())
    path = tmp_path / "bad.toml"
    path.write_text(
        '[spec]\nname = "bad"\nmodel = "listener"\n\n[params]\n'
        + body
        + '\n[[property]]\nname = "queue-bounded"\nexpect = "holds"\n'
    )
    with pytest.raises(SpecError) as err:
        load(path)
    assert all(w in str(err.value) for w in words), str(err.value)


# ---- liveness: legit-connects under fairness -----------------------------------------------


def flood_lasso(params: Mapping[str, ParamValue], fairness: str = "model") -> Trace:
    system = MODEL.build(params)
    outcomes, _ = check(system, library(system, ["legit-connects"]), fairness)
    o = outcomes["legit-connects"]
    assert o.verdict == "violated"
    assert o.trace is not None and o.trace.loop is not None
    replay(system, o.trace)
    return o.trace


def spoofed_entries(state: Mapping[str, object], slots: int) -> int:
    return sum(1 for i in range(slots) if state[f"req[{i}].present"] and state[f"req[{i}].spoofed"])


def test_flood_lasso_keeps_the_queue_full_until_the_client_gives_up() -> None:
    """syn-flood.toml's counterexample, as its comment describes it: a lasso whose stem ends
    with the client's ETIMEDOUT; every SYN of the client (the first and its 2 retries) is
    dropped by a queue that holds `backlog` spoofed entries; the server never has the
    client's connection anywhere on the lasso."""
    params = spec_params("syn-flood", None)
    t = flood_lasso(params)
    steps = t.steps
    assert len(steps) == 34 and t.loop == 22
    assert all(s.state["srv.legit"] == "NONE" for s in steps)
    gave_up = [k for k, s in enumerate(steps) if s.action == "client.give_up"]
    assert gave_up == [t.loop]
    arrivals = [k for k, s in enumerate(steps) if (s.action or "").startswith("srv.syn_")]
    assert [steps[k].action for k in arrivals] == ["srv.syn_queue_full(slot=0)"] * 3
    backlog = int(params["backlog"])
    for k in arrivals:
        assert spoofed_entries(steps[k - 1].state, backlog) == backlog
    # After the give-up the client stays closed for ever: the cycle holds no client step.
    assert all(s.state["client.error"] == "ETIMEDOUT" for s in steps[t.loop :])


def test_with_a_horizon_the_last_state_stutters() -> None:
    """With a horizon, legit-connects reads "by the horizon": the lasso's cycle is the last
    state alone (no successor: it stutters), at the horizon."""
    t = flood_lasso(spec_params("syn-flood", "by-horizon"))
    assert t.loop == len(t.steps) - 1
    assert t.steps[-1].state["time"] == 9
    assert t.steps[-1].state["client.error"] == "ETIMEDOUT"


def test_legit_connects_is_checked_under_the_models_fairness() -> None:
    """The listener declares weak fairness for the clock, the request timers and the client,
    strong fairness for each receive action; nothing for the attacker, the other clients or
    the network's losses (an attacker with an unlimited supply is never forced to stop, and
    the network loses only what `loss` allows)."""
    system = MODEL.build(MODEL.defaults() | {"horizon": 0, "loss": 1, "other_clients": 1})
    fair = {(f.kind, f.group) for f in system.fairness}
    assert {("weak", "clock"), ("weak", "srv.timer"), ("weak", "client")} <= fair
    receives = {a.label for a in system.actions if a.group.endswith(".receive")}
    assert receives and {("strong", label) for label in receives} <= fair
    groups = {a.group for a in system.actions}
    assert {"attacker", "others", "net.lose"} <= groups
    names = {a.name for a in system.actions}
    for _, group in fair:
        assert group not in ("attacker", "others", "net.lose")
        assert not group.startswith(("attacker.", "others.", "net.lose"))
        assert group in groups | names | receives


@pytest.mark.parametrize(
    ("spec", "variant", "verdict"),
    [("syn-flood", None, "violated"), ("syn-flood-cookies", None, "holds")],
)
def test_fairness_does_not_decide_the_flood(spec: str, variant: str | None, verdict: str) -> None:
    """Without any fairness the verdicts stand: the attacker's SYNs per tick are bounded and
    every other step is urgent, so no run stalls time (the specs' comments say so)."""
    system = MODEL.build(spec_params(spec, variant))
    outcomes, _ = check(system, library(system, ["legit-connects"]), fairness="none")
    assert outcomes["legit-connects"].verdict == verdict


def test_cookies_hold_for_every_attack_rate() -> None:
    """docs/listener.md: with cookies legit-connects holds for every rate up to 4 SYNs per
    tick; without them a rate of 1 with a head start already keeps the client out."""
    base = spec_params("syn-flood-cookies", None)
    for rate in range(1, 5):
        system = MODEL.build(base | {"attack_rate": rate})
        outcomes, _ = check(system, library(system, ["legit-connects"]))
        assert outcomes["legit-connects"].verdict == "holds", rate
    flood_lasso(base | {"syncookies": False})
    # No head start (client_start = 0): one SYN per tick is not enough, even without cookies.
    system = MODEL.build(base | {"syncookies": False, "client_start": 0})
    outcomes, _ = check(system, library(system, ["legit-connects"]))
    assert outcomes["legit-connects"].verdict == "holds"


def tick_times(system: System, prefer: Sequence[str], watch: str) -> list[int]:
    """The tick counts (ticks taken so far) at which ``watch`` decreases, on the scripted
    run of ``system`` (``time`` saturates without a horizon, so ticks are counted)."""
    c = Compiled(system)
    names = [a.name for a in system.actions]
    at = system.index[watch]
    (s,) = c.initial()
    ticks, seen = 0, []
    for _ in range(200):
        succ = {names[ai]: t for ai, t in c.successors(s)}
        pick = next((n for n in prefer if n in succ), None)
        if pick is None:
            break
        before = c.decode(s)[at]
        s = succ[pick]
        ticks += pick == "tick"
        if c.decode(s)[at] < before:
            seen.append(ticks)
    return seen


@pytest.mark.parametrize("rate", [1, 2, 3])
def test_unbounded_runs_keep_the_accept_turns(rate: int) -> None:
    """horizon = 0 replaces the clock by a phase modulo accept_rate: the application accepts
    at the same ticks as with a horizon (every accept_rate ticks)."""
    params = MODEL.defaults() | {
        "attack_rate": 0,
        "other_clients": 3,
        "accept_backlog": 3,
        "accept_rate": rate,
        "client_start": 20,
    }
    prefer = ["others.connect", "tick"]
    bounded = tick_times(MODEL.build(params | {"horizon": 30}), prefer, "accept.others")
    unbounded = tick_times(MODEL.build(params | {"horizon": 0}), prefer, "accept.others")
    assert bounded == unbounded == [rate, 2 * rate, 3 * rate]


def test_unbounded_client_keeps_linux_syn_schedule() -> None:
    """tcp_syn_retries = 6 without a horizon: SYNs at 1, 3, 7, 15, 31, 63 ticks after
    connect(), ETIMEDOUT at 127, then nothing more from the client (it is final)."""
    params = MODEL.defaults() | {
        "syn_retries": 6,
        "attack_rate": 0,
        "accept_backlog": 1,
        "other_clients": 1,
        "accept_rate": 0,
        "client_start": 2,
        "horizon": 0,
    }
    system = MODEL.build(params)
    c = Compiled(system)
    names = [a.name for a in system.actions]
    prefer = [
        "others.connect",
        "client.connect",
        "srv.syn_accept_full",
        "client.retransmit_syn",
        "client.give_up",
        "tick",
    ]
    (s,) = c.initial()
    ticks, events = 0, []
    for _ in range(400):
        succ = {names[ai]: t for ai, t in c.successors(s)}
        pick = next(n for n in prefer if n in succ)
        s = succ[pick]
        ticks += pick == "tick"
        if pick.startswith("client."):
            events.append((ticks, pick))
    assert events[0] == (2, "client.connect")
    assert [t - 2 for t, a in events if a == "client.retransmit_syn"] == [1, 3, 7, 15, 31, 63]
    assert [t - 2 for t, a in events if a == "client.give_up"] == [127]
    assert len(events) == 8


def test_horizon_zero_allows_any_client_start() -> None:
    system = MODEL.build(MODEL.defaults() | {"horizon": 0, "client_start": 100})
    assert "settled" not in dict(system.definitions)
    assert MODEL.build(MODEL.defaults() | {"horizon": 9}).definitions


def test_by_horizon_needs_a_horizon(tmp_path: Path) -> None:
    """legit-connects-by-horizon names `settled`, which exists only with a horizon: asking for
    it in unbounded runs is a located spec error, not a vacuous `holds`."""
    path = tmp_path / "unbounded.toml"
    path.write_text(
        '[spec]\nname = "u"\nmodel = "listener"\n\n[params]\nhorizon = 0\n\n'
        '[[property]]\nname = "legit-connects-by-horizon"\nexpect = "holds"\n'
    )
    with pytest.raises(SpecError) as err:
        load(path)
    assert "settled" in str(err.value)


@pytest.mark.skipif(not native.compiler_available(), reason="needs gcc")
def test_native_engine_agrees_on_unbounded_accept_turns() -> None:
    """The unbounded clock (``time`` saturating at client_start, ``accept.phase`` modulo
    accept_rate) compiled to C explores the same states as in Python."""
    params = MODEL.defaults() | {
        "horizon": 0,
        "accept_rate": 3,
        "accept_backlog": 1,
        "other_clients": 1,
        "client_start": 2,
        "loss": 1,
    }
    system = MODEL.build(params)
    props = library(system, ["handshake", "client-reset", "queue-bounded"])
    py, py_stats = explore(system, props)
    nat, nat_stats = native.explore(system, props)
    assert py_stats.complete and py_stats.states > 100
    assert (nat_stats.states, nat_stats.transitions) == (py_stats.states, py_stats.transitions)
    assert {n: (o.verdict, o.trace) for n, o in nat.items()} == {
        n: (o.verdict, o.trace) for n, o in py.items()
    }
    assert py["handshake"].verdict == "reachable" and py["queue-bounded"].verdict == "holds"


def test_only_the_cookie_ack_loss_keeps_the_client_out() -> None:
    """syn-flood-cookies.toml/lost-ack: one loss never makes the client fail, and every run
    in which the server never gets the connection leaves the client ESTABLISHED (the lost
    segment was the cookie ACK); cookies off, the client times out instead."""
    params = spec_params("syn-flood-cookies", "lost-ack")
    system = MODEL.build(params)
    props = [
        parse_property("never-fails", "always(client.error == NONE)", system),
        parse_property(
            "in-or-established",
            "eventually(srv.legit != NONE or client.state == ESTABLISHED)",
            system,
        ),
    ]
    outcomes, _ = check(system, props)
    assert {n: o.verdict for n, o in outcomes.items()} == {
        "never-fails": "holds",
        "in-or-established": "holds",
    }
    system = MODEL.build(params | {"syncookies": False})
    props = [parse_property("never-fails", "always(client.error == NONE)", system)]
    outcomes, _ = check(system, props)
    assert outcomes["never-fails"].verdict == "violated"
