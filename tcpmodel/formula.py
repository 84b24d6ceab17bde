"""Property formulas: parsed with Python's `ast` module against a whitelist, never evaluated.

Grammar (a formula is one temporal operator applied to a state predicate)::

    formula   := "always(" pred ")" | "reachable(" pred ")"
               | "exists_forall(" vars "," vars "," pred ")"
    vars      := component.variable | "(" component.variable "," ... ")"
    pred      := pred "implies" pred            (lowest precedence, right-associative)
               | pred "or" pred | pred "and" pred | "not" pred
               | term ("==" | "!=" | "<" | "<=" | ">" | ">=") term ...   (chains allowed)
               | implies(p, q) | seq_lt(x, y) | seq_le | seq_gt | seq_ge | in_window(x, r, w)
               | ite(c, a, b) | a if c else b | min(a, b) | max(a, b)
    term      := term ("+" | "-" | "*" | "%" | "//") term | "-" term | "(" pred ")"
               | component.variable | name[i].field | DEFINITION | ENUM_VALUE | int | True | False

Names resolve against the `System`: ``a.state`` is the variable named ``"a.state"``; a bare name
is a variable, else a definition of the model (``done``, ``deadlock``), else an enum value
written bare (``TIME_WAIT``), typed by what it is compared with.  Python has no ``implies``
operator, so the text is first rewritten by `tcpmodel.formula_source`, ``p implies q``
becoming ``__implies__(p, q)``, with a map from rewritten to original columns so that every
error points at the user's text.  Errors read
``column N: what is wrong; expected ...``.

``exists_forall(S, K, p)`` is a game question (RFC 1948's attacker against a keyed ISN): is there
one value of the strategy variables ``S`` such that, for every value of the secret variables
``K``, a state where ``p`` holds is reachable?  Both must be fixed in the initial state (no
action may change them): their values are those the initial states hold.  A run that reaches
``p`` for some secrets only is a lucky guess, not a counterexample.  The verdict is
``reachable`` or ``unreachable`` (`tcpmodel.check` decides it by exploring the states of each
strategy once).
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from tcpmodel import ltl as ltl_
from tcpmodel.errors import FormulaError, ModelError
from tcpmodel.formula_source import IMPLIES, Located, Source, rewrite_implies, syntax_error
from tcpmodel.kernel import expr as E
from tcpmodel.kernel.expr import Expr
from tcpmodel.kernel.system import System
from tcpmodel.kernel.types import BOOL, INT, EnumType, SeqType, Sort

Kind = Literal["always", "reachable", "ltl", "exists_forall"]
EXISTS_FORALL = "exists_forall"
TEMPORAL: tuple[str, ...] = ("always", "reachable")
LATER = ("eventually", "until", "leads_to", "next")
# LTL operators and their arity.
LTL_OPS = {"always": 1, "eventually": 1, "next": 1, "until": 2, "leads_to": 2}


@dataclass(frozen=True, slots=True)
class Property:
    """A checkable property: ``always(predicate)`` or ``reachable(predicate)`` of a state
    predicate, or (``kind == "ltl"``) any LTL formula over state predicates: ``ltl`` is its
    tree and ``atoms`` the state predicates its `tcpmodel.ltl.Atom` leaves index."""

    name: str
    kind: Kind
    predicate: Expr
    formula: str
    doc: str = ""
    ltl: ltl_.Ltl | None = None
    atoms: tuple[Expr, ...] | None = None
    # exists_forall: the strategy's and the secret's variables (names, in the order given)
    strategy: tuple[str, ...] = ()
    secret: tuple[str, ...] = ()


def parse_property(name: str, text: str, system: System, doc: str = "") -> Property:
    """Parse ``text``; raise `FormulaError` whose message starts with ``column N:``."""
    flat = text.replace("\n", " ").replace("\r", " ").replace("\t", " ")
    try:
        if not flat.strip():
            raise Located(
                0, "empty formula; expected always(<predicate>) or reachable(<predicate>)"
            )
        src, toks = rewrite_implies(flat)
        try:
            tree = ast.parse(src.text, mode="eval")
        except SyntaxError as e:
            raise syntax_error(e, src, flat, toks) from None
        body = tree.body
        tr = _Translator(system, src)
        if (
            isinstance(body, ast.Call)
            and isinstance(body.func, ast.Name)
            and body.func.id == EXISTS_FORALL
        ):
            strategy, secret, pred = _exists_forall(body, tr, src)
            return Property(
                name, "exists_forall", pred, text, doc, strategy=strategy, secret=secret
            )
        if _simple(body):
            kind, pred_node = _temporal(body, src, flat)
            pred = tr.bool(pred_node)
        else:
            b = _LtlBuilder(tr, src)
            f = b.build(body)
            if ltl_.is_state_formula(f):
                raise Located(
                    0,
                    "a property needs a temporal operator; expected always(p), reachable(p) "
                    "or an LTL formula such as eventually(p) or leads_to(p, q)",
                )
            return Property(name, "ltl", E.TRUE, text, doc, f, tuple(b.atoms))
    except Located as e:
        raise FormulaError(f"column {e.offset + 1}: {e.message}") from None
    return Property(name, kind, pred, text, doc)


def _exists_forall(
    node: ast.Call, tr: _Translator, src: Source
) -> tuple[tuple[str, ...], tuple[str, ...], Expr]:
    """``exists_forall(S, K, p)``: the strategy's and the secret's variable names, and ``p``."""
    at = src.node
    shape = "exists_forall(<strategy variable(s)>, <secret variable(s)>, <predicate>)"
    if len(node.args) != 3 or node.keywords:
        raise Located(at(node), f"exists_forall takes three arguments; expected {shape}")
    groups: list[tuple[str, ...]] = []
    for arg, role in zip(node.args[:2], ("strategy", "secret"), strict=True):
        elts = arg.elts if isinstance(arg, ast.Tuple) else [arg]
        names: list[str] = []
        for e in elts:
            dotted = _dotted(e)
            if dotted is None:
                raise Located(
                    at(e), f"the {role} must be state variables such as att.delta; expected {shape}"
                )
            if dotted not in tr.system.index:
                raise Located(at(e), f"the {role} must be state variables: {tr.unknown(dotted)}")
            writer = next((a for a in tr.system.actions for v, _ in a.updates if v == dotted), None)
            if writer is not None:
                raise Located(
                    at(e),
                    f"{dotted} is changed by action {writer.label}; expected a {role} variable "
                    "fixed in the initial state (chosen once, before anything happens)",
                )
            if dotted in names or any(dotted in g for g in groups):
                raise Located(at(e), f"{dotted} is named twice; expected distinct variables")
            names.append(dotted)
        if not names:
            raise Located(at(arg), f"no {role} variable; expected {shape}")
        groups.append(tuple(names))
    pred_node = node.args[2]
    nested = _calls(pred_node, (*TEMPORAL, *LATER, EXISTS_FORALL))
    if nested:
        inner = nested[0].func
        fn = inner.id if isinstance(inner, ast.Name) else "?"
        raise Located(
            at(nested[0]),
            f"{fn}(...) cannot be nested inside exists_forall(...); "
            f"expected a state predicate: {shape}",
        )
    return groups[0], groups[1], tr.bool(pred_node)


def _calls(node: ast.AST, names: tuple[str, ...] | dict[str, int]) -> list[ast.Call]:
    return [
        n
        for n in ast.walk(node)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in names
    ]


def _simple(node: ast.expr) -> bool:
    """``always(p)`` or ``reachable(p)`` of a state predicate ``p`` (or not a temporal formula
    at all, which `_temporal` reports): the safety checker's case."""
    temporal = (*LTL_OPS, "reachable")
    if not _calls(node, temporal):
        return True
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in TEMPORAL
        and not any(_calls(a, temporal) for a in node.args)
    )


