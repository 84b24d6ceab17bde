"""Hash compaction (``--compact``): the native engine storing 64-bit fingerprints.

At these sizes a fingerprint collision is astronomically unlikely (the bound is below 1e-7),
so the compact search must give exactly the exact search's results: state and transition
counts, depths, verdicts and the same shortest traces, each replayed through the semantics.
``holds`` and ``unreachable`` carry the omission probability (`Stats`, JSON, the text output);
``--compact`` with an engine that has no compact mode is a usage error (exit 2).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from tcpmodel import api
from tcpmodel.check import Options, check_spec
from tcpmodel.engines import native, registry
from tcpmodel.engines.search import Bounds
from tcpmodel.errors import NativeError, UsageError
from tcpmodel.formula import Property
from tcpmodel.kernel.clib import Native
from tcpmodel.kernel.system import System
from tcpmodel.models.base import ParamValue
from tcpmodel.results import Outcome, Stats
from tcpmodel.semantics import replay
from tcpmodel.spec import load
from tests.test_native import CONFIGS, build, exact, library

if shutil.which("gcc") is None:
    pytest.skip("the native engine needs gcc, which is not installed", allow_module_level=True)

ROOT = Path(__file__).resolve().parent.parent
SAID = "hash compaction: omission probability <= "
NO_BOUNDS = Bounds()


def both(
    system: System, props: list[Property], bounds: Bounds = NO_BOUNDS
) -> tuple[tuple[dict[str, Outcome], Stats], tuple[dict[str, Outcome], Stats]]:
    return native.explore(system, props, bounds), native.explore_compact(system, props, bounds)


@pytest.mark.parametrize(("model", "params"), CONFIGS, ids=lambda x: str(x))
def test_same_counts_verdicts_and_traces(model: str, params: dict[str, ParamValue]) -> None:
    system = build(model, params)
    props = library(model, system)
    (want, want_stats), (got, got_stats) = both(system, props)
    assert exact(got_stats) == exact(want_stats)
    assert want_stats.omission_probability is None
    assert got_stats.omission_probability == got_stats.states**2 / 2**65
    for name, o in want.items():
        assert got[name].verdict == o.verdict
        trace = got[name].trace
        assert trace == o.trace, f"traces of {name} differ"
        if trace is not None:
            replay(system, trace)
        if o.verdict in ("holds", "unreachable"):
            assert got[name].reason.startswith(SAID)
        else:
            assert got[name].reason == o.reason


def test_violations_come_with_replayed_traces() -> None:
    system = build("mutex", {"algorithm": "naive"})
    props = library("mutex", system)
    got, stats = native.explore_compact(system, props)
    violated = [o for o in got.values() if o.verdict == "violated"]
    assert violated and all(o.trace is not None and len(o.trace) > 1 for o in violated)
    for o in violated:
        assert o.trace is not None
        replay(system, o.trace)
    assert stats.complete


def test_table_grows_from_fingerprints() -> None:
    # 1.28 million states: the fingerprint table doubles many times past its first 4096 slots
    # and the frontier buffers grow with the levels.
    model, params = CONFIGS[-1]
    system = build(model, params)
    props = library(model, system)
    (want, want_stats), (got, got_stats) = both(system, props)
    assert want_stats.states > 1_000_000
    assert exact(got_stats) == exact(want_stats)
    assert {n: o.verdict for n, o in got.items()} == {n: o.verdict for n, o in want.items()}
    p = got_stats.omission_probability
    assert p is not None and 1e-9 < p < 1e-6


@pytest.mark.parametrize(
    "bounds", [Bounds(max_states=5000), Bounds(max_depth=6)], ids=["states", "depth"]
)
def test_bounds_give_the_same_unknowns(bounds: Bounds) -> None:
    model, params = CONFIGS[-2]
    system = build(model, params)
    props = library(model, system)
    (want, want_stats), (got, got_stats) = both(system, props, bounds)
    assert exact(got_stats) == exact(want_stats)
    assert not got_stats.complete
    assert {n: (o.verdict, o.reason) for n, o in got.items()} == {
        n: (o.verdict, o.reason) for n, o in want.items()
    }


def test_omission_probability() -> None:
    assert native.omission_probability(0) == 0.0
    assert native.omission_probability(10**9) == pytest.approx(10**18 / 2**65)
    assert 0.02 < native.omission_probability(10**9) < 0.03  # SPIN/TLC's n^2 / 2^65
    assert native.omission_probability(2**40) == 1.0  # a bound, capped at certainty


def test_rerun_refuses_an_action_not_enabled() -> None:
    system = build("mutex", {"algorithm": "naive"})
    n = Native(system)
    (s0,) = n.initial()
    enabled = {a for a, _ in n.successors(s0)}
    disabled = next(a for a in range(len(system.actions)) if a not in enabled)
    assert native._rerun(n, s0, [disabled]) is None
    path = native._rerun(n, s0, sorted(enabled)[:1])
    assert path is not None and len(path) == 2 and path[0] == (s0, None)


def test_no_trace_rebuilt_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(native, "_rerun", lambda *_args: None)
    system = build("mutex", {"algorithm": "naive"})
    got, _ = native.explore_compact(system, library("mutex", system))
    unknown = [o for o in got.values() if o.verdict == "unknown"]
    assert unknown and all("could not be re-executed" in o.reason for o in unknown)
    assert all(o.verdict != "violated" for o in got.values())


def test_check_spec_and_api() -> None:
    spec = load(ROOT / "specs" / "alternating-bit.toml")
    results = check_spec(spec, Options("native", compact=True))
    exact_results = check_spec(spec, Options("native"))
    assert [r.verdict for r in results] == [r.verdict for r in exact_results]
    for r in results:
        assert r.engine == "native"
        assert r.stats.omission_probability is not None
        if r.verdict == "holds":
            assert r.reason.startswith(SAID)
        if r.verdict in ("violated", "reachable"):
            assert r.trace is not None
    assert all(r.stats.omission_probability is None for r in exact_results)
    via_api = api.check(spec, engine="native", compact=True)
    assert [r.verdict for r in via_api] == [r.verdict for r in results]
    with pytest.raises(UsageError, match="--compact"):
        api.check(spec, engine="explicit", compact=True)


def test_native_failure_falls_back_to_an_exact_search(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_args: object) -> tuple[dict[str, Outcome], Stats]:
        raise NativeError("no compiler here")

    monkeypatch.setitem(
        registry.ENGINES,
        "native",
        dataclasses.replace(registry.ENGINES["native"], compact=fail),
    )
    spec = load(ROOT / "specs" / "mutex-peterson.toml")
    results = check_spec(spec, Options("native", compact=True))
    assert results and all(r.engine == "explicit" for r in results)
    assert all("checked by the Python explorer" in r.reason for r in results)
    assert all(r.stats.omission_probability is None for r in results)


def test_cli_text_and_json(tmp_path: Path) -> None:
    from tcpmodel.cli import main

    spec = str(ROOT / "specs" / "alternating-bit.toml")
    args = ["check", spec, "--quiet", "--compact", "-j", "1", "--out", str(tmp_path)]
    text = CliRunner().invoke(main, args)
    assert text.exit_code == 0, text.output
    assert f"alternating-bit delivers-in-order: holds ({SAID}" in text.stdout
    # two worker processes: the option travels with each configuration's task
    doc = CliRunner().invoke(main, [*(a if a != "1" else "2" for a in args), "--format", "json"])
    assert doc.exit_code == 0, doc.output
    results = [r for g in json.loads(doc.stdout)["specs"] for r in g["results"]]
    for r in results:
        p = r["stats"]["omission_probability"]
        assert isinstance(p, float) and 0 < p < 1e-12
    assert any(r["verdict"] == "violated" and r["trace"] for r in results)
    plain = CliRunner().invoke(main, [a for a in args if a != "--compact"] + ["--format", "json"])
    assert plain.exit_code == 0, plain.output
    for g in json.loads(plain.stdout)["specs"]:
        assert all(r["stats"]["omission_probability"] is None for r in g["results"])


@pytest.mark.parametrize("engine", ["explicit", "bmc", "kind", "chc"])
def test_cli_compact_needs_the_native_engine(engine: str, tmp_path: Path) -> None:
    from tcpmodel.cli import main

    spec = str(ROOT / "specs" / "mutex-naive.toml")
    r = CliRunner().invoke(
        main, ["check", spec, "--compact", "--engine", engine, "--out", str(tmp_path)]
    )
    assert r.exit_code == 2
    assert "--compact" in r.stderr and "--engine native" in r.stderr and engine in r.stderr
    assert not (tmp_path / "results.json").exists()


def test_auto_without_gcc_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    spec = load(ROOT / "specs" / "mutex-naive.toml")
    with pytest.raises(UsageError, match="only when gcc is installed"):
        check_spec(spec, Options(compact=True))


def test_memory_bound_stops_the_fingerprint_table(monkeypatch: pytest.MonkeyPatch) -> None:
    # 1.28 million states need about 35 MiB compact: 12 MiB above what the process holds
    # stops a segment of the table from growing, and the search with the memory bound.  The
    # process's resident size is fixed at 500 MiB here: read for real, it can fall between
    # the test's reading and the engine's (freed memory returned to the system), which would
    # give the table room enough to finish.
    monkeypatch.setattr(native, "rss_mb", lambda: 500.0)
    model, params = CONFIGS[-1]
    system = build(model, params)
    props = library(model, system)
    got, stats = native.explore_compact(system, props, Bounds(max_memory_mb=512))
    assert not stats.complete and 0 < stats.states < 1_282_656
    reasons = {o.reason for o in got.values() if o.verdict == "unknown"}
    assert reasons and all(r.startswith("memory bound") for r in reasons), reasons
