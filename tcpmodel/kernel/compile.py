"""Compile a `System` to Python source for the explicit explorer.

Representation: a state is a ``bytes`` object, the concatenation of every variable's code in
``width(vtype)`` big-endian bytes, in variable order (see `tcpmodel.kernel.types`).  ``bytes`` is
hashable, caches its hash, and unpacks into locals in one bytecode, which is what makes the
explorer fast; array slots are contiguous, so canonical order is a sort of byte tuples.

Generated functions (one ``exec`` per system, so the hot loop runs without interpretation of
the expression tree):

* ``step(s, seen, push) -> int``: every successor of ``s`` not in ``seen`` is added to it and
  passed to ``push``; returns the number of enabled transitions.
* ``successors(s) -> list[(action_index, bytes)]``: every transition, labelled, in action order.
* ``flags(s) -> int``: bit ``i`` is set iff predicate ``i`` of a given list holds in ``s``.

Expressions become Python expressions following the table of `tcpmodel.kernel.expr`; an update
that leaves an `IntType` range raises `ModelError` naming the action and the variable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tcpmodel.errors import ModelError
from tcpmodel.kernel.expr import Const, Expr, Op, Var
from tcpmodel.kernel.system import Action, System, Value
from tcpmodel.kernel.types import (
    BoolType,
    EnumType,
    IntType,
    SeqType,
    decode,
    encode,
    width,
)

StepFn = Callable[[bytes, set[bytes], Callable[[bytes], None]], int]
SuccFn = Callable[[bytes], list[tuple[int, bytes]]]
FlagsFn = Callable[[bytes], int]


def py_expr(e: Expr, names: dict[str, str]) -> str:
    """Python source for ``e``; ``names`` maps variable names to local names holding values."""
    if isinstance(e, Const):
        if isinstance(e.const_sort, BoolType):
            return "True" if e.value else "False"
        return repr(int(e.value))
    if isinstance(e, Var):
        return names[e.name]
    assert isinstance(e, Op)
    a = [py_expr(x, names) for x in e.args]
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


@dataclass(frozen=True, slots=True)
class Layout:
    """Byte offsets and widths of every variable of a system."""

    offsets: tuple[int, ...]
    widths: tuple[int, ...]
    size: int


def layout_of(system: System) -> Layout:
    offs: list[int] = []
    wids: list[int] = []
    pos = 0
    for v in system.variables:
        w = width(v.vtype)
        offs.append(pos)
        wids.append(w)
        pos += w
    return Layout(tuple(offs), tuple(wids), pos)


class Compiled:
    """The generated functions of one system and conversions between values and bytes."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.layout = layout_of(system)
        self._gen = _Generator(system, self.layout)
        ns: dict[str, object] = {
            "_range_error": self._range_error,
            "sorted": sorted,
            "bytes": bytes,
        }
        src = self._gen.module()
        self.source = src
        exec(compile(src, f"<tcpmodel:{system.name}>", "exec"), ns)
        self.step: StepFn = ns["step"]  # type: ignore[assignment]
        self.successors: SuccFn = ns["successors"]  # type: ignore[assignment]

    def _range_error(self, action: int, var: int, value: int) -> None:
        a = self.system.actions[action]
        v = self.system.variables[var]
        raise ModelError(
            f"action {a.label} sets {v.name} to {value}, outside {v.vtype.describe()}; "
            "widen the variable's range or strengthen the action's guard"
        )

    def flags(self, preds: Sequence[Expr]) -> FlagsFn:
        """A function giving the bitmask of which of ``preds`` hold in a state."""
        body = " | ".join(
            f"({py_expr(p, self._gen.names)} and {1 << i})" for i, p in enumerate(preds)
        )
        src = f"def flags(s):\n{self._gen.unpack()}    return 0 | {body or '0'}\n"
        ns: dict[str, object] = {}
        exec(compile(src, "<tcpmodel:flags>", "exec"), ns)
        return ns["flags"]  # type: ignore[return-value]

    def encode(self, values: Sequence[Value]) -> bytes:
        out = bytearray()
        for v, w, x in zip(self.system.variables, self.layout.widths, values, strict=True):
            out += encode(v.vtype, x).to_bytes(w, "big")
        return bytes(out)

    def decode(self, s: bytes) -> tuple[Value, ...]:
        return tuple(
            decode(v.vtype, int.from_bytes(s[o : o + w], "big"))
            for v, o, w in zip(
                self.system.variables, self.layout.offsets, self.layout.widths, strict=False
            )
        )

    def initial(self) -> list[bytes]:
        return list(dict.fromkeys(self.encode(v) for v in self.system.init))