class _LtlBuilder:
    """An LTL formula from the ast: temporal operators, ``not``/``and``/``or``/``implies``
    around them, and state predicates (translated by `_Translator`) as atoms."""

    def __init__(self, tr: _Translator, src: Source) -> None:
        self.tr = tr
        self.src = src
        self.atoms: list[Expr] = []
        self.index: dict[Expr, int] = {}

    def atom(self, node: ast.expr) -> ltl_.Ltl:
        e = self.tr.bool(node)
        k = self.index.get(e)
        if k is None:
            k = self.index[e] = len(self.atoms)
            self.atoms.append(e)
        text = ast.unparse(node).replace(f"{IMPLIES}(", "implies(")
        return ltl_.Atom(k, text)

    def build(self, node: ast.expr) -> ltl_.Ltl:
        at = self.src.node
        if not _calls(node, (*LTL_OPS, "reachable")):
            return self.atom(node)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            fn = node.func.id
            if fn == "reachable":
                raise Located(
                    at(node),
                    "reachable(...) cannot be combined with other temporal operators; "
                    "expected eventually(p) inside an LTL formula",
                )
            if fn == IMPLIES and len(node.args) == 2:
                return ltl_.implies(self.build(node.args[0]), self.build(node.args[1]))
            if fn in LTL_OPS:
                n = LTL_OPS[fn]
                if len(node.args) != n or node.keywords:
                    args = "p" if n == 1 else "p, q"
                    raise Located(at(node), f"{fn}(...) takes {n}; expected {fn}({args})")
                a = [self.build(x) for x in node.args]
                if fn == "always":
                    return ltl_.always(a[0])
                if fn == "eventually":
                    return ltl_.eventually(a[0])
                if fn == "next":
                    return ltl_.Next(a[0])
                if fn == "until":
                    return ltl_.Until(a[0], a[1])
                return ltl_.leads_to(a[0], a[1])
        if isinstance(node, ast.BoolOp):
            parts = [self.build(x) for x in node.values]
            out = parts[0]
            for x in parts[1:]:
                out = ltl_.And(out, x) if isinstance(node.op, ast.And) else ltl_.Or(out, x)
            return out
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return ltl_.Not(self.build(node.operand))
        inner = _calls(node, (*LTL_OPS, "reachable"))[0]
        raise Located(
            at(inner),
            f"{inner.func.id}(...) cannot be used inside a value; "  # type: ignore[attr-defined]
            "expected temporal operators combined with not, and, or, implies only",
        )


