"""Constrained Horn clauses solved by Z3's Spacer: a proof with an inductive invariant.

For each property the system becomes three clauses over one unknown predicate ``Inv`` of the
state variables (the `tcpmodel.engines.symbolic` encoding, with mathematical integers, which
Spacer generalises best)::

    init(s)                                   => Inv(s)
    Inv(s) and trans(s, act, s')              => Inv(s')
    Inv(s) and (bad(s) or not range_ok(s))    => false

``sat`` means an inductive invariant exists: Spacer's interpretation of ``Inv`` is checked
again by a plain solver (initiation, consecution, safety; a failure is a `ReplayError`, an
internal soundness failure), and the property is ``proved`` (``unreachable`` for
``reachable(p)``) with the text in ``Outcome.invariant`` (and ``reason = "invariant: <text>"``
for people).  The text is in the formula language over the model's variable names (enum values
by name), and is parsed back and checked equivalent to Spacer's on the variables' domains;
where that fails (e.g. bit-vector operators with no formula syntax) it is Z3's own printing,
marked ``(Z3 syntax)``.

With a time limit, each property has an equal share of the time left when its turn comes.
``unsat`` means a bad state is reachable: `tcpmodel.engines.bmc` then finds a shortest
counterexample or witness (replayed) within the remaining bounds, or raises the explorer's
`ModelError` if what is reachable is an update out of range; when bmc finds none in time the
verdict is ``unknown`` (a verdict without a trace to replay is not shown), its reason saying
what Spacer found.  Solver time limits give
``unknown``.  `Stats` are those of the symbolic engines (``states`` 0, ``depth`` that of the
bmc run if one was needed).
"""

from __future__ import annotations

from collections.abc import Sequence

import z3

from tcpmodel.engines.bmc import bmc
from tcpmodel.engines.search import NO_BOUNDS, Bounds, ProgressFn, Proof, bad_of, rss_mb, verdict
from tcpmodel.engines.symbolic import Budget, Encoding, Stopped, safety_only
from tcpmodel.errors import FormulaError, ReplayError
from tcpmodel.formula import Property, parse_property
from tcpmodel.kernel import smt
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.smt import Term
from tcpmodel.kernel.system import System
from tcpmodel.kernel.types import EnumType, VarType
from tcpmodel.results import Outcome, Stats


def chc(
    system: System,
    properties: Sequence[Property],
    bounds: Bounds = NO_BOUNDS,
    progress: ProgressFn | None = None,
    compiled: Compiled | None = None,
) -> tuple[dict[str, Outcome], Stats]:
    """Prove ``properties`` with Spacer; see the module docstring."""
    properties, skipped = safety_only(properties, "chc")
    c = compiled or Compiled(system)
    budget = Budget.of(bounds.timeout, bounds.interrupt)
    enc = Encoding(system, theory=smt.INTEGERS)
    out: dict[str, Outcome] = {}
    refuted: list[Property] = []
    for n, p in enumerate(properties):
        share = budget
        if bounds.timeout is not None:  # the time left, shared by the properties left
            left = max(0.0, bounds.timeout - budget.seconds)
            share = Budget.of(left / (len(properties) - n), bounds.interrupt)
        try:
            inv = _solve(enc, enc.pred(bad_of(p)), share)
        except Stopped as s:
            why = s.reason
            if share is not budget and share.expired() and not share.interrupted():
                why = f"{budget.reason()} (this property's share: {share.timeout or 0:.1f} s)"
            why = "interrupted while Spacer searched" if share.interrupted() else f"Spacer: {why}"
            out[p.name] = Outcome("unknown", reason=why)
            continue
        if inv is None:
            refuted.append(p)
            continue
        text = readable(enc, inv)
        out[p.name] = verdict(p, None, Proof("invariant: " + text, proved=True, invariant=text), "")
    depth = 0
    if refuted:
        rest = None if bounds.timeout is None else max(0.0, bounds.timeout - budget.seconds)
        found, st = bmc(
            system,
            refuted,
            Bounds(bounds.max_depth, timeout=rest, interrupt=bounds.interrupt),
            progress,
            c,
        )
        depth = st.depth
        for p in refuted:
            o = found[p.name]
            if o.verdict == "unknown":  # no trace to replay: not a verdict to show
                said = "violated" if p.kind == "always" else "reachable"
                o = Outcome(
                    "unknown",
                    reason=f"Spacer says {said} (a bad state is reachable), but bmc found no "
                    f"trace to replay and show: {o.reason}",
                )
            out[p.name] = o
    stats = Stats(0, 0, depth, budget.seconds, rss_mb(), False)
    return {**{p.name: out[p.name] for p in properties}, **skipped}, stats


