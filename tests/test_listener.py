"""The ``listener`` model: its specs, its mutants, its timers, its parameter schema.

* every configuration of the three listener specs meets its expectations on the explicit
  engine (state counts pinned), and every trace replays through `tcpmodel.semantics`;
* for every ``holds`` (and ``unreachable``) of those specs, the mutation that removes its
  protection (cookies off, the queue cap removed, tcp_abort_on_overflow flipped) is checked at
  the same bounds and gives ``violated`` (``reachable``); a verdict no mutant covers fails
  `test_every_holds_is_covered`;
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
from tcpmodel.errors import SpecError
from tcpmodel.formula import Property, parse_property
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.system import System
from tcpmodel.models import MODELS
from tcpmodel.models.base import ParamValue
from tcpmodel.semantics import replay
from tcpmodel.spec import load, spec_files
from tests.specfile import toml_value

SPECS = Path(__file__).resolve().parent.parent / "specs"
MODEL = MODELS["listener"]
NAMES = ("syn-flood", "syn-flood-cookies", "accept-overflow")

# (spec, variant) -> (states, transitions) of the complete exploration
COUNTS: dict[tuple[str, str | None], tuple[int, int]] = {
    ("syn-flood", None): (605, 888),
    ("syn-flood-cookies", None): (579, 831),
    ("syn-flood-cookies", "lost-ack"): (1420, 2185),
    ("accept-overflow", None): (49, 56),
    ("accept-overflow", "no-abort"): (54, 61),
}

# (spec, variant, mutation, the verdicts the mutation must give)
MUTANTS: list[tuple[str, str | None, dict[str, ParamValue], dict[str, str]]] = [
    ("syn-flood", None, {"backlog_limit": False}, {"queue-bounded": "violated"}),
    ("syn-flood-cookies", None, {"syncookies": False}, {"legit-connects": "violated"}),
    (
        "syn-flood-cookies",
        None,
        {"backlog_limit": False},
        {"queue-bounded": "violated", "no-state-for-spoofed": "violated"},
    ),
    (
        "syn-flood-cookies",
        "lost-ack",
        {"backlog_limit": False},
        {"queue-bounded": "violated", "no-state-for-spoofed": "violated"},
    ),
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
    outcomes, stats = explore(cfg.system, [c.prop for c in checks] + extra)
    assert stats.complete
    assert (stats.states, stats.transitions) == COUNTS[(spec, variant)]
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
    outcomes, _ = explore(system, library(system, list(verdicts)))
    assert {n: o.verdict for n, o in outcomes.items()} == verdicts
    for o in outcomes.values():
        assert o.trace is not None
        replay(system, o.trace)


def test_every_holds_is_covered() -> None:
    covered = {(s, v, p) for s, v, _, verdicts in MUTANTS for p in verdicts}
    missing = [
        (s.name, cfg.variant, c.prop.name)
        for s in (load(SPECS / f"{n}.toml") for n in NAMES)
        for cfg in s.configurations
        for c in cfg.checks
        if c.expect in ("holds", "unreachable")
        and (s.name, cfg.variant, c.prop.name) not in covered
    ]
    assert missing == []


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
    props = [c.prop for c in cfg.checks]
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
