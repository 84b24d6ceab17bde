"""Compile a `System` to C for the native explorer (`tcpmodel.engines.native`).

The generated C follows `tcpmodel.kernel.compile` exactly: a state is the same byte string
(every variable's code in ``width`` big-endian bytes, in variable order), successors come in
action order, and every unordered slot array an action writes is put in canonical order (slots
sorted by their bytes, largest first).  Expressions follow `tcpmodel.kernel.pyexpr.py_expr`:

* every value is an ``int64_t``: Bools 0/1, enum indices, Ints, and Seq values as their
  ``bits``-bit pattern; Seq arithmetic runs on ``uint64_t`` and is masked, so it is exact for
  every width up to 64;
* Int ``+``, ``-``, ``*`` and negation are exact where the operands' ranges prove that the result
  fits in 62 bits, and otherwise checked: a result beyond 64 bits stops the search with a
  `NativeError` (Python integers are unbounded; the native engine is not: `tcpmodel.check`
  falls back to the Python explorer);
* ``//`` and ``%`` by a positive constant round towards minus infinity, as in Python;
* an update that leaves an `IntType` range is reported as the same `ModelError` as
  `Compiled._range_error`.

One C translation unit per system holds the generated successor function (``tc_body``, which
calls the parts ``tc_part<n>``, each the guarded actions of `PART_GROUPS` groups in action
order, each decoding the variables it reads), the generated packing of a state into its
variables' bits (`pack_source`), and a fixed breadth-first driver: an arena of packed states in
discovery order (so a BFS level is a range of indices), an open-addressing hash set of indices
into it, and per state the index of its parent and the action that discovered it. A small unit
per list of predicates holds ``tc_flags`` (which of them hold), passed to the driver as a
function pointer, so that checking other properties does not recompile the successor function.
``tc_new(..., compact)`` chooses hash compaction at run time (`tcpmodel.engines.native`): the
hash set then holds 64-bit fingerprints (``tc_fp``, independent of ``tc_hash``) in 256 segments
that grow one at a time, and the arena only the level being expanded and the next one.
`tcpmodel.kernel.clib` compiles the units, caches the libraries and loads them.
"""

from __future__ import annotations

from collections.abc import Sequence

from tcpmodel.errors import ModelError, NativeError
from tcpmodel.kernel.analysis import simplify
from tcpmodel.kernel.cdriver import HELPERS, RUNTIME_HEAD, RUNTIME_STATES, RUNTIME_TAIL, info_source
from tcpmodel.kernel.compile import Layout, layout_of
from tcpmodel.kernel.expr import Const, Expr, Op, Var
from tcpmodel.kernel.system import System
from tcpmodel.kernel.types import (
    BoolType,
    EnumType,
    IntSort,
    IntType,
    SeqType,
)

Interval = tuple[int, int]

I64_MIN = -(2**63)
I64_MAX = 2**63 - 1
_SAFE = 2**62  # results within +-2**62 need no overflow check
MAX_PREDICATES = 64

PART_GROUPS = 64
"""Guarded action groups per C function of the successor function (0: one function).  gcc's
time grows faster than linearly with a function's size, and the connection model's successor
function has thousands of lines: in parts of 64 groups, with ``-O1``, a configuration compiles
in about a third of the time of one function at ``-O2``, and explores as fast
(docs/benchmarks.md, `bench/cflags.py`)."""


def _lit(v: int) -> str:
    """A C literal of type int64_t for ``v`` (which must fit in 64 bits)."""
    if v == I64_MIN:
        return "(-INT64_C(9223372036854775807) - 1)"
    if I64_MIN < v <= I64_MAX:
        return f"INT64_C({v})"
    if 0 <= v < 2**64:
        return f"((int64_t)UINT64_C({v}))"  # a Seq(64) bit pattern
    raise NativeError(
        f"the native engine computes with 64-bit integers and cannot hold the constant {v}; "
        "use --engine explicit"
    )


def _mask(t: SeqType) -> str:
    return f"UINT64_C({t.mask})"


def _fits(r: Interval | None) -> bool:
    return r is not None and r[0] >= -_SAFE and r[1] <= _SAFE