def _temporal(node: ast.expr, src: Source, flat: str) -> tuple[Kind, ast.expr]:
    at = src.node
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        fn = node.func.id
        if fn in TEMPORAL:
            if len(node.args) != 1 or node.keywords:
                where = node.args[1] if len(node.args) > 1 else node
                raise Located(
                    at(where),
                    f"{fn}(...) takes exactly one state predicate; expected {fn}(<predicate>)",
                )
            inner = node.args[0]
            for sub in ast.walk(inner):
                if (
                    isinstance(sub, ast.Call)
                    and isinstance(sub.func, ast.Name)
                    and sub.func.id in TEMPORAL + LATER
                ):
                    what = (
                        "is a liveness operator, not supported yet, and "
                        if sub.func.id in LATER
                        else ""
                    )
                    raise Located(
                        at(sub),
                        f"{sub.func.id}(...) {what}cannot be nested inside {fn}(...); "
                        "expected a state predicate inside: this version checks always(p) "
                        "and reachable(p) of a state predicate p",
                    )
            return fn, inner  # type: ignore[return-value]
        if fn in LATER:
            raise Located(
                at(node),
                f"{fn}(...) is a liveness operator, not supported yet; "
                "expected always(p) or reachable(p)",
            )
        if fn == IMPLIES and node.args:
            left = node.args[0]
            if (
                isinstance(left, ast.Call)
                and isinstance(left.func, ast.Name)
                and left.func.id in TEMPORAL
            ):
                raise Located(
                    at(node),
                    "`implies` binds more weakly than the temporal operator; expected the "
                    f"implication inside it: {left.func.id}(p implies q)",
                )
    shown = flat.strip()
    raise Located(
        at(node),
        "a property is a temporal operator applied to a state predicate; expected "
        f"always({shown}) or reachable({shown})",
    )


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


class _Translator:
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
        self.defs.setdefault("deadlock", _deadlock(system))
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
        array = _dotted(binder.comparators[0])
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
        dotted = _dotted(n)
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


def _dotted(n: ast.expr) -> str | None:
    if isinstance(n, ast.Name):
        return n.id
    if isinstance(n, ast.Attribute):
        base = _dotted(n.value)
        return None if base is None else f"{base}.{n.attr}"
    if isinstance(n, ast.Subscript):
        base = _dotted(n.value)
        idx = n.slice
        if base is None or not (isinstance(idx, ast.Constant) and isinstance(idx.value, int)):
            return None
        return f"{base}[{idx.value}]"
    return None


def _deadlock(system: System) -> Expr:
    """No action enabled, and not a terminal state."""
    return E.and_(E.not_(system.terminal), *(E.not_(a.guard) for a in system.actions))
