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

``step`` and ``successors`` expect a canonical ``s`` (as every initial state and successor is).
Before emitting code, guards and updates are simplified (`tcpmodel.kernel.analysis`: constants
folded, Bool ``ite``s turned into connectives), sub-expressions repeated within a run of
actions sharing a guard are computed once, range checks are dropped where interval analysis
proves them unnecessary, and slot arrays are put in canonical order by a sorting network, or
not at all when an action only removes records.

Expressions become Python expressions (`tcpmodel.kernel.pyexpr`) following the table of
`tcpmodel.kernel.expr`; an update that leaves an `IntType` range raises `ModelError` naming
the action and the variable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tcpmodel.errors import ModelError
from tcpmodel.kernel.analysis import interval, is_const, refine, simplify
from tcpmodel.kernel.expr import Const, Expr, Op, Var
from tcpmodel.kernel.pyexpr import py_expr
from tcpmodel.kernel.system import Action, System, Value
from tcpmodel.kernel.types import (
    IntType,
    decode,
    encode,
    width,
)

StepFn = Callable[[bytes, set[bytes], Callable[[bytes], None]], int]
SuccFn = Callable[[bytes], list[tuple[int, bytes]]]
FlagsFn = Callable[[bytes], int]


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


class StateCodec:
    """Conversions between values (in variable order) and the byte states of `Layout`."""

    system: System
    layout: Layout

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


class Compiled(StateCodec):
    """The generated functions of one system and conversions between values and bytes.

    ``step`` and ``successors`` are generated together (one pass over the actions) and each
    compiled by CPython the first time it is used: an explorer needs ``step``, the trace-guided
    search of ``validate`` and replay need ``successors``, and compiling the source is about
    half the cost of a configuration."""

    _gen: _Generator
    _sources: dict[str, str]
    _functions: dict[str, Callable[..., Any]]

    def __init__(self, system: System, same_code_as: Compiled | None = None) -> None:
        """Compile ``system``; or, given ``same_code_as`` (a compiled system with the same
        variables and actions, e.g. other initial states), reuse its generated code."""
        self.system = system
        if same_code_as is not None:
            other = same_code_as.system
            if (other.variables, other.actions) != (system.variables, system.actions):
                raise ValueError(
                    f"{system.name}: not the same variables and actions as {other.name}"
                )
            self.layout = same_code_as.layout
            self._gen = same_code_as._gen
            self._sources = same_code_as._sources
            self._functions = same_code_as._functions
            return
        self.layout = layout_of(system)
        self._gen = _Generator(system, self.layout)
        self._sources = self._gen.functions()
        self._functions = {}

    @property
    def source(self) -> str:
        """The generated Python of ``step`` and ``successors``."""
        return self._sources["step"] + "\n" + self._sources["successors"]

    @property
    def step(self) -> StepFn:
        """``step(s, seen, push) -> int``: see the module docstring."""
        return self._function("step")

    @property
    def successors(self) -> SuccFn:
        """``successors(s) -> [(action, state)]``: see the module docstring."""
        return self._function("successors")

    def _function(self, name: str) -> Callable[..., Any]:
        fn = self._functions.get(name)
        if fn is None:
            ns: dict[str, object] = {
                "_range_error": self._range_error,
                "sorted": sorted,
                "bytes": bytes,
            }
            code = compile(self._sources[name], f"<tcpmodel:{self.system.name}:{name}>", "exec")
            exec(code, ns)
            made = ns[name]
            assert callable(made)
            fn = self._functions[name] = made
        return fn

    def _range_error(self, action: int, var: int, value: int) -> None:
        a = self.system.actions[action]
        v = self.system.variables[var]
        raise ModelError(
            f"action {a.label} sets {v.name} to {value}, outside {v.vtype.describe()}; "
            "widen the variable's range or strengthen the action's guard"
        )

    def flags(self, preds: Sequence[Expr]) -> FlagsFn:
        """A function giving the bitmask of which of ``preds`` hold in a state."""
        src = self._gen.flags(preds)
        ns: dict[str, object] = {}
        exec(compile(src, "<tcpmodel:flags>", "exec"), ns)
        return ns["flags"]  # type: ignore[return-value]


