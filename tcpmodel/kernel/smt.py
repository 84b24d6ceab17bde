"""Translate kernel expressions and variables to Z3 terms.

Sorts (see `tcpmodel.kernel.types`): Bool -> ``BoolSort``; Int and Enum -> ``IntSort`` (an enum
holds its value's index; `domain` gives the range constraint); Seq(n) -> ``BitVecSort(n)``, so
that 32-bit wraparound is exact.  Operators follow the table of `tcpmodel.kernel.expr`:

* ``seq_lt(x, y)``: ``d = y - x`` (bit-vector, modular); ``d != 0 and d <u 2**(n-1)``.
* ``in_window(x, r, w)``: ``bv2int(x - r) < w``.
* ``mod``/``div`` by a positive constant: Z3's Euclidean ``%`` and ``/``, equal to Python's.
* ``int_to_seq``: ``int2bv``, which is modular like Python's ``& mask``.

`term(e, env)` maps each variable through ``env`` (name -> Z3 term), so the same function builds
current-state, next-state and step-k terms for the symbolic engines; `terms` translates several
expressions sharing sub-trees (an action's guard and updates) with one cache.  `code_lt` is the
order of value *codes* (`tcpmodel.kernel.types.encode`) on terms, the order in which an
unordered `SlotArray` keeps its slots.

A `Theory` bundles these functions: `INTEGERS` is the translation above; `BitVectors(w)` reads
Int and Enum values as signed ``w``-bit vectors instead (``mod``/``div`` by a positive constant
as ``bvsmod`` and an exact signed division, ``seq_to_int``/``int_to_seq`` as zero-extension and
truncation), equal to the integer reading whenever no Int sub-expression leaves ``w`` bits,
which `int_width` guarantees by interval analysis.  The symbolic engines use it so that their
formulas are pure bit-vector logic, solved by bit-blasting.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeAlias

import z3

from tcpmodel.errors import ModelError
from tcpmodel.kernel.expr import Const, Expr, Op, Var
from tcpmodel.kernel.types import (
    BoolType,
    EnumType,
    IntSort,
    IntType,
    SeqType,
    Sort,
    VarType,
    sort_of,
)

# z3-solver ships no type information: Z3 terms are typed as Any here.
Term: TypeAlias = Any


def z3_sort(s: Sort) -> z3.SortRef:
    if isinstance(s, BoolType):
        return z3.BoolSort()
    if isinstance(s, SeqType):
        return z3.BitVecSort(s.bits)
    return z3.IntSort()


def constant(name: str, vtype: VarType) -> Term:
    """A fresh Z3 constant for a variable of type ``vtype``."""
    if isinstance(vtype, IntType):
        return z3.Int(name)
    return z3.Const(name, z3_sort(vtype))


def value(v: int | bool, s: Sort) -> Term:
    """A Z3 literal of sort ``s``."""
    if isinstance(s, BoolType):
        return z3.BoolVal(bool(v))
    if isinstance(s, SeqType):
        return z3.BitVecVal(int(v) & s.mask, s.bits)
    return z3.IntVal(int(v))


def domain(t: Term, vtype: VarType) -> z3.BoolRef:
    """The constraint that ``t`` is a value of ``vtype``."""
    if isinstance(vtype, IntType):
        return z3.And(t >= vtype.lo, t <= vtype.hi)
    if isinstance(vtype, EnumType):
        return z3.And(t >= 0, t < vtype.size)
    return z3.BoolVal(True)


def term(e: Expr, env: Mapping[str, Term]) -> Term:
    """The Z3 term of ``e`` with variables replaced by ``env[name]``."""
    cache: dict[int, Term] = {}
    return _term(e, env, cache)


def terms(es: Sequence[Expr], env: Mapping[str, Term]) -> list[Term]:
    """The Z3 terms of ``es``, translating each shared sub-expression once."""
    cache: dict[int, Term] = {}
    return [_term(e, env, cache) for e in es]


def _term(e: Expr, env: Mapping[str, Term], cache: dict[int, Term]) -> Term:
    key = id(e)
    hit = cache.get(key)
    if hit is not None:
        return hit
    if isinstance(e, Const):
        out = value(e.value, e.const_sort)
    elif isinstance(e, Var):
        try:
            out = env[e.name]
        except KeyError:
            raise ModelError(f"no Z3 term for variable {e.name!r}") from None
    else:
        assert isinstance(e, Op)
        a = [_term(x, env, cache) for x in e.args]
        out = _OPS[e.op](e, a)
    cache[key] = out
    return out


def _seq(e: Op) -> SeqType:
    s = e.args[0].sort
    assert isinstance(s, SeqType)
    return s


def _arith(f: Callable[[Term, Term], Term]) -> Callable[[Op, list[Term]], Term]:
    return lambda e, a: f(a[0], a[1])


def _int_to_seq(e: Op, a: list[Term]) -> Term:
    s = e.op_sort
    assert isinstance(s, SeqType)
    return z3.Int2BV(a[0], s.bits)


def _seq_lt(e: Op, a: list[Term]) -> Term:
    d = a[1] - a[0]
    return z3.And(d != 0, z3.ULT(d, _seq(e).half))


def _seq_le(e: Op, a: list[Term]) -> Term:
    return z3.ULT(a[1] - a[0], _seq(e).half)


def _in_window(e: Op, a: list[Term]) -> Term:
    return z3.BV2Int(a[0] - a[1], is_signed=False) < a[2]


_OPS: dict[str, Callable[[Op, list[Term]], Term]] = {
    "not": lambda e, a: z3.Not(a[0]),
    "and": lambda e, a: z3.And(*a),
    "or": lambda e, a: z3.Or(*a),
    "implies": lambda e, a: z3.Implies(a[0], a[1]),
    "eq": _arith(lambda x, y: x == y),
    "ne": _arith(lambda x, y: x != y),
    "lt": _arith(lambda x, y: x < y),
    "le": _arith(lambda x, y: x <= y),
    "gt": _arith(lambda x, y: x > y),
    "ge": _arith(lambda x, y: x >= y),
    "add": _arith(lambda x, y: x + y),
    "sub": _arith(lambda x, y: x - y),
    "mul": _arith(lambda x, y: x * y),
    "neg": lambda e, a: -a[0],
    "mod": _arith(lambda x, y: x % y),
    "div": _arith(lambda x, y: x / y),
    "ite": lambda e, a: z3.If(a[0], a[1], a[2]),
    "seq_lt": _seq_lt,
    "seq_le": _seq_le,
    "in_window": _in_window,
    "seq_to_int": lambda e, a: z3.BV2Int(a[0], is_signed=False),
    "int_to_seq": _int_to_seq,
}


def code_lt(a: Term, b: Term, vtype: VarType) -> z3.BoolRef:
    """``encode(vtype, a) < encode(vtype, b)`` on terms of a variable of type ``vtype``."""
    if isinstance(vtype, BoolType):
        return z3.And(z3.Not(a), b)
    if isinstance(vtype, SeqType):
        return z3.ULT(a, b)
    return a < b


def from_model(t: Term, s: Sort) -> int | bool:
    """A Python value of an evaluated, closed Z3 term of sort ``s``."""
    if isinstance(s, BoolType):
        return bool(z3.is_true(t))
    if isinstance(s, IntSort | EnumType | SeqType):
        return int(t.as_long())
    raise ModelError(f"cannot read a value of sort {s.describe()}")


# ---------------------------------------------------------------------------------------------
# Theories: how Int-sorted values are represented.  The functions above use mathematical
# integers (`INTEGERS`).  `BitVectors(w)` represents every Int and Enum value as a signed
# ``w``-bit vector instead, so that a whole formula is bit-vector logic, which Z3 solves by
# bit-blasting to SAT (far faster for the deep, highly branching unrollings of model checking).
# That is exact only if no Int sub-expression leaves ``w`` bits: `int_width` finds such a ``w``
# by interval analysis, or says there is none.


class Theory:
    """Integer arithmetic as Z3 sees it: mathematical integers."""

    name = "Int"

    def sort(self, s: Sort) -> z3.SortRef:
        return z3_sort(s)

    def constant(self, name: str, vtype: VarType) -> Term:
        return z3.Const(name, self.sort(sort_of(vtype)))

    def value(self, v: int | bool, s: Sort) -> Term:
        return value(v, s)

    def domain(self, t: Term, vtype: VarType) -> z3.BoolRef:
        return domain(t, vtype)

    def terms(self, es: Sequence[Expr], env: Mapping[str, Term]) -> list[Term]:
        return terms(es, env)

    def term(self, e: Expr, env: Mapping[str, Term]) -> Term:
        return term(e, env)

    def code_lt(self, a: Term, b: Term, vtype: VarType) -> z3.BoolRef:
        return code_lt(a, b, vtype)

    def from_model(self, t: Term, s: Sort) -> int | bool:
        return from_model(t, s)


INTEGERS = Theory()


class BitVectors(Theory):
    """Int and Enum values as signed ``width``-bit vectors (see the note above)."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.name = f"BitVec({width})"

    def sort(self, s: Sort) -> z3.SortRef:
        if isinstance(s, IntSort | EnumType):
            return z3.BitVecSort(self.width)
        return z3_sort(s)

    def value(self, v: int | bool, s: Sort) -> Term:
        if isinstance(s, IntSort | EnumType):
            return z3.BitVecVal(int(v), self.width)
        return value(v, s)

    def domain(self, t: Term, vtype: VarType) -> z3.BoolRef:
        if isinstance(vtype, IntType):
            return z3.And(t >= vtype.lo, t <= vtype.hi)  # signed comparisons
        if isinstance(vtype, EnumType):
            return z3.And(t >= 0, t < vtype.size)
        return z3.BoolVal(True)

    def terms(self, es: Sequence[Expr], env: Mapping[str, Term]) -> list[Term]:
        cache: dict[int, Term] = {}
        return [self._term(e, env, cache) for e in es]

    def term(self, e: Expr, env: Mapping[str, Term]) -> Term:
        return self._term(e, env, {})

    def code_lt(self, a: Term, b: Term, vtype: VarType) -> z3.BoolRef:
        return code_lt(a, b, vtype)  # signed < on Int/Enum, ULT on Seq: the code order

    def from_model(self, t: Term, s: Sort) -> int | bool:
        if isinstance(s, IntSort | EnumType):
            return int(t.as_signed_long())
        return from_model(t, s)

    def _term(self, e: Expr, env: Mapping[str, Term], cache: dict[int, Term]) -> Term:
        key = id(e)
        hit = cache.get(key)
        if hit is not None:
            return hit
        if isinstance(e, Const):
            out = self.value(e.value, e.const_sort)
        elif isinstance(e, Var):
            try:
                out = env[e.name]
            except KeyError:
                raise ModelError(f"no Z3 term for variable {e.name!r}") from None
        else:
            assert isinstance(e, Op)
            a = [self._term(x, env, cache) for x in e.args]
            out = self._op(e, a)
        cache[key] = out
        return out

    def _resize(self, t: Term, bits: int, signed: bool) -> Term:
        """``t`` (a bit-vector) extended or truncated to ``bits`` bits."""
        n = t.size()
        if n == bits:
            return t
        if n > bits:
            return z3.Extract(bits - 1, 0, t)
        return z3.SignExt(bits - n, t) if signed else z3.ZeroExt(bits - n, t)

    def _op(self, e: Op, a: list[Term]) -> Term:
        op = e.op
        if op == "mod":
            return a[0] % a[1]  # bvsmod: the sign of the (positive) divisor, as Python
        if op == "div":
            return (a[0] - a[0] % a[1]) / a[1]  # an exact signed division: floor
        if op == "seq_to_int":
            return self._resize(a[0], self.width, signed=False)
        if op == "int_to_seq":
            s = e.op_sort
            assert isinstance(s, SeqType)
            return self._resize(a[0], s.bits, signed=True)
        if op == "in_window":
            s = _seq(e)
            n = max(self.width, s.bits + 1)
            d = self._resize(a[0] - a[1], n, signed=False)
            return d < self._resize(a[2], n, signed=True)
        return _OPS[op](e, a)  # the rest reads the same on signed bit-vectors


