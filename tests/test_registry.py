"""The engine registry is the one place an engine is added: a toy engine registered as one
entry is run by `check_spec`, offered by ``tcpmodel check --engine``, routed like the others
(LTL to the explicit liveness checker, games refused) and shown without state counts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner

from tcpmodel.check import Options, check_spec
from tcpmodel.cli import main
from tcpmodel.engines.explicit import explore
from tcpmodel.engines.registry import ENGINES, EngineInfo
from tcpmodel.engines.search import Bounds, ProgressFn
from tcpmodel.formula import Property
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.system import System
from tcpmodel.results import Outcome, Stats
from tcpmodel.spec import load

SPECS = Path(__file__).resolve().parent.parent / "specs"
LIVE = """
[spec]
name = "live"
model = "mutex"
[params]
algorithm = "naive"
[[property]]
name = "mutual-exclusion"
expect = "violated"
[[property]]
name = "p0-enters"
formula = "eventually(p0.pc == CRIT)"
expect = "violated"
"""


def toy(
    system: System,
    props: Sequence[Property],
    bounds: Bounds,
    progress: ProgressFn | None,
    compiled: Compiled | None,
) -> tuple[dict[str, Outcome], Stats]:
    """The explorer's verdicts, under another name (and no state counts to show)."""
    got, stats = explore(system, props, bounds, progress, compiled)
    return got, Stats(depth=stats.depth, seconds=stats.seconds, complete=stats.complete)


@pytest.fixture
def with_toy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ENGINES, "toy", EngineInfo("toy", toy))


@pytest.mark.usefixtures("with_toy")
def test_check_spec_runs_a_registered_engine() -> None:
    results = check_spec(load(SPECS / "mutex-naive.toml"), Options("toy"))
    by = {r.prop: r for r in results}
    assert by["mutual-exclusion"].engine == "toy"
    assert by["mutual-exclusion"].verdict == "violated" and by["mutual-exclusion"].trace
    assert all(r.met for r in results), [(r.prop, r.verdict) for r in results]


@pytest.mark.usefixtures("with_toy")
def test_ltl_goes_to_the_liveness_checker_and_games_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "live.toml"
    path.write_text(LIVE)
    results = check_spec(load(path), Options("toy"))
    assert {(r.prop, r.engine) for r in results} == {
        ("mutual-exclusion", "toy"),
        ("p0-enters", "explicit"),
    }
    game = load(SPECS / "isn-attack.toml")
    only = frozenset({"spoofed-injection"})
    got = check_spec(game, Options("toy", Bounds(max_states=1), only))
    assert got and all(r.verdict == "unknown" for r in got)
    assert "--engine explicit, native or auto); --engine toy" in got[0].reason


@pytest.mark.usefixtures("with_toy")
def test_the_cli_offers_a_registered_engine(tmp_path: Path) -> None:
    runner = CliRunner()
    assert "toy" in runner.invoke(main, ["check", "--help"]).output
    r = runner.invoke(
        main,
        [
            "check",
            str(SPECS / "mutex-naive.toml"),
            "--engine",
            "toy",
            "-j",
            "1",
            "-q",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert r.exit_code == 0, r.output
    rows = [line for line in r.output.splitlines() if "mutual-exclusion" in line]
    assert rows and "violated" in rows[0] and " - " in rows[0]  # no state counts shown
    doc = json.loads((tmp_path / "o" / "results.json").read_text())
    assert {x["engine"] for s in doc["specs"] for x in s["results"]} == {"toy"}


def test_an_engine_not_registered_is_refused() -> None:
    r = CliRunner().invoke(main, ["check", str(SPECS / "mutex-naive.toml"), "--engine", "toy"])
    assert r.exit_code == 2 and "'toy' is not one of" in r.output