class _Generator:
    def __init__(self, system: System, layout: Layout) -> None:
        self.system = system
        self.layout = layout
        self.names = {v.name: f"v{i}" for i, v in enumerate(system.variables)}
        self._arr_of: dict[int, int] = {}
        for ai, arr in enumerate(system.arrays):
            if arr.ordered:
                continue  # a FIFO keeps its order: its slots are written like scalars
            for slot in range(arr.capacity):
                for vn in arr.slot_vars(slot):
                    self._arr_of[system.index[vn]] = ai

    def unpack(self) -> str:
        """Lines binding ``b0..bN`` to the bytes of ``s`` and ``vK`` to decoded values."""
        n = self.layout.size
        lines = [f"    ({''.join(f'b{j}, ' for j in range(n))}) = s\n"]
        for i, v in enumerate(self.system.variables):
            o, w = self.layout.offsets[i], self.layout.widths[i]
            code = " | ".join(f"(b{o + j} << {8 * (w - 1 - j)})" for j in range(w))
            if w == 1:
                code = f"b{o}"
            lo = v.vtype.lo if isinstance(v.vtype, IntType) else 0
            val = f"({code} + {lo})" if lo else code
            lines.append(f"    v{i} = {val}\n")
        return "".join(lines)

    def _encoded_bytes(self, i: int, value: str) -> list[str]:
        v = self.system.variables[i]
        w = self.layout.widths[i]
        lo = v.vtype.lo if isinstance(v.vtype, IntType) else 0
        code = f"({value} - {lo})" if lo else value
        if w == 1:
            return [code]
        return [f"(({code} >> {8 * (w - 1 - j)}) & 255)" for j in range(w)]

    def action(self, ai: int, a: Action, sink: str) -> str:
        ind = "        "
        lines = [f"    # {a.label}: {a.rule}\n", f"    if {py_expr(a.guard, self.names)}:\n"]
        new: dict[int, str] = {}
        for vn, e in a.updates:
            i = self.system.index[vn]
            lines.append(f"{ind}u{i} = {py_expr(e, self.names)}\n")
            vt = self.system.variables[i].vtype
            if isinstance(vt, IntType):
                lines.append(
                    f"{ind}if not ({vt.lo} <= u{i} <= {vt.hi}): _range_error({ai}, {i}, u{i})\n"
                )
            elif isinstance(vt, EnumType):
                pass  # enum-sorted expressions only produce values of the enum
            new[i] = f"u{i}"
        parts: list[str] = []
        touched = {self._arr_of[i] for i in new if i in self._arr_of}
        done_arrays: set[int] = set()
        for i, _v in enumerate(self.system.variables):
            ai_arr = self._arr_of.get(i)
            if ai_arr is not None and ai_arr in touched:
                if ai_arr in done_arrays:
                    continue
                done_arrays.add(ai_arr)
                arr = self.system.arrays[ai_arr]
                slots = []
                for slot in range(arr.capacity):
                    codes: list[str] = []
                    for vn in arr.slot_vars(slot):
                        k = self.system.index[vn]
                        codes += self._encoded_bytes(k, new.get(k, f"v{k}"))
                    slots.append("(" + ", ".join(codes) + ",)")
                lines.append(f"{ind}_a{ai_arr} = sorted(({', '.join(slots)},), reverse=True)\n")
                parts += [f"*_a{ai_arr}[{slot}]" for slot in range(arr.capacity)]
                continue
            if i in new:
                parts += self._encoded_bytes(i, new[i])
            else:
                o, w = self.layout.offsets[i], self.layout.widths[i]
                parts += [f"b{o + j}" for j in range(w)]
        lines.append(f"{ind}t = bytes(({', '.join(parts)},))\n")
        lines.append(sink.replace("@A", str(ai)))
        return "".join(lines)

    def module(self) -> str:
        step_sink = (
            "        n += 1\n"
            "        if t not in seen:\n"
            "            seen.add(t)\n"
            "            push(t)\n"
        )
        succ_sink = "        out.append((@A, t))\n"
        step = ["def step(s, seen, push):\n", self.unpack(), "    n = 0\n"]
        succ = ["def successors(s):\n", self.unpack(), "    out = []\n"]
        for ai, a in enumerate(self.system.actions):
            step.append(self.action(ai, a, step_sink))
            succ.append(self.action(ai, a, succ_sink))
        step.append("    return n\n")
        succ.append("    return out\n")
        return "".join(step) + "\n" + "".join(succ)