def _cost(e: Expr) -> int:
    return sum(1 for n in e.walk() if isinstance(n, Op))


def _common(roots: Sequence[Expr]) -> list[Expr]:
    """Sub-expressions of ``roots`` worth computing once, children before parents."""
    count: dict[Expr, int] = {}
    order: list[Expr] = []

    def visit(e: Expr) -> None:
        if not isinstance(e, Op):
            return
        if e in count:
            count[e] += 1
            return
        count[e] = 1
        for a in e.args:
            visit(a)
        order.append(e)

    for r in roots:
        visit(r)
    return [e for e in order if (count[e] >= 2 and _cost(e) >= 2) or count[e] >= 3]


# Where a generated action body hands over its successor ``t`` (``@A``: the action's index),
# replaced by what `step` and `successors` each do with it.
_SINK = "        @SINK @A\n"
_SINK_RE = re.compile(r"        @SINK (\d+)\n")


def _network(n: int) -> list[tuple[int, int]]:
    """Comparators of Batcher's odd-even merge sort on ``n`` items (any ``n``)."""
    pairs: list[tuple[int, int]] = []
    p = 1
    while p < n:
        k = p
        while k >= 1:
            for j in range(k % p, n - k, 2 * k):
                for i in range(min(k, n - j - k)):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p):
                        pairs.append((i + j, i + j + k))
            k //= 2
        p *= 2
    return pairs


@dataclass(frozen=True, slots=True)
class _Plan:
    """One action, rewritten: simplified guard and updates, and which updates need a range check."""

    index: int
    action: Action
    guard: Expr
    updates: dict[int, Expr]
    checked: frozenset[int]
    # (array, slot) -> (C, R): every field f of the slot is set to ``ite(C, R[f], f)``.
    choose: dict[tuple[int, int], tuple[Expr, tuple[Expr, ...]]]

    def roots(self, system: System) -> list[Expr]:
        """The expressions the action's code evaluates after its guard."""
        out: list[Expr] = []
        for c, r in self.choose.values():
            out += [c, *r]
        chosen = {system.index[vn] for a, k in self.choose for vn in system.arrays[a].slot_vars(k)}
        return out + [e for i, e in self.updates.items() if i not in chosen]


