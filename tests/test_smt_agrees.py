"""The Z3 translation (`tcpmodel.kernel.smt`) and the Python evaluator (`tcpmodel.kernel.compile`)
agree on every expression.

A property-based test builds random well-typed expressions of every operator of
`tcpmodel.kernel.expr.OPS`, over variables of every type (Bool, Enum, Int with negative bounds,
Seq of 1 to 64 bits), with the helpers of `tcpmodel.kernel.expr` (so they are well-typed by
construction), and compares both evaluators on random states: Z3 reads the term with every
variable replaced by a literal through ``z3.simplify`` (500 expressions, 1 to 4 states each)
and through a model that fixes symbolic constants (100 expressions).  Comparisons and windows
are often drawn as ``f(a, a + k)`` with ``k`` at a boundary (0, 1, 2**(n-1), ...), and state
values of Seq variables favour 0, 2**(n-1) - 1, 2**(n-1), 2**n - 1 and their neighbours.

Unit tests pin the RFC 9293 section 3.4 sequence-number semantics on both evaluators, stated in
`tcpmodel.kernel.expr`: ``seq_lt(x, y)`` iff ``0 < (y - x) mod 2**n < 2**(n-1)`` and
``in_window(x, r, w)`` iff ``(x - r) mod 2**n < w``.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable

import pytest
import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tcpmodel.kernel import smt
from tcpmodel.kernel.expr import (
    OPS,
    Const,
    Expr,
    Lit,
    Op,
    Var,
    and_,
    eq,
    implies,
    in_window,
    int_to_seq,
    ite,
    lift,
    max_,
    min_,
    ne,
    not_,
    or_,
    seq_ge,
    seq_gt,
    seq_le,
    seq_lt,
    seq_to_int,
)
from tcpmodel.kernel.pyexpr import evaluate
from tcpmodel.kernel.system import Value
from tcpmodel.kernel.types import (
    BOOL,
    INT,
    BoolType,
    EnumType,
    IntSort,
    IntType,
    SeqType,
    Sort,
    VarType,
    sort_of,
)

# --------------------------------------------------------------------------------------------
# Variables and states

PHASE = EnumType("Phase", ("CLOSED", "LISTEN", "SYN_SENT", "ESTABLISHED"))
SEQ_BITS = (1, 3, 8, 16, 32, 64)
SEQS = tuple(SeqType(n) for n in SEQ_BITS)
INT_TYPES = (IntType(-5, 5), IntType(-3, -1), IntType(0, 3), IntType(-(2**40), 2**40))

VARS: tuple[Var, ...] = (
    Var("b0", BoolType()),
    Var("b1", BoolType()),
    Var("ph0", PHASE),
    Var("ph1", PHASE),
    *(Var(f"i{k}", t) for k, t in enumerate(INT_TYPES)),
    *(Var(f"s{t.bits}_{k}", t) for t in SEQS for k in range(2)),
)
SORTS: tuple[Sort, ...] = (BOOL, INT, PHASE, *SEQS)


def vars_of(sort: Sort) -> list[Var]:
    return [v for v in VARS if v.sort == sort]


def seq_edges(t: SeqType) -> list[int]:
    """0, 2**(n-1) - 1, 2**(n-1), 2**n - 1 and their neighbours, within 0 .. 2**n - 1."""
    half, mask = t.half, t.mask
    edges = (0, 1, 2, half - 2, half - 1, half, half + 1, half + 2, mask - 1, mask)
    return sorted({x for x in edges if 0 <= x <= mask})


def seq_deltas(t: SeqType) -> list[int]:
    """Distances that put two sequence numbers on either side of a boundary of ``seq_lt``."""
    return sorted({0, 1, -1, t.half - 1, t.half, t.half + 1, t.mask, t.size, 2 * t.size + 1})


def seq_values(t: SeqType) -> st.SearchStrategy[int]:
    return st.one_of(st.sampled_from(seq_edges(t)), st.integers(0, t.mask))


def int_values(t: IntType) -> st.SearchStrategy[int]:
    edges = sorted({x for x in (t.lo, t.lo + 1, -1, 0, 1, t.hi - 1, t.hi) if t.lo <= x <= t.hi})
    return st.one_of(st.sampled_from(edges), st.integers(t.lo, t.hi))


def values_of(t: VarType) -> st.SearchStrategy[Value]:
    if isinstance(t, BoolType):
        return st.booleans()
    if isinstance(t, EnumType):
        return st.integers(0, t.size - 1)
    if isinstance(t, IntType):
        return int_values(t)
    return seq_values(t)


states: st.SearchStrategy[dict[str, Value]] = st.fixed_dictionaries(
    {v.name: values_of(v.vtype) for v in VARS}
)

# --------------------------------------------------------------------------------------------
# Expressions

# Integer literals: small ones and those that exercise 32- and 64-bit wraparound.
BIG_INTS = (2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**32 + 1, 2**63, 2**64 - 1, 2**64)
int_literals: st.SearchStrategy[int] = st.one_of(
    st.integers(-8, 8),
    st.sampled_from(BIG_INTS + tuple(-x for x in BIG_INTS)),
    st.integers(-(2**66), 2**66),
)
divisors: st.SearchStrategy[int] = st.one_of(
    st.integers(1, 9), st.sampled_from((2**8, 2**31, 2**32, 2**64 + 3))
)


def window_sizes(t: SeqType) -> st.SearchStrategy[int]:
    return st.sampled_from(sorted({0, 1, 2, t.half - 1, t.half, t.mask, t.size, t.size + 1, -1}))


def near(
    f: Callable[[Lit, Lit], Expr], sort: Sort, deltas: list[int], d: int
) -> st.SearchStrategy[Expr]:
    """``f(a, a + k)`` or ``f(a + k, a)`` for a distance ``k`` near a boundary of ``f``."""
    return st.builds(
        lambda a, k, flip: f(a + k, a) if flip else f(a, a + k),
        exprs(sort, d),
        st.sampled_from(deltas),
        st.booleans(),
    )


def windows_near(t: SeqType, d: int) -> st.SearchStrategy[Expr]:
    """``in_window(r + k, r, w)`` with ``w`` at, just below or just above ``k mod 2**n``."""
    return st.builds(
        lambda r, k, dw: in_window(r + k, r, (k & t.mask) + dw),
        exprs(t, d),
        st.sampled_from(seq_deltas(t)),
        st.integers(-1, 1),
    )


def literals(sort: Sort) -> st.SearchStrategy[Lit]:
    """Plain Python values that the helpers lift to constants of ``sort`` (beside an operand of
    that sort; a Seq literal may be out of range: lifting reduces it modulo 2**n)."""
    if isinstance(sort, BoolType):
        return st.booleans()
    if isinstance(sort, EnumType):
        return st.sampled_from(sort.values)
    if isinstance(sort, SeqType):
        return st.one_of(seq_values(sort), int_literals)
    return int_literals


def leaves(sort: Sort) -> st.SearchStrategy[Expr]:
    """Variables and constants of ``sort``."""
    consts: st.SearchStrategy[Expr] = literals(sort).map(lambda x: lift(x, sort))
    vs = vars_of(sort)
    return st.one_of(st.sampled_from(vs), consts) if vs else consts


def operand(sort: Sort, depth: int) -> st.SearchStrategy[Lit]:
    """An expression of ``sort``, or a plain value to be lifted next to one."""
    return st.one_of(exprs(sort, depth), literals(sort))


def binary(
    f: Callable[[Lit, Lit], Expr], left: Sort, right: Sort, depth: int
) -> st.SearchStrategy[Expr]:
    """``f(a, b)`` with at least one of ``a``, ``b`` an expression (so literals take its sort)."""
    return st.one_of(
        st.builds(f, exprs(left, depth), operand(right, depth)),
        st.builds(f, operand(left, depth), exprs(right, depth)),
    )


def _and(xs: list[Expr]) -> Expr:
    return and_(*xs)


def _or(xs: list[Expr]) -> Expr:
    return or_(*xs)


def _lt(a: Lit, b: Lit) -> Expr:
    return lift(a).lt(b)


def _le(a: Lit, b: Lit) -> Expr:
    return lift(a).le(b)


def _gt(a: Lit, b: Lit) -> Expr:
    return lift(a).gt(b)


def _ge(a: Lit, b: Lit) -> Expr:
    return lift(a).ge(b)


def windows(t: SeqType, d: int) -> st.SearchStrategy[Expr]:
    size = st.one_of(exprs(INT, d), window_sizes(t))
    return st.one_of(
        st.builds(in_window, exprs(t, d), operand(t, d), size),
        st.builds(in_window, operand(t, d), exprs(t, d), size),
    )


def seq_cmp(f: Callable[[Lit, Lit], Expr], d: int) -> st.SearchStrategy[Expr]:
    return st.sampled_from(SEQS).flatmap(
        lambda t: st.one_of(binary(f, t, t, d), near(f, t, seq_deltas(t), d))
    )


Tagged = list[tuple[str, st.SearchStrategy[Expr]]]


def compound(sort: Sort, d: int) -> Tagged:
    """Operators whose result has ``sort``, over operands of depth at most ``d``, each strategy
    tagged with the operator at its root."""
    out: Tagged = [
        ("ite", st.builds(ite, operand(BOOL, d), exprs(sort, d), operand(sort, d))),
        ("ite", st.builds(ite, operand(BOOL, d), literals(sort), exprs(sort, d))),
    ]
    if isinstance(sort, BoolType):
        out += [
            ("not", st.builds(not_, exprs(BOOL, d))),
            ("not", st.builds(operator.invert, exprs(BOOL, d))),  # ~e
            ("and", binary(operator.and_, BOOL, BOOL, d)),  # e & f
            ("or", binary(operator.or_, BOOL, BOOL, d)),  # e | f
            ("and", st.lists(exprs(BOOL, d), min_size=2, max_size=4).map(_and)),
            ("or", st.lists(exprs(BOOL, d), min_size=2, max_size=4).map(_or)),
            ("implies", binary(implies, BOOL, BOOL, d)),
            ("eq", st.sampled_from(SORTS).flatmap(lambda s: binary(eq, s, s, d))),
            ("ne", st.sampled_from(SORTS).flatmap(lambda s: binary(ne, s, s, d))),
            *(
                (op, st.one_of(binary(f, INT, INT, d), near(f, INT, [-1, 0, 1], d)))
                for op, f in (("lt", _lt), ("le", _le), ("gt", _gt), ("ge", _ge))
            ),
            ("seq_lt", seq_cmp(seq_lt, d)),
            ("seq_le", seq_cmp(seq_le, d)),
            ("seq_lt", seq_cmp(seq_gt, d)),
            ("seq_le", seq_cmp(seq_ge, d)),
            ("in_window", st.sampled_from(SEQS).flatmap(lambda t: windows(t, d))),
            ("in_window", st.sampled_from(SEQS).flatmap(lambda t: windows_near(t, d))),
        ]
    elif isinstance(sort, IntSort):
        out += [
            ("add", binary(operator.add, INT, INT, d)),
            ("sub", binary(operator.sub, INT, INT, d)),
            ("mul", binary(operator.mul, INT, INT, d)),
            ("neg", st.builds(operator.neg, exprs(INT, d))),
            ("mod", st.builds(operator.mod, exprs(INT, d), divisors)),
            ("mod", st.builds(lambda x, k: x % Const(k, INT), exprs(INT, d), divisors)),
            ("div", st.builds(operator.floordiv, exprs(INT, d), divisors)),
            ("ite", binary(min_, INT, INT, d)),
            ("ite", binary(max_, INT, INT, d)),
            ("seq_to_int", st.sampled_from(SEQS).flatmap(lambda t: exprs(t, d).map(seq_to_int))),
        ]
    elif isinstance(sort, SeqType):
        t = sort
        out += [
            ("add", binary(operator.add, t, t, d)),  # literals lift to Seq constants
            ("add", st.builds(operator.add, exprs(t, d), exprs(INT, d))),  # Seq + Int
            ("add", st.builds(operator.add, exprs(INT, d), exprs(t, d))),  # Int + Seq
            ("sub", binary(operator.sub, t, t, d)),
            ("sub", st.builds(operator.sub, exprs(t, d), exprs(INT, d))),  # Seq - Int
            ("int_to_seq", st.builds(int_to_seq, operand(INT, d), st.just(t))),
        ]
    return out


MAX_DEPTH = 4  # levels of operators, the root included


@functools.cache
def exprs(sort: Sort, depth: int) -> st.SearchStrategy[Expr]:
    """Well-typed expressions of ``sort`` with at most ``depth`` levels of operators."""
    if depth == 0:
        return leaves(sort)
    return st.one_of(leaves(sort), *(s for _, s in compound(sort, depth - 1)))


def rooted(op: str) -> st.SearchStrategy[Expr]:
    """Expressions (of any sort) with ``op`` at the root."""
    return st.one_of(*(s for sort in SORTS for o, s in compound(sort, MAX_DEPTH - 1) if o == op))


def sorted_root(sort: Sort) -> st.SearchStrategy[Expr]:
    """Expressions of ``sort`` with an operator at the root."""
    return st.one_of(*(s for _, s in compound(sort, MAX_DEPTH - 1)))


# Half of the trees have a root operator drawn uniformly from `OPS`, so that each is tested
# about as often; the other half a root sort drawn uniformly from `SORTS`.
any_expr: st.SearchStrategy[Expr] = st.one_of(
    st.sampled_from(sorted(OPS)).flatmap(rooted),
    st.sampled_from(SORTS).flatmap(sorted_root),
)


# --------------------------------------------------------------------------------------------
# The two evaluators


def z3_literals(values: dict[str, Value]) -> dict[str, smt.Term]:
    return {v.name: smt.value(values[v.name], sort_of(v.vtype)) for v in VARS}


def is_z3_value(t: smt.Term) -> bool:
    return bool(z3.is_true(t) or z3.is_false(t) or z3.is_int_value(t) or z3.is_bv_value(t))


def by_simplify(e: Expr, values: dict[str, Value]) -> Value:
    """Z3's value of ``e`` with every variable replaced by a literal, by ``z3.simplify``."""
    t = z3.simplify(smt.term(e, z3_literals(values)))
    assert is_z3_value(t), f"simplify left {t}"
    return smt.from_model(t, e.sort)


