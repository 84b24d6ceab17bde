"""Partial-order reduction (`tcpmodel.kernel.por`): the analysis, the reduction it gives, and
that verdicts never change.

Independent processes reduce: three counters that never read each other have (K+1)^3 states
and the reduced search visits far fewer.  Soundness is checked by Hypothesis on random systems
of processes with local and shared variables: every verdict with reduction equals the verdict
without, and every trace found with reduction replays through the concrete semantics.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tcpmodel.engines import explicit
from tcpmodel.engines.explicit import explore
from tcpmodel.engines.search import Bounds
from tcpmodel.formula import Property, parse_property
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.expr import and_
from tcpmodel.kernel.por import Reducer, independence
from tcpmodel.kernel.system import Builder, System
from tcpmodel.kernel.types import IntType
from tcpmodel.models import MODELS
from tcpmodel.semantics import replay
from tcpmodel.spec import load

POR = Bounds(por=True)
K = 4


def counters(n: int = 3, k: int = K) -> System:
    """``n`` processes, each counting ``c<i>`` from 0 to ``k``; no process reads another."""
    b = Builder("counters")
    cs = [b.var(f"c{i}", IntType(0, k), 0) for i in range(n)]
    for i, c in enumerate(cs):
        b.action(f"inc{i}", c.lt(k), {c.name: c + 1})
    return b.build()


def props(system: System, *formulas: str) -> list[Property]:
    return [parse_property(f"p{i}", f, system) for i, f in enumerate(formulas)]


def test_analysis_of_independent_counters() -> None:
    s = counters()
    ind = independence(s, [props(s, "always(c0 <= 4)")[0].predicate])
    assert ind.dep == (0, 0, 0)  # no action reads what another writes
    assert ind.independent_pairs == 3
    assert ind.visible == 0b001  # only inc0 writes c0
    assert [bin(m) for m in ind.nes] == ["0b1", "0b10", "0b100"]  # c_i < k: inc_i
    r = Reducer(ind, Compiled(s).flags(list(ind.conjuncts)))
    init = Compiled(s).initial()[0]
    assert r.enabled(init) == 0b111
    assert r.ample(init, 0b111) in (0b010, 0b100)  # one invisible action alone


def test_independent_counters_reduce_with_the_same_verdicts() -> None:
    s = counters()
    ps = props(s, "always(c0 <= 4)", "reachable(c0 == 4)", "always(c0 < 4)")
    full, fs = explore(s, ps)
    red, rs = explore(s, ps, POR)
    assert fs.states == (K + 1) ** 3 and fs.por is None
    assert {n: o.verdict for n, o in red.items()} == {n: o.verdict for n, o in full.items()}
    assert red["p0"].verdict == "holds" and red["p2"].verdict == "violated"
    assert rs.por is not None and rs.por[1] > 0
    assert rs.states < fs.states / 4, (rs.states, fs.states)
    for o in red.values():
        if o.trace is not None:
            replay(s, o.trace)


def test_deadlock_makes_every_guard_writer_visible_and_nothing_reduces() -> None:
    s = counters()
    ps = props(s, "always(not deadlock)")
    out, st_ = explore(s, ps, POR)
    assert out["p0"].verdict == "violated"  # all counters at K: nothing enabled
    assert st_.states == (K + 1) ** 3
    assert st_.por is not None and st_.por[1] == 0


def test_bounds_stop_a_reduced_search_within_a_level() -> None:
    """The state bound is checked every 1,024 expansions with the reduction on as without:
    16 one-step counters (level 4 holds 1,820 states, level 5 4,368), nothing reducible (the
    deadlock property reads every guard), a bound of 2,600 states, passed only while level 4
    is expanded: the search stops within it, not at its end (6,885 states)."""
    s = counters(16, 1)
    out, st_ = explore(s, props(s, "always(not deadlock)"), Bounds(max_states=2600, por=True))
    assert out["p0"].verdict == "unknown" and "state bound 2600" in out["p0"].reason
    assert st_.states < 6000, st_.states


def test_a_model_without_independence_is_explored_in_full() -> None:
    s = MODELS["mutex"].build({"algorithm": "peterson"})
    ps = props(s, "always(not (p0.pc == CRIT and p1.pc == CRIT))")
    assert independence(s, [ps[0].predicate]).independent_pairs >= 0
    _, full = explore(s, ps)
    _, red = explore(s, ps, POR)
    assert red.states == full.states == 20


def test_cycles_keep_a_fully_expanded_state() -> None:
    """Two independent processes; one loops for ever between two states, the other must
    still reach its goal in the reduced graph (C3: no action ignored on a cycle)."""
    b = Builder("ignore")
    x = b.var("x", IntType(0, 1), 0)
    y = b.var("y", IntType(0, 3), 0)
    b.action("flip", x.eq(0), {"x": 1})
    b.action("flop", x.eq(1), {"x": 0})
    b.action("grow", y.lt(3), {"y": y + 1})
    s = b.build()
    ps = props(s, "reachable(y == 3)", "always(y < 3)")
    out, st_ = explore(s, ps, POR)
    assert out["p0"].verdict == "reachable" and out["p1"].verdict == "violated"
    assert out["p1"].trace is not None
    replay(s, out["p1"].trace)
    assert st_.por is not None


def _system(name: str, actions: list[tuple[str, str, dict[str, int]]]) -> System:
    """A system of 0..1 variables ``x``, ``y``, ``l0``, ``l1`` and the ``actions`` (name,
    guard formula as ``var==value`` conjuncts joined by ``&``, updates)."""
    b = Builder(name)
    vs = {n: b.var(n, IntType(0, 1), 0) for n in ("x", "y", "l0", "l1")}
    for act, guard, ups in actions:
        conj = [c.strip().split("==") for c in guard.split("&")]
        b.action(act, and_(*(vs[v.strip()].eq(int(val)) for v, val in conj)), ups)
    return b.build()


def test_a_dependent_action_is_not_postponed() -> None:
    """a0 disables a1 (both read y, a0 writes it): expanding a0 alone would lose l1 == 1."""
    s = _system("dep", [("a0", "y==0", {"y": 1, "l0": 1}), ("a1", "y==0", {"l1": 1})])
    out, _ = explore(s, props(s, "reachable(l1 == 1)"), POR)
    assert out["p0"].verdict == "reachable"


def test_an_action_that_could_enable_a_dependent_one_is_not_postponed() -> None:
    """a0 is independent of v, but u (disabled) reads what a0 writes and v enables u: the
    stubborn set must take v in (u's necessary enabling set), or u's x := 1 is lost."""
    s = _system(
        "nes",
        [
            ("a0", "l0==0 & x==0", {"l0": 1}),
            ("u", "l0==0 & y==1", {"x": 1}),
            ("v", "y==0", {"y": 1}),
        ],
    )
    out, _ = explore(s, props(s, "reachable(x == 1)"), POR)
    assert out["p0"].verdict == "reachable"


def test_a_visible_action_is_never_postponed() -> None:
    """x := 1 and y := 1 are independent, but the state x == 1, y == 0 exists only if x's
    action runs first: both are visible, so neither order is dropped."""
    s = _system("vis", [("sety", "y==0", {"y": 1}), ("setx", "x==0", {"x": 1})])
    out, _ = explore(s, props(s, "always(not (x == 1 and y == 0))"), POR)
    assert out["p0"].verdict == "violated"


# -- soundness on random systems ----------------------------------------------------------

N_PROC = 3


@st.composite
def systems(draw: st.DrawFn) -> tuple[System, list[str]]:
    """Processes with a local variable each and one shared variable; each action reads its
    own local variable, maybe the shared one or another's, and writes its local variable and
    maybe the shared one; two formulas over a few variables."""
    b = Builder("random")
    loc = [b.var(f"l{i}", IntType(0, 2), 0) for i in range(N_PROC)]
    sh = b.var("g", IntType(0, 2), 0)
    n_actions = draw(st.integers(2, 9))
    for k in range(n_actions):
        p = draw(st.integers(0, N_PROC - 1))
        me = loc[p]
        frm, to = draw(st.sampled_from([0, 0, 1, 2])), draw(st.integers(0, 2))
        guard = me.eq(frm)
        reads = draw(st.sampled_from(["none", "none", "shared", "other"]))
        if reads == "shared":
            guard = guard & sh.eq(draw(st.integers(0, 2)))
        elif reads == "other":
            guard = guard & loc[(p + 1) % N_PROC].ne(draw(st.integers(0, 2)))
        ups: dict[str, int] = {me.name: to}
        if draw(st.sampled_from([True, False, False])):
            ups[sh.name] = draw(st.integers(0, 2))
        b.action(f"a{k}", guard, ups)
    s = b.build()
    var = draw(st.sampled_from(["l0", "l1", "l2", "g"]))
    val = draw(st.integers(0, 2))
    other = draw(st.sampled_from(["l0", "l1", "l2", "g"]))
    formulas = [
        f"always({var} != {val})",
        f"reachable({var} == {val} and {other} != {val})",
        "always(not deadlock)",
    ]
    return s, formulas


@settings(max_examples=150, deadline=None)
@given(systems())
def test_reduction_never_changes_a_verdict(case: tuple[System, list[str]]) -> None:
    s, formulas = case
    c = Compiled(s)
    for f in formulas:  # one property per search: each gets its own visible set
        ps = props(s, f)
        full, _ = explore(s, ps, compiled=c)
        red, st_ = explore(s, ps, dataclasses.replace(POR), compiled=c)
        assert red["p0"].verdict == full["p0"].verdict, f
        if red["p0"].trace is not None:
            replay(s, red["p0"].trace, c)
        assert st_.por is not None


# -- every bundled spec ---------------------------------------------------------------------

SPECS = sorted((Path(__file__).resolve().parent.parent / "specs").glob("*.toml"))


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_bundled_spec_verdicts_are_the_same_with_reduction(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each configuration's state properties, within 1,000 states, with and without the
    reduction (tried on every state): every verdict both searches settle agrees, and a
    complete reduced search has no more states than the full one."""
    monkeypatch.setattr(explicit, "POR_TRIAL", sys.maxsize)
    settled = 0
    for cfg in load(path).configurations:
        ps = [c.prop for c in cfg.checks if c.prop.kind in ("always", "reachable")]
        if not ps:
            continue
        c = Compiled(cfg.system)
        full, fs = explore(cfg.system, ps, Bounds(max_states=1000), compiled=c)
        red, rs = explore(cfg.system, ps, Bounds(max_states=1000, por=True), compiled=c)
        assert rs.por is not None
        for name, o in red.items():
            if o.verdict != "unknown" and full[name].verdict != "unknown":
                settled += 1
                assert o.verdict == full[name].verdict, (cfg.variant, name)
            if o.trace is not None:
                replay(cfg.system, o.trace, c)
        if fs.complete and rs.complete:
            assert rs.states <= fs.states
    if path.stem.startswith("syn-flood"):
        assert settled > 0


def test_the_syn_flood_model_reduces() -> None:
    """The listener model's SYN-flood configuration: independent arrivals reduce (pinned:
    the analysis must not get weaker unnoticed)."""
    cfg = load(SPECS[[p.stem for p in SPECS].index("syn-flood")]).configurations[0]
    ps = [c.prop for c in cfg.checks if c.prop.kind in ("always", "reachable")]
    full, fs = explore(cfg.system, ps)
    red, rs = explore(cfg.system, ps, POR)
    assert {n: o.verdict for n, o in red.items()} == {n: o.verdict for n, o in full.items()}
    assert fs.complete and rs.complete
    assert rs.por is not None and rs.por[1] > 0 and rs.states < fs.states
