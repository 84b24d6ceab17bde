"""The pytest plugin: spec files collected as (spec, variant, property) items, run by pytester."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from tests.test_cli import ROOT, SPECS

pytest_plugins = ["pytester"]


def _installed() -> bool:
    """Whether tcpmodel's ``pytest11`` entry point is installed (``pip install -e .``): then
    pytest loads the plugin itself, and ``-p`` would register it a second time."""
    return any(ep.value == "tcpmodel.pytest_plugin" for ep in entry_points(group="pytest11"))


PLUGIN = () if _installed() else ("-p", "tcpmodel.pytest_plugin")

MUTEX = """
[spec]
name = "{name}"
model = "mutex"
[params]
algorithm = "{algorithm}"
[[property]]
name = "mutual-exclusion"
expect = "{expect}"
[[property]]
name = "critical-reachable"
formula = "reachable(p0.pc == CRIT)"
expect = "reachable"
"""


def mutex(pytester: pytest.Pytester, name: str, algorithm: str, expect: str) -> Path:
    p = pytester.path / "specs" / f"{name}.toml"
    p.parent.mkdir(exist_ok=True)
    p.write_text(MUTEX.format(name=name, algorithm=algorithm, expect=expect))
    return p


def test_a_met_expectation_passes_and_a_missed_one_fails_with_trace_and_ladder(
    pytester: pytest.Pytester,
) -> None:
    mutex(pytester, "good", "naive", "violated")  # the engine finds the violation: met
    mutex(pytester, "bad", "naive", "holds")  # the engine finds the violation: missed
    out = pytester.path / "ladders"
    r = pytester.runpytest(*PLUGIN, "specs", "-v", f"--tcpmodel-out={out}")
    r.assert_outcomes(passed=3, failed=1)
    text = r.stdout.str()
    assert re.search(r"good\.toml::mutual-exclusion PASSED", text)
    assert re.search(r"bad\.toml::mutual-exclusion FAILED", text)
    # the failure: verdict, the trace table (six steps to both in CRIT) and the ladder's path
    assert "expected holds, got violated" in text
    assert "p1.enter" in text and "p0.pc=CRIT" in text
    m = re.search(r"ladder diagram: (\S+\.(svg|dot))", text)
    assert m is not None, text
    assert Path(m.group(1)).is_file() and Path(m.group(1)).parent == out


def test_k_selects_properties_and_variants_are_named_like_parameters(
    pytester: pytest.Pytester,
) -> None:
    p = mutex(pytester, "peterson", "peterson", "holds")
    p.write_text(
        p.read_text()
        + '\n[[variant]]\nname = "naive"\nparams = { algorithm = "naive" }\n'
        + 'expect = { mutual-exclusion = "violated" }\n'
    )
    r = pytester.runpytest(*PLUGIN, "specs", "--collect-only", "-q", "-k", "mutual-exclusion")
    ids = [line for line in r.stdout.lines if "::" in line]
    assert ids == [
        "specs/peterson.toml::mutual-exclusion",
        "specs/peterson.toml::mutual-exclusion[naive]",
    ]
    r = pytester.runpytest(*PLUGIN, "specs", "-k", "naive and mutual-exclusion")
    r.assert_outcomes(passed=1, deselected=3)


def test_other_toml_files_are_not_collected_and_a_bad_spec_is_a_collection_error(
    pytester: pytest.Pytester,
) -> None:
    (pytester.path / "settings.toml").write_text('[tool]\nname = "x"\n')
    (pytester.path / "broken.toml").write_text(
        '[spec]\nname = "b"\nmodel = "mutex"\n[params]\nalgorithm = "nope"\n'
        '[[property]]\nname = "mutual-exclusion"\nexpect = "holds"\n'
    )
    r = pytester.runpytest(*PLUGIN, "--collect-only")
    r.assert_outcomes(errors=1)
    text = r.stdout.str()
    assert "ERROR collecting broken.toml" in text and "algorithm" in text
    assert "settings.toml" not in text  # not a spec: not collected


def test_a_project_with_testpaths_does_not_collect_its_specs(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\ntestpaths = ["tests"]\n')
    mutex(pytester, "slow", "peterson", "holds")
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "test_one.py").write_text("def test_one() -> None:\n    pass\n")
    r = pytester.runpytest(*PLUGIN, "--collect-only", "-q")
    assert [line for line in r.stdout.lines if "::" in line] == ["tests/test_one.py::test_one"]


def test_this_projects_own_pytest_run_collects_only_tests() -> None:
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert conf["tool"]["pytest"]["ini_options"]["testpaths"] == ["tests"]
    assert not list((ROOT / "tests").rglob("*.toml"))
    entry = conf["project"]["entry-points"]["pytest11"]
    assert entry == {"tcpmodel": "tcpmodel.pytest_plugin"}


def test_a_bundled_spec_passes(pytester: pytest.Pytester) -> None:
    r = pytester.runpytest(*PLUGIN, str(SPECS / "mutex-peterson.toml"), "-v")
    r.assert_outcomes(
        passed=len(tomllib.loads((SPECS / "mutex-peterson.toml").read_text())["property"])
    )
