"""A `System` as Promela, for SPIN to explore the same transition system.

The translation keeps tcpmodel's state encoding, so that SPIN's states are tcpmodel's states:

* every variable is a global holding the variable's *code* (`tcpmodel.kernel.types.encode`) in a
  Promela type of the same width: ``bool`` for a Bool (which SPIN packs into one bit),
  ``byte`` for a one-byte code, and ``unsigned name : 16`` (24, 32) for wider ones; an Int
  ``lo..hi`` is read as ``code + lo``;
* an enum value is a ``#define`` of its index, named ``<enum>_<value>`` (``tcp_state_LISTEN``);
* a slot array is an array of a ``typedef`` record (``net_ab[0].seq`` is tcpmodel's
  ``net.ab[0].seq``); names are tcpmodel's with ``.`` written ``_``;
* one process, ``main``, runs ``do :: d_step { guard -> updates } ... od``: every action is one
  deterministic step from the loop head back to it, so SPIN's global states are the valuations
  of the variables (plus process counters that do not change);
* an action's updates all read the old state: a variable is written after every update that
  reads it, and where updates read each other's variables (a swap) one goes through a
  ``hidden`` temporary (hidden globals are not in SPIN's state vector); an unordered slot array
  the action writes is then put in canonical order (slots sorted by their field codes, largest
  first) by a bubble sort of compare-exchanges, as the explorer does;
* an Int update the range analysis cannot prove in range is asserted in range (the explorer's
  range error is SPIN's assertion violation).

Initial states: with one initial state whose slot arrays are empty, the globals are declared
with its values and SPIN's initial state is tcpmodel's, so SPIN's *states, stored* equal
tcpmodel's states.  Otherwise ``main`` first chooses an initial state in an ``if`` of one
``d_step`` per initial state, and SPIN also stores the state before that choice (every variable
0, ``main`` at its first statement): states stored = tcpmodel's states + 1.  `Export.extra_states`
is that 0 or 1.

``always`` properties become one process each, ``end: atomic { !(P) -> assert(P) }``: it is
blocked while ``P`` holds, so it adds no state, and the first reachable state violating ``P``
is an assertion violation (with several initial states it also waits for ``main`` to reach its
loop).  Other kinds of property are not exported.

Expressions follow the operator table of `tcpmodel.kernel.expr`.  SPIN computes in 32-bit C
``int``: the export refuses (`UsageError`) an Int sub-expression whose range may leave 32 bits,
Seq types wider than 30 bits, and codes wider than 31 bits.  Integer ``%`` and ``//`` round
towards minus infinity (as in Python) where the dividend may be negative.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from tcpmodel.errors import UsageError
from tcpmodel.kernel.analysis import simplify
from tcpmodel.kernel.expr import OPS, Const, Expr, Op, Var
from tcpmodel.kernel.system import SlotArray, System
from tcpmodel.kernel.types import (
    BoolType,
    EnumType,
    IntSort,
    IntType,
    SeqType,
    VarType,
    encode,
    width,
)

Interval = tuple[int, int]

INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
MAX_SEQ_BITS = 30  # a + b and a - b - 1 of two codes stay within a 32-bit int

# Promela keywords and C keywords (SPIN writes names into pan.c): a name equal to one gets a "_".
_RESERVED_WORDS = """
    active assert atomic bit bool break byte chan d_step D_proctype do else empty enabled
    eval fi full goto hidden if init int len mtype nempty never nfull od of pc_value printf
    printm priority proctype provided run short skip timeout typedef unless unsigned xr xs true
    false local show inline select for in notrace trace c_code c_expr c_decl c_state c_track
    get_priority set_priority ltl always eventually until weak strong release implies
    equivalence stronguntil weakuntil np_ main monitor now auto case char const continue default
    double enum extern float long register restrict return signed sizeof static struct switch
    union void volatile while"""
RESERVED = frozenset(_RESERVED_WORDS.split())

# Every operator of the kernel's table that `_Expr` translates; a new operator in the table
# fails the test that compares the two.
TRANSLATED = frozenset(
    {
        "not",
        "and",
        "or",
        "implies",
        "eq",
        "ne",
        "lt",
        "le",
        "gt",
        "ge",
        "add",
        "sub",
        "mul",
        "neg",
        "mod",
        "div",
        "ite",
        "seq_lt",
        "seq_le",
        "in_window",
        "seq_to_int",
        "int_to_seq",
    }
)


@dataclass(frozen=True, slots=True)
class Export:
    """A system as Promela, and how SPIN's counts relate to tcpmodel's."""

    text: str
    extra_states: int  # SPIN's states stored = tcpmodel's reachable states + extra_states
    asserted: tuple[str, ...]  # the names of the invariants exported as assertions


def _ident(name: str) -> str:
    out = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if not out or out[0].isdigit() or out[0] == "_" or out.startswith("tcpm_"):
        out = "v" + out  # tcpm_ starts the export's own names
    return out + "_" if out in RESERVED else out


def _comment(text: str) -> str:
    return text.replace("*/", "* /").replace("/*", "/ *").replace("\n", " ")


def _ptype(vt: VarType, what: str) -> str:
    """The Promela declaration type of a variable of type ``vt`` (``what`` names it)."""
    if isinstance(vt, BoolType):
        return "bool"
    if isinstance(vt, SeqType) and vt.bits > MAX_SEQ_BITS:
        raise UsageError(
            f"{what} is {vt.describe()}: SPIN computes in 32-bit ints, so sequence numbers of "
            f"more than {MAX_SEQ_BITS} bits cannot be exported exactly; use at most "
            f"{MAX_SEQ_BITS} bits (the connection model's seq_bits)"
        )
    if vt.size > 2**31:
        raise UsageError(
            f"{what} is {vt.describe()}: its codes need more than 31 bits, beyond SPIN's "
            "32-bit ints; narrow its range to export it"
        )
    w = width(vt)
    if w == 1:
        return "byte"
    return f"unsigned {{}} : {8 * w}"


def enum_name(t: EnumType, index: int) -> str:
    """The ``#define`` name of value ``index`` of enum ``t``: ``<enum>_<value>``."""
    return f"{_ident(t.name)}_{_ident(t.values[index])}"


