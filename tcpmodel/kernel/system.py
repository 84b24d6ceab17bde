"""Transition systems of guarded commands.

A `System` is:

* ``variables``: typed finite state variables, in storage order.  A `SlotArray` contributes one
  variable per slot and field, named ``name[i].field``; its first field is always ``present``.
  The slots of an unordered array (a multiset, e.g. a reordering network) are kept in
  *canonical order*: sorted by the tuple of their field codes, largest first, so occupied slots
  come before empty ones and two states that differ only in the order of the records in flight
  are one state.  An ``ordered`` array is a FIFO queue: records keep their arrival order.  In
  both, occupied slots form a prefix and an empty slot has every field at code 0.
* ``init``: the initial states, each a full valuation (a tuple of values in variable order).
* ``actions``: guarded commands.  An `Action` is enabled where ``guard`` holds; it then assigns
  every ``(variable, expression)`` of ``updates`` at once, all right-hand sides reading the old
  state, and leaves other variables unchanged.  Parameters (which slot to deliver, ...) are
  expanded by the model builder into one action per value, recorded in ``params``.  ``rule``
  names the clause the action implements, e.g. ``"RFC 9293 3.10.7.4 (FIN-WAIT-1, FIN)"``.
* ``fairness``: weak or strong fairness per action ``group`` (used by liveness checking).
* ``terminal``: states where having no enabled action is intended, not a deadlock.
* ``definitions``: named expressions (predicates, constants, terms) formulas may use by name.

Models build systems with `Builder`; engines read the frozen `System` only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from tcpmodel.errors import ModelError
from tcpmodel.kernel.expr import (
    FALSE,
    TRUE,
    Expr,
    Lit,
    Var,
    and_,
    ite,
    lift,
    not_,
)
from tcpmodel.kernel.types import (
    BOOL,
    BoolType,
    EnumType,
    IntType,
    SeqType,
    VarType,
    default,
    encode,
    show,
    sort_of,
)

Value = int | bool


@dataclass(frozen=True, slots=True)
class Variable:
    name: str
    vtype: VarType
    doc: str = ""

    @property
    def ref(self) -> Var:
        return Var(self.name, self.vtype)


@dataclass(frozen=True, slots=True)
class SlotArray:
    """A fixed number of slots of one record type, kept in canonical (sorted) order."""

    name: str
    capacity: int
    fields: tuple[tuple[str, VarType], ...]
    ordered: bool = False

    def var_name(self, slot: int, fname: str) -> str:
        return f"{self.name}[{slot}].{fname}"

    def slot_vars(self, slot: int) -> tuple[str, ...]:
        return tuple(self.var_name(slot, f) for f, _ in self.fields)


@dataclass(frozen=True, slots=True)
class Action:
    name: str
    guard: Expr
    updates: tuple[tuple[str, Expr], ...]
    rule: str = ""
    params: tuple[tuple[str, Value | str], ...] = ()
    group: str = ""

    @property
    def shown_params(self) -> tuple[tuple[str, str], ...]:
        """The parameters as the label shows them: ``(name, text)`` pairs, in order."""
        return tuple((k, str(v)) for k, v in self.params)

    @property
    def label(self) -> str:
        if not self.params:
            return self.name
        return f"{self.name}({', '.join(f'{k}={v}' for k, v in self.shown_params)})"


@dataclass(frozen=True, slots=True)
class Fairness:
    kind: Literal["weak", "strong"]
    group: str


@dataclass(frozen=True, slots=True)
class System:
    name: str
    variables: tuple[Variable, ...]
    arrays: tuple[SlotArray, ...]
    init: tuple[tuple[Value, ...], ...]
    actions: tuple[Action, ...]
    fairness: tuple[Fairness, ...] = ()
    terminal: Expr = FALSE
    definitions: tuple[tuple[str, Expr], ...] = ()
    index: Mapping[str, int] = field(default_factory=dict, compare=False, hash=False)

    def var(self, name: str) -> Variable:
        try:
            return self.variables[self.index[name]]
        except KeyError:
            raise ModelError(f"{self.name} has no variable {name!r}") from None

    def ref(self, name: str) -> Var:
        return self.var(name).ref

    def definition(self, name: str) -> Expr | None:
        return dict(self.definitions).get(name)

    def rule_names(self) -> list[str]:
        """Names a spec may ``disable``: every action name and action group, sorted."""
        return sorted({a.name for a in self.actions} | {a.group for a in self.actions})

    def without(self, names: Sequence[str]) -> System:
        """This system with the actions named (by name or group) in ``names`` removed."""
        if not names:
            return self
        unknown = [n for n in names if n not in self.rule_names()]
        if unknown:
            raise ModelError(f"no action or action group named {unknown[0]!r}")
        gone = set(names)
        kept = tuple(a for a in self.actions if a.name not in gone and a.group not in gone)
        left = {x for a in kept for x in (a.name, a.group, a.label)}
        return System(
            self.name,
            self.variables,
            self.arrays,
            self.init,
            kept,
            tuple(f for f in self.fairness if f.group in left),  # fairness of what remains
            self.terminal,
            self.definitions,
            self.index,
        )

    def canonical(self, values: Sequence[Value]) -> tuple[Value, ...]:
        """``values`` with every array's slots in canonical order (see module docstring)."""
        out = list(values)
        for arr in self.arrays:
            if arr.ordered:
                continue
            idx = [[self.index[v] for v in arr.slot_vars(i)] for i in range(arr.capacity)]
            codes = [tuple(encode(self.variables[k].vtype, out[k]) for k in slot) for slot in idx]
            order = sorted(range(arr.capacity), key=lambda i: codes[i], reverse=True)
            vals = [[out[k] for k in idx[i]] for i in order]
            for slot, row in zip(idx, vals, strict=True):
                for k, v in zip(slot, row, strict=True):
                    out[k] = v
        return tuple(out)