def by_model(e: Expr, values: dict[str, Value]) -> Value:
    """Z3's value of ``e`` over symbolic constants, in a model that fixes them to ``values``."""
    consts = {v.name: smt.constant(v.name, v.vtype) for v in VARS}
    lits = z3_literals(values)
    solver = z3.Solver()
    for v in VARS:
        solver.add(smt.domain(consts[v.name], v.vtype), consts[v.name] == lits[v.name])
    assert solver.check() == z3.sat
    t = solver.model().eval(smt.term(e, consts), model_completion=True)
    assert is_z3_value(t), f"model evaluation left {t}"
    return smt.from_model(t, e.sort)


def by_python(e: Expr, values: dict[str, Value]) -> Value:
    return evaluate(e, dict(values))


def check_value(v: Value, sort: Sort) -> None:
    """``v`` is a value of ``sort``, with its Python type."""
    if isinstance(sort, BoolType):
        assert isinstance(v, bool)
        return
    assert isinstance(v, int) and not isinstance(v, bool)
    if isinstance(sort, SeqType):
        assert 0 <= v <= sort.mask
    elif isinstance(sort, EnumType):
        assert 0 <= v < sort.size


# --------------------------------------------------------------------------------------------
# Property-based agreement


# Each expression is evaluated in a few states: checking one more state is much cheaper than
# drawing one more expression.
some_states = st.lists(states, min_size=1, max_size=4)


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(e=any_expr, states=some_states)
def test_simplify_agrees_with_python(e: Expr, states: list[dict[str, Value]]) -> None:
    for values in states:
        py = by_python(e, values)
        check_value(py, e.sort)
        assert by_simplify(e, values) == py, values


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(e=any_expr, values=states)
def test_model_evaluation_agrees_with_python(e: Expr, values: dict[str, Value]) -> None:
    assert by_model(e, values) == by_python(e, values)


