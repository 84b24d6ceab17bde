"""The explicit engine's contract: verdicts, shortest traces, bounds give `unknown`, replay."""

from __future__ import annotations

import dataclasses

import pytest

from tcpmodel.engines.explicit import explore
from tcpmodel.engines.search import Bounds
from tcpmodel.errors import ModelError, ReplayError
from tcpmodel.formula import Property, parse_property
from tcpmodel.kernel.system import Builder, System
from tcpmodel.kernel.types import BOOL, IntType
from tcpmodel.models import MODELS
from tcpmodel.results import Step, Trace
from tcpmodel.semantics import replay


def mutex(algo: str) -> System:
    return MODELS["mutex"].build({"algorithm": algo})


def props(system: System, *formulas: str) -> list[Property]:
    return [parse_property(f"p{i}", f, system) for i, f in enumerate(formulas)]


MUTEX = "always(not (p0.pc == CRIT and p1.pc == CRIT))"


def test_naive_mutex_shortest_counterexample() -> None:
    s = mutex("naive")
    out, _ = explore(s, props(s, MUTEX))
    o = out["p0"]
    assert o.verdict == "violated"
    assert o.trace is not None
    assert [st.action for st in o.trace.steps] == [
        None,
        "p0.want",
        "p0.test",
        "p1.want",
        "p1.test",
        "p0.enter",
        "p1.enter",
    ]
    last = o.trace.steps[-1].state
    assert last["p0.pc"] == last["p1.pc"] == "CRIT"
    replay(s, o.trace)


def test_shortest_trace_length_equals_bfs_depth_of_first_violation() -> None:
    # Every state at depth < 6 satisfies mutual exclusion: a depth-5 search cannot violate it.
    s = mutex("naive")
    out, stats = explore(s, props(s, MUTEX), Bounds(max_depth=5))
    assert out["p0"].verdict == "unknown"
    assert "depth bound 5" in out["p0"].reason
    assert not stats.complete


def test_peterson_holds_and_reachability() -> None:
    s = mutex("peterson")
    out, stats = explore(
        s, props(s, MUTEX, "reachable(p1.pc == CRIT)", "reachable(p0.pc == CHECK)")
    )
    assert out["p0"].verdict == "holds" and out["p0"].trace is None
    assert out["p1"].verdict == "reachable"
    assert out["p2"].verdict == "unreachable"
    assert stats.complete and stats.states == 20


@pytest.mark.parametrize(
    ("bounds", "reason"),
    [
        (Bounds(max_depth=2), "depth bound 2"),
        (Bounds(max_states=5), "state bound 5"),
    ],
)
def test_bounds_give_unknown_never_holds(bounds: Bounds, reason: str) -> None:
    s = mutex("peterson")
    out, _ = explore(s, props(s, MUTEX, "reachable(p0.pc == CHECK)"), bounds)
    for o in out.values():
        assert o.verdict == "unknown"
        assert reason in o.reason


def test_timeout_gives_unknown() -> None:
    m = MODELS["alternating-bit"]
    s = m.build({"messages": 6, "capacity": 3, "channel": "reordering"})
    # A limit of 0 s is past at the first check point, however fast the machine is.
    out, stats = explore(s, props(s, "always(receiver.got <= 6)"), Bounds(timeout=0.0))
    assert out["p0"].verdict == "unknown"
    assert out["p0"].reason == "time limit 0 s reached"
    assert not stats.complete


def test_memory_bound_gives_unknown() -> None:
    m = MODELS["alternating-bit"]
    s = m.build({"messages": 6, "capacity": 3, "channel": "reordering"})
    out, _ = explore(s, props(s, "always(receiver.got <= 6)"), Bounds(max_memory_mb=1))
    assert out["p0"].verdict == "unknown"
    assert "memory bound" in out["p0"].reason


def test_violation_found_before_a_bound_is_still_reported() -> None:
    s = mutex("naive")
    out, _ = explore(s, props(s, MUTEX), Bounds(max_depth=6))
    assert out["p0"].verdict == "violated"


