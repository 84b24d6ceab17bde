"""Translate kernel expressions and variables to Z3 terms.

Sorts (see `tcpmodel.kernel.types`): Bool -> ``BoolSort``; Int and Enum -> ``IntSort`` (an enum
holds its value's index; `domain` gives the range constraint); Seq(n) -> ``BitVecSort(n)``, so
that 32-bit wraparound is exact.  Operators follow the table of `tcpmodel.kernel.expr`:

* ``seq_lt(x, y)``: ``d = y - x`` (bit-vector, modular); ``d != 0 and d <u 2**(n-1)``.
* ``in_window(x, r, w)``: ``bv2int(x - r) < w``.
* ``mod``/``div`` by a positive constant: Z3's Euclidean ``%`` and ``/``, equal to Python's.
* ``int_to_seq``: ``int2bv``, which is modular like Python's ``& mask``.

`term(e, env)` maps each variable through ``env`` (name -> Z3 term), so the same function builds
current-state, next-state and step-k terms for the symbolic engines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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


def from_model(t: Term, s: Sort) -> int | bool:
    """A Python value of an evaluated, closed Z3 term of sort ``s``."""
    if isinstance(s, BoolType):
        return bool(z3.is_true(t))
    if isinstance(s, IntSort | EnumType | SeqType):
        return int(t.as_long())
    raise ModelError(f"cannot read a value of sort {s.describe()}")
