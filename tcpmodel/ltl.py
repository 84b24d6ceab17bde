"""Linear temporal logic over state predicates: formulas, negation normal form, the tableau
(a generalized Büchi automaton), and the semantics of a formula on a lasso.

Formulas are immutable trees whose leaves are `Atom` (the index of a state predicate in the
property's list of kernel expressions) and `TRUE`/`FALSE`.  The user's operators map onto the
core ones: ``eventually p`` is ``true U p``, ``always p`` is ``false R p``, ``leads_to(p, q)``
is ``always(p implies eventually q)``, ``p implies q`` is ``not p or q``.

`automaton(f)` is the tableau construction of Gerth, Peled, Vardi and Wolper ("Simple
on-the-fly automatic verification of linear temporal logic", 1995): nodes carry the literals a
state must satisfy when the run is there, an edge ``q -> r`` means ``r`` may follow ``q``, and
for each ``a U b`` in the formula an acceptance set holds the nodes that do not owe ``b``.  A
run is accepted when it visits every acceptance set infinitely often.  The liveness engine
builds it for the negation of a property: an accepted fair run is a counterexample.

`holds_on_lasso` is the direct semantics on an ultimately periodic word (a stem, then a cycle
repeated forever), used to check every lasso the engine reports and by the tests' brute force.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Const:
    value: bool

    def __str__(self) -> str:
        return "true" if self.value else "false"


@dataclass(frozen=True, slots=True)
class Atom:
    index: int
    text: str = field(default="", compare=False)

    def __str__(self) -> str:
        return self.text or f"p{self.index}"


@dataclass(frozen=True, slots=True)
class Not:
    arg: Ltl

    def __str__(self) -> str:
        return f"not {_paren(self.arg)}"


@dataclass(frozen=True, slots=True)
class And:
    left: Ltl
    right: Ltl

    def __str__(self) -> str:
        return f"{_paren(self.left)} and {_paren(self.right)}"


@dataclass(frozen=True, slots=True)
class Or:
    left: Ltl
    right: Ltl

    def __str__(self) -> str:
        return f"{_paren(self.left)} or {_paren(self.right)}"


@dataclass(frozen=True, slots=True)
class Next:
    arg: Ltl

    def __str__(self) -> str:
        return f"next({self.arg})"


@dataclass(frozen=True, slots=True)
class Until:
    left: Ltl
    right: Ltl

    def __str__(self) -> str:
        return f"until({self.left}, {self.right})"


@dataclass(frozen=True, slots=True)
class Release:
    left: Ltl
    right: Ltl

    def __str__(self) -> str:
        return f"release({self.left}, {self.right})"


Ltl = Const | Atom | Not | And | Or | Next | Until | Release
TRUE = Const(True)
FALSE = Const(False)


def _paren(f: Ltl) -> str:
    return f"({f})" if isinstance(f, And | Or) else str(f)


def eventually(f: Ltl) -> Ltl:
    return Until(TRUE, f)


def always(f: Ltl) -> Ltl:
    return Release(FALSE, f)


def implies(a: Ltl, b: Ltl) -> Ltl:
    return Or(Not(a), b)


def leads_to(a: Ltl, b: Ltl) -> Ltl:
    return always(implies(a, eventually(b)))


def nnf(f: Ltl, negate: bool = False) -> Ltl:
    """``f`` (or ``not f``) with negations on atoms only."""
    if isinstance(f, Const):
        return Const(f.value != negate)
    if isinstance(f, Atom):
        return Not(f) if negate else f
    if isinstance(f, Not):
        return nnf(f.arg, not negate)
    if isinstance(f, And):
        a, b = nnf(f.left, negate), nnf(f.right, negate)
        return Or(a, b) if negate else And(a, b)
    if isinstance(f, Or):
        a, b = nnf(f.left, negate), nnf(f.right, negate)
        return And(a, b) if negate else Or(a, b)
    if isinstance(f, Next):
        return Next(nnf(f.arg, negate))
    if isinstance(f, Until):
        a, b = nnf(f.left, negate), nnf(f.right, negate)
        return Release(a, b) if negate else Until(a, b)
    a, b = nnf(f.left, negate), nnf(f.right, negate)
    return Until(a, b) if negate else Release(a, b)


def subformulas(f: Ltl) -> list[Ltl]:
    out: list[Ltl] = []
    todo = [f]
    while todo:
        g = todo.pop()
        if g in out:
            continue
        out.append(g)
        if isinstance(g, Not | Next):
            todo.append(g.arg)
        elif isinstance(g, And | Or | Until | Release):
            todo += [g.left, g.right]
    return out


def is_state_formula(f: Ltl) -> bool:
    """No temporal operator in ``f``."""
    return not any(isinstance(g, Next | Until | Release) for g in subformulas(f))


# ---- the tableau ------------------------------------------------------------------------

Literal = tuple[int, bool]  # (atom index, polarity)


@dataclass(frozen=True, slots=True)
class Automaton:
    """A generalized Büchi automaton: ``labels[q]`` the literals a state satisfies at node
    ``q``; ``succ[q]`` the nodes that may follow; ``initial`` the first nodes; ``accepting``
    one node set per until-subformula (every set must be visited infinitely often)."""

    labels: tuple[frozenset[Literal], ...]
    succ: tuple[tuple[int, ...], ...]
    initial: tuple[int, ...]
    accepting: tuple[frozenset[int], ...]

    def admits(self, q: int, atoms: int) -> bool:
        """Whether a state whose true atoms are the bits of ``atoms`` satisfies node ``q``."""
        return all(bool(atoms >> i & 1) == pol for i, pol in self.labels[q])


@dataclass(slots=True)
class _Node:
    incoming: set[int]
    new: list[Ltl]
    old: set[Ltl]
    nxt: set[Ltl]


def _negation(f: Ltl) -> Ltl | None:
    if isinstance(f, Atom):
        return Not(f)
    if isinstance(f, Not) and isinstance(f.arg, Atom):
        return f.arg
    return None


INIT = -1


def automaton(f: Ltl, max_nodes: int = 20_000) -> Automaton:
    """The GPVW tableau of ``f`` (put in negation normal form first)."""
    f = nnf(f)
    done: list[tuple[set[int], frozenset[Ltl], frozenset[Ltl]]] = []  # incoming, old, next
    index: dict[tuple[frozenset[Ltl], frozenset[Ltl]], int] = {}
    stack = [_Node({INIT}, [f], set(), set())]
    while stack:
        node = stack.pop()
        if not node.new:
            key = (frozenset(node.old), frozenset(node.nxt))
            if key in index:
                done[index[key]][0].update(node.incoming)
                continue
            if len(done) >= max_nodes:
                raise ValueError(f"the formula's automaton has more than {max_nodes} nodes")
            index[key] = len(done)
            done.append((set(node.incoming), key[0], key[1]))
            stack.append(_Node({index[key]}, list(node.nxt), set(), set()))
            continue
        g = node.new.pop()
        if g in node.old:
            stack.append(node)
            continue
        if isinstance(g, Const | Atom | Not):
            neg = _negation(g)
            if g == FALSE or (neg is not None and neg in node.old):
                continue  # contradiction: the node is dropped
            node.old.add(g)
            stack.append(node)
        elif isinstance(g, And):
            node.old.add(g)
            node.new += [h for h in (g.left, g.right) if h not in node.old]
            stack.append(node)
        elif isinstance(g, Next):
            node.old.add(g)
            node.nxt.add(g.arg)
            stack.append(node)
        else:
            if isinstance(g, Or):
                first, first_next, second = [g.left], set[Ltl](), [g.right]
            elif isinstance(g, Until):
                first, first_next, second = [g.left], {g}, [g.right]
            else:  # Release: b and (a or next(a R b))
                first, first_next, second = [g.right], {g}, [g.left, g.right]
            old = node.old | {g}
            one = _Node(set(node.incoming), node.new + first, set(old), node.nxt | first_next)
            two = _Node(set(node.incoming), node.new + second, set(old), set(node.nxt))
            stack += [two, one]
    labels = []
    for _, old_set, _ in done:
        lits: set[Literal] = set()
        for g in old_set:
            if isinstance(g, Atom):
                lits.add((g.index, True))
            elif isinstance(g, Not) and isinstance(g.arg, Atom):
                lits.add((g.arg.index, False))
        labels.append(frozenset(lits))
    succ: list[list[int]] = [[] for _ in done]
    initial = []
    for r, (incoming, _, _) in enumerate(done):
        for q in sorted(incoming):
            if q == INIT:
                initial.append(r)
            else:
                succ[q].append(r)
    untils = [g for g in subformulas(f) if isinstance(g, Until)]
    accepting = tuple(
        frozenset(q for q, (_, old, _) in enumerate(done) if u not in old or u.right in old)
        for u in untils
    ) or (frozenset(range(len(done))),)
    return Automaton(tuple(labels), tuple(tuple(s) for s in succ), tuple(initial), accepting)


# ---- semantics on a lasso --------------------------------------------------------------


def holds_on_lasso(f: Ltl, atoms: Sequence[int], loop: int) -> bool:
    """Whether ``f`` holds at position 0 of the infinite word ``atoms[0] ... atoms[-1]``
    followed by ``atoms[loop:]`` forever (each entry: the bitmask of true atoms)."""
    n = len(atoms)
    if not 0 <= loop < n:
        raise ValueError("loop must index a position of the lasso")

    def nxt(i: int) -> int:
        return i + 1 if i + 1 < n else loop

    memo: dict[Ltl, list[bool]] = {}

    def ev(g: Ltl) -> list[bool]:
        got = memo.get(g)
        if got is not None:
            return got
        if isinstance(g, Const):
            out = [g.value] * n
        elif isinstance(g, Atom):
            out = [bool(a >> g.index & 1) for a in atoms]
        elif isinstance(g, Not):
            out = [not x for x in ev(g.arg)]
        elif isinstance(g, And):
            a, b = ev(g.left), ev(g.right)
            out = [x and y for x, y in zip(a, b, strict=True)]
        elif isinstance(g, Or):
            a, b = ev(g.left), ev(g.right)
            out = [x or y for x, y in zip(a, b, strict=True)]
        elif isinstance(g, Next):
            a = ev(g.arg)
            out = [a[nxt(i)] for i in range(n)]
        else:
            a, b = ev(g.left), ev(g.right)
            until = isinstance(g, Until)
            # Least (until) or greatest (release) fixed point over the finite successor graph.
            out = [not until] * n
            changed = True
            while changed:
                changed = False
                for i in reversed(range(n)):
                    later = out[nxt(i)]
                    v = (b[i] or (a[i] and later)) if until else (b[i] and (a[i] or later))
                    if v != out[i]:
                        out[i] = v
                        changed = True
        memo[g] = out
        return out

    return ev(f)[0]


def atoms_of(f: Ltl) -> list[Atom]:
    return sorted({g for g in subformulas(f) if isinstance(g, Atom)}, key=lambda a: a.index)