def _solve(enc: Encoding, bad: Term, budget: Budget) -> Term | None:
    """Spacer's invariant over ``enc.cur`` excluding ``bad``, checked; ``None`` if ``bad`` is
    reachable."""
    cur = [enc.cur[n] for n in enc.names]
    nxt = [enc.nxt[n] for n in enc.names]
    inv = z3.Function("Inv", *(x.sort() for x in cur), z3.BoolSort())
    s = z3.SolverFor("HORN")
    s.add(z3.ForAll(cur, z3.Implies(enc.init, inv(*cur))))
    s.add(z3.ForAll([*cur, *nxt, enc.act], z3.Implies(z3.And(inv(*cur), enc.trans), inv(*nxt))))
    unsafe = z3.Or(bad, z3.Not(enc.range_ok))
    s.add(z3.ForAll(cur, z3.Implies(z3.And(inv(*cur), unsafe), z3.BoolVal(False))))
    if budget.check(s) == z3.unsat:
        return None
    body = _interpretation(s.model(), inv, cur)
    _verify(enc, body, unsafe, budget)
    return body


def _interpretation(m: z3.ModelRef, f: z3.FuncDeclRef, args: Sequence[Term]) -> Term:
    """``f(args)`` as ``m`` defines it.  (Evaluating ``f(args)`` in ``m`` is not enough: the
    model may also give values to the constants that stand for the clauses' bound variables.)"""
    interp = m[f]
    if isinstance(interp, z3.QuantifierRef | z3.BoolRef):  # an interpretation as a lambda
        return z3.simplify(m.eval(f(*args), model_completion=False))
    body = z3.substitute_vars(interp.else_value(), *args)
    for i in range(interp.num_entries()):
        e = interp.entry(i)
        at = z3.And(*(a == e.arg_value(j) for j, a in enumerate(args)))
        body = z3.If(at, e.value(), body)
    return body


def _verify(enc: Encoding, body: Term, unsafe: Term, budget: Budget) -> None:
    """Check that ``body`` is an inductive invariant that excludes ``unsafe``."""
    pairs = [(enc.cur[n], enc.nxt[n]) for n in enc.names]
    primed = z3.substitute(body, *pairs)
    for what, f in (
        ("initiation", z3.And(enc.init, z3.Not(body))),
        ("consecution", z3.And(body, enc.trans, z3.Not(primed))),
        ("safety", z3.And(body, unsafe)),
    ):
        s = z3.Solver()
        s.add(f)
        if budget.check(s) != z3.unsat:
            raise ReplayError(f"Spacer's invariant fails {what}: {body}")


def readable(enc: Encoding, body: Term) -> str:
    """``body`` in the formula language if it reads back to the same set of (in-domain)
    states, else in Z3's syntax."""
    try:
        text = _Printer(enc).show(body)
        back = parse_property("invariant", f"always({text})", enc.system).predicate
    except (_NoSyntax, FormulaError):
        return f"{body} (Z3 syntax)".replace("\n", " ")
    s = z3.Solver()
    s.add(enc.domain, z3.Xor(enc.pred(back), body))
    if s.check() != z3.unsat:
        return f"{body} (Z3 syntax)".replace("\n", " ")
    return text


class _NoSyntax(Exception):
    """A Z3 operator with no counterpart in the formula language."""


_CMP = {
    z3.Z3_OP_EQ: "==",
    z3.Z3_OP_LE: "<=",
    z3.Z3_OP_LT: "<",
    z3.Z3_OP_GE: ">=",
    z3.Z3_OP_GT: ">",
}
_ARITH = {z3.Z3_OP_ADD: "+", z3.Z3_OP_SUB: "-", z3.Z3_OP_MUL: "*", z3.Z3_OP_BADD: "+"}


