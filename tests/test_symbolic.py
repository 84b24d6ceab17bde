"""The Z3 engines (`bmc`, `kind`, `chc`) against the explicit explorer.

* Corpus: on the small specs every definite verdict of every symbolic engine agrees with the
  explicit one, and every trace has the explorer's (shortest) length and replays.
* Depth: BMC finds fixed-isn's old-data counterexample at the explorer's depth.
* The transition relation: for random small systems (and a synthetic one with sequence numbers,
  offset ranges and a reordering channel), the states the unrolled formula admits at step k are
  exactly the states the explorer reaches by paths of exactly k steps.
* k-induction proves Peterson's mutual exclusion, with and without invariants; a false
  invariant is reported and not used; naive mutual exclusion is violated.
* CHC proves Peterson and returns an invariant naming model variables that parses as a formula.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tcpmodel.check import Options, check_spec
from tcpmodel.engines import registry
from tcpmodel.engines.bmc import bmc
from tcpmodel.engines.chc import chc
from tcpmodel.engines.explicit import explore
from tcpmodel.engines.kind import kind
from tcpmodel.engines.search import Bounds
from tcpmodel.engines.symbolic import Encoding, Unrolling
from tcpmodel.errors import ModelError
from tcpmodel.formula import parse_property
from tcpmodel.kernel import smt
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.expr import Expr, Var, and_, ite, lift, not_, or_
from tcpmodel.kernel.system import Builder, System, Updates
from tcpmodel.kernel.types import BOOL, EnumType, IntType
from tcpmodel.results import Outcome, meets
from tcpmodel.semantics import replay
from tcpmodel.spec import Configuration, load
from tests.test_compile_equivalence import synthetic

SPECS = Path(__file__).resolve().parent.parent / "specs"
SMALL = ("mutex-naive", "mutex-peterson", "alternating-bit")


def configurations(name: str) -> list[Configuration]:
    return list(load(SPECS / f"{name}.toml").configurations)


def agree(symbolic: Outcome, explicit: Outcome) -> bool:
    """A definite symbolic verdict is the explicit one, with a trace of the same length;
    whether it was definite (an ``unknown`` agrees with anything, so callers count these)."""
    if symbolic.verdict == "unknown":
        assert symbolic.reason
        return False
    if symbolic.verdict == "proved":
        assert explicit.verdict == "holds"
    else:
        assert symbolic.verdict == explicit.verdict, symbolic.reason
    if explicit.trace is not None:
        assert symbolic.trace is not None
        assert len(symbolic.trace) == len(explicit.trace)
    return True


# ---------------------------------------------------------------------------------------------
# (a) the corpus


# (spec, engine): the definite verdicts bmc (depth 20) and kind (k <= 8) give, as measured
DEFINITE = {
    ("mutex-naive", "bmc"): 2,
    ("mutex-naive", "kind"): 2,
    ("mutex-peterson", "bmc"): 4,
    ("mutex-peterson", "kind"): 2,
    ("alternating-bit", "bmc"): 6,
    ("alternating-bit", "kind"): 5,
}


@pytest.mark.parametrize("spec", SMALL)
def test_bmc_and_kind_agree_with_explicit(spec: str) -> None:
    definite = {"bmc": 0, "kind": 0}
    for cfg in configurations(spec):
        props = [c.prop for c in cfg.checks]
        want, _ = explore(cfg.system, props)
        c = Compiled(cfg.system)
        for name, engine, depth in (("bmc", bmc, 20), ("kind", kind, 8)):
            got, _ = engine(cfg.system, props, Bounds(max_depth=depth), None, c)
            for p in props:
                definite[name] += agree(got[p.name], want[p.name])
                if got[p.name].trace is not None:
                    replay(cfg.system, got[p.name].trace, c)  # type: ignore[arg-type]
    assert definite == {e: DEFINITE[(spec, e)] for e in definite}


def test_symbolic_engines_decide_the_small_specs() -> None:
    """Bounds large enough for a verdict: every expectation is met (proofs included)."""
    for spec in ("mutex-naive", "mutex-peterson"):
        for engine in ("bmc", "kind", "chc"):
            for r in check_spec(load(SPECS / f"{spec}.toml"), Options(engine=engine)):
                assert r.met, (spec, engine, r.prop, r.verdict, r.reason)
                assert r.engine == engine


def test_chc_agrees_with_explicit_on_alternating_bit() -> None:
    """A proof over FIFO channels, a witness, and a counterexample over reordering ones."""
    fifo, reordering = configurations("alternating-bit")
    for cfg, names, verdict in (
        (fifo, ("ack-consistent", "all-delivered"), "proved"),
        (reordering, ("ack-consistent",), "violated"),
    ):
        props = [c.prop for c in cfg.checks if c.prop.name in names]
        want, _ = explore(cfg.system, props)
        got, _ = chc(cfg.system, props, Bounds(timeout=60))
        for p in props:
            agree(got[p.name], want[p.name])
        assert got["ack-consistent"].verdict == verdict


def test_the_registry_describes_each_engine() -> None:
    # What each engine can decide, as the registry says it: the routing reads these.
    assert registry.choices()[0] == "auto"
    assert all(e.name == n for n, e in registry.ENGINES.items())
    assert registry.provers() == ("kind", "chc")
    assert registry.explorers() == ("explicit", "native")
    assert registry.auto_prover().name == "kind"
    assert registry.liveness_engine("bmc").name == "bmc"
    assert {registry.liveness_engine(n).name for n in ("explicit", "native", "kind", "chc")} == {
        "explicit"
    }
    assert registry.resolve("auto") in registry.explorers()
    assert [n for n in registry.ENGINES if registry.counts_states(n)] == ["explicit", "native"]


# ---------------------------------------------------------------------------------------------
# (b) the depth of a deep TCP counterexample


def test_bmc_finds_fixed_isn_old_data_at_the_explorers_depth() -> None:
    (cfg,) = configurations("fixed-isn")
    props = [c.prop for c in cfg.checks if c.prop.name == "no-old-data"]
    want, _ = explore(cfg.system, props)
    got, stats = bmc(cfg.system, props, Bounds(max_depth=20))
    o = got["no-old-data"]
    assert o.verdict == "violated", o.reason
    assert o.trace is not None and want["no-old-data"].trace is not None
    assert len(o.trace) == len(want["no-old-data"].trace) == stats.depth + 1
    replay(cfg.system, o.trace)


# ---------------------------------------------------------------------------------------------
# (c) the transition relation admits exactly the explorer's states at each step

PHASE = EnumType("phase", ("A", "B", "C"))


@st.composite
def systems(draw: st.DrawFn) -> System:
    """A few Bool/Int/Enum variables, a reordering channel, random guarded actions whose
    updates stay in range (an Int is set to a constant, a copy, or a wrapped increment)."""
    b = Builder("random")
    xs: list[Var] = [
        b.var("i", IntType(-1, 2), init=draw(st.integers(-1, 2))),
        b.var("f", BOOL, init=draw(st.booleans())),
        b.var("e", PHASE, init=draw(st.sampled_from(PHASE.values))),
    ]
    if draw(st.booleans()):
        xs.append(b.var("j", IntType(0, 3)))
    net = b.array("net", draw(st.integers(1, 3)), [("v", IntType(0, 2)), ("g", BOOL)])

    def atom() -> Expr:
        x = draw(st.sampled_from(xs))
        if x.vtype == BOOL:
            return x if draw(st.booleans()) else not_(x)
        if isinstance(x.vtype, EnumType):
            return x.eq(draw(st.sampled_from(PHASE.values)))
        assert isinstance(x.vtype, IntType)
        k = draw(st.integers(x.vtype.lo, x.vtype.hi))
        return x.le(k) if draw(st.booleans()) else x.eq(k)

    def guard() -> Expr:
        parts = [atom() for _ in range(draw(st.integers(0, 2)))]
        return or_(*parts) if draw(st.booleans()) and parts else and_(*parts)

    def value(x: Var) -> Expr:
        if x.vtype == BOOL:
            return draw(st.sampled_from([lift(True), lift(False), not_(x), atom()]))
        if isinstance(x.vtype, EnumType):
            return lift(draw(st.sampled_from(PHASE.values)), PHASE)
        assert isinstance(x.vtype, IntType)
        lo, hi = x.vtype.lo, x.vtype.hi
        choice = draw(st.integers(0, 2))
        if choice == 0:
            return lift(draw(st.integers(lo, hi)))
        if choice == 1:
            return ite(x.lt(hi), x + 1, lo)
        return ite(atom(), lift(hi), x)

    for n in range(draw(st.integers(1, 5))):
        kind_ = draw(st.sampled_from(["set", "send", "recv"]))
        u = Updates()
        g = guard()
        if kind_ == "send":
            net.send(u, {"v": draw(st.integers(0, 2)), "g": atom()})
            g = and_(g, not_(net.full()))
        elif kind_ == "recv":
            slot = draw(st.integers(0, net.capacity - 1))
            net.remove(u, slot)
            g = and_(g, net.present(slot))
            u.set(xs[1], net.field(slot, "g"))
        for x in draw(st.lists(st.sampled_from(xs), max_size=3, unique=True)):
            if kind_ != "recv" or x is not xs[1]:
                u.set(x, value(x))
        b.action(f"a{n}", g, u, kind_)
    return b.build()


def exact_levels(system: System, depth: int) -> list[set[bytes]]:
    """States at the end of some path of exactly k steps, for k = 0..depth (all paths)."""
    c = Compiled(system)
    level = set(c.initial())
    out = [level]
    for _ in range(depth):
        level = {t for s in level for _, t in c.successors(s)}
        out.append(level)
    return out


def admitted(system: System, depth: int, theory: smt.Theory | None = None) -> list[set[bytes]]:
    """States the unrolled formula admits at step k, enumerated with blocking clauses."""
    c = Compiled(system)
    enc = Encoding(system, theory=theory)
    s = enc.solver()
    path = Unrolling(enc, s)
    out: list[set[bytes]] = []
    for k in range(depth + 1):
        if k:
            path.extend()
        got: set[bytes] = set()
        s.push()
        while s.check() == z3.sat:
            m = s.model()
            got.add(c.encode(path.values(m, k)))
            state = path.states[k]
            s.add(z3.Or(*(state[n] != m.eval(state[n], model_completion=True) for n in state)))
        s.pop()
        out.append(got)
    return out


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(systems(), st.sampled_from([None, smt.INTEGERS]))
def test_unrolling_admits_exactly_the_states_of_each_step(
    system: System, theory: smt.Theory | None
) -> None:
    assert admitted(system, 3, theory) == exact_levels(system, 3)


@pytest.mark.parametrize("theory", [None, smt.INTEGERS], ids=["bitvectors", "integers"])
def test_unrolling_of_synthetic_system(theory: smt.Theory | None) -> None:
    """Sequence numbers, offset Int ranges, floor division and a reordering channel."""
    system = synthetic()
    assert admitted(system, 4, theory) == exact_levels(system, 4)


def test_bmc_reports_a_reachable_range_error_like_the_explorer() -> None:
    b = Builder("overflow")
    x = b.var("x", IntType(0, 2))
    b.action("inc", True, {"x": x + 1}, "no guard")
    system = b.build()
    p = [parse_property("p", "always(x <= 5)", system)]
    with pytest.raises(ModelError, match="outside"):
        explore(system, p)
    for engine in (bmc, kind):
        with pytest.raises(ModelError, match="outside"):
            engine(system, p, Bounds(max_depth=5), None, None)


def test_a_time_limit_gives_unknown_with_its_reason() -> None:
    (cfg,) = configurations("fixed-isn")
    props = [c.prop for c in cfg.checks if c.prop.name == "no-old-data"]
    for engine in (bmc, kind, chc):
        out, _ = engine(cfg.system, props, Bounds(timeout=1), None, None)
        assert out["no-old-data"].verdict == "unknown"
        assert "time limit 1 s reached" in out["no-old-data"].reason


def test_depth_bounds_give_unknown_and_the_default_is_named() -> None:
    b = Builder("counter")
    x = b.var("x", IntType(0, 60))
    b.action("inc", x.lt(60), {"x": x + 1}, "count")
    system = b.build()
    props = [parse_property("p", "always(x < 60)", system)]
    out, stats = bmc(system, props, Bounds(max_depth=3))
    assert out["p"] == Outcome("unknown", reason="no violation within 3 steps")
    assert stats.depth == 3 and not stats.complete
    out, stats = bmc(system, props)
    assert out["p"].verdict == "unknown"
    assert "default depth bound 50" in out["p"].reason
    out, stats = bmc(system, props, Bounds(max_depth=60))
    assert out["p"].verdict == "violated" and len(out["p"].trace or ()) == 61


# ---------------------------------------------------------------------------------------------
# (d) k-induction

PETERSON_INVARIANTS = (
    "always(p0.pc != IDLE implies p0.flag)",
    "always(p1.pc != IDLE implies p1.flag)",
    "always(p0.pc == CRIT and p1.pc == WAIT implies turn == 0)",
    "always(p1.pc == CRIT and p0.pc == WAIT implies turn == 1)",
)


def test_kind_proves_peterson_mutual_exclusion() -> None:
    (cfg,) = configurations("mutex-peterson")
    props = [c.prop for c in cfg.checks if c.prop.name == "mutual-exclusion"]
    plain, _ = kind(cfg.system, props)
    assert plain["mutual-exclusion"].verdict == "proved"
    assert "induction" in plain["mutual-exclusion"].reason
    invs = [parse_property(f"inv{i}", f, cfg.system) for i, f in enumerate(PETERSON_INVARIANTS)]
    strong, _ = kind(cfg.system, props, invariants=invs)
    o = strong["mutual-exclusion"]
    assert o.verdict == "proved"
    assert o.reason.startswith("1-induction; strengthened by"), o.reason


def test_kind_reports_and_drops_a_false_invariant() -> None:
    (cfg,) = configurations("mutex-peterson")
    props = [c.prop for c in cfg.checks if c.prop.name == "mutual-exclusion"]
    wrong = parse_property("wrong", "always(turn == 0)", cfg.system)
    weak = parse_property("weak", "always(p0.pc != IDLE implies p0.flag)", cfg.system)
    out, _ = kind(cfg.system, props, invariants=[wrong, weak])
    o = out["mutual-exclusion"]
    assert o.verdict == "proved"
    assert "invariant 'always(turn == 0)' not used: not inductive" in o.reason
    assert "strengthened by always(p0.pc != IDLE implies p0.flag)" in o.reason


def test_kind_refutes_naive_mutual_exclusion() -> None:
    (cfg,) = configurations("mutex-naive")
    props = [c.prop for c in cfg.checks]
    out, _ = kind(cfg.system, props)
    o = out["mutual-exclusion"]
    assert o.verdict == "violated" and o.trace is not None
    assert len(o.trace) == 7
    replay(cfg.system, o.trace)


# ---------------------------------------------------------------------------------------------
# (e) CHC


def test_chc_proves_peterson_with_a_readable_invariant() -> None:
    (cfg,) = configurations("mutex-peterson")
    props = [c.prop for c in cfg.checks]
    out, _ = chc(cfg.system, props)
    o = out["mutual-exclusion"]
    assert o.verdict == "proved"
    assert o.reason.startswith("invariant: ")
    text = o.reason.removeprefix("invariant: ")
    assert "p0.pc" in text and "(Z3 syntax)" not in text
    inv = parse_property("inv", f"always({text})", cfg.system)
    # The invariant implies the property on every reachable state (it is one of them).
    both = parse_property(
        "both", f"always(({text}) and not (p0.pc == CRIT and p1.pc == CRIT))", cfg.system
    )
    got, _ = explore(cfg.system, [inv, both])
    assert got["inv"].verdict == got["both"].verdict == "holds"
    assert meets(out["critical-reachable"].verdict, "reachable")


def test_chc_counterexample_is_shortest_and_replayed() -> None:
    (cfg,) = configurations("mutex-naive")
    props = [c.prop for c in cfg.checks]
    out, _ = chc(cfg.system, props)
    o = out["mutual-exclusion"]
    assert o.verdict == "violated" and o.trace is not None and len(o.trace) == 7
    replay(cfg.system, o.trace)
