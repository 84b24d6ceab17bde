"""The native engine agrees with the Python explicit engine, state for state.

For every registered model and several parameter sets, `native.explore` and `explicit.explore`
must give identical statistics (states, transitions, depth, completeness), verdicts and traces;
the generated C successor function must equal `Compiled.successors` on every reachable state;
bounds give ``unknown`` with the same reasons; range errors are the same `ModelError`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tcpmodel.engines import explicit, native
from tcpmodel.engines.search import Bounds
from tcpmodel.errors import ModelError, NativeError, UsageError
from tcpmodel.formula import Property, parse_property
from tcpmodel.kernel import cdriver, cgen, clib
from tcpmodel.kernel.clib import Native
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.expr import TRUE, in_window, int_to_seq, seq_le, seq_lt, seq_to_int
from tcpmodel.kernel.system import Builder, System
from tcpmodel.kernel.types import BOOL, IntType, SeqType
from tcpmodel.models import MODELS
from tcpmodel.models.base import ParamValue
from tcpmodel.results import Stats
from tests.test_compile_equivalence import synthetic
from tests.test_connection import SMALL as SMALL_CONNECTION

if shutil.which("gcc") is None:
    pytest.skip("the native engine needs gcc, which is not installed", allow_module_level=True)

ROOT = Path(__file__).resolve().parent.parent
NO_BOUNDS = Bounds()


CONFIGS: list[tuple[str, dict[str, ParamValue]]] = [
    ("mutex", {"algorithm": "peterson"}),
    ("mutex", {"algorithm": "naive"}),
    ("alternating-bit", {"messages": 2, "capacity": 2, "channel": "fifo"}),
    ("alternating-bit", {"messages": 3, "capacity": 3, "channel": "fifo"}),
    ("alternating-bit", {"messages": 2, "capacity": 3, "channel": "reordering"}),
    ("alternating-bit", {"messages": 3, "capacity": 2, "channel": "reordering"}),
    ("alternating-bit", {"messages": 4, "capacity": 4, "channel": "reordering"}),
    ("alternating-bit", {"messages": 1, "capacity": 5, "channel": "reordering"}),
    ("connection", SMALL_CONNECTION),
    ("connection", {**SMALL_CONNECTION, "b_active_open": "never", "isn": "clock"}),
]


def build(model: str, params: dict[str, ParamValue]) -> System:
    m = MODELS[model]
    return m.build({**m.defaults(), **params})


def library(model: str, system: System) -> list[Property]:
    return [parse_property(p.name, p.formula, system) for p in MODELS[model].properties]


def exact(s: Stats) -> tuple[int, int, int, bool]:
    return (s.states, s.transitions, s.depth, s.complete)


def same_results(system: System, props: list[Property], bounds: Bounds = NO_BOUNDS) -> Stats:
    want, want_stats = explicit.explore(system, props, bounds)
    got, got_stats = native.explore(system, props, bounds)
    assert exact(got_stats) == exact(want_stats)
    assert {k: o.verdict for k, o in got.items()} == {k: o.verdict for k, o in want.items()}
    assert {k: o.reason for k, o in got.items()} == {k: o.reason for k, o in want.items()}
    for k, o in want.items():
        assert got[k].trace == o.trace, f"traces of {k} differ"
    return got_stats


@pytest.mark.parametrize(("model", "params"), CONFIGS, ids=lambda x: str(x))
def test_same_stats_verdicts_and_traces(model: str, params: dict[str, ParamValue]) -> None:
    system = build(model, params)
    stats = same_results(system, library(model, system))
    assert stats.states > 1


@pytest.mark.parametrize(("model", "params"), CONFIGS[:-1], ids=lambda x: str(x))
def test_every_property_alone(model: str, params: dict[str, ParamValue]) -> None:
    """One property per exploration: each stops at its own first hit, at the same place."""
    system = build(model, params)
    for p in library(model, system):
        same_results(system, [p])


def reachable_states(c: Compiled) -> list[bytes]:
    seen = set(c.initial())
    order = list(seen)
    frontier = list(seen)
    while frontier:
        nxt: list[bytes] = []
        for s in frontier:
            for _, t in c.successors(s):
                if t not in seen:
                    seen.add(t)
                    nxt.append(t)
        order += nxt
        frontier = nxt
    return order


def arithmetic() -> System:
    """Floor division and modulo of negative numbers, 64-bit and small sequence numbers."""
    b = Builder("arithmetic")
    y = b.var("y", IntType(-7, 7), init=5)
    b.var("q", IntType(-4, 3))
    b.var("r", IntType(0, 2))
    s64 = b.var("s64", SeqType(64), init=3)
    w64 = b.var("w64", SeqType(64))
    s3 = b.var("s3", SeqType(3))
    b.var("lt", BOOL)
    b.var("le", BOOL)
    b.var("win", BOOL)
    b.var("k", IntType(-8, 8))
    b.action(
        "dec",
        y.gt(-6),
        {"y": y - 2, "s64": int_to_seq(y, SeqType(64)) - 2, "s3": s3 - y},
        "y -= 2",
    )
    b.action("inc", y.lt(6), {"y": y + 1, "s64": int_to_seq(-y, SeqType(64)) + 1}, "y += 1")
    b.action(
        "divmod",
        True,
        {
            "q": y // 2,
            "r": y % 3,
            "w64": s64 + (y * 3 - 1),
            "lt": seq_lt(s64, w64),
            "le": seq_le(s3, int_to_seq(y, SeqType(3))),
            "win": in_window(s64, w64, y) | in_window(s3, int_to_seq(-y, SeqType(3)), -y),
            "k": (-y) % 5 - seq_to_int(s3) // 3,
        },
        "floor division",
    )
    return b.build()


SUCCESSOR_SYSTEMS: list[tuple[str, System]] = [
    (f"{m}-{p}", build(m, p)) for m, p in CONFIGS if m != "connection" or p is SMALL_CONNECTION
] + [("synthetic", synthetic()), ("arithmetic", arithmetic())]


@pytest.mark.parametrize(
    ("name", "system"), SUCCESSOR_SYSTEMS, ids=[n for n, _ in SUCCESSOR_SYSTEMS]
)
def test_c_successors_equal_python_successors(name: str, system: System) -> None:
    c = Compiled(system)
    n = Native(system)
    states = reachable_states(c)
    assert len(states) > 1
    for s in states:
        assert n.successors(s) == c.successors(s), f"{name}: successors differ in {c.decode(s)}"


PACKED_SYSTEMS = [*SUCCESSOR_SYSTEMS, ("rfc9293", build("connection", {}))]


@pytest.mark.parametrize(("name", "system"), PACKED_SYSTEMS, ids=[n for n, _ in PACKED_SYSTEMS])
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.data_too_large])
@given(data=st.data())
def test_packing_a_state_loses_nothing(name: str, system: System, data: st.DataObject) -> None:
    # The driver stores packed states: any codes within their types must come back unpacked
    # exactly, and in cgen.packed_size bytes.
    n = _native(name, system)
    codes = [data.draw(st.integers(0, v.vtype.size - 1)) for v in system.variables]
    state = b"".join(c.to_bytes(w, "big") for c, w in zip(codes, n.layout.widths, strict=True))
    packed = n.pack(state)
    assert len(packed) == cgen.packed_size(system) <= max(n.layout.size, 1)
    assert n.unpack(packed) == state


_NATIVE: dict[str, Native] = {}


def _native(name: str, system: System) -> Native:
    if name not in _NATIVE:  # one library load per system, not per example
        _NATIVE[name] = Native(system)
    return _NATIVE[name]


def test_a_code_outside_its_type_is_an_error_not_a_packed_state() -> None:
    system = build("alternating-bit", {"messages": 2, "capacity": 2, "channel": "fifo"})
    n = Native(system)
    good = Compiled(system).initial()[0]
    assert n.unpack(n.pack(good)) == good
    bad = bytes([2]) + good[1:]  # sender.bit, a Bool, with code 2
    with pytest.raises(NativeError, match="internal error"):
        n.pack(bad)
    # The same state given to the driver stops the search with that error.
    search = native._Search(n, n.flags([]), 0, 2**40)
    try:
        assert n.lib.tc_add_initial(search.ctx, n.padded(bad)) == cdriver.TC_ERROR
        with pytest.raises(NativeError, match="internal error"):
            search.check_error()
    finally:
        search.close()


def test_arithmetic_system_explores_identically() -> None:
    s = arithmetic()
    ps = [
        parse_property("p0", "always(q >= -3)", s),
        parse_property("p1", "reachable(win and lt)", s),
        parse_property("p2", "reachable(k == -2)", s),
    ]
    same_results(s, ps)


def test_flags_equal_python_flags() -> None:
    system = build("alternating-bit", {"messages": 2, "capacity": 3, "channel": "reordering"})
    props = library("alternating-bit", system)
    preds = [p.predicate for p in props]
    c = Compiled(system)
    c_flags = Native(system).flags(preds)
    py_flags = c.flags(preds)
    for s in reachable_states(c):
        assert c_flags(s) == py_flags(s)


ALWAYS_TRUE = Property("true", "always", TRUE, "always(true)")
BIG: dict[str, ParamValue] = {"messages": 6, "capacity": 3, "channel": "reordering"}


@pytest.mark.parametrize(
    ("bounds", "reason"),
    [
        (Bounds(max_depth=0), "depth bound 0"),
        (Bounds(max_depth=5), "depth bound 5"),
        (Bounds(max_states=5), "state bound 5"),
        (Bounds(max_states=3000), "state bound 3000"),
        (Bounds(max_states=20000), "state bound 20000"),
    ],
)
def test_bounds_give_the_same_unknown(bounds: Bounds, reason: str) -> None:
    system = build("alternating-bit", BIG)
    props = [ALWAYS_TRUE, parse_property("r", "reachable(receiver.got == 6)", system)]
    stats = same_results(system, props, bounds)
    assert not stats.complete
    out, _ = native.explore(system, props, bounds)
    assert out["true"].verdict == "unknown"
    assert reason in out["true"].reason


def test_timeout_and_memory_bounds_give_unknown() -> None:
    system = build("alternating-bit", BIG)
    out, stats = native.explore(system, [ALWAYS_TRUE], Bounds(timeout=1e-9))
    assert out["true"].verdict == "unknown" and "time limit" in out["true"].reason
    assert not stats.complete
    out, stats = native.explore(system, [ALWAYS_TRUE], Bounds(max_memory_mb=1))
    assert out["true"].verdict == "unknown" and "memory bound 1 MiB" in out["true"].reason
    assert not stats.complete


def test_no_properties_explores_everything() -> None:
    system = build("alternating-bit", {"messages": 3, "capacity": 3, "channel": "reordering"})
    same_results(system, [])


def counter() -> System:
    b = Builder("overflow")
    x = b.var("x", IntType(0, 2))
    b.action("inc", True, {"x": x + 1}, "no guard")
    return b.build()


def test_range_error_is_the_same_model_error() -> None:
    with pytest.raises(ModelError) as want:
        explicit.explore(counter(), [])
    with pytest.raises(ModelError, match=r"inc sets x to 3, outside Int\(0..2\)") as got:
        native.explore(counter(), [])
    assert str(got.value) == str(want.value)
    n = Native(counter())
    with pytest.raises(ModelError, match="inc sets x to 3"):
        n.successors(n.encode((2,)))


def test_integer_overflow_is_reported_not_wrapped() -> None:
    b = Builder("huge")
    x = b.var("x", IntType(0, 2**40), init=2**40)
    b.var("y", IntType(0, 6))
    b.action("cube", True, {"y": (x * x * x) % 7}, "cube")
    system = b.build()
    explicit.explore(system, [])  # Python integers do not overflow
    with pytest.raises(UsageError, match=r"64 bits.*--engine explicit"):
        native.explore(system, [])


def test_missing_gcc_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TCPMODEL_CACHE", str(tmp_path))
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(UsageError, match=r"gcc.*apt-get install gcc.*--engine explicit"):
        Native(counter())


def test_compile_failure_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TCPMODEL_CACHE", str(tmp_path))
    with pytest.raises(UsageError, match=r"gcc failed.*--engine explicit"):
        clib.build("this is not C;\n")


def test_library_is_cached(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TCPMODEL_CACHE", str(tmp_path))
    first = Native(counter())
    assert first.path.parent == tmp_path and first.path.exists()
    monkeypatch.setattr(shutil, "which", lambda _name: None)  # no compiler needed now
    assert Native(counter()).path == first.path


def test_cli_engine_native(tmp_path: Path) -> None:
    from tcpmodel.cli import main

    args = ["check", str(ROOT / "specs" / "mutex-naive.toml"), "--quiet", "--format", "json"]
    outs = []
    # The native engine does no partial-order reduction: the explorer without it, to compare.
    for engine in ("explicit", "native"):
        extra = ["--no-por"] if engine == "explicit" else []
        out = str(tmp_path / engine)
        r = CliRunner().invoke(main, [*args, "--engine", engine, "--out", out, *extra])
        assert r.exit_code == 0, r.output
        outs.append(json.loads(r.stdout))
    for doc in outs:
        for group in doc["specs"]:
            for res in group["results"]:
                for volatile in ("seconds", "states_per_second", "peak_memory_mb"):
                    res["stats"].pop(volatile)
                assert res.pop("engine") in ("explicit", "native")
    assert outs[0] == outs[1]
    assert outs[0]["specs"][0]["results"][0]["trace"] is not None


def test_the_status_array_is_read_by_the_names_that_generate_it() -> None:
    """`cdriver.SearchInfo` is both the C ``tc_info`` (one ``out[i]`` per field, in order) and
    how the engine reads it, so a field cannot be read at another field's index."""
    src = cdriver.info_source()
    fields = cdriver.SearchInfo._fields
    assert src.count("out[") == len(fields) == len(set(fields))
    lines = [line.strip() for line in src.splitlines() if "out[" in line and "=" in line]
    assert [line.split("]")[0] for line in lines] == [f"out[{i}" for i in range(len(fields))]
    assert "c->n;" in lines[fields.index("states")]
    assert "c->undecided;" in lines[fields.index("undecided")]
    assert "c->err.kind;" in lines[fields.index("err_kind")]
    assert src in cgen.c_source(build("mutex", {"algorithm": "peterson"}))