def int_width(exprs: Sequence[Expr], types: Sequence[VarType]) -> int | None:
    """A width ``w`` such that every Int sub-expression of ``exprs`` and every value of
    ``types`` fits a signed ``w``-bit vector, by interval analysis (each node once, branches of
    an ``ite`` both counted); ``None`` if some Int sub-expression has no known bound."""
    bound = 1
    for t in types:
        if isinstance(t, IntType):
            bound = max(bound, abs(t.lo), abs(t.hi))
        elif isinstance(t, EnumType):
            bound = max(bound, t.size)
    memo: dict[int, tuple[int, int] | None] = {}
    for root in exprs:
        for r in _intervals(root, memo):
            if r is None:
                return None
            bound = max(bound, abs(r[0]), abs(r[1]))
    return bound.bit_length() + 2  # a sign bit, and room for -bound - 1 and bound + 1


def _intervals(e: Expr, memo: dict[int, tuple[int, int] | None]) -> list[tuple[int, int] | None]:
    """Bounds (``None``: unknown) of the Int sub-expressions of ``e`` not yet in ``memo``,
    which gets them all."""
    out: list[tuple[int, int] | None] = []

    def visit(n: Expr) -> tuple[int, int] | None:
        key = id(n)
        if key in memo:
            return memo[key]
        args = [visit(a) for a in n.args] if isinstance(n, Op) else []
        if not isinstance(n.sort, IntSort):
            memo[key] = None
            return None
        r = memo[key] = _bound(n, args)
        out.append(r)
        return r

    visit(e)
    return out


