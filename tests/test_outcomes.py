"""What an engine found besides the verdict travels in fields of `Outcome` and `Result` (the
invariants a kind proof assumed, its k, Spacer's invariant, a game's winning strategy, whether a
property is a game), never recovered from ``reason``; and a counterexample or witness is shown
only with a trace that was replayed: without one the verdict is ``unknown``, saying why."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from tcpmodel.check import Options, check_spec
from tcpmodel.engines import chc as chc_module
from tcpmodel.engines.registry import ENGINES, EngineInfo
from tcpmodel.engines.search import Bounds, ProgressFn
from tcpmodel.formula import Property
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.system import System
from tcpmodel.results import Outcome, Stats, Verdict
from tcpmodel.spec import load

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"

PETERSON_WITH_INVARIANTS = """
[spec]
name = "peterson-inv"
model = "mutex"
[params]
algorithm = "peterson"
[[property]]
name = "mutual-exclusion"
expect = "holds"
[[invariant]]
formula = "always(p1.flag or p1.pc == IDLE)"
[[invariant]]
formula = "always(p0.pc == IDLE)"
"""


def test_kind_says_which_invariants_it_assumed_and_its_k(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(PETERSON_WITH_INVARIANTS)
    (r,) = check_spec(load(path), Options("kind"))
    assert r.verdict == "proved" and r.engine == "kind"
    assert r.invariants == ("always(p1.flag or p1.pc == IDLE)",)
    assert r.k == r.stats.depth and r.k is not None
    assert r.invariant is None and r.strategy is None and not r.game
    doc = r.to_json()
    assert doc["invariants"] == ["always(p1.flag or p1.pc == IDLE)"] and doc["k"] == r.k


def test_a_kind_proof_without_invariants_assumed_none() -> None:
    (r,) = check_spec(
        load(SPECS / "mutex-peterson.toml"), Options("kind", only=frozenset({"deadlock-free"}))
    )
    assert r.verdict == "proved" and r.invariants == () and not r.reason.endswith("used")


def test_chc_gives_its_invariant_as_a_field() -> None:
    only = frozenset({"turn-respected"})
    (r,) = check_spec(load(SPECS / "mutex-peterson.toml"), Options("chc", Bounds(timeout=60), only))
    assert r.verdict == "proved" and r.invariant
    assert r.reason == f"invariant: {r.invariant}" and r.invariants is None and r.k is None


def test_a_game_says_it_is_one_and_names_its_winning_strategy() -> None:
    results = check_spec(
        load(SPECS / "isn-attack.toml"),
        Options("explicit", only=frozenset({"spoofed-injection", "lucky-injection"})),
    )
    by = {(r.variant, r.prop): r for r in results}
    won = by[(None, "spoofed-injection")]
    assert won.game and won.verdict == "reachable" and won.strategy == {"att.delta": 8}
    assert json.loads(json.dumps(won.to_json()))["strategy"] == {"att.delta": 8}
    lost = by[("keyed", "spoofed-injection")]
    assert lost.game and lost.verdict == "unreachable" and lost.strategy is None
    plain = by[(None, "lucky-injection")]
    assert not plain.game and plain.strategy is None


def test_chc_without_a_trace_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    # Spacer finds the bad state reachable; bmc finds no trace within its bounds.
    def no_trace(
        system: System,
        props: Sequence[Property],
        bounds: Bounds,
        progress: ProgressFn | None,
        compiled: Compiled | None,
    ) -> tuple[dict[str, Outcome], Stats]:
        return {p.name: Outcome("unknown", reason="time limit reached") for p in props}, Stats()

    monkeypatch.setattr(chc_module, "bmc", no_trace)
    only = frozenset({"mutual-exclusion"})
    (r,) = check_spec(load(SPECS / "mutex-naive.toml"), Options("chc", Bounds(timeout=60), only))
    assert r.verdict == "unknown" and r.trace is None
    assert r.reason.startswith("Spacer says violated (a bad state is reachable), but bmc found")
    assert r.reason.endswith("no trace to replay and show: time limit reached")


def test_a_verdict_without_a_trace_is_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    def careless(
        system: System,
        props: Sequence[Property],
        bounds: Bounds,
        progress: ProgressFn | None,
        compiled: Compiled | None,
    ) -> tuple[dict[str, Outcome], Stats]:
        verdict: dict[str, Verdict] = {"always": "violated", "reachable": "reachable"}
        return {p.name: Outcome(verdict[p.kind], reason="trust me") for p in props}, Stats()

    monkeypatch.setitem(ENGINES, "careless", EngineInfo("careless", careless))
    results = check_spec(load(SPECS / "mutex-naive.toml"), Options("careless"))
    assert len(results) == 2
    for r in results:
        assert r.verdict == "unknown" and r.trace is None
        assert r.reason.startswith("the careless engine said ") and "no trace to replay" in r.reason


def test_an_unsettled_auto_proof_says_why_beside_the_explorers_bound() -> None:
    # auto: the explorer stops at its state bound, kind then runs out of time; the verdict
    # stays unknown and the reason gives both, not only the explorer's bound.
    spec = load(SPECS / "rfc9293-32bit.toml")
    base = dataclasses.replace(spec, configurations=spec.configurations[:1])
    bounds = Bounds(max_states=2000, timeout=3)
    (r,) = check_spec(base, Options("auto", bounds, frozenset({"no-old-fin"})))
    assert r.verdict == "unknown"
    assert r.reason.startswith("state bound 2000 reached; kind: time limit"), r.reason