@pytest.mark.parametrize("op", sorted(OPS))
def test_generator_covers_every_operator(op: str) -> None:
    """The strategy has trees rooted at every operator of `OPS` (a guard against a silently
    narrowed test)."""

    @settings(max_examples=5, deadline=None, database=None)
    @given(e=rooted(op))
    def check(e: Expr) -> None:
        assert isinstance(e, Op) and e.op == op

    check()


# --------------------------------------------------------------------------------------------
# RFC 9293 section 3.4 sequence semantics, pinned on both evaluators

Evaluator = Callable[[Expr, dict[str, Value]], Value]
EVALUATORS = pytest.mark.parametrize(
    "ev", [by_python, by_simplify, by_model], ids=["python", "z3-simplify", "z3-model"]
)
S32 = SeqType(32)
X, Y = Var("s32_0", S32), Var("s32_1", S32)


def at(x: int, y: int = 0) -> dict[str, Value]:
    """A state with the two 32-bit variables at ``x`` and ``y`` (everything else at 0)."""
    values: dict[str, Value] = {v.name: 0 for v in VARS}
    values.update(b0=False, b1=False, i1=-1, s32_0=x, s32_1=y)
    return values


@EVALUATORS
@pytest.mark.parametrize(
    ("x", "y", "lt"),
    [
        (2**32 - 1, 0, True),  # wraps: 0 is just after 2**32 - 1
        (0, 2**32 - 1, False),
        (0, 2**31, False),  # exactly half-way: neither is before the other
        (2**31, 0, False),
        (0, 2**31 - 1, True),
        (2**31 - 1, 0, False),
        (2**31, 2**32 - 1, True),
        (5, 5, False),
        (0, 1, True),
        (1, 0, False),
        (2**32 - 10, 20, True),
    ],
)
def test_seq_lt_32(ev: Evaluator, x: int, y: int, lt: bool) -> None:
    assert ev(seq_lt(X, Y), at(x, y)) is lt
    assert ev(seq_gt(Y, X), at(x, y)) is lt
    assert ev(seq_le(X, Y), at(x, y)) is (lt or x == y)
    # Literals on either side lift to Seq(32) constants.
    assert ev(seq_lt(X, y), at(x)) is lt
    assert ev(seq_lt(x, Y), at(0, y)) is lt


