"""Expressions as Python source: the text the compiled explorer runs (`py_expr`), and a slow
evaluator built on it for tests and tools (`evaluate`), following the table of
`tcpmodel.kernel.expr`.
"""

from __future__ import annotations

from collections.abc import Mapping

from tcpmodel.errors import ModelError
from tcpmodel.kernel.expr import Const, Expr, Op, Var
from tcpmodel.kernel.system import Value
from tcpmodel.kernel.types import BoolType, SeqType


def py_expr(e: Expr, names: Mapping[str, str], temps: Mapping[Expr, str] | None = None) -> str:
    """Python source for ``e``; ``names`` maps variable names to local names holding values.

    ``temps`` maps sub-expressions already computed into locals to those locals' names.
    """
    if temps and e in temps:
        return temps[e]
    if isinstance(e, Const):
        if isinstance(e.const_sort, BoolType):
            return "True" if e.value else "False"
        return repr(int(e.value))
    if isinstance(e, Var):
        return names[e.name]
    assert isinstance(e, Op)
    a = [py_expr(x, names, temps) for x in e.args]
    op = e.op
    if op == "not":
        return f"(not {a[0]})"
    if op == "and":
        return "(" + " and ".join(a) + ")"
    if op == "or":
        return "(" + " or ".join(a) + ")"
    if op == "implies":
        return f"((not {a[0]}) or {a[1]})"
    binop = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
    if op in binop:
        return f"({a[0]} {binop[op]} {a[1]})"
    if op in ("add", "sub", "mul"):
        sym = {"add": "+", "sub": "-", "mul": "*"}[op]
        if isinstance(e.op_sort, SeqType):
            return f"(({a[0]} {sym} {a[1]}) & {e.op_sort.mask})"
        return f"({a[0]} {sym} {a[1]})"
    if op == "neg":
        return f"(-{a[0]})"
    if op == "mod":
        return f"({a[0]} % {a[1]})"
    if op == "div":
        return f"({a[0]} // {a[1]})"
    if op == "ite":
        return f"({a[1]} if {a[0]} else {a[2]})"
    if op in ("seq_lt", "seq_le", "in_window"):
        s = e.args[0].sort
        assert isinstance(s, SeqType)
        if op == "seq_lt":
            return f"(0 < (({a[1]} - {a[0]}) & {s.mask}) < {s.half})"
        if op == "seq_le":
            return f"((({a[1]} - {a[0]}) & {s.mask}) < {s.half})"
        return f"((({a[0]} - {a[1]}) & {s.mask}) < {a[2]})"
    if op == "seq_to_int":
        return a[0]
    if op == "int_to_seq":
        assert isinstance(e.op_sort, SeqType)
        return f"({a[0]} & {e.op_sort.mask})"
    raise ModelError(f"cannot compile operator {op!r}")


def evaluate(e: Expr, env: dict[str, Value]) -> Value:
    """Evaluate ``e`` under ``env`` (variable name -> value); slow, for tests and tools."""
    names = {k: f"_v[{k!r}]" for k in e.variables()}
    result: Value = eval(py_expr(e, names), {"__builtins__": {}}, {"_v": env})
    return result
