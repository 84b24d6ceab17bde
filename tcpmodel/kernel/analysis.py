"""Static analysis of expressions, shared by every back end: `simplify` (constants folded,
Bool ``ite``s turned into connectives) and `interval` (bounds of an Int expression, refined
along ``ite`` conditions), with `within` (an update that interval analysis shows never leaves
its variable's range needs no range check).  The Python and C code generators, the Promela
export, partial-order reduction and the SMT encodings use them.

Every rewrite of `simplify` preserves the value of an expression on every
state up to Python truthiness for Bool-sorted expressions: a Bool expression evaluates to
``False``/``True`` or to a Bool variable's code ``0``/``1``, and the generated code only tests
such values, compares them with ``==``/``!=`` (where ``1 == True``), or stores them as a byte.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping

from tcpmodel.kernel.expr import FALSE, TRUE, Const, Expr, Op, Var
from tcpmodel.kernel.pyexpr import evaluate
from tcpmodel.kernel.types import BOOL, BoolType, IntSort, IntType, SeqType, Sort


def _const(value: int | bool, sort: Sort) -> Const:
    if isinstance(sort, BoolType):
        return TRUE if value else FALSE
    return Const(int(value), sort)


def is_const(e: Expr, value: int | bool | None = None) -> bool:
    if not isinstance(e, Const):
        return False
    return value is None or e.value == value


def _negate(e: Expr) -> Expr:
    """``not e``, simplified one level."""
    if isinstance(e, Const):
        return FALSE if e.value else TRUE
    if isinstance(e, Op) and e.op == "not":
        return e.args[0]
    return Op("not", (e,), BOOL)


def _junction(op: str, args: Iterable[Expr]) -> Expr:
    """``and``/``or`` of ``args``: flattened, units dropped, duplicates and complements found."""
    unit, zero = (TRUE, FALSE) if op == "and" else (FALSE, TRUE)
    flat: list[Expr] = []
    for a in args:
        for x in a.args if isinstance(a, Op) and a.op == op else (a,):
            if x == zero:
                return zero
            if x != unit and x not in flat:
                flat.append(x)
    if any(_negate(x) in flat for x in flat):
        return zero
    if op == "or":
        # (a and not b) or b  ==  a or b
        flat = [
            _junction("and", (y for y in x.args if _negate(y) not in flat))
            if isinstance(x, Op) and x.op == "and"
            else x
            for x in flat
        ]
    if not flat:
        return unit
    if len(flat) == 1:
        return flat[0]
    return Op(op, tuple(flat), BOOL)


def simplify(e: Expr) -> Expr:
    """An expression equal to ``e`` on every state, with constants folded and Bool ``ite``s
    turned into connectives (see the note above on Bool values)."""
    if not isinstance(e, Op):
        return e
    return _simplify(e)


# Expressions are immutable and their hashes cached (`Op`), and the actions of a model share
# most of their sub-expressions (guards, the segment fields, the timers): each is simplified
# once.  The bound keeps a long run over many models from holding every tree it has met.
@functools.lru_cache(maxsize=1 << 17)
def _simplify(e: Op) -> Expr:
    args = tuple(simplify(a) for a in e.args)
    op = e.op
    if op == "not":
        return _negate(args[0])
    if op in ("and", "or"):
        return _junction(op, args)
    if op == "implies":
        return _junction("or", (_negate(args[0]), args[1]))
    if op == "ite":
        c, t, f = args
        if isinstance(c, Const):
            return t if c.value else f
        if t == f:
            return t
        if isinstance(c, Op) and c.op == "not":
            c, t, f = c.args[0], f, t
        if isinstance(e.op_sort, BoolType):
            if is_const(t, True):
                return _junction("or", (c, f))
            if is_const(t, False):
                return _junction("and", (_negate(c), f))
            if is_const(f, False):
                return _junction("and", (c, t))
            if is_const(f, True):
                return _junction("or", (_negate(c), t))
        return Op("ite", (c, t, f), e.op_sort)
    if op in ("eq", "ne") and args[0] == args[1]:
        return _const(op == "eq", BOOL)
    out = Op(op, args, e.op_sort)
    if all(isinstance(a, Const) for a in args):
        return _const(evaluate(out, {}), e.op_sort)
    return out


Interval = tuple[int, int]


def refine(env: dict[str, Interval], c: Expr, holds: bool) -> dict[str, Interval]:
    """``env`` narrowed by knowing that ``c`` evaluates to ``holds``."""
    if isinstance(c, Op):
        if c.op == "not":
            return refine(env, c.args[0], not holds)
        if (c.op == "and" and holds) or (c.op == "or" and not holds):
            for a in c.args:
                env = refine(env, a, holds)
            return env
        if c.op in ("lt", "le", "gt", "ge", "eq"):
            x, k = c.args
            op = c.op
            if isinstance(x, Const) and isinstance(k, Var):
                x, k = k, x
                op = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le", "eq": "eq"}[op]
            if not (isinstance(x, Var) and isinstance(k, Const) and isinstance(x.vtype, IntType)):
                return env
            if not holds:
                if op == "eq":
                    return env
                op = {"lt": "ge", "le": "gt", "gt": "le", "ge": "lt"}[op]
            lo, hi = env.get(x.name, (x.vtype.lo, x.vtype.hi))
            v = int(k.value)
            if op in ("lt", "le", "eq"):
                hi = min(hi, v - 1 if op == "lt" else v)
            if op in ("gt", "ge", "eq"):
                lo = max(lo, v + 1 if op == "gt" else v)
            return {**env, x.name: (lo, hi)}
    return env


def interval(e: Expr, env: Mapping[str, Interval]) -> Interval | None:
    """Bounds of the Int-sorted ``e`` under ``env`` (variable -> bounds), or None if unknown.

    An empty interval (``lo > hi``) means the expression is never evaluated there.
    """
    if isinstance(e, Const):
        return (int(e.value), int(e.value)) if isinstance(e.sort, IntSort) else None
    if isinstance(e, Var):
        if isinstance(e.vtype, IntType):
            return env.get(e.name, (e.vtype.lo, e.vtype.hi))
        return None
    assert isinstance(e, Op)
    op = e.op
    if op == "ite":
        c = e.args[0]
        a = interval(e.args[1], refine(dict(env), c, True))
        b = interval(e.args[2], refine(dict(env), c, False))
        if a is None or b is None:
            return None
        if a[0] > a[1]:
            return b
        if b[0] > b[1]:
            return a
        return (min(a[0], b[0]), max(a[1], b[1]))
    if op == "seq_to_int":
        s = e.args[0].sort
        assert isinstance(s, SeqType)
        return (0, s.mask)
    if not isinstance(e.op_sort, IntSort):
        return None
    xs = [interval(a, env) for a in e.args]
    if op == "mod":
        return (0, int(e.args[1].value) - 1) if isinstance(e.args[1], Const) else None
    if any(x is None for x in xs):
        return None
    if op == "neg":
        (lo, hi) = xs[0]  # type: ignore[misc]
        return (-hi, -lo)
    if op == "div":
        (lo, hi), (d, _) = xs  # type: ignore[misc]
        return (lo // d, hi // d)
    if op in ("add", "sub", "mul"):
        (a0, a1), (b0, b1) = xs  # type: ignore[misc]
        if op == "add":
            return (a0 + b0, a1 + b1)
        if op == "sub":
            return (a0 - b1, a1 - b0)
        products = (a0 * b0, a0 * b1, a1 * b0, a1 * b1)
        return (min(products), max(products))
    return None


def within(e: Expr, vt: IntType) -> bool:
    """Whether interval analysis shows that ``e`` stays within ``vt`` on every state."""
    r = interval(simplify(e), {})
    return r is not None and (r[0] > r[1] or vt.lo <= r[0] <= r[1] <= vt.hi)