def counter(limit: int, wrap: bool) -> System:
    b = Builder("counter")
    x = b.var("x", IntType(0, 3))
    done = b.var("done", BOOL)
    b.action("inc", x.lt(limit), {"x": x + 1}, "x := x + 1")
    if wrap:
        b.action("finish", x.eq(limit), {"done": True}, "done")
    b.terminal = done
    return b.build()


def test_deadlock_detection() -> None:
    s = counter(3, wrap=False)
    out, _ = explore(s, props(s, "always(not deadlock)"))
    assert out["p0"].verdict == "violated"
    assert out["p0"].trace is not None and len(out["p0"].trace) == 4
    s = counter(3, wrap=True)
    out, _ = explore(s, props(s, "always(not deadlock)"))
    assert out["p0"].verdict == "holds"


def test_update_out_of_range_is_a_model_error() -> None:
    b = Builder("overflow")
    x = b.var("x", IntType(0, 2))
    b.action("inc", True, {"x": x + 1}, "no guard")
    with pytest.raises(ModelError, match=r"inc sets x to 3, outside Int\(0..2\)"):
        explore(b.build(), [])


def test_replay_rejects_a_tampered_trace() -> None:
    s = mutex("naive")
    out, _ = explore(s, props(s, MUTEX))
    trace = out["p0"].trace
    assert trace is not None
    steps = list(trace.steps)
    bad = dict(steps[3].state)
    bad["p0.flag"] = True
    steps[3] = dataclasses.replace(steps[3], state=bad)
    with pytest.raises(ReplayError, match="step 3"):
        replay(s, Trace(tuple(steps)))
    wrong_start = Trace((Step(None, None, {**steps[0].state, "p1.pc": "CRIT"}),))
    with pytest.raises(ReplayError, match="initial"):
        replay(s, wrong_start)


def test_all_properties_checked_in_one_exploration() -> None:
    s = MODELS["alternating-bit"].build({"messages": 3, "capacity": 2, "channel": "fifo"})
    lib = MODELS["alternating-bit"].properties
    ps = [parse_property(p.name, p.formula, s) for p in lib]
    out, stats = explore(s, ps)
    assert {k: o.verdict for k, o in out.items()} == {
        "delivers-in-order": "holds",
        "ack-consistent": "holds",
        "all-delivered": "reachable",
        "deadlock-free": "holds",
    }
    assert stats.states == 93


def test_a_slot_array_with_an_enum_field_can_remove_records() -> None:
    from tcpmodel.kernel.system import Updates
    from tcpmodel.kernel.types import EnumType

    b = Builder("enum-queue")
    kind = EnumType("kind", ("A", "B"))
    ch = b.array("ch", 2, [("k", kind)], ordered=True)
    u = Updates()
    ch.send(u, {"k": "B"})
    b.action("send", ~ch.full(), u, "send")
    u = Updates()
    ch.remove(u, 0)
    b.action("take", ch.present(0), u, "take")
    _, stats = explore(b.build(), [])
    assert stats.complete and stats.states == 3


def test_auto_proves_what_a_bound_left_open() -> None:
    """--engine auto: the explorer first; a `holds` it could not settle goes to k-induction."""
    from pathlib import Path

    from tcpmodel.check import Options, check_spec
    from tcpmodel.spec import load

    spec = load(Path(__file__).resolve().parent.parent / "specs" / "mutex-peterson.toml")
    got = {r.prop: r for r in check_spec(spec, Options(bounds=Bounds(max_states=5)))}
    assert got["mutual-exclusion"].verdict == "proved"
    assert got["mutual-exclusion"].engine == "kind" and got["mutual-exclusion"].met
    # A reachability question is not the proof engine's: it stays unknown, with the bound.
    assert got["critical-reachable"].verdict == "unknown"
    assert "state bound 5" in got["critical-reachable"].reason
    explicit = check_spec(spec, Options("explicit", Bounds(max_states=5)))
    assert {r.verdict for r in explicit} == {"unknown"}
