"""Liveness: the LTL tableau against the direct semantics on lassos, known answers under weak
and strong fairness, a brute-force fair-lasso search as the reference on random small systems,
and located errors for formulas outside the grammar."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tcpmodel import ltl
from tcpmodel.engines.liveness import check_ltl
from tcpmodel.errors import FormulaError
from tcpmodel.formula import Property, parse_property
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.expr import TRUE, Expr
from tcpmodel.kernel.system import Builder, Fairness, System
from tcpmodel.kernel.types import BOOL, IntType
from tcpmodel.models import MODELS
from tcpmodel.semantics import replay

# ---- the tableau accepts exactly the lassos on which the formula holds -------------------


def formulas(depth: int = 3) -> st.SearchStrategy[ltl.Ltl]:
    leaves: list[ltl.Ltl] = [ltl.Atom(0), ltl.Atom(1), ltl.TRUE, ltl.FALSE]
    leaf: st.SearchStrategy[ltl.Ltl] = st.sampled_from(leaves)

    def grow(inner: st.SearchStrategy[ltl.Ltl]) -> st.SearchStrategy[ltl.Ltl]:
        return st.one_of(
            inner.map(ltl.Not),
            inner.map(ltl.Next),
            inner.map(ltl.eventually),
            inner.map(ltl.always),
            st.tuples(inner, inner).map(lambda ab: ltl.And(*ab)),
            st.tuples(inner, inner).map(lambda ab: ltl.Or(*ab)),
            st.tuples(inner, inner).map(lambda ab: ltl.Until(*ab)),
            st.tuples(inner, inner).map(lambda ab: ltl.leads_to(*ab)),
        )

    return st.recursive(leaf, grow, max_leaves=depth + 2)


def accepts(aut: ltl.Automaton, word: Sequence[int], loop: int) -> bool:
    """Whether the automaton has an accepting run on the lasso word: a reachable cycle of the
    product of (position, node) inside the loop that meets every acceptance set."""
    n = len(word)

    def nxt(i: int) -> int:
        return i + 1 if i + 1 < n else loop

    start = [(0, q) for q in aut.initial if aut.admits(q, word[0])]
    seen = set(start)
    todo = list(start)
    edges: dict[tuple[int, int], list[tuple[int, int]]] = {}
    while todo:
        i, q = todo.pop()
        j = nxt(i)
        out = [(j, r) for r in aut.succ[q] if aut.admits(r, word[j])]
        edges[(i, q)] = out
        for x in out:
            if x not in seen:
                seen.add(x)
                todo.append(x)

    # A node lies on an accepting cycle iff from it we can come back to it passing every set:
    # check by brute force over the (small) product.
    def reach(a: tuple[int, int]) -> set[tuple[int, int]]:
        out: set[tuple[int, int]] = set()
        stack = [a]
        while stack:
            v = stack.pop()
            for w in edges.get(v, []):
                if w not in out:
                    out.add(w)
                    stack.append(w)
        return out

    r = {v: reach(v) for v in seen}
    for v in seen:
        if v not in r[v]:
            continue
        scc = {w for w in r[v] if v in r[w]}
        if all(any(q in acc for _, q in scc) for acc in aut.accepting):
            return True
    return False


@settings(max_examples=300, deadline=None)
@given(
    f=formulas(),
    word=st.lists(st.integers(0, 3), min_size=1, max_size=5),
    data=st.data(),
)
def test_tableau_agrees_with_the_semantics_on_lassos(
    f: ltl.Ltl, word: list[int], data: st.DataObject
) -> None:
    loop = data.draw(st.integers(0, len(word) - 1))
    assert accepts(ltl.automaton(f), word, loop) == ltl.holds_on_lasso(f, word, loop), str(f)


# ---- known answers --------------------------------------------------------------------------


def blinker(fair: str) -> System:
    """``grab`` is enabled only while ``x == 1``, and ``flip`` toggles ``x`` forever: weak
    fairness on ``grab`` does not force it (it is not continuously enabled); strong does."""
    b = Builder("blinker")
    x = b.var("x", IntType(0, 1))
    done = b.var("done", BOOL)
    b.action("flip", True, {"x": 1 - x}, "toggle", group="env")
    b.action("grab", x.eq(1) & ~done, {"done": True}, "grab", group="g")
    if fair:
        b.fair(fair, "g")  # type: ignore[arg-type]
    return b.build()


def prop(system: System, text: str) -> Property:
    return parse_property("p", text, system)


def verdict(system: System, text: str, fairness: Sequence[Fairness] | None = None) -> str:
    p = prop(system, text)
    out, _ = check_ltl(system, [p], fairness=fairness)
    o = out["p"]
    if o.trace is not None:
        replay(system, o.trace)
        assert o.trace.loop is not None
    return o.verdict


def test_weak_fairness_is_not_enough_and_strong_is() -> None:
    assert verdict(blinker(""), "eventually(done)") == "violated"
    assert verdict(blinker("weak"), "eventually(done)") == "violated"
    assert verdict(blinker("strong"), "eventually(done)") == "holds"
    # Once grabbed, done stays; x flips forever either way.
    assert verdict(blinker("strong"), "eventually(always(done))") == "holds"
    assert verdict(blinker(""), "always(eventually(x == 0))") == "holds"
    assert verdict(blinker("strong"), "eventually(always(x == 1))") == "violated"


def test_a_state_without_successors_stutters_forever() -> None:
    b = Builder("stop")
    x = b.var("x", IntType(0, 2))
    b.action("inc", x.lt(2), {"x": x + 1}, "x + 1")
    s = b.build()
    assert verdict(s, "eventually(always(x == 2))") == "holds"
    assert verdict(s, "always(eventually(x == 0))") == "violated"
    out, _ = check_ltl(s, [prop(s, "always(eventually(x == 0))")])
    t = out["p"].trace
    assert t is not None and t.loop == len(t) - 1 and t.steps[-1].state["x"] == 2


def test_peterson_is_starvation_free_under_weak_fairness_and_naive_is_not() -> None:
    m = MODELS["mutex"]
    peterson = m.build({**m.defaults(), "algorithm": "peterson"})
    naive = m.build({**m.defaults(), "algorithm": "naive"})
    wants = "leads_to(p0.pc == CHECK, p0.pc == CRIT)"
    assert verdict(peterson, wants) == "holds"
    assert verdict(naive, wants) == "violated"
    # Without fairness p0 may idle forever while p1 works.
    assert verdict(peterson, "eventually(p0.pc == CRIT)") == "holds"
    assert verdict(peterson, "eventually(p0.pc == CRIT)", fairness=()) == "violated"
    nested = "always(eventually(p0.pc == CRIT)) implies eventually(p1.pc == CRIT)"
    assert verdict(peterson, nested) == "holds"
    assert verdict(peterson, nested, fairness=()) == "violated"
    assert verdict(peterson, "not eventually(always(p0.pc == IDLE) and always(p1.pc == IDLE))") == (
        "holds"
    )


# ---- brute force: every fair lasso up to a length, checked with the direct semantics -------


def brute_force_violated(
    system: System, p: Property, fairness: Sequence[Fairness], length: int
) -> bool:
    """Whether some lasso with at most ``length`` states violates ``p`` and is fair."""
    c = Compiled(system)
    assert p.ltl is not None and p.atoms is not None
    f_ltl = p.ltl
    flags = c.flags(list(p.atoms))
    group = [a.group for a in system.actions]
    name = [a.name for a in system.actions]

    def member(ai: int, f: Fairness) -> bool:
        return ai >= 0 and f.group in (group[ai], name[ai])

    succ: dict[bytes, list[tuple[int, bytes]]] = {}

    def successors(s: bytes) -> list[tuple[int, bytes]]:
        if s not in succ:
            succ[s] = list(c.successors(s)) or [(-1, s)]  # stutter
        return succ[s]

    def fair_cycle(states: list[bytes], acts: list[int]) -> bool:
        for f in fairness:
            taken = any(member(a, f) for a in acts)
            en = [any(member(a, f) for a, _ in successors(s)) for s in states]
            if not taken and (all(en) if f.kind == "weak" else any(en)):
                return False
        return True

    def extend(path: list[bytes], acts: list[int]) -> bool:
        last = path[-1]
        for a, t in successors(last):
            for j, s in enumerate(path):
                if s == t:
                    cyc_states = path[j:]
                    cyc_acts = [*acts[j:], a]
                    word = [flags(x) for x in path]
                    if fair_cycle(cyc_states, cyc_acts) and not ltl.holds_on_lasso(f_ltl, word, j):
                        return True
            if len(path) < length and extend([*path, t], [*acts, a]):
                return True
        return False

    return any(extend([s0], []) for s0 in c.initial())


@st.composite
def small_systems(draw: st.DrawFn) -> tuple[System, str, list[Fairness]]:
    b = Builder("random")
    x = b.var("x", IntType(0, 2))
    y = b.var("y", IntType(0, 1))
    for k in range(draw(st.integers(2, 4))):
        gx = draw(st.sampled_from([None, 0, 1, 2]))
        gy = draw(st.sampled_from([None, 0, 1]))
        guard: Expr = TRUE
        if gx is not None:
            guard = x.eq(gx)
        if gy is not None:
            guard = guard & y.eq(gy)
        ups = {"x": draw(st.integers(0, 2))}
        if draw(st.booleans()):
            ups["y"] = 1 - y  # type: ignore[assignment]
        b.action(f"t{k}", guard, ups, f"rule {k}", group=f"g{k % 3}")
    fair = [
        Fairness(draw(st.sampled_from(["weak", "strong"])), f"g{k}")
        for k in range(3)
        if draw(st.booleans())
    ]
    known = {a for a in ("g0", "g1", "g2")}
    system = b.build()
    present = {a.group for a in system.actions}
    fair = [f for f in fair if f.group in present and f.group in known]
    text = draw(
        st.sampled_from(
            [
                "eventually(x == 2)",
                "always(eventually(y == 1))",
                "eventually(always(x == 0))",
                "leads_to(x == 1, x == 2)",
                "until(y == 0, x == 2)",
                "always(eventually(x == 1)) implies always(eventually(y == 1))",
                "not eventually(always(x == 1) and always(y == 0))",
                "always(x == 0 implies next(x == 0 or y == 1))",
            ]
        )
    )
    return system, text, fair


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=small_systems())
def test_engine_agrees_with_brute_force(case: tuple[System, str, list[Fairness]]) -> None:
    system, text, fair = case
    p = prop(system, text)
    out, stats = check_ltl(system, [p], fairness=fair)
    o = out["p"]
    assert stats.complete and o.verdict in ("holds", "violated")
    states = stats.states
    if o.verdict == "violated":
        assert o.trace is not None and o.trace.loop is not None
        replay(system, o.trace)
    # Every fair lasso of the small graph appears within 2 * states * (stem + cycle) states.
    brute = brute_force_violated(system, p, fair, length=min(2 * states + 2, 9))
    if brute:
        assert o.verdict == "violated", (text, fair)
    if o.verdict == "violated" and o.trace is not None and len(o.trace) <= 6:
        assert brute_force_violated(system, p, fair, length=9), (text, fair)


# ---- the grammar ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("eventually(reachable(p0.pc == CRIT))", 12, "reachable(...) cannot be combined"),
        ("until(p0.pc == IDLE)", 1, "until(...) takes 2"),
        ("always(p0.pc == CRIT) + 1", 1, "cannot be used inside a value"),
        ("eventually(p0.pc == CRIT", 11, "never closed"),
        ("eventually(p0.nope == 1)", 12, "p0.nope"),
        ("min(eventually(p0.pc == CRIT), 1)", 5, "cannot be used inside a value"),
    ],
)
def test_formula_errors_are_located(text: str, column: int, message: str) -> None:
    m = MODELS["mutex"]
    s = m.build(m.defaults())
    with pytest.raises(FormulaError) as e:
        parse_property("p", text, s)
    assert str(e.value).startswith(f"column {column}:"), str(e.value)
    assert message in str(e.value)


def test_nested_formulas_parse_to_ltl() -> None:
    m = MODELS["mutex"]
    s = m.build(m.defaults())
    for text in [
        "always(eventually(p0.pc == CRIT)) implies eventually(p1.pc == CRIT)",
        "not eventually(always(p0.pc == IDLE) and always(p1.pc == IDLE))",
        "leads_to(p0.pc == CHECK, p0.pc == CRIT)",
        "until(p0.pc == IDLE, p1.pc == CRIT) or next(next(p0.pc != IDLE))",
    ]:
        p = parse_property("p", text, s)
        assert p.kind == "ltl" and p.ltl is not None and p.atoms
    assert parse_property("p", "always(p0.pc != CRIT)", s).kind == "always"


def test_lasso_semantics_examples() -> None:
    p, q = ltl.Atom(0), ltl.Atom(1)
    # word: p, then (q, -) repeated
    assert ltl.holds_on_lasso(ltl.always(ltl.eventually(q)), [1, 2, 0], 1)
    assert not ltl.holds_on_lasso(ltl.eventually(ltl.always(q)), [1, 2, 0], 1)
    assert ltl.holds_on_lasso(ltl.Until(p, q), [1, 2, 0], 1)
    assert not ltl.holds_on_lasso(ltl.Until(p, q), [1, 1, 0], 1)
    assert list(itertools.islice(iter([0]), 1)) == [0]


# ---- the symbolic engine never contradicts the explicit one --------------------------------


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=small_systems())
def test_lasso_bmc_agrees_with_the_explicit_engine(
    case: tuple[System, str, list[Fairness]],
) -> None:
    from tcpmodel.engines.lasso import lasso_bmc
    from tcpmodel.engines.search import Bounds

    system, text, fair = case
    p = prop(system, text)
    explicit, _ = check_ltl(system, [p], fairness=fair)
    e = explicit["p"]
    bound = 7
    symbolic, _ = lasso_bmc(system, [p], Bounds(max_depth=bound), fairness=fair)
    s = symbolic["p"]
    assert s.verdict in ("violated", "unknown")
    if s.verdict == "violated":
        # A symbolic lasso is real (it was replayed and checked): explicit must agree.
        assert e.verdict == "violated", text
        assert s.trace is not None and s.trace.loop is not None
        replay(system, s.trace)
    if e.verdict == "violated" and e.trace is not None and len(e.trace) <= bound + 1:
        # Every violation the explicit engine shows within the bound is found symbolically,
        # with a lasso no longer than the explicit one.
        assert s.verdict == "violated", text
        assert s.trace is not None and len(s.trace) <= len(e.trace)


def test_lasso_bmc_on_peterson_and_naive() -> None:
    from tcpmodel.engines.lasso import lasso_bmc
    from tcpmodel.engines.search import Bounds

    m = MODELS["mutex"]
    for algo, fairness, want in (
        ("naive", None, "violated"),
        ("peterson", (), "violated"),
        ("peterson", None, "unknown"),
    ):
        s = m.build({**m.defaults(), "algorithm": algo})
        p = prop(s, "always(eventually(p0.pc == CRIT)) implies eventually(p1.pc == CRIT)")
        out, _ = lasso_bmc(s, [p], Bounds(max_depth=6), fairness=fairness)
        assert out["p"].verdict == want, (algo, fairness)
        if want == "unknown":
            assert "no fair violating lasso" in out["p"].reason


@pytest.mark.slow
def test_liveness_spec_explicit_and_symbolic_agree() -> None:
    """specs/simultaneous-close.toml: the lasso BMC finds the violation of the variant without
    FIN retransmission (no longer than the explicit lasso), and finds no lasso in the base,
    where the explicit engine proves the property under fairness."""
    from pathlib import Path

    from tcpmodel.engines.lasso import lasso_bmc
    from tcpmodel.engines.search import Bounds
    from tcpmodel.spec import load

    spec = load(Path(__file__).resolve().parent.parent / "specs" / "simultaneous-close.toml")
    cfgs = {c.variant: c for c in spec.configurations}
    for variant, depth in (("no-fin-retransmission", 12), (None, 5)):
        cfg = cfgs[variant]
        props = [c.prop for c in cfg.checks if c.prop.kind == "ltl"]
        explicit, _ = check_ltl(cfg.system, props, fairness=cfg.fairness)
        symbolic, _ = lasso_bmc(cfg.system, props, Bounds(max_depth=depth), fairness=cfg.fairness)
        for p in props:
            e, s = explicit[p.name], symbolic[p.name]
            if s.verdict == "violated":
                assert e.verdict == "violated"
            if variant is None:
                assert e.verdict == "holds" and s.verdict == "unknown"
            else:
                assert e.verdict == s.verdict == "violated"
                assert s.trace is not None and e.trace is not None
                assert len(s.trace) <= len(e.trace)
