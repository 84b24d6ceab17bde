"""Two-process mutual exclusion: Peterson's algorithm, and a naive flag protocol that fails.

Each process ``p0``/``p1`` runs a loop ``IDLE -> ... -> CRIT -> IDLE``; one atomic step per
action, with an interleaving of the two.

* ``peterson`` (G. L. Peterson, 1981): ``flag[i] := true; turn := 1-i;
  await !flag[1-i] or turn == i``.  Mutual exclusion holds.
* ``naive``: ``await !flag[1-i]; flag[i] := true``.  The test and the set are two steps, so both
  processes can pass the test before either sets its flag: the shortest counterexample has
  six steps.
"""

from __future__ import annotations

from collections.abc import Mapping

from tcpmodel.kernel.expr import Var, or_
from tcpmodel.kernel.system import Builder, System
from tcpmodel.kernel.types import BOOL, EnumType, IntType
from tcpmodel.models.base import DEADLOCK_FREE, LibraryProperty, Model, Param, ParamValue

PC = EnumType("pc", ("IDLE", "SET", "WAIT", "CHECK", "CRIT"))


def build(params: Mapping[str, ParamValue]) -> System:
    algo = str(params["algorithm"])
    b = Builder(f"mutex-{algo}")
    pc = [b.var(f"p{i}.pc", PC, "IDLE") for i in (0, 1)]
    flag = [b.var(f"p{i}.flag", BOOL) for i in (0, 1)]
    turn: Var | None = b.var("turn", IntType(0, 1)) if algo == "peterson" else None
    for i in (0, 1):
        j = 1 - i
        if algo == "peterson":
            assert turn is not None
            b.action(
                f"p{i}.want",
                pc[i].eq("IDLE"),
                {pc[i].name: "SET", flag[i].name: True},
                "flag[i] := true",
                group=f"p{i}",
            )
            b.action(
                f"p{i}.yield",
                pc[i].eq("SET"),
                {pc[i].name: "WAIT", turn.name: j},
                "turn := other",
                group=f"p{i}",
            )
            b.action(
                f"p{i}.enter",
                pc[i].eq("WAIT") & or_(~flag[j], turn.eq(i)),
                {pc[i].name: "CRIT"},
                "await !flag[other] or turn == me",
                group=f"p{i}",
            )
        else:
            b.action(f"p{i}.want", pc[i].eq("IDLE"), {pc[i].name: "CHECK"}, "start", group=f"p{i}")
            b.action(
                f"p{i}.test",
                pc[i].eq("CHECK") & ~flag[j],
                {pc[i].name: "SET"},
                "await !flag[other]",
                group=f"p{i}",
            )
            b.action(
                f"p{i}.enter",
                pc[i].eq("SET"),
                {pc[i].name: "CRIT", flag[i].name: True},
                "flag[i] := true, enter",
                group=f"p{i}",
            )
        b.action(
            f"p{i}.leave",
            pc[i].eq("CRIT"),
            {pc[i].name: "IDLE", flag[i].name: False},
            "flag[i] := false",
            group=f"p{i}",
        )
        b.fair("weak", f"p{i}")
    return b.build()


MODEL = Model(
    "mutex",
    "Two-process mutual exclusion: Peterson's algorithm or a naive test-then-set protocol.",
    (
        Param(
            "algorithm", "choice", "peterson", "the entry protocol", choices=("peterson", "naive")
        ),
    ),
    build,
    (
        LibraryProperty(
            "mutual-exclusion",
            "always(not (p0.pc == CRIT and p1.pc == CRIT))",
            "never both processes in their critical sections",
        ),
        LibraryProperty(
            "critical-reachable",
            "reachable(p0.pc == CRIT)",
            "process 0 can enter its critical section",
        ),
        DEADLOCK_FREE,
    ),
)
