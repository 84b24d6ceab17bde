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
from dataclasses import dataclass
from typing import Literal

from tcpmodel import ltl as ltl_
from tcpmodel.errors import FormulaError
from tcpmodel.formula_source import IMPLIES, Located, Source, rewrite_implies, syntax_error
from tcpmodel.kernel import expr as E
from tcpmodel.kernel.expr import Expr
from tcpmodel.kernel.system import System
from tcpmodel.predicate import EXISTS_FORALL, LATER, TEMPORAL, Translator, dotted_name

Kind = Literal["always", "reachable", "ltl", "exists_forall"]
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
        tr = Translator(system, src)
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
    node: ast.Call, tr: Translator, src: Source
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
            dotted = dotted_name(e)
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
    around them, and state predicates (translated by `Translator`) as atoms."""

    def __init__(self, tr: Translator, src: Source) -> None:
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
