"""`tcpmodel diff` and `tcpmodel.behaviours`: behaviour sets against brute force, shortest
traces, verdicts side by side, bounds that never read as "nothing changed", bad inputs."""

from __future__ import annotations

import json
import shutil
from collections import deque
from pathlib import Path

import pytest
from click.testing import CliRunner

from tcpmodel.behaviours import Behaviour, actor_of, explore_behaviours
from tcpmodel.diff import diff, parse_design
from tcpmodel.engines.search import Bounds
from tcpmodel.errors import UsageError
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.system import System
from tcpmodel.kernel.types import EnumType
from tcpmodel.models.base import ParamValue
from tcpmodel.semantics import replay
from tcpmodel.spec import load
from tests.specfile import write_spec

from .test_cli import SPECS

# A small connection configuration (about 5,100 states): one incarnation, one duplicate,
# TIME-WAIT of 2 MSL; with rfc1337 = false a RST may end TIME-WAIT (RFC 1337).
SMALL: dict[str, ParamValue] = {
    "seq_bits": 3,
    "horizon": 4,
    "data": 1,
    "isn": "clock",
    "window": 1,
    "msl": 1,
    "time_wait": "2msl",
    "incarnations": 1,
    "rfc1337": True,
    "capacity": 1,
    "loss": 0,
    "duplicate": 1,
    "retries": 1,
    "syn_retries": 1,
    "synack_retries": 1,
}
PROPS = [{"name": "no-old-data", "expect": "holds"}, {"name": "handshake", "expect": "reachable"}]


@pytest.fixture(scope="module")
def designs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("designs")
    f1 = write_spec(d / "f1.toml", "f1", SMALL, PROPS)
    nof1 = write_spec(d / "nof1.toml", "nof1", {**SMALL, "rfc1337": False}, PROPS)
    return f1, nof1


def brute_force(system: System) -> dict[Behaviour, int]:
    """Every behaviour of every transition of every reachable state, with the length of its
    shortest trace (BFS depth of the source state + 1), computed directly."""
    c = Compiled(system)
    depth = {s: 0 for s in c.initial()}
    todo = deque(depth)
    out: dict[Behaviour, int] = {}
    while todo:
        s = todo.popleft()
        vs = c.decode(s)
        for ai, t in c.successors(s):
            actor, name, var = actor_of(system, system.actions[ai])
            if var is None:
                b = Behaviour(actor, name)
            else:
                vtype = system.var(var).vtype
                assert isinstance(vtype, EnumType)
                i = system.index[var]
                b = Behaviour(
                    actor, name, vtype.values[int(vs[i])], vtype.values[int(c.decode(t)[i])]
                )
            out.setdefault(b, depth[s] + 1)
            if t not in depth:
                depth[t] = depth[s] + 1
                todo.append(t)
    return out


@pytest.mark.parametrize("prefix", [0, 100_000])
def test_behaviours_are_exactly_the_reachable_steps_with_shortest_traces(
    designs: tuple[Path, Path], prefix: int
) -> None:
    # prefix 0: group testing over several explorations; 100,000: the first search decides
    # everything.
    system = load(designs[1]).configurations[0].system
    want = brute_force(system)
    got = explore_behaviours(system, "explicit", prefix_states=prefix)
    assert got.complete and not got.undecided
    assert set(got.found) == set(want)
    assert (got.runs > 1) == (prefix < 5_000)
    for b, trace in got.found.items():
        assert len(trace) - 1 == want[b], b
        replay(system, trace)
        last = trace.steps[-1]
        name = f"{b.actor}.{b.action}" if b.actor else b.action
        assert last.action is not None and last.action.split("(")[0] == name
        if b.src is not None:
            assert trace.steps[-2].state[f"{b.actor}.state"] == b.src
            assert last.state[f"{b.actor}.state"] == b.dst
    # every candidate not found is proved absent
    assert not set(want) & got.absent


@pytest.mark.skipif(shutil.which("gcc") is None, reason="the native engine needs gcc")
def test_native_engine_finds_the_same_behaviours(designs: tuple[Path, Path]) -> None:
    system = load(designs[0]).configurations[0].system
    py = explore_behaviours(system, "explicit", prefix_states=0)
    c = explore_behaviours(system, "native", prefix_states=0)
    assert c.engine == "native"
    assert {b: len(t) for b, t in c.found.items()} == {b: len(t) for b, t in py.found.items()}