class Updates:
    """Pending assignments of one action, composed in program order.

    `current` returns the pending expression of a variable (or the variable itself), so that a
    helper such as `ArrayRef.send` can build on what earlier helpers of the same action wrote.
    `when` runs a piece of the action under a condition: every assignment it makes becomes
    ``ite(cond, new, old)``.
    """

    def __init__(self) -> None:
        self.pending: dict[str, Expr] = {}
        self._vars: dict[str, Var] = {}

    def current(self, v: Var) -> Expr:
        return self.pending.get(v.name, v)

    def set(self, v: Var, e: Lit) -> None:
        self._vars[v.name] = v
        self.pending[v.name] = lift(e, sort_of(v.vtype))

    def when(self, cond: Expr, body: Callable[[Updates], None]) -> None:
        sub = Updates()
        sub.pending = dict(self.pending)
        sub._vars = dict(self._vars)
        body(sub)
        for name, e in sub.pending.items():
            old = self.pending.get(name)
            if old is e:
                continue
            var = sub._vars[name]
            self.set(var, ite(cond, e, var if old is None else old))


class ArrayRef:
    """Builder-side handle on a `SlotArray`: expressions for its slots and channel operations."""

    def __init__(self, arr: SlotArray) -> None:
        self.arr = arr
        self._types = dict(arr.fields)

    @property
    def capacity(self) -> int:
        return self.arr.capacity

    def field(self, slot: int, fname: str) -> Var:
        if fname not in self._types:
            raise ModelError(f"array {self.arr.name} has no field {fname!r}")
        return Var(self.arr.var_name(slot, fname), self._types[fname])

    def present(self, slot: int) -> Var:
        return self.field(slot, "present")

    def count(self, u: Updates | None = None) -> Expr:
        """Number of occupied slots (an Int expression)."""
        total: Expr = lift(0)
        for i in range(self.capacity):
            p = self.present(i) if u is None else u.current(self.present(i))
            total = total + ite(p, 1, 0)
        return total

    def full(self) -> Expr:
        return and_(*(self.present(i) for i in range(self.capacity)))

    def send(self, u: Updates, values: Mapping[str, Lit]) -> None:
        """Put a record into the first free slot; if every slot is taken it is lost."""
        missing = set(self._types) - set(values) - {"present"}
        if missing:
            raise ModelError(f"send on {self.arr.name} lacks fields {sorted(missing)}")
        pres = [u.current(self.present(i)) for i in range(self.capacity)]
        for i in range(self.capacity):
            take = and_(not_(pres[i]), *pres[:i])
            for fname, ftype in self.arr.fields:
                v = self.field(i, fname)
                new = TRUE if fname == "present" else lift(values[fname], sort_of(ftype))
                u.set(v, ite(take, new, u.current(v)))

    def remove(self, u: Updates, slot: int) -> None:
        """Take the record out of ``slot``: later slots move down one, the last becomes empty."""
        for i in range(slot, self.capacity):
            for fname, ftype in self.arr.fields:
                v = self.field(i, fname)
                if i + 1 < self.capacity:
                    u.set(v, u.current(self.field(i + 1, fname)))
                else:
                    # The empty slot: every field's code 0 (an enum field its first value).
                    u.set(v, lift(show(ftype, default(ftype)), sort_of(ftype)))


