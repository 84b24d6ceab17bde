"""The expression language every engine reads.

An expression is an immutable tree of three node kinds:

* `Const(value, sort)`: a literal; enum literals hold the value's index.
* `Var(name, vtype)`: the current value of a state variable.
* `Op(op, args, sort)`: an operator applied to sub-expressions; ``sort`` is the result sort.

The operators (``OPS``) and their typing rules are fixed here, once.  `tcpmodel.kernel.compile`
turns a tree into Python source and `tcpmodel.kernel.smt` into Z3 terms; both follow the same
table, and a property-based test checks that they agree on random trees and states.

Sequence numbers follow RFC 9293 section 3.4: ``seq_lt(x, y)`` iff ``0 < (y - x) mod 2**n <
2**(n-1)``, and ``in_window(x, r, w)`` iff ``(x - r) mod 2**n < w``.  Integer ``div``/``mod``
take a positive constant divisor, where floor and Euclidean division coincide.

Build trees with the helpers (`eq`, `and_`, `ite`, ...) or the methods on `Expr`; both lift
Python ``int``/``bool``/``str`` to constants of the sort the other operand expects.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Union

from tcpmodel.errors import ModelError
from tcpmodel.kernel.types import (
    BOOL,
    INT,
    BoolType,
    EnumType,
    IntSort,
    SeqType,
    Sort,
    VarType,
    sort_of,
)

Lit = Union["Expr", int, bool, str]


class Expr:
    """Base of expression nodes; methods build larger expressions."""

    __slots__ = ()

    @property
    def sort(self) -> Sort:
        raise NotImplementedError

    # Comparisons are methods, not operators, so that ``==`` stays structural equality.
    def eq(self, other: Lit) -> Expr:
        return eq(self, other)

    def ne(self, other: Lit) -> Expr:
        return ne(self, other)

    def lt(self, other: Lit) -> Expr:
        return _op("lt", self, other)

    def le(self, other: Lit) -> Expr:
        return _op("le", self, other)

    def gt(self, other: Lit) -> Expr:
        return _op("gt", self, other)

    def ge(self, other: Lit) -> Expr:
        return _op("ge", self, other)

    def __add__(self, other: Lit) -> Expr:
        return _op("add", self, other)

    def __radd__(self, other: Lit) -> Expr:
        return _op("add", other, self)

    def __sub__(self, other: Lit) -> Expr:
        return _op("sub", self, other)

    def __rsub__(self, other: Lit) -> Expr:
        return _op("sub", other, self)

    def __mul__(self, other: Lit) -> Expr:
        return _op("mul", self, other)

    def __rmul__(self, other: Lit) -> Expr:
        return _op("mul", other, self)

    def __mod__(self, other: Lit) -> Expr:
        return _op("mod", self, other)

    def __floordiv__(self, other: Lit) -> Expr:
        return _op("div", self, other)

    def __neg__(self) -> Expr:
        return _op("neg", self)

    def __and__(self, other: Lit) -> Expr:
        return and_(self, other)

    def __rand__(self, other: Lit) -> Expr:
        return and_(other, self)

    def __or__(self, other: Lit) -> Expr:
        return or_(self, other)

    def __ror__(self, other: Lit) -> Expr:
        return or_(other, self)

    def __invert__(self) -> Expr:
        return not_(self)

    def walk(self) -> Iterator[Expr]:
        """This node and every node below it, parents first."""
        yield self
        if isinstance(self, Op):
            for a in self.args:
                yield from a.walk()

    def variables(self) -> frozenset[str]:
        """The names of the variables this expression reads."""
        return frozenset(n.name for n in self.walk() if isinstance(n, Var))


@dataclass(frozen=True, slots=True)
class Const(Expr):
    value: int | bool
    const_sort: Sort

    @property
    def sort(self) -> Sort:
        return self.const_sort

    def variables(self) -> frozenset[str]:
        return frozenset()

    def __repr__(self) -> str:
        if isinstance(self.const_sort, EnumType):
            return self.const_sort.values[int(self.value)]
        return repr(self.value)


@dataclass(frozen=True, slots=True)
class Var(Expr):
    name: str
    vtype: VarType

    @property
    def sort(self) -> Sort:
        return sort_of(self.vtype)

    def variables(self) -> frozenset[str]:
        return frozenset((self.name,))

    def __repr__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True, eq=False)
class Op(Expr):
    """An operator node.  Its hash is computed once, from its children's (each cached in
    turn), so that the memos and common-subexpression tables keyed by expressions cost one
    lookup per node, not a walk of the tree; equality compares hashes first.  The hash is
    never pickled (`__reduce__` rebuilds the node), since string hashes differ between
    processes.  The variables it reads are found once too (`variables`)."""

    op: str
    args: tuple[Expr, ...]
    op_sort: Sort
    _hash: int = field(init=False, repr=False, compare=False)
    _vars: frozenset[str] | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.op, self.args, self.op_sort)))

    def variables(self) -> frozenset[str]:
        """The names of the variables read, found once per node from its children's (models
        share sub-expressions between actions, so a walk would visit them again and again)."""
        got = self._vars
        if got is None:
            got = frozenset().union(*(a.variables() for a in self.args))
            object.__setattr__(self, "_vars", got)
        return got

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Op) or self._hash != other._hash:
            return False
        return self.op == other.op and self.op_sort == other.op_sort and self.args == other.args

    def __reduce__(self) -> tuple[type[Op], tuple[str, tuple[Expr, ...], Sort]]:
        return (Op, (self.op, self.args, self.op_sort))

    @property
    def sort(self) -> Sort:
        return self.op_sort

    def __repr__(self) -> str:
        return f"{self.op}({', '.join(map(repr, self.args))})"


TRUE = Const(True, BOOL)
FALSE = Const(False, BOOL)

# name -> (arity or -1 for n-ary); typing is in `_op`.
OPS: dict[str, int] = {
    "not": 1,
    "and": -1,
    "or": -1,
    "implies": 2,
    "eq": 2,
    "ne": 2,
    "lt": 2,
    "le": 2,
    "gt": 2,
    "ge": 2,
    "add": 2,
    "sub": 2,
    "mul": 2,
    "neg": 1,
    "mod": 2,
    "div": 2,
    "ite": 3,
    "seq_lt": 2,
    "seq_le": 2,
    "in_window": 3,
    "seq_to_int": 1,
    "int_to_seq": 1,
}


def lift(x: Lit, like: Sort | None = None) -> Expr:
    """``x`` as an expression; plain values take the sort ``like`` where that makes sense."""
    if isinstance(x, Expr):
        return x
    if isinstance(x, bool):
        return TRUE if x else FALSE
    if isinstance(x, int):
        if isinstance(like, SeqType):
            return Const(x & like.mask, like)
        return Const(x, INT)
    if isinstance(x, str):
        if isinstance(like, EnumType):
            return Const(like.index(x), like)
        raise ModelError(f"cannot tell which enum {x!r} belongs to; compare it with a variable")
    raise ModelError(f"cannot use {x!r} ({type(x).__name__}) in an expression")


def enum_const(t: EnumType, value: str) -> Const:
    return Const(t.index(value), t)


def _need(cond: bool, op: str, args: tuple[Expr, ...], what: str) -> None:
    if not cond:
        sorts = ", ".join(a.sort.describe() for a in args)
        raise ModelError(f"{op}({sorts}): {what}")


def _pair(a: Lit, b: Lit) -> tuple[Expr, Expr]:
    """Lift two operands so that a plain value takes the other's sort."""
    if isinstance(a, Expr):
        return a, lift(b, a.sort)
    if isinstance(b, Expr):
        return lift(a, b.sort), b
    return lift(a), lift(b)