def rfc_seq_lt(x: int, y: int, bits: int) -> bool:
    return 0 < (y - x) % (1 << bits) < (1 << (bits - 1))


def rfc_in_window(x: int, r: int, w: int, bits: int) -> bool:
    return (x - r) % (1 << bits) < w


@EVALUATORS
@pytest.mark.parametrize("bits", [1, 3])
def test_seq_order_exhaustive_small_widths(ev: Evaluator, bits: int) -> None:
    a, b = Var(f"s{bits}_0", SeqType(bits)), Var(f"s{bits}_1", SeqType(bits))
    for x in range(2**bits):
        for y in range(2**bits):
            values = at(0) | {a.name: x, b.name: y}
            assert ev(seq_lt(a, b), values) is rfc_seq_lt(x, y, bits), (x, y)
            assert ev(seq_le(a, b), values) is (rfc_seq_lt(x, y, bits) or x == y), (x, y)
            for w in range(-1, 2**bits + 2):
                got = ev(in_window(a, b, w), values)
                assert got is rfc_in_window(x, y, w, bits), (x, y, w)


@EVALUATORS
@pytest.mark.parametrize(
    ("x", "r", "w", "inside"),
    [
        (2**32 - 2, 2**32 - 2, 4, True),  # first octet
        (2**32 - 1, 2**32 - 2, 4, True),
        (0, 2**32 - 2, 4, True),  # across the wrap
        (1, 2**32 - 2, 4, True),  # last octet
        (2, 2**32 - 2, 4, False),  # one past the end
        (2**32 - 3, 2**32 - 2, 4, False),  # one before the start
        (7, 7, 1, True),
        (8, 7, 1, False),
        (0, 1, 2**32, True),  # a window of the whole space holds everything
        (3, 3, 0, False),  # a window of size 0 accepts nothing, not even its start
        (3, 3, -1, False),
    ],
)
def test_in_window_32(ev: Evaluator, x: int, r: int, w: int, inside: bool) -> None:
    assert ev(in_window(X, Y, w), at(x, r)) is inside
    assert ev(in_window(X, r, w), at(x)) is inside
    assert ev(in_window(X, Y, Var("i1", INT_TYPES[1]) + (w + 1)), at(x, r)) is inside