def _code_text(vt: VarType, code: int) -> str:
    return enum_name(vt, code) if isinstance(vt, EnumType) else str(code)


def _decl(ptype: str, name: str, init: str = "") -> str:
    """``ptype name`` (or the ``unsigned name : bits`` form), with an initializer."""
    text = ptype.format(name) if "{}" in ptype else f"{ptype} {name}"
    return f"{text} = {init}" if init else text


class _Expr:
    """Promela source of expressions, with the range of every Int sub-expression."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def p(self, e: Expr) -> str:
        return self.translate(e)[0]

    def translate(self, e: Expr) -> tuple[str, Interval | None]:
        """The Promela text of ``e`` and, for an Int, the range of its values."""
        if isinstance(e, Const):
            v = int(e.value)
            if isinstance(e.const_sort, IntSort):
                return self._int(str(v) if v >= 0 else f"({v})", (v, v), e)
            if isinstance(e.const_sort, EnumType):
                return enum_name(e.const_sort, v), None
            return str(v), None
        if isinstance(e, Var):
            name = self.names[e.name]
            vt = e.vtype
            if isinstance(vt, IntType):
                text = name if vt.lo == 0 else f"({name} + {vt.lo})"
                return self._int(text, (vt.lo, vt.hi), e)
            return name, None
        assert isinstance(e, Op)
        op = e.op
        if op not in TRANSLATED:
            raise UsageError(f"the Promela export cannot translate the operator {op!r} ({e!r})")
        if isinstance(e.op_sort, SeqType) and e.op_sort.bits > MAX_SEQ_BITS:
            raise UsageError(
                f"{e!r} is a {e.op_sort.describe()}: more than {MAX_SEQ_BITS} bits cannot be "
                "exported exactly"
            )
        parts = [self.translate(x) for x in e.args]
        a = [t for t, _ in parts]
        r = [i for _, i in parts]
        if op == "not":
            return f"!{a[0]}", None
        if op in ("and", "or"):
            sym = " && " if op == "and" else " || "
            return "(" + sym.join(a) + ")", None
        if op == "implies":
            return f"(!{a[0]} || {a[1]})", None
        binop = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
        if op in binop:
            return f"({a[0]} {binop[op]} {a[1]})", None
        if op in ("add", "sub", "mul"):
            sym = {"add": "+", "sub": "-", "mul": "*"}[op]
            if isinstance(e.op_sort, SeqType):
                return f"(({a[0]} {sym} {a[1]}) & {e.op_sort.mask})", None
            (a0, a1), (b0, b1) = _need(r[0], e), _need(r[1], e)
            if op == "add":
                out = (a0 + b0, a1 + b1)
            elif op == "sub":
                out = (a0 - b1, a1 - b0)
            else:
                ps = (a0 * b0, a0 * b1, a1 * b0, a1 * b1)
                out = (min(ps), max(ps))
            return self._int(f"({a[0]} {sym} {a[1]})", out, e)
        if op == "neg":
            lo, hi = _need(r[0], e)
            return self._int(f"(-{a[0]})", (-hi, -lo), e)
        if op in ("mod", "div"):
            d = e.args[1]
            assert isinstance(d, Const)
            dv = int(d.value)
            lo, hi = _need(r[0], e)
            if op == "mod":
                text = f"({a[0]} % {dv})" if lo >= 0 else f"((({a[0]} % {dv}) + {dv}) % {dv})"
                return self._int(text, (0, dv - 1), e)
            if lo >= 0:
                text = f"({a[0]} / {dv})"
            else:  # C truncates towards zero; Python's // rounds down
                text = f"(({a[0]} >= 0) -> ({a[0]} / {dv}) : (-((-{a[0]} + {dv - 1}) / {dv})))"
                self._int(f"(-{a[0]} + {dv - 1})", (-hi, -lo + dv - 1), e)
            return self._int(text, (lo // dv, hi // dv), e)
        if op == "ite":
            u: Interval | None = None
            if r[1] is not None and r[2] is not None:
                u = (min(r[1][0], r[2][0]), max(r[1][1], r[2][1]))
            return f"({a[0]} -> {a[1]} : {a[2]})", u
        if op in ("seq_lt", "seq_le", "in_window"):
            s = e.args[0].sort
            assert isinstance(s, SeqType)
            m = s.mask
            if op == "seq_lt":  # 0 < d < half  iff  (d - 1) mod 2**bits < half - 1
                return f"((({a[1]} - {a[0]} - 1) & {m}) < {s.half - 1})", None
            if op == "seq_le":
                return f"((({a[1]} - {a[0]}) & {m}) < {s.half})", None
            return f"((({a[0]} - {a[1]}) & {m}) < {a[2]})", None
        if op == "seq_to_int":
            s = e.args[0].sort
            assert isinstance(s, SeqType)
            return self._int(a[0], (0, s.mask), e)
        assert op == "int_to_seq" and isinstance(e.op_sort, SeqType)
        return f"({a[0]} & {e.op_sort.mask})", None

    @staticmethod
    def _int(text: str, r: Interval, e: Expr) -> tuple[str, Interval]:
        if r[0] < INT_MIN or r[1] > INT_MAX:
            raise UsageError(
                f"{e!r} may take values in {r[0]}..{r[1]}, beyond SPIN's 32-bit ints; "
                "narrow the ranges of its variables to export it"
            )
        return text, r


def _need(r: Interval | None, e: Expr) -> Interval:
    if r is None:  # pragma: no cover - every Int expression has a range
        raise UsageError(f"no range known for the operands of {e!r}")
    return r


class _Translator:
    def __init__(self, system: System) -> None:
        self.system = system
        self.names: dict[str, str] = {}
        self.in_array: dict[str, SlotArray] = {}
        self.arrays: list[tuple[SlotArray, str, str, dict[str, str]]] = []
        self.taken: dict[str, str] = {}
        claim = self.claim
        for arr in system.arrays:
            ident = claim(_ident(arr.name), f"array {arr.name}")
            tname = claim("rec_" + ident, f"record type of {arr.name}")
            fields: dict[str, str] = {}
            for fname, _ in arr.fields:
                fields[fname] = _ident(fname)
            if len(set(fields.values())) != len(fields):
                raise UsageError(f"array {arr.name}: two fields have one Promela name")
            self.arrays.append((arr, ident, tname, fields))
            for i in range(arr.capacity):
                for fname, _ in arr.fields:
                    vn = arr.var_name(i, fname)
                    self.names[vn] = f"{ident}[{i}].{fields[fname]}"
                    self.in_array[vn] = arr
        for v in system.variables:
            if v.name not in self.names:
                self.names[v.name] = claim(_ident(v.name), f"variable {v.name}")
        self.ex = _Expr(self.names)

    def claim(self, ident: str, what: str) -> str:
        """``ident`` as the Promela name of ``what``; `UsageError` if something else has it."""
        if ident in self.taken and self.taken[ident] != what:
            raise UsageError(
                f"{what} and {self.taken[ident]} are both written {ident} in Promela; "
                "rename one of them"
            )
        self.taken[ident] = what
        return ident

    # -- declarations -------------------------------------------------------------------------

    def declarations(self, init: tuple[int, ...] | None) -> list[str]:
        """Global declarations; ``init`` (codes in variable order) sets scalars' initial values."""
        system = self.system
        lines: list[str] = []
        for arr, ident, tname, fields in self.arrays:
            body = "; ".join(
                _decl(_ptype(ft, f"field {arr.name}.{fn}"), fields[fn]) for fn, ft in arr.fields
            )
            order = "FIFO queue" if arr.ordered else "multiset, slots sorted largest first"
            lines.append(f"typedef {tname} {{ {body} }};  /* {arr.name}: {order} */")
            lines.append(f"{tname} {ident}[{arr.capacity}];")
        for k, v in enumerate(system.variables):
            if v.name in self.in_array:
                continue
            value = "" if init is None or init[k] == 0 else _code_text(v.vtype, init[k])
            decl = _decl(_ptype(v.vtype, f"variable {v.name}"), self.names[v.name], value)
            lines.append(f"{decl};  /* {_comment(v.name + ': ' + v.vtype.describe())} */")
        return lines

    # -- actions ------------------------------------------------------------------------------

    def action(self, k: int) -> tuple[list[str], int]:
        """The ``do`` option of action ``k`` and the number of temporaries it uses."""
        system = self.system
        a = system.actions[k]
        guard = simplify(a.guard)
        head = f"    /* {_comment(a.label)}{': ' + _comment(a.rule) if a.rule else ''} */"
        if isinstance(guard, Const) and not guard.value:
            return [head[:-3] + " (never enabled) */"], 0
        ups: list[tuple[str, Expr]] = []
        for vn, e in a.updates:
            se = simplify(e)
            if not (isinstance(se, Var) and se.name == vn):
                ups.append((vn, se))
        stmts, ntemps = self._assignments(ups)
        written = {vn for vn, _ in ups}
        for arr, ident, _, _ in self.arrays:
            if arr.ordered or arr.capacity < 2:
                continue
            if any(self.in_array.get(vn) is arr for vn in written):
                for p in range(arr.capacity - 1):
                    for i in range(arr.capacity - 1 - p):
                        stmts.append(f"tcpm_cex_{ident}({i}, {i + 1})")
        g = "true" if isinstance(guard, Const) else self.ex.p(guard)
        body = ";\n        ".join(stmts) if stmts else "skip"
        return [head, f"    :: d_step {{ {g} ->\n        {body}\n    }}"], ntemps

    def _assignments(self, ups: list[tuple[str, Expr]]) -> tuple[list[str], int]:
        """Statements performing ``ups`` at once (every right-hand side reads the old state),
        and the number of temporaries used.

        An update is written as soon as no other pending update reads its variable; when every
        pending variable is read by another (a cycle, e.g. a swap), one right-hand side is
        saved in a temporary and its variable written last.  An Int update that the range
        analysis cannot prove in range goes through a temporary that is asserted in range.
        """
        system = self.system
        reads = {vn: e.variables() for vn, e in ups}
        pending = dict(ups)
        stmts: list[str] = []
        last: list[str] = []
        ntemps = 0
        while pending:
            free = [vn for vn in pending if not any(vn in reads[u] for u in pending if u != vn)]
            vn = free[0] if free else next(iter(pending))
            e = pending.pop(vn)
            vt = system.var(vn).vtype
            (text, r), target = self.ex.translate(e), self.names[vn]
            check = ""
            if isinstance(vt, IntType) and (r is None or r[0] < vt.lo or r[1] > vt.hi):
                check = f"{vt.lo} <= {{t}} && {{t}} <= {vt.hi}"
            if free and not check:
                stmts.append(f"{target} = {self._code(vt, text)}")
                continue
            t = f"tcpm_t{ntemps}"
            ntemps += 1
            stmts.append(f"{t} = {text}")
            if check:
                stmts.append(f"assert({check.format(t=t)})")
            (stmts if free else last).append(f"{target} = {self._code(vt, t)}")
        return stmts + last, ntemps

    @staticmethod
    def _code(vt: VarType, value: str) -> str:
        if isinstance(vt, IntType) and vt.lo != 0:
            return f"{value} - ({vt.lo})" if vt.lo < 0 else f"{value} - {vt.lo}"
        return value

    def compare_exchange(self) -> list[str]:
        """Per unordered array, an inline that swaps slots i < j when slot i is smaller."""
        lines: list[str] = []
        for arr, ident, _, fields in self.arrays:
            if arr.ordered or arr.capacity < 2:
                continue
            fs = [fields[fn] for fn, _ in arr.fields]
            less = ""
            for f in reversed(fs):
                lt = f"{ident}[i].{f} < {ident}[j].{f}"
                less = lt if not less else f"{lt} || ({ident}[i].{f} == {ident}[j].{f} && ({less}))"
            swap = "; ".join(
                f"tcpm_s = {ident}[i].{f}; {ident}[i].{f} = {ident}[j].{f}; {ident}[j].{f} = tcpm_s"
                for f in fs
            )
            lines += [
                f"inline tcpm_cex_{ident}(i, j) {{",
                "    if",
                f"    :: ({less}) -> {swap}",
                "    :: else -> skip",
                "    fi",
                "}",
            ]
        return lines

    def assign_state(self, codes: tuple[int, ...]) -> str:
        """Assignments from the all-zero state to the state of ``codes``."""
        sets = [
            f"{self.names[v.name]} = {_code_text(v.vtype, c)}"
            for v, c in zip(self.system.variables, codes, strict=True)
            if c != 0
        ]
        return "; ".join(sets) or "skip"