class _Generator:
    """Writes the source of `step`, `successors` and `flags` (see the module docstring).

    The generated functions assume that ``s`` is canonical (every unordered array's slots in
    canonical order), as every state the explorer and replay handle is: an action that only
    removes records from a canonical array (its new slots are old slots in their order, then
    empty slots) keeps it canonical, so it needs no sorting.  Other updates of an unordered
    array sort its slots with a sorting network of compare-swaps on the slots' code tuples.
    """

    def __init__(self, system: System, layout: Layout) -> None:
        self.system = system
        self.layout = layout
        self.names: dict[str, str] = {}
        self._decode: dict[int, str] = {}
        for i, v in enumerate(system.variables):
            o, w = layout.offsets[i], layout.widths[i]
            lo = v.vtype.lo if isinstance(v.vtype, IntType) else 0
            if w == 1 and lo == 0:
                self.names[v.name] = f"b{o}"  # the byte is the value: no decoding
                continue
            self.names[v.name] = f"v{i}"
            code = " | ".join(f"(b{o + j} << {8 * (w - 1 - j)})" for j in range(w))
            if w == 1:
                code = f"b{o}"
            self._decode[i] = f"({code} + {lo})" if lo else code
        self._arr_of: dict[int, int] = {}
        for ai, arr in enumerate(system.arrays):
            if arr.ordered:
                continue  # a FIFO keeps its order: its slots are written like scalars
            for slot in range(arr.capacity):
                for vn in arr.slot_vars(slot):
                    self._arr_of[system.index[vn]] = ai
        self.plans = [self._plan(ai, a) for ai, a in enumerate(system.actions)]

    # -- analysis ---------------------------------------------------------------------------

    def _plan(self, ai: int, a: Action) -> _Plan:
        guard = simplify(a.guard)
        env = refine({}, guard, True)
        updates: dict[int, Expr] = {}
        checked: set[int] = set()
        for vn, e in a.updates:
            i = self.system.index[vn]
            se = simplify(e)
            if isinstance(se, Var) and se.name == vn:
                continue  # assigns the variable its own value
            updates[i] = se
            vt = self.system.variables[i].vtype
            if isinstance(vt, IntType):
                r = interval(se, env)
                if r is None or not (r[0] > r[1] or vt.lo <= r[0] <= r[1] <= vt.hi):
                    checked.add(i)
        raw = dict(a.updates)
        choose: dict[tuple[int, int], tuple[Expr, tuple[Expr, ...]]] = {}
        for arr_i, arr in enumerate(self.system.arrays):
            if arr.ordered:
                continue
            for k in range(arr.capacity):
                names = arr.slot_vars(k)
                es = [raw.get(vn) for vn in names]
                ok = all(
                    isinstance(e, Op)
                    and e.op == "ite"
                    and e.args[0] == es[0].args[0]  # type: ignore[union-attr]
                    and isinstance(e.args[2], Var)
                    and e.args[2].name == vn
                    and self.system.index[vn] not in checked
                    for e, vn in zip(es, names, strict=True)
                )
                if ok:
                    ites = [e for e in es if isinstance(e, Op)]
                    cond = simplify(ites[0].args[0])
                    choose[(arr_i, k)] = (cond, tuple(simplify(e.args[1]) for e in ites))
        return _Plan(ai, a, guard, updates, frozenset(checked), choose)

    def _used(self, exprs: Iterable[Expr]) -> set[int]:
        out: set[int] = set()
        for e in exprs:
            out |= {self.system.index[n] for n in e.variables()}
        return out

    # -- emission ---------------------------------------------------------------------------

    def unpack(self, used: Iterable[int]) -> str:
        """Lines binding ``b0..bN`` to the bytes of ``s`` and ``vK`` to the values read."""
        n = self.layout.size
        lines = [f"    ({''.join(f'b{j}, ' for j in range(n))}) = s\n"]
        for i in sorted(set(used)):
            if i in self._decode:
                lines.append(f"    v{i} = {self._decode[i]}\n")
        return "".join(lines)

    def _old_bytes(self, i: int) -> list[str]:
        o, w = self.layout.offsets[i], self.layout.widths[i]
        return [f"b{o + j}" for j in range(w)]

    def _encoded_bytes(self, i: int, e: Expr, value: str) -> list[str]:
        """Source of the bytes of variable ``i`` set to ``e`` (whose source is ``value``)."""
        v = self.system.variables[i]
        w = self.layout.widths[i]
        if isinstance(e, Var) and e.vtype == v.vtype:
            return self._old_bytes(self.system.index[e.name])  # a copy: the same bytes
        if isinstance(e, Const):
            code = encode(v.vtype, e.value)
            return [str(code >> (8 * (w - 1 - j)) & 255) for j in range(w)]
        lo = v.vtype.lo if isinstance(v.vtype, IntType) else 0
        code_src = f"({value} - {lo})" if lo else value
        if w == 1:
            return [code_src]
        return [f"(({code_src} >> {8 * (w - 1 - j)}) & 255)" for j in range(w)]

    def _is_zero(self, i: int, e: Expr) -> bool:
        vt = self.system.variables[i].vtype
        return isinstance(e, Const) and encode(vt, e.value) == 0

    def _array(
        self,
        p: _Plan,
        ai_arr: int,
        value: Callable[[int], str],
        render: Callable[[Expr], str],
    ) -> tuple[str, list[str]]:
        """Lines computing the new slots of unordered array ``ai_arr``, and its byte items."""
        arr = self.system.arrays[ai_arr]
        idx = self.system.index
        slots = [[idx[vn] for vn in arr.slot_vars(k)] for k in range(arr.capacity)]
        new = [[p.updates.get(i, self.system.variables[i].ref) for i in s] for s in slots]
        # Which old slot each new slot copies (None: not a copy), and which are empty.
        copy: list[int | None] = []
        for k in range(arr.capacity):
            src = {e.name for e in new[k] if isinstance(e, Var)}
            old = [j for j in range(arr.capacity) if src == set(arr.slot_vars(j))]
            ok = old and all(
                isinstance(e, Var) and e.name == arr.var_name(old[0], f)
                for e, (f, _) in zip(new[k], arr.fields, strict=True)
            )
            copy.append(old[0] if ok else None)
        zero = [
            all(self._is_zero(i, e) for i, e in zip(slots[k], new[k], strict=True))
            for k in range(arr.capacity)
        ]
        items_of = [
            [
                b
                for i, e in zip(slots[k], new[k], strict=True)
                for b in self._encoded_bytes(i, e, value(i))
            ]
            for k in range(arr.capacity)
        ]
        n_copies = next((k for k in range(arr.capacity) if copy[k] is None), arr.capacity)
        sources = [c for c in copy[:n_copies] if c is not None]
        if sources == sorted(set(sources)) and all(zero[n_copies:]):
            # Old slots in their (canonical) order, then empty slots: already canonical.
            return "", [b for items in items_of for b in items]
        ind = "        "
        lines: list[str] = [f"{ind}# {arr.name}: sort the slots (largest first)\n"]
        names = [f"x{ai_arr}_{k}" for k in range(arr.capacity)]
        for k, items in enumerate(items_of):
            tup = items[0] if len(items) == 1 else f"({', '.join(items)})"
            ch = p.choose.get((ai_arr, k))
            if ch is not None:  # the whole slot is one record or the other
                cond, rec = ch
                rec_items = [
                    b
                    for i, e in zip(slots[k], rec, strict=True)
                    for b in self._encoded_bytes(i, e, render(e))
                ]
                old_items = [b for i in slots[k] for b in self._old_bytes(i)]
                if len(items) == 1:
                    tup = f"({rec_items[0]} if {render(cond)} else {old_items[0]})"
                else:
                    r, o = ", ".join(rec_items), ", ".join(old_items)
                    tup = f"(({r}) if {render(cond)} else ({o}))"
            lines.append(f"{ind}{names[k]} = {tup}\n")
        pos = list(names)  # name holding position k
        is_zero = list(zero)
        for i, j in _network(arr.capacity):
            if is_zero[j]:
                continue  # nothing is smaller than an empty slot
            if is_zero[i]:
                pos[i], pos[j] = pos[j], pos[i]  # the empty slot moves down: a renaming
                is_zero[i], is_zero[j] = False, True
                continue
            a, b = pos[i], pos[j]
            lines.append(f"{ind}if {a} < {b}: {a}, {b} = {b}, {a}\n")
        star = "" if len(items_of[0]) == 1 else "*"
        return "".join(lines), [f"{star}{n}" for n in pos]

    def _body(
        self, p: _Plan, temps: Mapping[Expr, str], sink: str, last: dict[int, tuple[str, list[str]]]
    ) -> str:
        """The code of one action; ``last`` holds, per array, the sorting code emitted last in
        this group and its result: the same code again reuses that result."""
        ind = "        "
        lines = [f"{ind}# {p.action.label}: {p.action.rule}\n"]
        for i in sorted(p.checked):
            vt = self.system.variables[i].vtype
            assert isinstance(vt, IntType)
            lines.append(f"{ind}u{i} = {py_expr(p.updates[i], self.names, temps)}\n")
            lines.append(
                f"{ind}if not ({vt.lo} <= u{i} <= {vt.hi}): _range_error({p.index}, {i}, u{i})\n"
            )

        def value(i: int) -> str:
            if i in p.checked:
                return f"u{i}"
            return py_expr(p.updates[i], self.names, temps) if i in p.updates else ""

        items: list[str] = []
        touched = {self._arr_of[i] for i in p.updates if i in self._arr_of}
        done: set[int] = set()
        for i in range(len(self.system.variables)):
            arr = self._arr_of.get(i)
            if arr is not None and arr in touched:
                if arr not in done:
                    done.add(arr)
                    code, its = self._array(p, arr, value, lambda e: py_expr(e, self.names, temps))
                    reads_u = any(i in p.checked for i, a in self._arr_of.items() if a == arr)
                    if code and not reads_u and last.get(arr, ("", []))[0] == code:
                        lines.append(f"{ind}# {self.system.arrays[arr].name}: sorted as above\n")
                    else:
                        lines.append(code)
                        last[arr] = (code, its) if code and not reads_u else ("", [])
                    items += its
            elif i in p.updates:
                items += self._encoded_bytes(i, p.updates[i], value(i))
            else:
                items += self._old_bytes(i)
        lines.append(f"{ind}t = bytes(({', '.join(items)},))\n")
        lines.append(sink.replace("@A", str(p.index)))
        return "".join(lines)

    def _groups(self) -> list[list[_Plan]]:
        """Runs of consecutive actions with the same guard, tested once."""
        out: list[list[_Plan]] = []
        for p in self.plans:
            if out and out[-1][0].guard == p.guard:
                out[-1].append(p)
            else:
                out.append([p])
        return out

    def _group(self, g: list[_Plan], sink: str) -> str:
        guard = g[0].guard
        lines: list[str] = []
        lines.append(f"    # {', '.join(p.action.label for p in g)}\n")
        if is_const(guard, False):
            lines.append("    # never enabled\n")
            return "".join(lines) + "".join(f"    # {p.action.label}\n" for p in g)
        if not is_const(guard, True):
            lines.append(f"    if {py_expr(guard, self.names)}:\n")
        else:
            lines.append("    if True:\n")
        temps: dict[Expr, str] = {}
        roots = [e for p in g for e in p.roots(self.system)]
        for k, e in enumerate(_common(roots)):
            name = f"c{k}"
            lines.append(f"        {name} = {py_expr(e, self.names, temps)}\n")
            temps[e] = name
        last: dict[int, tuple[str, list[str]]] = {}
        for p in g:
            lines.append(self._body(p, temps, sink, last))
        return "".join(lines)

    def _all_exprs(self) -> list[Expr]:
        return [e for p in self.plans for e in (p.guard, *p.updates.values())]

    def functions(self) -> dict[str, str]:
        """The source of ``step`` and of ``successors``: one body per action group, generated
        once, that differ only in what they do with each successor ``t``."""
        step_sink = (
            "        n += 1\n"
            "        if t not in seen:\n"
            "            seen.add(t)\n"
            "            push(t)\n"
        )
        succ_sink = "        out.append((@A, t))\n"
        unpack = self.unpack(self._used(self._all_exprs()))
        body = "".join(self._group(g, _SINK) for g in self._groups())
        step = _SINK_RE.sub(lambda m: step_sink, body)
        succ = _SINK_RE.sub(lambda m: succ_sink.replace("@A", m.group(1)), body)
        return {
            "step": f"def step(s, seen, push):\n{unpack}    n = 0\n{step}    return n\n",
            "successors": f"def successors(s):\n{unpack}    out = []\n{succ}    return out\n",
        }

    def flags(self, preds: Sequence[Expr]) -> str:
        """Source of ``flags(s)``: bit ``i`` set iff ``preds[i]`` holds in ``s``."""
        simple = [simplify(p) for p in preds]
        const = sum(1 << i for i, p in enumerate(simple) if is_const(p, True))
        live = [(i, p) for i, p in enumerate(simple) if not isinstance(p, Const)]
        if not live:
            return f"def flags(s):\n    return {const}\n"
        body = " | ".join(f"({py_expr(p, self.names)} and {1 << i})" for i, p in live)
        unpack = self.unpack(self._used(p for _, p in live))
        return f"def flags(s):\n{unpack}    return {const} | {body}\n"