@EVALUATORS
@pytest.mark.parametrize(("x", "r"), [(0, 0), (5, 5), (2**32 - 1, 0), (0, 2**32 - 1), (2**31, 3)])
def test_empty_window_accepts_nothing(ev: Evaluator, x: int, r: int) -> None:
    assert ev(in_window(X, Y, 0), at(x, r)) is False


def test_seq_semantics_proved_in_z3() -> None:
    """For all 32-bit ``x``, ``y`` and integers ``w``, the Z3 terms are the RFC formulas.

    (Wraparound of ``add``/``sub`` is pinned on concrete values below: Z3 does not prove the
    mixed bit-vector/integer statement of it quickly.)"""
    x, y = z3.BitVec("x", 32), z3.BitVec("y", 32)
    w = z3.Int("w")
    env = {"s32_0": x, "s32_1": y, "w": w}
    wvar = Var("w", IntType(-(2**40), 2**40))
    diff = z3.BV2Int(y - x)  # (y - x) mod 2**32
    claims = {
        "seq_lt": smt.term(seq_lt(X, Y), env) == z3.And(diff > 0, diff < 2**31),
        "seq_le": smt.term(seq_le(X, Y), env) == (diff < 2**31),
        "in_window": smt.term(in_window(Y, X, wvar), env) == (diff < w),
        "empty window": z3.Not(smt.term(in_window(X, Y, 0), env)),
        "int_to_seq": smt.term(int_to_seq(wvar, S32), env) == z3.Int2BV(w % 2**32, 32),
    }
    for name, claim in claims.items():
        solver = z3.Solver()
        solver.set("timeout", 10_000)
        solver.add(z3.Not(claim))
        assert solver.check() == z3.unsat, name