class _Expr:
    """C source of expressions over locals ``v<i>`` (the value of variable ``i``).

    ``checked`` records whether any checked arithmetic (which sets the local ``ovf``) was
    emitted since it was last cleared.
    """

    def __init__(self, system: System) -> None:
        self.system = system
        self.checked = False

    def c(self, e: Expr) -> str:
        return self._c(e)[0]

    def _c(self, e: Expr) -> tuple[str, Interval | None]:
        if isinstance(e, Const):
            v = int(e.value)
            return _lit(v), ((v, v) if isinstance(e.const_sort, IntSort) else None)
        if isinstance(e, Var):
            i = self.system.index[e.name]
            vt = e.vtype
            return f"v{i}", ((vt.lo, vt.hi) if isinstance(vt, IntType) else None)
        assert isinstance(e, Op)
        op = e.op
        parts = [self._c(x) for x in e.args]
        a = [p[0] for p in parts]
        r = [p[1] for p in parts]
        if op == "not":
            return f"(!{a[0]})", None
        if op == "and":
            return "(" + " && ".join(a) + ")", None
        if op == "or":
            return "(" + " || ".join(a) + ")", None
        if op == "implies":
            return f"(!{a[0]} || {a[1]})", None
        binop = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
        if op in binop:
            return f"({a[0]} {binop[op]} {a[1]})", None
        if op in ("add", "sub", "mul"):
            s = e.op_sort
            if isinstance(s, SeqType):
                sym = "+" if op == "add" else "-"
                return (
                    f"((int64_t)(((uint64_t){a[0]} {sym} (uint64_t){a[1]}) & {_mask(s)}))",
                    None,
                )
            out: Interval | None = None
            if r[0] is not None and r[1] is not None:
                (a0, a1), (b0, b1) = r[0], r[1]
                if op == "add":
                    out = (a0 + b0, a1 + b1)
                elif op == "sub":
                    out = (a0 - b1, a1 - b0)
                else:
                    ps = (a0 * b0, a0 * b1, a1 * b0, a1 * b1)
                    out = (min(ps), max(ps))
            if _fits(r[0]) and _fits(r[1]) and _fits(out):
                sym = {"add": "+", "sub": "-", "mul": "*"}[op]
                return f"({a[0]} {sym} {a[1]})", out
            self.checked = True
            return f"tc_{op}({a[0]}, {a[1]}, &ovf)", None
        if op == "neg":
            if _fits(r[0]):
                assert r[0] is not None
                return f"(-{a[0]})", (-r[0][1], -r[0][0])
            self.checked = True
            return f"tc_sub(0, {a[0]}, &ovf)", None
        if op in ("mod", "div"):
            d = e.args[1]
            assert isinstance(d, Const)
            dv = int(d.value)
            if op == "mod":
                return f"tc_mod({a[0]}, {a[1]})", (0, dv - 1)
            q = None if r[0] is None else (r[0][0] // dv, r[0][1] // dv)
            return f"tc_div({a[0]}, {a[1]})", q
        if op == "ite":
            u: Interval | None = None
            if r[1] is not None and r[2] is not None:
                u = (min(r[1][0], r[2][0]), max(r[1][1], r[2][1]))
            return f"({a[0]} ? {a[1]} : {a[2]})", u
        if op in ("seq_lt", "seq_le", "in_window"):
            s = e.args[0].sort
            assert isinstance(s, SeqType)
            m = _mask(s)
            if op == "seq_lt":
                diff = f"(((uint64_t){a[1]} - (uint64_t){a[0]}) & {m})"
                return f"tc_seq_lt({diff}, UINT64_C({s.half}))", None
            if op == "seq_le":
                return f"((((uint64_t){a[1]} - (uint64_t){a[0]}) & {m}) < UINT64_C({s.half}))", None
            diff = f"(((uint64_t){a[0]} - (uint64_t){a[1]}) & {m})"
            return f"tc_in_win({diff}, {a[2]})", None
        if op == "seq_to_int":
            s = e.args[0].sort
            assert isinstance(s, SeqType)
            if s.bits >= 64:
                raise NativeError(
                    "the native engine cannot convert a Seq(64) to an Int exactly; "
                    "use --engine explicit"
                )
            return a[0], (0, s.mask)
        if op == "int_to_seq":
            s = e.op_sort
            assert isinstance(s, SeqType)
            return f"((int64_t)((uint64_t){a[0]} & {_mask(s)}))", None
        raise ModelError(f"cannot compile operator {op!r}")


def _check_types(system: System) -> None:
    for v in system.variables:
        vt = v.vtype
        if isinstance(vt, IntType) and not (vt.lo >= I64_MIN and vt.hi <= I64_MAX):
            raise NativeError(
                f"variable {v.name} is {vt.describe()}, beyond the 64-bit integers of the "
                "native engine; use --engine explicit"
            )
        if isinstance(vt, EnumType | BoolType) and vt.size > 2**32:
            raise NativeError(f"variable {v.name}: type too large for the native engine")


class _Generator:
    def __init__(self, system: System, layout: Layout) -> None:
        self.system = system
        self.layout = layout
        self.ex = _Expr(system)

    def _decode(self, i: int) -> str:
        o, w = self.layout.offsets[i], self.layout.widths[i]
        vt = self.system.variables[i].vtype
        code = " | ".join(f"((uint64_t)s[{o + j}] << {8 * (w - 1 - j)})" for j in range(w))
        if w == 1:
            code = f"(uint64_t)s[{o}]"
        lo = vt.lo if isinstance(vt, IntType) else 0
        if lo:
            return f"(int64_t)(({code}) + (uint64_t){_lit(lo)})"
        return f"(int64_t)({code})"

    def _unpack(self, exprs: Sequence[Expr]) -> str:
        used: set[int] = set()
        for e in exprs:
            used |= {self.system.index[n] for n in e.variables()}
        return "".join(f"    const int64_t v{i} = {self._decode(i)};\n" for i in sorted(used))

    def _write(self, i: int, value: str) -> list[str]:
        o, w = self.layout.offsets[i], self.layout.widths[i]
        vt = self.system.variables[i].vtype
        lo = vt.lo if isinstance(vt, IntType) else 0
        code = f"((uint64_t){value} - (uint64_t){_lit(lo)})" if lo else f"(uint64_t){value}"
        if w == 1:
            return [f"t[{o}] = (uint8_t){code};"]
        lines = [f"{{ uint64_t k = {code};"]
        lines += [f" t[{o + j}] = (uint8_t)(k >> {8 * (w - 1 - j)});" for j in range(w)]
        lines.append(" }")
        return ["".join(lines)]

    def _arrays(self) -> list[tuple[int, int, int, frozenset[int]]]:
        """Per unordered array: byte offset, capacity, slot size, variable indices."""
        out: list[tuple[int, int, int, frozenset[int]]] = []
        for arr in self.system.arrays:
            if arr.ordered:
                continue
            idx = [self.system.index[vn] for k in range(arr.capacity) for vn in arr.slot_vars(k)]
            off = self.layout.offsets[idx[0]]
            total = sum(self.layout.widths[i] for i in idx)
            if idx != list(range(idx[0], idx[0] + len(idx))) or total % arr.capacity:
                raise NativeError(f"array {arr.name}: slots are not contiguous")
            out.append((off, arr.capacity, total // arr.capacity, frozenset(idx)))
        return out

    def body(self) -> str:
        system = self.system
        arrays = self._arrays()
        plans: list[tuple[int, Expr, list[tuple[int, Expr]]]] = []
        for ai, a in enumerate(system.actions):
            ups: list[tuple[int, Expr]] = []
            for vn, e in a.updates:
                i = system.index[vn]
                se = simplify(e)
                if isinstance(se, Var) and se.name == vn:
                    continue
                ups.append((i, se))
            ups.sort(key=lambda x: x[0])
            plans.append((ai, simplify(a.guard), ups))
        groups: list[list[tuple[int, Expr, list[tuple[int, Expr]]]]] = []
        for plan in plans:
            if groups and groups[-1][0][1] == plan[1]:
                groups[-1].append(plan)
            else:
                groups.append([plan])
        size = PART_GROUPS if PART_GROUPS > 0 else max(1, len(groups))
        parts = [groups[k : k + size] for k in range(0, len(groups), size)]
        out: list[str] = []
        for n, part in enumerate(parts):
            out.append(self._part(n, part, arrays))
        calls = "".join(
            f"    nsucc = tc_part{n}(s, out, acts, err, nsucc);\n    if (nsucc < 0) return -1;\n"
            for n in range(len(parts))
        )
        out.append(
            "static int64_t tc_body(const uint8_t *s, uint8_t *out, int32_t *acts, tc_err *err) {\n"
            "    int64_t nsucc = 0;\n" + calls + "    return nsucc;\n}\n"
        )
        return "".join(out)

    def _part(
        self,
        n: int,
        groups: list[list[tuple[int, Expr, list[tuple[int, Expr]]]]],
        arrays: list[tuple[int, int, int, frozenset[int]]],
    ) -> str:
        """One function of the successor function: the actions of ``groups`` in order, each
        group's actions sharing one guard; returns the successor count so far, -1 on error."""
        system = self.system
        exprs = [grp[0][1] for grp in groups] + [
            e for grp in groups for _, _, ups in grp for _, e in ups
        ]
        lines = [
            f"static __attribute__((noinline)) int64_t tc_part{n}(const uint8_t *s, "
            "uint8_t *out, int32_t *acts,\n"
            "        tc_err *err, int64_t nsucc) {\n",
            "    int ovf = 0;\n",
            "    uint8_t t[S];\n",
            self._unpack(exprs),
        ]
        for group in groups:
            guard = group[0][1]
            labels = ", ".join(system.actions[ai].label for ai, _, _ in group)
            lines.append(f"    /* {_comment(labels)} */\n")
            if isinstance(guard, Const) and not guard.value:
                lines.append("    /* never enabled */\n")
                continue
            self.ex.checked = False
            g = self.ex.c(guard)
            if self.ex.checked:
                lines.append(f"    {{ int g = {g}; if (ovf) TC_OVERFLOW({group[0][0]});\n")
                lines.append("    if (g) {\n")
                close = "    }}\n"
            else:
                lines.append(f"    if ({g}) {{\n")
                close = "    }\n"
            for ai, _, ups in group:
                a = system.actions[ai]
                lines.append(f"        /* {_comment(a.label)}: {_comment(a.rule)} */\n")
                lines.append("        memcpy(t, s, S);\n")
                self.ex.checked = False
                for i, e in ups:
                    vt = system.variables[i].vtype
                    val = self.ex.c(e)
                    if isinstance(vt, IntType):
                        lines.append(
                            f"        {{ const int64_t u = {val};\n"
                            f"          if (u < {_lit(vt.lo)} || u > {_lit(vt.hi)}) "
                            f"TC_RANGE({ai}, {i}, u);\n"
                        )
                        lines += [f"          {w}\n" for w in self._write(i, "u")]
                        lines.append("        }\n")
                    else:
                        lines.append(f"        {{ const int64_t u = {val};\n")
                        lines += [f"          {w}\n" for w in self._write(i, "u")]
                        lines.append("        }\n")
                if self.ex.checked:
                    lines.append(f"        if (ovf) TC_OVERFLOW({ai});\n")
                written = {i for i, _ in ups}
                for off, cap, size, members in arrays:
                    if cap > 1 and written & members:
                        lines.append(f"        tc_sort_desc(t + {off}, {cap}, {size});\n")
                lines.append(f"        TC_EMIT({ai});\n")
            lines.append(close)
        lines.append("    return nsucc;\n}\n")
        return "".join(lines)

    def flags(self, preds: Sequence[Expr]) -> str:
        simple = [simplify(p) for p in preds]
        lines = [
            "uint64_t tc_flags(const uint8_t *s, int *ovfp) {\n",
            "    (void)s;\n",
            "    int ovf = 0;\n",
            "    uint64_t f = 0;\n",
            self._unpack(simple),
        ]
        for i, p in enumerate(simple):
            if isinstance(p, Const):
                if p.value:
                    lines.append(f"    f |= UINT64_C(1) << {i};\n")
                continue
            lines.append(f"    if ({self.ex.c(p)}) f |= UINT64_C(1) << {i};\n")
        lines.append("    *ovfp = ovf;\n    return f;\n}\n")
        return "".join(lines)


def _comment(text: str) -> str:
    return text.replace("*/", "* /").replace("\n", " ")


def bits(system: System) -> tuple[int, ...]:
    """The bits of each variable in a packed state: enough for its type's codes (none for a
    type of one value)."""
    return tuple((v.vtype.size - 1).bit_length() for v in system.variables)


def packed_size(system: System) -> int:
    """Bytes of a packed state (`pack_source`), at least one."""
    return max(1, (sum(bits(system)) + 7) // 8)


def pack_source(system: System) -> str:
    """``tc_pack`` and ``tc_unpack``: a state's bytes (`Layout`, one or more bytes per
    variable) to and from its packed form, every variable's code in its `bits`, one after
    the other in 64-bit words, of which the first ``P`` bytes are kept.

    The arena and the hash set of the driver hold packed states (a ``connection`` state is
    20 bytes instead of 82), so a state takes less memory, hashing and comparing it read
    less, and more of the table stays in the cache; successors are computed on the unpacked
    bytes, as before.  Packing is a bijection on codes within their types' ranges, so the
    states found, their order and their counts are those of the unpacked search.
    ``tc_pack`` returns nonzero if a code does not fit its bits (no update can produce one:
    the range checks of the successor function come first), which the driver reports."""
    layout = layout_of(system)
    widths = bits(system)
    words = max(1, (sum(widths) + 63) // 64)
    # The bits no code may have, per byte of the unpacked state, checked eight bytes at once.
    spare = bytearray(max(layout.size, 1))
    for o, wb, b in zip(layout.offsets, layout.widths, widths, strict=True):
        spare[o : o + wb] = (((1 << (8 * wb)) - 1) ^ ((1 << b) - 1)).to_bytes(wb, "big")
    pack = [
        "static inline int tc_pack(const uint8_t *u, uint8_t *p) {\n",
        f"    uint64_t w[{words}] = {{0}};\n",
        "    uint64_t bad = 0, x;\n",
    ]
    for at in range(0, len(spare), 8):
        chunk = bytes(spare[at : at + 8])
        if any(chunk):
            n = len(chunk)
            mask = int.from_bytes(chunk.ljust(8, b"\0"), "little")
            pack.append(f"    x = 0; memcpy(&x, u + {at}, {n}); bad |= x & UINT64_C({mask:#x});\n")
    unpack = [
        "static inline void tc_unpack(const uint8_t *p, uint8_t *u) {\n",
        f"    uint64_t w[{words}] = {{0}};\n",
        "    memcpy(w, p, P);\n",
    ]
    pos = 0
    for o, wb, b in zip(layout.offsets, layout.widths, widths, strict=True):
        if b == 0:
            unpack += [f"    u[{o + j}] = 0;\n" for j in range(wb)]
            continue
        code = " | ".join(f"((uint64_t)u[{o + j}] << {8 * (wb - 1 - j)})" for j in range(wb))
        if wb == 1:
            code = f"(uint64_t)u[{o}]"
        k, sh = divmod(pos, 64)
        line = f"    x = {code}; w[{k}] |= x << {sh};"
        if sh + b > 64:
            line += f" w[{k + 1}] |= x >> {64 - sh};"
        pack.append(line + "\n")
        read = f"(w[{k}] >> {sh})"
        if sh + b > 64:
            read = f"({read} | (w[{k + 1}] << {64 - sh}))"
        if b < 64:
            read = f"({read} & UINT64_C({(1 << b) - 1}))"
        if wb == 1:
            unpack.append(f"    u[{o}] = (uint8_t){read};\n")
        else:
            put = "".join(f" u[{o + j}] = (uint8_t)(x >> {8 * (wb - 1 - j)});" for j in range(wb))
            unpack.append(f"    {{ uint64_t x = {read};{put} }}\n")
        pos += b
    pack.append("    memcpy(p, w, P);\n    return bad != 0;\n}\n")
    unpack.append("}\n\n")
    return "".join(pack) + "".join(unpack)


def _head(system: System, what: str) -> str:
    layout = layout_of(system)
    n_act = len(system.actions)
    act_t = "uint16_t" if n_act < 2**16 else "uint32_t"
    return (
        f"/* tcpmodel native explorer, {what}: {_comment(system.name)} */\n"
        "#include <stdint.h>\n#include <stdlib.h>\n#include <string.h>\n#include <sys/mman.h>\n"
        f"#define S {max(layout.size, 1)}\n"
        f"#define P {packed_size(system)}\n"
        f"#define NACT {max(n_act, 1)}\n"
        f"typedef {act_t} act_t;\n"
    )


def c_source(system: System) -> str:
    """The C translation unit of ``system``: successors and the BFS driver."""
    _check_types(system)
    gen = _Generator(system, layout_of(system))
    return (
        _head(system, "successors")
        + HELPERS
        + pack_source(system)
        + RUNTIME_HEAD
        + gen.body()
        + RUNTIME_TAIL
        + info_source()
        + RUNTIME_STATES
    )


def flags_source(system: System, preds: Sequence[Expr]) -> str:
    """The C translation unit of ``tc_flags``: bit ``i`` set iff ``preds[i]`` holds."""
    if len(preds) > MAX_PREDICATES:
        raise NativeError(
            f"the native engine checks at most {MAX_PREDICATES} properties in one exploration, "
            f"got {len(preds)}; select fewer with --property or use --engine explicit"
        )
    _check_types(system)
    gen = _Generator(system, layout_of(system))
    return _head(system, "predicates") + HELPERS + gen.flags(preds)
