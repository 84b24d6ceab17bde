"""The one rule from what a search found to verdicts (`tcpmodel.engines.search.verdicts`),
branch by branch, and the engines that decide ``always``/``reachable`` properties by it:
a found trace is ``violated``/``reachable``; an exhaustive search ``holds``/``unreachable``;
an unbounded proof ``proved`` with what it assumed; otherwise ``unknown`` with the bound's
reason (a witness, not a violation, for ``reachable``), an interrupt's included."""

from __future__ import annotations

import pytest

from tcpmodel.engines import bmc, chc, explicit, kind
from tcpmodel.engines.search import (
    EXHAUSTIVE,
    STOPPED,
    Bounds,
    Proof,
    bad_of,
    exhaustive,
    verdict,
    verdicts,
)
from tcpmodel.formula import Property, parse_property
from tcpmodel.interrupt import Interrupt
from tcpmodel.kernel.expr import FALSE, TRUE, not_
from tcpmodel.kernel.system import System
from tcpmodel.models import MODELS
from tcpmodel.results import Step, Trace

ALWAYS = Property("safe", "always", TRUE, "always(true)")
REACH = Property("seen", "reachable", TRUE, "reachable(true)")
TRACE = Trace((Step(None, None, {"x": 0}), Step("go", "rule 1", {"x": 1})))


def test_a_found_trace_violates_always_and_witnesses_reachable() -> None:
    got = verdicts([ALWAYS, REACH], {0: TRACE, 1: TRACE}, exhaustive([ALWAYS, REACH], True), "")
    assert got["safe"].verdict == "violated" and got["safe"].trace is TRACE
    assert got["seen"].verdict == "reachable" and got["seen"].trace is TRACE
    assert got["safe"].reason == "" and got["seen"].reason == ""


def test_an_exhaustive_search_holds_and_is_unreachable() -> None:
    got = verdicts([ALWAYS, REACH], {}, exhaustive([ALWAYS, REACH], True), "ignored")
    assert (got["safe"].verdict, got["seen"].verdict) == ("holds", "unreachable")
    assert got["safe"].trace is None and got["safe"].reason == ""
    assert exhaustive([ALWAYS, REACH], False) == {}
    assert exhaustive([ALWAYS], True) == {0: EXHAUSTIVE}


def test_an_unbounded_proof_is_proved_with_what_it_assumed() -> None:
    proof = Proof("2-induction", proved=True, invariants=("always(x)",), k=3)
    got = verdicts([ALWAYS, REACH], {}, {0: proof, 1: proof}, "", note="; invariant y dropped")
    safe, seen = got["safe"], got["seen"]
    assert (safe.verdict, seen.verdict) == ("proved", "unreachable")
    assert safe.reason == "2-induction; invariant y dropped"
    assert safe.invariants == ("always(x)",) and safe.k == 3 and safe.invariant is None
    inv = verdict(ALWAYS, None, Proof("invariant: x", proved=True, invariant="x"), "")
    assert inv.verdict == "proved" and inv.invariant == "x" and inv.invariants is None


def test_a_stopped_search_is_unknown_with_the_bounds_reason() -> None:
    stop = "no violation within 4 steps"
    got = verdicts([ALWAYS, REACH], {}, {}, stop, note="; n")
    assert got["safe"].verdict == "unknown" and got["safe"].reason == stop + "; n"
    assert got["seen"].verdict == "unknown"
    assert got["seen"].reason == "no witness within 4 steps; n"
    assert verdict(ALWAYS, None, None, "").reason == STOPPED


def test_the_note_never_touches_a_counterexample() -> None:
    got = verdicts([ALWAYS, REACH], {0: TRACE}, {}, "depth bound 2 reached", note="; n")
    assert got["safe"].reason == ""
    assert got["seen"].reason == "depth bound 2 reached; n"


def test_bad_of_is_the_negation_for_always_and_the_predicate_for_reachable() -> None:
    p = FALSE
    assert bad_of(Property("a", "always", p, "always(false)")) == not_(p)
    assert bad_of(Property("r", "reachable", p, "reachable(false)")) is p


def peterson() -> System:
    m = MODELS["mutex"]
    return m.build({**m.defaults(), "algorithm": "peterson"})


def props(system: System) -> list[Property]:
    return [
        parse_property("mutex", "always(not (p0.pc == CRIT and p1.pc == CRIT))", system),
        parse_property("crit", "reachable(p0.pc == CRIT)", system),
        parse_property("both", "reachable(p0.pc == CRIT and p1.pc == CRIT)", system),
    ]


def test_the_explorer_decides_by_the_rule() -> None:
    system = peterson()
    got, stats = explicit.explore(system, props(system))
    assert stats.complete
    assert [got[n].verdict for n in ("mutex", "crit", "both")] == [
        "holds",
        "reachable",
        "unreachable",
    ]
    cut, _ = explicit.explore(system, props(system), Bounds(max_depth=2))
    assert cut["mutex"].verdict == "unknown" and cut["both"].verdict == "unknown"
    assert cut["mutex"].reason.startswith("depth bound 2 reached")


def test_an_interrupted_search_is_unknown_saying_so() -> None:
    system = peterson()
    stop = Interrupt()
    stop.request()
    try:
        got, _ = explicit.explore(system, props(system), Bounds(interrupt=stop))
    finally:
        stop.close()
    unknown = {n: o for n, o in got.items() if o.verdict == "unknown"}
    assert "mutex" in unknown and "both" in unknown
    assert all(o.reason.startswith("interrupted after") for o in unknown.values())


@pytest.mark.parametrize("engine", ["bmc", "kind"])
def test_the_symbolic_engines_decide_by_the_rule(engine: str) -> None:
    system = peterson()
    run = bmc.bmc if engine == "bmc" else kind.kind
    got, _ = run(system, props(system), Bounds(max_depth=30))
    assert got["crit"].verdict == "reachable" and got["crit"].trace is not None
    settled = "holds" if engine == "bmc" else "proved"
    assert got["mutex"].verdict == settled and got["both"].verdict == "unreachable"
    if engine == "kind":
        assert got["mutex"].k is not None and got["mutex"].invariants == ()
    else:
        assert got["mutex"].reason.startswith("completeness threshold")


def test_bmc_says_witness_for_reachable_when_the_depth_bound_stops_it() -> None:
    system = peterson()
    got, _ = bmc.bmc(system, props(system), Bounds(max_depth=1))
    assert got["both"].verdict == "unknown"
    assert "no witness within 1 steps" in got["both"].reason
    assert "no violation within 1 steps" in got["mutex"].reason


def test_spacer_proofs_go_through_the_rule() -> None:
    system = peterson()
    got, _ = chc.chc(system, props(system)[::2], Bounds(timeout=60))
    for name, want in (("mutex", "proved"), ("both", "unreachable")):
        o = got[name]
        assert o.verdict == want, o.reason
        assert o.invariant is not None and o.reason == "invariant: " + o.invariant