def promela(
    system: System, invariants: Sequence[tuple[str, Expr]] = (), source: str = ""
) -> Export:
    """``system`` as a Promela model; each ``(name, predicate)`` of ``invariants`` (the
    predicates of ``always`` properties) becomes an assertion.

    Raises `UsageError` naming what cannot be exported (a type, an expression, a name clash).
    """
    missing = set(OPS) - TRANSLATED
    if missing:  # pragma: no cover - guarded by a test
        raise UsageError(f"the Promela export does not know the operators {sorted(missing)}")
    tr = _Translator(system)
    inits = [
        tuple(encode(v.vtype, x) for v, x in zip(system.variables, values, strict=True))
        for values in system.init
    ]
    arrays_empty = all(
        c == 0
        for state in inits
        for v, c in zip(system.variables, state, strict=True)
        if v.name in tr.in_array
    )
    declared = len(inits) == 1 and arrays_empty
    declarations = tr.declarations(inits[0] if declared else None)
    options: list[str] = []
    ntemps = 0
    for k in range(len(system.actions)):
        lines, n = tr.action(k)
        options += lines
        ntemps = max(ntemps, n)
    out = [
        f"/* {_comment(system.name)}: exported by tcpmodel{' from ' if source else ''}"
        f"{_comment(source)}.",
        f"   {len(system.variables)} variables, {len(system.actions)} actions, "
        f"{len(inits)} initial state{'s' if len(inits) != 1 else ''}.",
        "   SPIN: spin -o2 -a FILE && gcc -O2 -DSAFETY -DNOREDUCE -o pan pan.c && ./pan -m10000000",
        "   (-o2 keeps variables no statement reads; -m: a DFS stack deeper than the search goes)",
        f"   states stored = tcpmodel's states + {0 if declared else 1}. */",
        "",
    ]
    enums = dict.fromkeys(v.vtype for v in system.variables if isinstance(v.vtype, EnumType))
    for t in enums:
        for k in range(t.size):
            out.append(f"#define {tr.claim(enum_name(t, k), f'value of enum {t.name}')} {k}")
    out += declarations
    if ntemps:
        out.append(f"hidden int {', '.join(f'tcpm_t{i}' for i in range(ntemps))};")
    cex = tr.compare_exchange()
    if cex:
        out.append("hidden int tcpm_s;")
        out += ["", *cex]
    out += ["", "active proctype main() {"]
    if not declared:
        out.append("    if")
        for codes in inits:
            out.append(f"    :: d_step {{ {tr.assign_state(codes)} }}")
        out.append("    fi;")
    out += ["end_loop:", "    do", *options, "    od", "}"]
    for name, predicate in invariants:
        p = tr.ex.p(simplify(predicate))
        wait = "" if declared else "main[0]@end_loop && "
        out += [
            "",
            f"/* always({_comment(name)}) */",
            f"active proctype {tr.claim('always_' + _ident(name), f'property {name}')}() {{",
            f"end: atomic {{ {wait}!({p}) -> assert({p}) }}",
            "}",
        ]
    return Export("\n".join(out) + "\n", 0 if declared else 1, tuple(n for n, _ in invariants))
