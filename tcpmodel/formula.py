"""Property formulas: parsed with Python's `ast` module against a whitelist, never evaluated.

Grammar (a formula is one temporal operator applied to a state predicate)::

    formula   := "always(" pred ")" | "reachable(" pred ")"
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
operator, so the text is first rewritten token by token, ``p implies q`` becoming
``__implies__(p, q)``, with a map from rewritten to original columns so that every error points
at the user's text.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from tcpmodel.errors import FormulaError, ModelError
from tcpmodel.kernel import expr as E
from tcpmodel.kernel.expr import Expr
from tcpmodel.kernel.system import System
from tcpmodel.kernel.types import BOOL, INT, EnumType, SeqType, Sort

Kind = Literal["always", "reachable"]
TEMPORAL: tuple[str, ...] = ("always", "reachable")
LATER = ("eventually", "until", "leads_to", "next")


@dataclass(frozen=True, slots=True)
class Property:
    """A checkable property: ``always(predicate)`` or ``reachable(predicate)``."""

    name: str
    kind: Kind
    predicate: Expr
    formula: str
    doc: str = ""


class _Located(Exception):
    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


def parse_property(name: str, text: str, system: System, doc: str = "") -> Property:
    """Parse ``text``; raise `FormulaError` whose message starts with ``column N:``."""
    flat = text.replace("\n", " ").replace("\r", " ").replace("\t", " ")
    try:
        src, cmap = _rewrite_implies(flat)
        try:
            tree = ast.parse(src.strip() and src, mode="eval")
        except SyntaxError as e:
            off = (e.offset or 1) - 1
            raise _Located(cmap[min(off, len(cmap) - 1)] if cmap else 0, "syntax error") from None
        body = tree.body
        kind, pred_node = _temporal(body, cmap)
        pred = _Translator(system, cmap).bool(pred_node)
    except _Located as e:
        raise FormulaError(f"column {e.offset + 1}: {e.message}") from None
    return Property(name, kind, pred, text, doc)


def _temporal(node: ast.expr, cmap: list[int]) -> tuple[Kind, ast.expr]:
    def at(n: ast.AST) -> int:
        return _col(n, cmap)

    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        fn = node.func.id
        if fn in TEMPORAL:
            if len(node.args) != 1 or node.keywords:
                raise _Located(at(node), f"{fn}(...) takes exactly one state predicate")
            inner = node.args[0]
            for sub in ast.walk(inner):
                if (
                    isinstance(sub, ast.Call)
                    and isinstance(sub.func, ast.Name)
                    and sub.func.id in TEMPORAL + LATER
                ):
                    raise _Located(
                        at(sub),
                        f"{sub.func.id}(...) cannot be nested inside {fn}(...); "
                        "this version checks always(p) and reachable(p) of a state predicate p",
                    )
            return fn, inner  # type: ignore[return-value]
        if fn in LATER:
            raise _Located(
                at(node),
                f"{fn}(...) is a liveness operator, not supported yet; "
                "use always(p) or reachable(p)",
            )
    raise _Located(
        at(node),
        "a property must be always(<predicate>) or reachable(<predicate>)",
    )


def _col(n: ast.AST, cmap: list[int]) -> int:
    off = getattr(n, "col_offset", 0)
    return cmap[min(off, len(cmap) - 1)] if cmap else 0


class _EnumName:
    """A bare name not yet typed: an enum value waiting for the sort of its context."""

    def __init__(self, name: str, offset: int) -> None:
        self.name = name
        self.offset = offset


Node = Expr | _EnumName


class _Translator:
    def __init__(self, system: System, cmap: list[int]) -> None:
        self.system = system
        self.cmap = cmap
        self.enums: dict[str, list[EnumType]] = {}
        for v in system.variables:
            if isinstance(v.vtype, EnumType):
                for val in v.vtype.values:
                    lst = self.enums.setdefault(val, [])
                    if v.vtype not in lst:
                        lst.append(v.vtype)
        self.defs = dict(system.definitions)
        self.defs.setdefault("deadlock", _deadlock(system))

    def err(self, n: ast.AST, msg: str) -> _Located:
        return _Located(_col(n, self.cmap), msg)

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
            raise _Located(
                r.offset,
                f"{r.name} is not a value of enum {like.name}; expected one of "
                f"{', '.join(like.values)}",
            )
        if len(cands) == 1:
            return E.enum_const(cands[0], r.name)
        if len(cands) > 1:
            raise _Located(r.offset, f"{r.name} is ambiguous: compare it with a variable")
        raise _Located(r.offset, self.unknown(r.name))

    def unknown(self, name: str) -> str:
        sample = ", ".join(v.name for v in self.system.variables[:6])
        return (
            f"unknown name {name!r}: not a variable, definition or enum value of model "
            f"{self.system.name} (variables include {sample}; `tcpmodel list` shows all)"
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
            raise self.err(n, str(e)) from None

    def _node(self, n: ast.expr) -> Node:
        if isinstance(n, ast.Constant):
            if isinstance(n.value, bool | int):
                return E.lift(n.value)
            raise self.err(n, f"constant {n.value!r} is not allowed: use integers or True/False")
        if isinstance(n, ast.BoolOp):
            args = [self.bool(v) for v in n.values]
            return E.and_(*args) if isinstance(n.op, ast.And) else E.or_(*args)
        if isinstance(n, ast.UnaryOp):
            if isinstance(n.op, ast.Not):
                return E.not_(self.bool(n.operand))
            if isinstance(n.op, ast.USub):
                return -self.expr(n.operand)
            raise self.err(n, "only `not` and unary `-` are allowed")
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
            if f is None:
                raise self.err(n, "operator not allowed: use + - * % // on integers")
            a, b = self.pair(n.left, n.right)
            return f(a, b)
        if isinstance(n, ast.IfExp):
            c = self.bool(n.test)
            a, b = self.pair(n.body, n.orelse)
            return E.ite(c, a, b)
        if isinstance(n, ast.Call):
            return self.call(n)
        if isinstance(n, ast.Name | ast.Attribute | ast.Subscript):
            return self.name(n)
        raise self.err(n, f"{type(n).__name__} is not allowed in a formula")

    def compare(self, n: ast.Compare) -> Expr:
        parts: list[Expr] = []
        left = n.left
        for op, right in zip(n.ops, n.comparators, strict=True):
            a, b = self.pair(left, right)
            if isinstance(op, ast.Eq):
                parts.append(E.eq(a, b))
            elif isinstance(op, ast.NotEq):
                parts.append(E.ne(a, b))
            elif isinstance(op, ast.Lt | ast.LtE | ast.Gt | ast.GtE):
                if isinstance(a.sort, SeqType) or isinstance(b.sort, SeqType):
                    raise self.err(
                        n,
                        "sequence numbers are compared modulo 2**bits: use seq_lt, seq_le, "
                        "seq_gt or seq_ge (RFC 9293 3.4)",
                    )
                if a.sort != INT or b.sort != INT:
                    raise self.err(n, f"cannot order {a.sort.describe()} values")
                m = {ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge"}[type(op)]
                parts.append(getattr(a, m)(b))
            else:
                raise self.err(n, "comparison not allowed: use == != < <= > >=")
            left = right
        return E.and_(*parts)

    def call(self, n: ast.Call) -> Expr:
        if not isinstance(n.func, ast.Name) or n.keywords:
            raise self.err(n, "only calls of the formula functions are allowed")
        fn = n.func.id
        args = n.args
        arity = {
            "__implies__": 2,
            "implies": 2,
            "seq_lt": 2,
            "seq_le": 2,
            "seq_gt": 2,
            "seq_ge": 2,
            "in_window": 3,
            "ite": 3,
            "min": 2,
            "max": 2,
        }
        if fn in TEMPORAL or fn in LATER:
            raise self.err(n, f"{fn}(...) may only appear at the top of a formula")
        if fn not in arity:
            raise self.err(
                n,
                f"unknown function {fn!r}; allowed: "
                + ", ".join(sorted(k for k in arity if not k.startswith("_"))),
            )
        if len(args) != arity[fn]:
            raise self.err(n, f"{fn} takes {arity[fn]} arguments, got {len(args)}")
        if fn in ("__implies__", "implies"):
            return E.implies(self.bool(args[0]), self.bool(args[1]))
        if fn == "ite":
            c = self.bool(args[0])
            a, b = self.pair(args[1], args[2])
            return E.ite(c, a, b)
        if fn == "in_window":
            x, r = self.pair(args[0], args[1])
            return E.in_window(x, r, self.expr(args[2]))
        a, b = self.pair(args[0], args[1])
        f = {
            "seq_lt": E.seq_lt,
            "seq_le": E.seq_le,
            "seq_gt": E.seq_gt,
            "seq_ge": E.seq_ge,
            "min": E.min_,
            "max": E.max_,
        }[fn]
        return f(a, b)

    def name(self, n: ast.expr) -> Node:
        dotted = _dotted(n)
        if dotted is None:
            raise self.err(n, "expected a name such as a.state or net[0].seq")
        if dotted in self.system.index:
            return self.system.ref(dotted)
        if dotted in self.defs:
            return self.defs[dotted]
        if "." in dotted or "[" in dotted:
            raise self.err(n, self.unknown(dotted))
        return _EnumName(dotted, _col(n, self.cmap))


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


def _rewrite_implies(text: str) -> tuple[str, list[int]]:
    """Rewrite ``p implies q`` as ``__implies__(p, q)``; return the text and a column map.

    ``cmap[k]`` is the offset in ``text`` of the character at offset ``k`` of the result.
    """
    try:
        toks = [
            t
            for t in tokenize.generate_tokens(io.StringIO(text).readline)
            if t.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.INDENT)
        ]
    except (tokenize.TokenError, IndentationError) as e:
        raise _Located(len(text) - 1 if text else 0, f"cannot read the formula: {e}") from None
    spans = [(t.start[1], t.end[1], t.string, t.type) for t in toks]
    pieces = _rewrite(spans, 0, len(spans), text)
    out: list[str] = []
    cmap: list[int] = []
    for s, origin in pieces:
        out.append(s)
        for k in range(len(s)):
            cmap.append(origin + k if origin >= 0 else -origin - 1)
    cmap.append(len(text))
    return "".join(out), cmap


Piece = tuple[str, int]  # text, and its offset in the original (or -(offset+1) for inserted)


def _rewrite(spans: list[tuple[int, int, str, int]], i: int, j: int, text: str) -> list[Piece]:
    """Rewrite tokens ``spans[i:j]`` (a balanced sequence)."""
    # Split at top-level commas and `implies` keywords; recurse into bracket groups.
    items: list[list[Piece]] = [[]]
    seps: list[Piece] = []
    cuts_of: list[list[tuple[int, int]]] = [[]]  # per item: (piece index, offset of `implies`)
    k = i
    while k < j:
        s, e, tok, typ = spans[k]
        # keep the gap (spaces) before the token so that `not a` stays two words
        prev_end = spans[k - 1][1] if k > i else s
        if k > i and s > prev_end:
            items[-1].append((" " * (s - prev_end), prev_end))
        if tok in "([{":
            close = _match(spans, k)
            items[-1].append((text[s:e], s))
            items[-1].extend(_rewrite(spans, k + 1, close, text))
            cs, ce, _, _ = spans[close]
            items[-1].append((text[cs:ce], cs))
            k = close + 1
            continue
        if tok == ",":
            seps.append((",", s))
            items.append([])
            cuts_of.append([])
            k += 1
            continue
        is_call = k + 1 < j and spans[k + 1][2] == "("
        if typ == tokenize.NAME and tok == "implies" and not is_call:
            cuts_of[-1].append((len(items[-1]), s))
            k += 1
            continue
        items[-1].append((text[s:e], s))
        k += 1
    out: list[Piece] = []
    for n, item in enumerate(items):
        if n:
            out.append(seps[n - 1])
        cuts = cuts_of[n]
        if not cuts:
            out.extend(item)
            continue
        parts: list[list[Piece]] = []
        last = 0
        for c, _ in cuts:
            parts.append(item[last:c])
            last = c
        parts.append(item[last:])
        for (_, where), p in zip(cuts, parts[:-1], strict=True):
            if not "".join(t for t, _ in p).strip():
                raise _Located(where, "`implies` needs a predicate on each side")
            out.append(("__implies__(", -(where + 1)))
            out.extend(p)
            out.append((", ", -(where + 1)))
        if not "".join(t for t, _ in parts[-1]).strip():
            raise _Located(cuts[-1][1], "`implies` needs a predicate on each side")
        out.extend(parts[-1])
        out.append((")" * len(cuts), -(cuts[-1][1] + 1)))
    return out


def _match(spans: list[tuple[int, int, str, int]], k: int) -> int:
    pairs = {"(": ")", "[": "]", "{": "}"}
    want = [pairs[spans[k][2]]]
    m = k + 1
    while m < len(spans):
        tok = spans[m][2]
        if tok in pairs:
            want.append(pairs[tok])
        elif tok in (")", "]", "}"):
            if tok != want[-1]:
                raise _Located(spans[m][0], f"unbalanced {tok!r}")
            want.pop()
            if not want:
                return m
        m += 1
    raise _Located(spans[k][0], f"{spans[k][2]!r} is never closed")