class _Printer:
    """Z3 terms over ``enc.cur`` as formula text (see `tcpmodel.formula`)."""

    def __init__(self, enc: Encoding) -> None:
        self.names = {enc.cur[n].get_id(): n for n in enc.names}
        self.types: dict[str, VarType] = enc.types

    def show(self, t: Term) -> str:
        if z3.is_true(t):
            return "True"
        if z3.is_false(t):
            return "False"
        if z3.is_int_value(t) or z3.is_bv_value(t):
            return str(t.as_long())
        if t.get_id() in self.names:
            return self.names[t.get_id()]
        k = t.decl().kind()
        args = t.children()
        if k in (z3.Z3_OP_AND, z3.Z3_OP_OR):
            unit, zero = ("True", "False") if k == z3.Z3_OP_AND else ("False", "True")
            parts = [p for p in (self._paren(a) for a in args) if p != unit]
            if zero in parts:
                return zero
            word = " and " if k == z3.Z3_OP_AND else " or "
            return word.join(dict.fromkeys(parts)) if parts else unit
        if k == z3.Z3_OP_NOT:
            inner = args[0]
            if inner.decl().kind() in _CMP:
                a, b = inner.children()
                return self._compare(_CMP[inner.decl().kind()], a, b, negate=True)
            if inner.decl().kind() == z3.Z3_OP_DISTINCT and inner.num_args() == 2:
                return self._compare("==", *inner.children())
            text = self._paren(inner)
            return {"True": "False", "False": "True"}.get(text, f"not {text}")
        if k == z3.Z3_OP_IMPLIES:
            return f"{self._paren(args[0])} implies {self._paren(args[1])}"
        if k == z3.Z3_OP_DISTINCT and len(args) == 2:
            return self._compare("==", args[0], args[1], negate=True)
        if k in _CMP:
            return self._compare(_CMP[k], args[0], args[1])
        if k in _ARITH:
            return f" {_ARITH[k]} ".join(self._paren(a) for a in args)
        if k == z3.Z3_OP_UMINUS:
            return f"-{self._paren(args[0])}"
        if k == z3.Z3_OP_ITE:
            c, a, b = (self.show(x) for x in args)
            return f"ite({c}, {a}, {b})"
        raise _NoSyntax(str(t))

    def _paren(self, t: Term) -> str:
        s = self.show(t)
        simple = t.get_id() in self.names or t.num_args() == 0 or " " not in s
        return s if simple else f"({s})"

    def _enum(self, t: Term) -> EnumType | None:
        name = self.names.get(t.get_id())
        vt = self.types.get(name) if name is not None else None
        return vt if isinstance(vt, EnumType) else None

    def _compare(self, op: str, a: Term, b: Term, negate: bool = False) -> str:
        """``a op b`` (or its negation), an enum compared with a constant as a set of names."""
        et, k = self._enum(a), b
        if et is None and self._enum(b) is not None:
            et, a, k = self._enum(b), b, a
            op = {"==": "==", "<=": ">=", "<": ">", ">=": "<=", ">": "<"}[op]
        if et is None or not z3.is_int_value(k):
            if negate:
                op = {"==": "!=", "<=": ">", "<": ">=", ">=": "<", ">": "<="}[op]
            return f"{self._paren(a)} {op} {self._paren(k)}"
        v = int(k.as_long())

        def test(i: int) -> bool:
            holds = {"==": i == v, "<=": i <= v, "<": i < v, ">=": i >= v, ">": i > v}[op]
            return holds != negate

        name = self.names[a.get_id()]
        inside = [x for i, x in enumerate(et.values) if test(i)]
        outside = [x for i, x in enumerate(et.values) if not test(i)]
        if not inside:
            return "False"
        if not outside:
            return "True"
        if len(inside) <= len(outside):
            return " or ".join(f"{name} == {x}" for x in inside)
        return " and ".join(f"{name} != {x}" for x in outside)
