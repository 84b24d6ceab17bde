"""What a registered model declares: parameters, a builder, and its property library.

A `Model` is the unit a spec's ``model = "..."`` names.  Its parameters form a schema (`Param`)
that the spec loader validates against, so a model's ``build`` receives only complete,
in-range values.  A model may declare its parameters once, as a frozen dataclass whose fields
are made with `param` (type, default, doc, range, choices), and derive its schema from it with
`schema`; its ``build`` then turns the validated mapping into that typed object once.

Library properties are formulas in the language of `tcpmodel.formula`, so the documentation
can show each one as text and every engine reads it the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal, cast

from tcpmodel.kernel.system import System

ParamValue = int | bool | str


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    kind: Literal["int", "bool", "choice", "int_or_choice"]
    default: ParamValue
    doc: str
    lo: int | None = None
    hi: int | None = None
    choices: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.kind == "int":
            return f"integer {self.lo}..{self.hi}"
        if self.kind == "bool":
            return "true or false"
        words = " | ".join(f'"{c}"' for c in self.choices)
        if self.kind == "int_or_choice":
            return f"integer {self.lo}..{self.hi} or {words}"
        return words

    def problem(self, v: object) -> str | None:
        """Why ``v`` is not a value of this parameter (``None`` if it is)."""
        is_int = isinstance(v, int) and not isinstance(v, bool)
        if self.kind in ("int", "int_or_choice") and is_int:
            if not (cast(int, self.lo) <= cast(int, v) <= cast(int, self.hi)):
                return "out of range"
            return None
        if self.kind in ("choice", "int_or_choice") and isinstance(v, str):
            return None if v in self.choices else "not allowed"
        if self.kind == "bool" and isinstance(v, bool):
            return None
        return "wrong type"


@dataclass(frozen=True, slots=True)
class LibraryProperty:
    name: str
    formula: str
    doc: str


@dataclass(frozen=True, slots=True)
class Model:
    name: str
    description: str
    params: tuple[Param, ...]
    build: Callable[[Mapping[str, ParamValue]], System]
    properties: tuple[LibraryProperty, ...]
    # Named sets of parameter values a spec may start from (``profile = "linux"``); the
    # spec's own parameters still override them.
    profiles: Mapping[str, Mapping[str, ParamValue]] = field(default_factory=dict)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def property(self, name: str) -> LibraryProperty | None:
        return next((p for p in self.properties if p.name == name), None)

    def defaults(self) -> dict[str, ParamValue]:
        return {p.name: p.default for p in self.params}


DEADLOCK_FREE = LibraryProperty(
    "deadlock-free",
    "always(not deadlock)",
    "every reachable state has an enabled action or is a declared terminal state",
)


# The schema kind of a parameter field's type (annotations are text under `from __future__`).
_KINDS: Mapping[str, Literal["int", "bool", "choice", "int_or_choice"]] = {
    "int": "int",
    "bool": "bool",
    "str": "choice",
    "int | str": "int_or_choice",
}


def param(
    default: ParamValue,
    doc: str,
    lo: int | None = None,
    hi: int | None = None,
    choices: tuple[str, ...] = (),
) -> Any:
    """A field of a parameters dataclass: its default, and the rest of its `Param`."""
    return field(default=default, metadata={"doc": doc, "lo": lo, "hi": hi, "choices": choices})


def schema(cls: type[Any]) -> tuple[Param, ...]:
    """The `Param` of every field of the parameters dataclass ``cls`` (made with `param`), in
    the fields' order; the kind follows the field's type (``int``, ``bool``, ``str``: a
    choice, ``int | str``: an integer or a choice)."""
    return tuple(
        Param(
            f.name,
            _KINDS[str(f.type)],
            cast(ParamValue, f.default),
            f.metadata["doc"],
            f.metadata["lo"],
            f.metadata["hi"],
            f.metadata["choices"],
        )
        for f in fields(cls)
    )


def values_of(cls: type[Any], p: Mapping[str, ParamValue]) -> dict[str, Any]:
    """The keyword arguments of ``cls`` (a parameters dataclass) in the validated mapping
    ``p``; a name ``p`` lacks takes the field's default."""
    return {f.name: p[f.name] for f in fields(cls) if f.name in p}