def _bound(n: Expr, args: list[tuple[int, int] | None]) -> tuple[int, int] | None:
    if isinstance(n, Const):
        return (int(n.value), int(n.value))
    if isinstance(n, Var):
        t = n.vtype
        return (t.lo, t.hi) if isinstance(t, IntType) else None
    assert isinstance(n, Op)
    op = n.op
    if op == "seq_to_int":
        return (0, _seq(n).mask)
    if op == "ite":
        a, b = args[1], args[2]
        return None if a is None or b is None else (min(a[0], b[0]), max(a[1], b[1]))
    if op in ("mod", "div"):
        d = n.args[1]
        if not (isinstance(d, Const) and int(d.value) > 0) or args[0] is None:
            return None
        if op == "mod":
            return (0, int(d.value) - 1)
        return (args[0][0] // int(d.value), args[0][1] // int(d.value))
    if any(a is None for a in args):
        return None
    xs = [a for a in args if a is not None]
    if op == "neg":
        return (-xs[0][1], -xs[0][0])
    (a0, a1), (b0, b1) = xs
    if op == "add":
        return (a0 + b0, a1 + b1)
    if op == "sub":
        return (a0 - b1, a1 - b0)
    if op == "mul":
        ps = (a0 * b0, a0 * b1, a1 * b0, a1 * b1)
        return (min(ps), max(ps))
    return None