class Builder:
    """Collects variables, arrays, actions and fairness; `build` checks and freezes them."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._vars: list[Variable] = []
        self._init: dict[str, Value] = {}
        self._inits: list[dict[str, Value]] = []
        self._arrays: list[SlotArray] = []
        self._actions: list[Action] = []
        self._fair: list[Fairness] = []
        self._defs: list[tuple[str, Expr]] = []
        self.terminal: Expr = FALSE

    def var(self, name: str, vtype: VarType, init: Value | str | None = None, doc: str = "") -> Var:
        if any(v.name == name for v in self._vars):
            raise ModelError(f"variable {name!r} declared twice in {self.name}")
        self._vars.append(Variable(name, vtype, doc))
        if isinstance(init, str):
            if not isinstance(vtype, EnumType):
                raise ModelError(f"{name}: initial value {init!r} needs an enum type")
            self._init[name] = vtype.index(init)
        else:
            self._init[name] = default(vtype) if init is None else init
        return Var(name, vtype)

    def array(
        self,
        name: str,
        capacity: int,
        fields: Sequence[tuple[str, VarType]],
        ordered: bool = False,
    ) -> ArrayRef:
        """Declare a slot array; ``ordered`` makes it a FIFO queue instead of a multiset."""
        if capacity < 1:
            raise ModelError(f"array {name} needs capacity >= 1, got {capacity}")
        all_fields = (("present", BOOL), *fields)
        arr = SlotArray(name, capacity, tuple(all_fields), ordered)
        self._arrays.append(arr)
        for i in range(capacity):
            for fname, ftype in all_fields:
                self.var(arr.var_name(i, fname), ftype)
        return ArrayRef(arr)

    def initial(self, **overrides: Value) -> None:
        """Add an initial state: the declared initial values with ``overrides``.

        Without any call, the single initial state is the declared initial values.
        """
        self._inits.append(dict(overrides))

    def action(
        self,
        name: str,
        guard: Lit,
        updates: Updates | Mapping[str, Lit],
        rule: str = "",
        params: Mapping[str, Value | str] | None = None,
        group: str | None = None,
    ) -> None:
        pending = updates.pending if isinstance(updates, Updates) else updates
        types = {v.name: v.vtype for v in self._vars}
        ups: list[tuple[str, Expr]] = []
        for vname, e in pending.items():
            if vname not in types:
                raise ModelError(f"action {name} updates unknown variable {vname!r}")
            ex = lift(e, sort_of(types[vname]))
            if ex.sort != sort_of(types[vname]):
                raise ModelError(
                    f"action {name}: {vname} is {types[vname].describe()}, "
                    f"assigned a {ex.sort.describe()}"
                )
            if ex != Var(vname, types[vname]):
                ups.append((vname, ex))
        g = lift(guard)
        if g.sort != BOOL:
            raise ModelError(f"action {name}: guard must be Bool, is {g.sort.describe()}")
        order = {v.name: i for i, v in enumerate(self._vars)}
        ups.sort(key=lambda kv: order[kv[0]])
        self._actions.append(
            Action(name, g, tuple(ups), rule, tuple((params or {}).items()), group or name)
        )

    def fair(self, kind: Literal["weak", "strong"], group: str) -> None:
        self._fair.append(Fairness(kind, group))

    def define(self, name: str, expr: Expr) -> None:
        """A named expression formulas may use: a predicate, or a value (a constant of the
        configuration, or a term over the variables such as the ISN a host would choose now)."""
        self._defs.append((name, expr))

    def build(self) -> System:
        index = {v.name: i for i, v in enumerate(self._vars)}
        inits: list[tuple[Value, ...]] = []
        for over in self._inits or [{}]:
            vals = dict(self._init)
            for k, x in over.items():
                if k not in index:
                    raise ModelError(f"initial value for unknown variable {k!r}")
                vals[k] = x
            for var in self._vars:
                try:
                    encode(var.vtype, vals[var.name])
                except ModelError as err:
                    raise ModelError(f"initial value of {var.name}: {err}") from None
            inits.append(tuple(vals[var.name] for var in self._vars))
        for name, d in self._defs:
            _check_vars(d, index, f"definition {name}")
        for a in self._actions:
            _check_vars(a.guard, index, f"action {a.label} guard")
            for vn, e in a.updates:
                _check_vars(e, index, f"action {a.label} update of {vn}")
        system = System(
            self.name,
            tuple(self._vars),
            tuple(self._arrays),
            (),
            tuple(self._actions),
            tuple(self._fair),
            self.terminal,
            tuple(self._defs),
            index,
        )
        canon = tuple(dict.fromkeys(system.canonical(i) for i in inits))
        return System(
            self.name,
            system.variables,
            system.arrays,
            canon,
            system.actions,
            system.fairness,
            system.terminal,
            system.definitions,
            index,
        )


def _check_vars(e: Expr, index: Mapping[str, int], where: str) -> None:
    unknown = sorted(n for n in e.variables() if n not in index)
    if unknown:
        raise ModelError(f"{where} reads unknown variable {unknown[0]!r}")


__all__ = [
    "Action",
    "ArrayRef",
    "BoolType",
    "Builder",
    "EnumType",
    "Fairness",
    "IntType",
    "SeqType",
    "SlotArray",
    "System",
    "Updates",
    "Variable",
]
