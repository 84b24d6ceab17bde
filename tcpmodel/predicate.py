"""State predicates: the Python syntax tree of a formula's predicate translated to a kernel
`Expr` (`Translator`), against the names of a `System` (variables, definitions such as
``deadlock``, enum values written bare), with ``forall``/``exists`` over slot arrays and the
functions of `tcpmodel.kernel.expr` (``seq_lt``, ``in_window``, ...).  `tcpmodel.formula`
parses the temporal structure around it and reports its errors as ``column N: ...``.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Callable

from tcpmodel.errors import ModelError
from tcpmodel.formula_source import IMPLIES, Located, Source
from tcpmodel.kernel import expr as E
from tcpmodel.kernel.expr import Expr
from tcpmodel.kernel.system import System
from tcpmodel.kernel.types import BOOL, INT, EnumType, SeqType, Sort

# The temporal operators, which may appear only at the top of a formula (`tcpmodel.formula`).
EXISTS_FORALL = "exists_forall"
TEMPORAL: tuple[str, ...] = ("always", "reachable")
LATER = ("eventually", "until", "leads_to", "next")


class _EnumName:
    """A bare name not yet typed: an enum value waiting for the sort of its context."""

    def __init__(self, name: str, offset: int) -> None:
        self.name = name
        self.offset = offset


Node = Expr | _EnumName


_SIGNATURES = {
    IMPLIES: "p implies q",
    "implies": "implies(p, q)",
    "seq_lt": "seq_lt(a, b)",
    "seq_le": "seq_le(a, b)",
    "seq_gt": "seq_gt(a, b)",
    "seq_ge": "seq_ge(a, b)",
    "in_window": "in_window(x, start, size)",
    "seq_to_int": "seq_to_int(x)",
    "forall": "forall(s in net.ab, p)",
    "exists": "exists(s in net.ab, p)",
    "ite": "ite(cond, a, b)",
    "min": "min(a, b)",
    "max": "max(a, b)",
}
_OP_SYMBOL: dict[type, str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Mod: "%",
    ast.FloorDiv: "//",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
}


class Translator:
    def __init__(self, system: System, src: Source) -> None:
        self.system = system
        self.src = src
        self.enums: dict[str, list[EnumType]] = {}
        for v in system.variables:
            if isinstance(v.vtype, EnumType):
                for val in v.vtype.values:
                    lst = self.enums.setdefault(val, [])
                    if v.vtype not in lst:
                        lst.append(v.vtype)
        self.defs = dict(system.definitions)
        self.defs.setdefault("deadlock", deadlock(system))
        # Names bound by forall/exists to one slot of an array, e.g. s -> net.ab[1].
        self.bound: dict[str, str] = {}

    def err(self, n: ast.AST, msg: str) -> Located:
        return Located(self.src.node(n), msg)

    def bool(self, n: ast.expr) -> Expr:
        e = self.expr(n)
        if e.sort != BOOL:
            raise self.err(n, f"expected a Bool predicate, got {e.sort.describe()}")
        return e

    def expr(self, n: ast.expr, like: Sort | None = None) -> Expr:
        r = self.node(n)
        return self.resolve(r, like, n)

    def resolve(self, r: Node, like: Sort | None, n: ast.AST) -> Expr:
        if isinstance(r, Expr):
            return r
        cands = self.enums.get(r.name, [])
        if isinstance(like, EnumType):
            if r.name in like.values:
                return E.enum_const(like, r.name)
            if not cands:
                raise Located(
                    r.offset,
                    f"{r.name} is not a value of enum {like.name}; expected one of "
                    f"{', '.join(like.values)}",
                )
        if len(cands) == 1:
            return E.enum_const(cands[0], r.name)
        if len(cands) > 1:
            raise Located(
                r.offset,
                f"{r.name} is a value of several enums "
                f"({', '.join(t.name for t in cands)}); expected it compared with a variable "
                "of one of them, e.g. a.state == " + r.name,
            )
        raise Located(r.offset, self.unknown(r.name))

    def unknown(self, name: str) -> str:
        shapes: dict[str, int] = {}
        for v in self.system.variables:
            idx = [int(x) for x in re.findall(r"\[(\d+)\]", v.name)]
            shape = re.sub(r"\[\d+\]", "[#]", v.name)
            shapes[shape] = max([shapes.get(shape, 0), *idx])
        shown = [k.replace("[#]", f"[0..{m}]") if "[#]" in k else k for k, m in shapes.items()]
        known = [v.name for v in self.system.variables] + list(self.defs) + list(self.enums)
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}? " if close else ""
        if name in ("true", "false"):
            hint = f"did you mean {name.capitalize()}? "
        defs = f"; definitions: {', '.join(self.defs)}" if self.defs else ""
        enums = f"; enum values: {', '.join(self.enums)}" if self.enums else ""
        return (
            f"unknown name {name!r}; {hint}expected a variable, definition or enum value of "
            f"model {self.system.name} (variables: {', '.join(shown)}{defs}{enums})"
        )

    def pair(self, a: ast.expr, b: ast.expr) -> tuple[Expr, Expr]:
        ra, rb = self.node(a), self.node(b)
        if isinstance(ra, Expr):
            return ra, self.resolve(rb, ra.sort, b)
        eb = self.resolve(rb, None, b)
        return self.resolve(ra, eb.sort, a), eb

    def node(self, n: ast.expr) -> Node:
        try:
            return self._node(n)
        except ModelError as e:
            raise self.err(n, f"ill-typed: {e}; expected operands of matching sorts") from None

    def _node(self, n: ast.expr) -> Node:
        if isinstance(n, ast.Constant):
            if isinstance(n.value, bool | int):
                return E.lift(n.value)
            if isinstance(n.value, str):
                raise self.err(
                    n,
                    f"string {n.value!r} is not allowed; expected an integer, True/False or "
                    f'an enum value written bare (X, not "X")',
                )
            raise self.err(
                n, f"constant {n.value!r} is not allowed; expected an integer or True/False"
            )
        if isinstance(n, ast.BoolOp):
            args = [self.bool(v) for v in n.values]
            return E.and_(*args) if isinstance(n.op, ast.And) else E.or_(*args)
        if isinstance(n, ast.UnaryOp):
            if isinstance(n.op, ast.Not):
                return E.not_(self.bool(n.operand))
            if isinstance(n.op, ast.USub):
                x = self.expr(n.operand)
                if x.sort != INT:
                    raise self.err(n, f"cannot negate {x.sort.describe()}; expected an integer")
                return -x
            raise self.err(n, "operator not allowed; expected `not` or unary `-`")
        if isinstance(n, ast.Compare):
            return self.compare(n)
        if isinstance(n, ast.BinOp):
            ops: dict[type, Callable[[Expr, Expr], Expr]] = {
                ast.Add: lambda x, y: x + y,
                ast.Sub: lambda x, y: x - y,
                ast.Mult: lambda x, y: x * y,
                ast.Mod: lambda x, y: x % y,
                ast.FloorDiv: lambda x, y: x // y,
            }
            f = ops.get(type(n.op))
            at = self.src.after(n.left)
            if f is None:
                raise Located(at, "operator not allowed; expected + - * % // on integers")
            a, b = self.pair(n.left, n.right)
            try:
                return f(a, b)
            except ModelError:
                sym = _OP_SYMBOL[type(n.op)]
                extra = (
                    " (% and // need a positive constant divisor)"
                    if isinstance(n.op, ast.Mod | ast.FloorDiv)
                    else ""
                )
                raise Located(
                    at,
                    f"cannot apply {sym} to {a.sort.describe()} and {b.sort.describe()}; "
                    f"expected integers{extra}",
                ) from None
        if isinstance(n, ast.IfExp):
            c = self.bool(n.test)
            a, b = self.pair(n.body, n.orelse)
            return self.ite(n, c, a, b)
        if isinstance(n, ast.Call):
            return self.call(n)
        if isinstance(n, ast.Name | ast.Attribute | ast.Subscript):
            return self.name(n)
        raise self.err(
            n,
            f"{type(n).__name__} is not allowed in a formula; expected names, integers, "
            "comparisons, and/or/not/implies, + - * % // and the formula functions",
        )

    def ite(self, n: ast.AST, c: Expr, a: Expr, b: Expr) -> Expr:
        if a.sort != b.sort:
            raise self.err(
                n,
                f"the two branches have different sorts, {a.sort.describe()} and "
                f"{b.sort.describe()}; expected branches of one sort",
            )
        return E.ite(c, a, b)

    def compare(self, n: ast.Compare) -> Expr:
        parts: list[Expr] = []
        left = n.left
        for op, right in zip(n.ops, n.comparators, strict=True):
            at = self.src.after(left)
            a, b = self.pair(left, right)
            if isinstance(op, ast.Eq | ast.NotEq):
                if a.sort != b.sort:
                    hint = ""
                    for s in (a.sort, b.sort):
                        if isinstance(s, EnumType):
                            hint = f" (values of enum {s.name}: {', '.join(s.values)})"
                    raise Located(
                        at,
                        f"cannot compare {a.sort.describe()} with {b.sort.describe()}; "
                        f"expected two operands of one sort{hint}",
                    )
                parts.append(E.eq(a, b) if isinstance(op, ast.Eq) else E.ne(a, b))
            elif isinstance(op, ast.Lt | ast.LtE | ast.Gt | ast.GtE):
                sym = _OP_SYMBOL[type(op)]
                if isinstance(a.sort, SeqType) or isinstance(b.sort, SeqType):
                    raise Located(
                        at,
                        f"sequence numbers cannot be ordered with {sym}: they are compared "
                        "modulo 2**bits; expected seq_lt, seq_le, seq_gt or seq_ge "
                        "(RFC 9293 3.4)",
                    )
                if a.sort != INT or b.sort != INT:
                    sorts = (
                        a.sort.describe()
                        if a.sort == b.sort
                        else f"{a.sort.describe()} and {b.sort.describe()}"
                    )
                    hint = ""
                    if isinstance(a.sort, EnumType) or isinstance(b.sort, EnumType):
                        hint = " (enum values have no order: compare them with == or !=)"
                    elif a.sort == BOOL or b.sort == BOOL:
                        hint = " (for Bools use and, or, not, implies)"
                    raise Located(
                        at, f"cannot order {sorts} values with {sym}; expected integers{hint}"
                    )
                m = {ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge"}[type(op)]
                parts.append(getattr(a, m)(b))
            else:
                raise Located(at, "comparison not allowed; expected == != < <= > >=")
            left = right
        return E.and_(*parts)

    def call(self, n: ast.Call) -> Expr:
        allowed = ", ".join(sorted(k for k in _SIGNATURES if not k.startswith("_")))
        if not isinstance(n.func, ast.Name) or n.keywords:
            raise self.err(
                n, f"only plain calls of the formula functions are allowed; expected {allowed}"
            )
        fn = n.func.id
        args = n.args
        arity = {k: 2 if k == IMPLIES else v.count(",") + 1 for k, v in _SIGNATURES.items()}
        if fn in TEMPORAL or fn in LATER or fn == EXISTS_FORALL:
            raise self.err(
                n, f"{fn}(...) may only appear at the top of a formula; expected a predicate here"
            )
        if fn not in arity:
            raise self.err(n, f"unknown function {fn!r}; expected one of: {allowed}")
        if len(args) != arity[fn]:
            raise self.err(
                n,
                f"{fn} takes {arity[fn]} arguments, got {len(args)}; expected {_SIGNATURES[fn]}",
            )
        if fn in (IMPLIES, "implies"):
            return E.implies(self.bool(args[0]), self.bool(args[1]))
        if fn in ("forall", "exists"):
            return self.quantified(n, fn, args[0], args[1])
        if fn == "ite":
            c = self.bool(args[0])
            a, b = self.pair(args[1], args[2])
            return self.ite(n, c, a, b)
        if fn == "in_window":
            x, r = self.pair(args[0], args[1])
            w = self.expr(args[2])
            if not (isinstance(x.sort, SeqType) and x.sort == r.sort and w.sort == INT):
                raise self.err(
                    n,
                    f"in_window({x.sort.describe()}, {r.sort.describe()}, {w.sort.describe()}) "
                    "is ill-typed; expected two sequence numbers of one width and an integer",
                )
            return E.in_window(x, r, w)
        if fn == "seq_to_int":
            # A sequence number's value 0 .. 2**bits - 1 as an integer: for ordering numbers
            # known not to wrap, e.g. ages seq_to_int(isn.b - b.iss) in invariants.
            x = self.expr(args[0])
            if not isinstance(x.sort, SeqType):
                raise self.err(
                    n, f"seq_to_int of {x.sort.describe()}; expected a sequence number (Seq)"
                )
            return E.seq_to_int(x)
        a, b = self.pair(args[0], args[1])
        if fn.startswith("seq_") and not (isinstance(a.sort, SeqType) and a.sort == b.sort):
            raise self.err(
                n,
                f"{fn} compares sequence numbers, got {a.sort.describe()} and "
                f"{b.sort.describe()}; expected two Seq operands of one width "
                "(order integers with < <= > >=)",
            )
        if fn in ("min", "max") and not (a.sort == b.sort == INT):
            raise self.err(
                n,
                f"{fn} of {a.sort.describe()} and {b.sort.describe()}; expected two integers",
            )
        f = {
            "seq_lt": E.seq_lt,
            "seq_le": E.seq_le,
            "seq_gt": E.seq_gt,
            "seq_ge": E.seq_ge,
            "min": E.min_,
            "max": E.max_,
        }[fn]
        return f(a, b)

    def quantified(self, n: ast.Call, fn: str, binder: ast.expr, body: ast.expr) -> Expr:
        """``forall(s in net.ab, p)``: ``p`` holds of every segment in flight in the array
        ``net.ab`` (every slot whose ``present`` is set), with ``s.seq`` naming the slot's
        field; ``exists(s in net.ab, p)``: of some segment in flight."""
        shape = f"{fn}(s in ARRAY, p)"
        if not (
            isinstance(binder, ast.Compare)
            and len(binder.ops) == 1
            and isinstance(binder.ops[0], ast.In)
            and isinstance(binder.left, ast.Name)
        ):
            raise self.err(binder, f"expected `name in ARRAY` as the first argument of {shape}")
        var = binder.left.id
        array = dotted_name(binder.comparators[0])
        # The model's arrays whose slots say whether they hold a record.
        arrays = {a.name: a for a in self.system.arrays if "present" in dict(a.fields)}
        found = arrays.get(array) if array is not None else None
        slots = [f"{array}[{i}]" for i in range(found.capacity)] if found else []
        if not slots:
            raise self.err(
                binder.comparators[0],
                f"{array or '?'} is not an array of model {self.system.name}; expected one "
                f"of: {', '.join(sorted(arrays)) or '(the model has no arrays)'}",
            )
        if var in self.bound or var in self.system.index or var in self.defs:
            raise self.err(binder.left, f"{var!r} is already a name; expected a fresh name")
        parts = []
        for slot in slots:
            self.bound[var] = slot
            try:
                p = self.bool(body)
            finally:
                del self.bound[var]
            present = self.system.ref(f"{slot}.present")
            parts.append(E.implies(present, p) if fn == "forall" else E.and_(present, p))
        return E.and_(*parts) if fn == "forall" else E.or_(*parts)

    def name(self, n: ast.expr) -> Node:
        dotted = dotted_name(n)
        if dotted is None:
            raise self.err(n, "expected a name such as a.state or net[0].seq")
        head, dot, rest = dotted.partition(".")
        if head in self.bound:
            if not dot:
                raise self.err(n, f"{head} is a segment; expected a field such as {head}.seq")
            dotted = f"{self.bound[head]}.{rest}"
        if dotted in self.system.index:
            return self.system.ref(dotted)
        if dotted in self.defs:
            return self.defs[dotted]
        if "." in dotted or "[" in dotted:
            raise self.err(n, self.unknown(dotted))
        return _EnumName(dotted, self.src.node(n))


def dotted_name(n: ast.expr) -> str | None:
    if isinstance(n, ast.Name):
        return n.id
    if isinstance(n, ast.Attribute):
        base = dotted_name(n.value)
        return None if base is None else f"{base}.{n.attr}"
    if isinstance(n, ast.Subscript):
        base = dotted_name(n.value)
        idx = n.slice
        if base is None or not (isinstance(idx, ast.Constant) and isinstance(idx.value, int)):
            return None
        return f"{base}[{idx.value}]"
    return None


def deadlock(system: System) -> Expr:
    """No action enabled, and not a terminal state."""
    return E.and_(E.not_(system.terminal), *(E.not_(a.guard) for a in system.actions))