def _op(op: str, *raw: Lit) -> Expr:
    if op in ("not", "neg", "seq_to_int"):
        args: tuple[Expr, ...] = (lift(raw[0]),)
    elif op == "ite":
        c = lift(raw[0])
        t, e = _pair(raw[1], raw[2])
        args = (c, t, e)
    elif op == "in_window":
        x, r = _pair(raw[0], raw[1])
        args = (x, r, lift(raw[2]))
    elif len(raw) == 2:
        args = _pair(raw[0], raw[1])
    else:
        args = tuple(lift(r) for r in raw)
    s = [a.sort for a in args]
    if op in ("not",):
        _need(s[0] == BOOL, op, args, "expects a Bool")
        return Op(op, args, BOOL)
    if op in ("and", "or", "implies"):
        _need(all(x == BOOL for x in s), op, args, "expects Bools")
        return Op(op, args, BOOL)
    if op in ("eq", "ne"):
        _need(s[0] == s[1], op, args, "compares values of different sorts")
        return Op(op, args, BOOL)
    if op in ("lt", "le", "gt", "ge"):
        _need(
            s[0] == INT and s[1] == INT,
            op,
            args,
            "orders Ints only (use seq_lt/seq_le for sequence numbers)",
        )
        return Op(op, args, BOOL)
    if op in ("add", "sub"):
        a, b = args
        if isinstance(a.sort, SeqType) and b.sort == INT:
            b = Op("int_to_seq", (b,), a.sort)
        elif isinstance(b.sort, SeqType) and a.sort == INT and op == "add":
            a = Op("int_to_seq", (a,), b.sort)
        _need(a.sort == b.sort and isinstance(a.sort, (IntSort, SeqType)), op, args, "bad operands")
        return Op(op, (a, b), a.sort)
    if op == "mul":
        _need(s[0] == INT and s[1] == INT, op, args, "multiplies Ints only")
        return Op(op, args, INT)
    if op == "neg":
        _need(s[0] == INT, op, args, "negates Ints only")
        return Op(op, args, INT)
    if op in ("mod", "div"):
        d = args[1]
        _need(
            s[0] == INT and isinstance(d, Const) and d.sort == INT and int(d.value) > 0,
            op,
            args,
            "needs an Int and a positive constant divisor",
        )
        return Op(op, args, INT)
    if op == "ite":
        _need(s[0] == BOOL and s[1] == s[2], op, args, "needs a Bool and two branches of one sort")
        return Op(op, args, s[1])
    if op in ("seq_lt", "seq_le"):
        _need(
            isinstance(s[0], SeqType) and s[0] == s[1], op, args, "compares two Seqs of one width"
        )
        return Op(op, args, BOOL)
    if op == "in_window":
        _need(
            isinstance(s[0], SeqType) and s[0] == s[1] and s[2] == INT,
            op,
            args,
            "needs two Seqs of one width and an Int size",
        )
        return Op(op, args, BOOL)
    if op == "seq_to_int":
        _need(isinstance(s[0], SeqType), op, args, "converts a Seq")
        return Op(op, args, INT)
    raise ModelError(f"unknown operator {op!r}")


