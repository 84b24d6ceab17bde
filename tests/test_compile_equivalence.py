"""The generated successor function equals a slow reference interpreter of the system.

The reference evaluates each action's guard and updates with `evaluate` on dict states and puts
the result in canonical order with `System.canonical`; on every reachable state of several small
configurations, the labelled successors of `Compiled.successors` (and the states `Compiled.step`
adds) must be exactly those.
"""

from __future__ import annotations

import pytest

from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.expr import FALSE, implies, ite, seq_lt
from tcpmodel.kernel.pyexpr import evaluate
from tcpmodel.kernel.system import Builder, System, Updates, Value
from tcpmodel.kernel.types import BOOL, IntType, SeqType, encode
from tcpmodel.models import MODELS
from tcpmodel.models.base import ParamValue

State = tuple[Value, ...]


def reference_successors(system: System, values: State) -> list[tuple[int, State]]:
    env = {v.name: x for v, x in zip(system.variables, values, strict=True)}
    out: list[tuple[int, State]] = []
    for ai, a in enumerate(system.actions):
        if not evaluate(a.guard, env):
            continue
        new = dict(env)
        for vn, e in a.updates:
            new[vn] = evaluate(e, env)
        raw = tuple(new[v.name] for v in system.variables)
        for v, x in zip(system.variables, raw, strict=True):
            encode(v.vtype, x)  # a range error here would be a model error
        out.append((ai, system.canonical(raw)))
    return out


def codes(system: System, values: State) -> tuple[int, ...]:
    """Values compared by their codes (``True`` and ``1`` are one value)."""
    return tuple(encode(v.vtype, x) for v, x in zip(system.variables, values, strict=True))


def check_equivalent(system: System) -> int:
    c = Compiled(system)
    seen = set(c.initial())
    frontier = list(seen)
    while frontier:
        nxt: list[bytes] = []
        for s in frontier:
            values = c.decode(s)
            want = [(ai, codes(system, v)) for ai, v in reference_successors(system, values)]
            got = [(ai, codes(system, c.decode(t))) for ai, t in c.successors(s)]
            assert got == want, f"successors differ in {values}"
            stepped: list[bytes] = []
            before = set(seen)
            n = c.step(s, seen, stepped.append)
            assert n == len(want)
            assert set(stepped) == {t for _, t in c.successors(s)} - before
            assert len(stepped) == len(set(stepped))
            nxt += stepped
        frontier = nxt
    return len(seen)


CONFIGS: list[tuple[str, dict[str, ParamValue]]] = [
    ("mutex", {"algorithm": "peterson"}),
    ("mutex", {"algorithm": "naive"}),
    ("alternating-bit", {"messages": 2, "capacity": 2, "channel": "fifo"}),
    ("alternating-bit", {"messages": 3, "capacity": 3, "channel": "fifo"}),
    ("alternating-bit", {"messages": 2, "capacity": 3, "channel": "reordering"}),
    ("alternating-bit", {"messages": 3, "capacity": 2, "channel": "reordering"}),
    ("alternating-bit", {"messages": 2, "capacity": 4, "channel": "reordering"}),
    ("alternating-bit", {"messages": 1, "capacity": 5, "channel": "reordering"}),
]


@pytest.mark.parametrize(("model", "params"), CONFIGS, ids=lambda x: str(x))
def test_models_compile_to_their_reference_semantics(
    model: str, params: dict[str, ParamValue]
) -> None:
    assert check_equivalent(MODELS[model].build(params)) > 1


def synthetic() -> System:
    """Operators the models above do not use: sequence numbers, offset ranges, arithmetic."""
    b = Builder("synthetic")
    seq = SeqType(2)
    x = b.var("x", seq)
    y = b.var("y", IntType(-2, 3), init=0)
    f = b.var("f", BOOL)
    big = b.var("big", IntType(0, 300), init=250)
    net = b.array("net", 2, [("seq", seq), ("n", IntType(-1, 2))])
    b.action("inc", FALSE | ~f, {"x": x + 1, "f": x.eq(3)}, "wrap")
    b.action("grow", big.le(275), {"big": big + 25, "y": (y + 1) % 4}, "grow")
    b.action("shrink", y.gt(-2) & big.eq(300), {"y": y - 1, "big": big // 2}, "shrink")
    u = Updates()
    net.send(u, {"seq": x, "n": ite(seq_lt(x, 2), ite(f, 1, 2), -1)})
    b.action("send", True, u, "send")
    for k in range(2):
        u = Updates()
        net.remove(u, k)
        u.set(x, net.field(k, "seq"))
        b.action("recv", net.present(k), u, "recv", {"slot": k})
    b.action("flip", implies(f, y.ne(3)), {"f": ~f}, "flip")
    return b.build()


def test_synthetic_system_compiles_to_its_reference_semantics() -> None:
    assert check_equivalent(synthetic()) > 1
