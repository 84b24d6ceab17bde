"""Finite types of state variables and the sorts of expressions.

A *variable type* is finite and has an encoding: each value maps to a natural number
``0 <= code < size`` and the explorer stores that code in ``width`` bytes, big-endian, so that
byte-wise order equals numeric order of codes.  The code 0 is the type's *default* value: an empty
network slot has every field at code 0.

=============  ======================  ==============================  =====================
type           values (Python)          code                            Z3 sort
=============  ======================  ==============================  =====================
`BoolType`     ``False``/``True``       0 / 1                           Bool
`EnumType`     index into ``values``    the index                       Int in [0, n)
`IntType`      ``lo..hi``               ``v - lo``                      Int in [lo, hi]
`SeqType`      ``0..2**bits - 1``       the value                       BitVec(bits)
=============  ======================  ==============================  =====================

An *expression sort* is what an expression evaluates to: `BOOL`, `INT` (unbounded integers, the
sort of `IntType` variables and integer arithmetic), a `SeqType` (modular arithmetic on ``bits``
bits, RFC 9293 section 3.4) or an `EnumType`.
"""

from __future__ import annotations

from dataclasses import dataclass

from tcpmodel.errors import ModelError


@dataclass(frozen=True, slots=True)
class BoolType:
    """Booleans, stored as 0/1."""

    @property
    def size(self) -> int:
        return 2

    def describe(self) -> str:
        return "Bool"


@dataclass(frozen=True, slots=True)
class EnumType:
    """A named enumeration; values are written in formulas as bare names (``TIME_WAIT``)."""

    name: str
    values: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.values:
            raise ModelError(f"enum {self.name} has no values")
        if len(set(self.values)) != len(self.values):
            raise ModelError(f"enum {self.name} repeats a value: {self.values}")

    @property
    def size(self) -> int:
        return len(self.values)

    def index(self, value: str) -> int:
        try:
            return self.values.index(value)
        except ValueError:
            raise ModelError(
                f"{value!r} is not a value of enum {self.name}; expected one of "
                f"{', '.join(self.values)}"
            ) from None

    def describe(self) -> str:
        return f"Enum {self.name}({', '.join(self.values)})"


@dataclass(frozen=True, slots=True)
class IntType:
    """Bounded integers ``lo..hi`` inclusive; an update outside the range is a model error."""

    lo: int
    hi: int

    def __post_init__(self) -> None:
        if self.lo > self.hi:
            raise ModelError(f"Int({self.lo}, {self.hi}) is empty")

    @property
    def size(self) -> int:
        return self.hi - self.lo + 1

    def describe(self) -> str:
        return f"Int({self.lo}..{self.hi})"


@dataclass(frozen=True, slots=True)
class SeqType:
    """Sequence numbers modulo ``2**bits`` (RFC 9293 section 3.4: all arithmetic is modular)."""

    bits: int

    def __post_init__(self) -> None:
        if not 1 <= self.bits <= 64:
            raise ModelError(f"Seq({self.bits}): bits must be in 1..64")

    @property
    def size(self) -> int:
        return 1 << self.bits

    @property
    def mask(self) -> int:
        return (1 << self.bits) - 1

    @property
    def half(self) -> int:
        return 1 << (self.bits - 1)

    def describe(self) -> str:
        return f"Seq({self.bits})"


VarType = BoolType | EnumType | IntType | SeqType


@dataclass(frozen=True, slots=True)
class IntSort:
    """The sort of unbounded integer expressions."""

    def describe(self) -> str:
        return "Int"


BOOL = BoolType()
INT = IntSort()

Sort = BoolType | IntSort | SeqType | EnumType


def sort_of(t: VarType) -> Sort:
    """The expression sort of a variable of type ``t``."""
    if isinstance(t, IntType):
        return INT
    return t


def width(t: VarType) -> int:
    """Bytes needed to store the code of a value of type ``t``."""
    return max(1, ((t.size - 1).bit_length() + 7) // 8)


def encode(t: VarType, value: int | bool) -> int:
    """The code of ``value``; raises `ModelError` if ``value`` is not of type ``t``."""
    v = int(value)
    if isinstance(t, IntType):
        if not t.lo <= v <= t.hi:
            raise ModelError(f"{v} is outside {t.describe()}")
        return v - t.lo
    if not 0 <= v < t.size:
        raise ModelError(f"{v} is outside {t.describe()}")
    return v


def decode(t: VarType, code: int) -> int | bool:
    """Inverse of `encode`."""
    if isinstance(t, IntType):
        return code + t.lo
    if isinstance(t, BoolType):
        return bool(code)
    return code


def default(t: VarType) -> int | bool:
    """The value whose code is 0."""
    return decode(t, 0)


def show(t: VarType, value: int | bool) -> str | int | bool:
    """A value as users read it: enum names, booleans, integers."""
    if isinstance(t, EnumType):
        return t.values[int(value)]
    if isinstance(t, BoolType):
        return bool(value)
    return int(value)