@EVALUATORS
@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: X + 1, 0),  # at x = 2**32 - 1
        (lambda: X + Y, 2**32 - 1),
        (lambda: Y - X, 1),  # 0 - (2**32 - 1)
        (lambda: X + (2**32 + 3), 2),
        (lambda: X - 2**32, 2**32 - 1),
        (lambda: int_to_seq(-1, S32), 2**32 - 1),
        (lambda: int_to_seq(Var("i1", INT_TYPES[1]) - 2**32, S32), 2**32 - 1),
        (lambda: seq_to_int(X) + 1, 2**32),  # seq_to_int leaves modular arithmetic
        (lambda: seq_to_int(X + 1), 0),
    ],
)
def test_wraparound_32(ev: Evaluator, make: Callable[[], Expr], expected: int) -> None:
    assert ev(make(), at(2**32 - 1, 0)) == expected


@EVALUATORS
@pytest.mark.parametrize("x", [-7, -6, -1, 0, 1, 6, 7])
@pytest.mark.parametrize("k", [1, 2, 3, 2**32])
def test_int_div_mod_floor(ev: Evaluator, x: int, k: int) -> None:
    """``div``/``mod`` by a positive constant are floor division and its remainder (here equal to
    Euclidean ones), also for negative dividends."""
    i = Var("i3", INT_TYPES[3])
    values = at(0) | {"i3": x}
    assert ev(i // k, values) == x // k
    assert ev(i % k, values) == x % k
    assert ev((i // k) * k + i % k, values) == x