def not_(a: Lit) -> Expr:
    return _op("not", a)


def and_(*xs: Lit) -> Expr:
    args = [lift(x) for x in xs]
    if not args:
        return TRUE
    if len(args) == 1:
        return _op("and", args[0], TRUE) if args[0].sort != BOOL else args[0]
    return _op("and", *args)


def or_(*xs: Lit) -> Expr:
    args = [lift(x) for x in xs]
    if not args:
        return FALSE
    if len(args) == 1:
        return _op("or", args[0], FALSE) if args[0].sort != BOOL else args[0]
    return _op("or", *args)


def implies(a: Lit, b: Lit) -> Expr:
    return _op("implies", a, b)


def eq(a: Lit, b: Lit) -> Expr:
    return _op("eq", a, b)


def ne(a: Lit, b: Lit) -> Expr:
    return _op("ne", a, b)


def ite(c: Lit, t: Lit, e: Lit) -> Expr:
    return _op("ite", c, t, e)


def seq_lt(a: Lit, b: Lit) -> Expr:
    return _op("seq_lt", a, b)


def seq_le(a: Lit, b: Lit) -> Expr:
    return _op("seq_le", a, b)


def seq_gt(a: Lit, b: Lit) -> Expr:
    return _op("seq_lt", b, a)


def seq_ge(a: Lit, b: Lit) -> Expr:
    return _op("seq_le", b, a)


def in_window(x: Lit, start: Lit, size: Lit) -> Expr:
    """RFC 9293 3.10.7.4 acceptability: ``start =< x < start + size`` modulo 2**bits."""
    return _op("in_window", x, start, size)


def seq_to_int(a: Lit) -> Expr:
    return _op("seq_to_int", a)


def int_to_seq(a: Lit, t: SeqType) -> Expr:
    x = lift(a)
    if x.sort != INT:
        raise ModelError(f"int_to_seq expects an Int, got {x.sort.describe()}")
    return Op("int_to_seq", (x,), t)


def min_(a: Lit, b: Lit) -> Expr:
    x, y = _pair(a, b)
    return ite(x.le(y), x, y)


def max_(a: Lit, b: Lit) -> Expr:
    x, y = _pair(a, b)
    return ite(x.ge(y), x, y)


def is_bool(e: Expr) -> bool:
    return isinstance(e.sort, BoolType)