def test_turning_f1_off_adds_the_assassination_and_removes_the_ignored_rst(
    designs: tuple[Path, Path],
) -> None:
    f1, nof1 = designs
    d = diff(parse_design(str(f1)), parse_design(str(nof1)), "explicit")
    added = {str(b) for b, _ in d.added}
    removed = {str(b) for b, _ in d.removed}
    assert "b: TIME_WAIT --reset--> LISTEN" in added
    assert "b: TIME_WAIT --time_wait_ignore_rst--> TIME_WAIT" in removed
    assert d.status == "changed" and d.exit_code == 1
    # traces are in the design that has the behaviour
    for b, t in d.added:
        replay(d.b.config.system, t)
        assert d.explored_a.reachable(b) is False
    for _, t in d.removed:
        replay(d.a.config.system, t)
    assert [(v.prop, v.change) for v in d.verdicts] == [
        ("no-old-data", "same"),
        ("handshake", "same"),
    ]


def run(*args: str) -> tuple[int, str, str]:
    from tcpmodel.cli import main

    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


def test_cli_same_design_is_nothing_changed(designs: tuple[Path, Path]) -> None:
    code, out, _ = run("diff", str(designs[0]), str(designs[0]), "--engine", "explicit", "-q")
    assert code == 0, out
    assert "added in f1: none" in out and out.rstrip().endswith("nothing changed")


def test_cli_variants_of_one_spec_and_json(tmp_path: Path) -> None:
    spec = SPECS / "alternating-bit.toml"
    code, out, _ = run(
        "diff", str(spec), f"{spec}:reordering", "--engine", "explicit", "--format", "json", "-q"
    )
    doc = json.loads(out)
    assert code == 1 and doc["exit_code"] == 1 and doc["status"] == "changed"
    changes = {p["property"]: p["change"] for p in doc["properties"]}
    assert changes["delivers-in-order"] == "changed"
    assert doc["a"]["complete"] and doc["b"]["complete"]


def test_cli_writes_a_ladder_per_added_and_removed_behaviour(
    designs: tuple[Path, Path], tmp_path: Path
) -> None:
    out = tmp_path / "d"
    code, text, _ = run(
        "diff", str(designs[0]), str(designs[1]), "--engine", "explicit", "--out", str(out), "-q"
    )
    assert code == 1, text
    dots = sorted(p.name for p in out.glob("*.dot"))
    assert "added.b.TIME_WAIT.reset.LISTEN.dot" in dots
    assert "removed.b.TIME_WAIT.time_wait_ignore_rst.TIME_WAIT.dot" in dots
    dot = (out / "added.b.TIME_WAIT.reset.LISTEN.dot").read_text()
    assert dot.startswith("digraph") and "b: TIME_WAIT --reset--> LISTEN" in dot
    if shutil.which("dot"):
        assert (out / "added.b.TIME_WAIT.reset.LISTEN.svg").read_text().lstrip().startswith("<")


def test_a_bound_is_unknown_never_nothing_changed(designs: tuple[Path, Path]) -> None:
    code, out, _ = run(
        "diff",
        str(designs[0]),
        str(designs[0]),
        "--engine",
        "explicit",
        "--max-states",
        "300",
        "-q",
    )
    assert code == 3, out
    assert "INCOMPLETE (state bound 300 reached" in out
    assert "nothing changed" not in out
    d = diff(
        parse_design(str(designs[0])),
        parse_design(str(designs[1])),
        "explicit",
        Bounds(max_states=300),
    )
    assert not d.explored_a.complete and d.status != "same"
    # only definite differences are listed: an added step is absent, not undecided, in A
    assert all(d.explored_a.reachable(b) is False for b, _ in d.added)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("{a}", str(SPECS / "mutex-naive.toml")), "uses model 'connection'.*same model"),
        (("{a}", "{a}:nope"), "has no variant 'nope'; its variants: none"),
        (("{a}", "missing.toml"), "missing.toml: no such spec file; expected SPEC or SPEC:VARIANT"),
        (("{a}", "{a}:"), "empty variant"),
        (("{a}", "{a}", "--engine", "bmc"), "Invalid value for '--engine'"),
    ],
)
def test_cli_bad_input_exits_2(
    designs: tuple[Path, Path], args: tuple[str, ...], message: str
) -> None:
    code, out, err = run("diff", *(a.format(a=designs[0]) for a in args), "-q")
    assert code == 2, out
    import re

    assert re.search(message, err), err


def test_engine_outside_the_explorers_is_refused() -> None:
    system = load(SPECS / "mutex-naive.toml").configurations[0].system
    with pytest.raises(UsageError, match="behaviours need an explorer"):
        explore_behaviours(system, "kind")
