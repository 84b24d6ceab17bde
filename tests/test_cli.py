"""The CLI through its real entry point: exit codes, JSON and JUnit, the output folder."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner

from tcpmodel import output
from tcpmodel.cli import main
from tcpmodel.results import Result

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


def spec(tmp: Path, body: str, name: str = "s.toml") -> Path:
    p = tmp / name
    p.write_text(body)
    return p


NAIVE = """
[spec]
name = "naive"
model = "mutex"
[params]
algorithm = "naive"
[[property]]
name = "mutual-exclusion"
expect = "{expect}"
"""


# The quick bundled specs, checked through the CLI; the whole folder (about 3 minutes, mostly
# rfc9293.toml) is the main job that .ci/run runs before the tests.
QUICK = ("alternating-bit", "mutex-peterson", "mutex-naive", "fixed-isn", "short-time-wait")


def test_bundled_specs_meet_every_expectation(tmp_path: Path) -> None:
    files = [str(SPECS / f"{name}.toml") for name in QUICK]
    code, out, _ = run("check", *files, "--quiet", "--format", "json", "--out", str(tmp_path))
    assert code == 0, out
    doc = json.loads(out)
    results = [r for s in doc["specs"] for r in s["results"]]
    assert results and all(r["met"] for r in results)
    assert doc["exit_code"] == 0


def test_unmet_expectation_exits_1(tmp_path: Path) -> None:
    p = spec(tmp_path, NAIVE.format(expect="holds"))
    code, out, _ = run("check", str(p), "-q", "--out", str(tmp_path / "o"))
    assert code == 1
    assert "FAIL" in out and "p1.enter" in out  # the counterexample is printed


def test_bound_reached_exits_3_and_says_why(tmp_path: Path) -> None:
    code, out, _ = run(
        "check", str(SPECS / "mutex-peterson.toml"), "-q", "--max-depth", "2",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 3
    assert "unknown: depth bound 2" in out


def test_unmet_beats_unknown(tmp_path: Path) -> None:
    p = spec(tmp_path, NAIVE.format(expect="holds"))
    code, _, _ = run(
        "check", str(p), str(SPECS / "mutex-peterson.toml"), "-q", "--max-depth", "6",
        "--out", str(tmp_path / "o"),
    )  # fmt: skip
    assert code == 1


def test_json_schema(tmp_path: Path) -> None:
    p = spec(tmp_path, NAIVE.format(expect="violated"))
    code, out, _ = run("check", str(p), "-q", "--format", "json", "--out", str(tmp_path / "o"))
    assert code == 0
    doc = json.loads(out)
    (s,) = doc["specs"]
    assert s["spec"] == "naive" and s["file"] == str(p)
    (r,) = s["results"]
    assert set(r) >= {"property", "expect", "verdict", "met", "engine", "stats", "trace", "loop"}
    assert r["verdict"] == "violated" and r["met"] is True and r["loop"] is None
    assert set(r["stats"]) >= {"states", "transitions", "depth", "seconds", "peak_memory_mb"}
    trace = r["trace"]
    assert trace[0]["action"] is None and trace[0]["step"] == 0
    assert [t["action"] for t in trace[1:]] == [
        "p0.want",
        "p0.test",
        "p1.want",
        "p1.test",
        "p0.enter",
        "p1.enter",
    ]
    assert trace[-1]["state"]["p0.pc"] == "CRIT"


def test_junit_one_case_per_property_with_failures(tmp_path: Path) -> None:
    bad = spec(tmp_path, NAIVE.format(expect="holds"), "bad.toml")
    code, out, _ = run(
        "check", str(bad), str(SPECS / "alternating-bit.toml"), "-q", "--format", "junit",
        "--out", str(tmp_path / "o"),
    )  # fmt: skip
    assert code == 1
    root = ET.fromstring(out)
    cases = root.findall(".//testcase")
    # naive: 1 property; alternating-bit: 5 properties, base and one variant.
    assert len(cases) == 1 + 5 * 2
    failures = root.findall(".//testcase/failure")
    assert len(failures) == 1
    assert failures[0].get("type") == "violated"
    assert root.get("tests") == "11" and root.get("failures") == "1"
    names = {c.get("name") for c in cases}
    assert "reordering/delivers-in-order" in names


def test_out_folder_has_results_and_traces(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, _, _ = run("check", str(SPECS / "mutex-naive.toml"), "-q", "--out", str(out))
    assert code == 0
    assert json.loads((out / "results.json").read_text())["exit_code"] == 0
    ET.fromstring((out / "junit.xml").read_text())
    text = (out / "mutex-naive.mutual-exclusion.txt").read_text()
    assert "verdict: violated" in text and "p1.enter" in text


def test_property_filter(tmp_path: Path) -> None:
    code, out, _ = run(
        "check", str(SPECS), "-q", "--format", "json", "--property", "mutual-exclusion",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 0
    props = {r["property"] for s in json.loads(out)["specs"] for r in s["results"]}
    assert props == {"mutual-exclusion"}


def test_list_models_and_specs() -> None:
    code, out, _ = run("list")
    assert code == 0 and "alternating-bit" in out and "capacity" in out
    code, out, _ = run("list", str(SPECS))
    assert code == 0 and "mutex-peterson" in out and "turn-respected" in out


def test_python_dash_m_entry_point(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "tcpmodel", "check", str(SPECS / "mutex-naive.toml"), "-q",
         "--out", str(tmp_path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""


BIG = """
[spec]
name = "big"
model = "alternating-bit"
[params]
messages = 12
capacity = 5
channel = "reordering"
[[property]]
name = "bounded"
formula = "always(receiver.got <= 12)"
expect = "holds"
"""


def test_progress_on_stderr_and_quiet_silences_it(tmp_path: Path) -> None:
    p = spec(tmp_path, BIG)
    # explicit: `auto` would go on to prove the property by k-induction after the time limit.
    base = [
        sys.executable,
        "-m",
        "tcpmodel",
        "check",
        str(p),
        "--timeout",
        "1.6",
        "--engine",
        "explicit",
    ]
    loud = subprocess.run(
        [*base, "--out", str(tmp_path / "a")], capture_output=True, text=True, check=False
    )
    assert loud.returncode == 3  # the time limit makes the verdict unknown, never holds
    assert "big: " in loud.stderr and "states/s" in loud.stderr and "depth" in loud.stderr
    assert "time limit 1.6 s reached" in loud.stdout
    quiet = subprocess.run(
        [*base, "--quiet", "--out", str(tmp_path / "b")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert quiet.returncode == 3
    assert quiet.stderr == ""


ABP_DISABLE = """
[spec]
name = "abp-no-loss"
model = "alternating-bit"
disable = {disable}
[params]
messages = 3
[[property]]
name = "delivers-in-order"
expect = "holds"
"""


def test_disable_removes_rules(tmp_path: Path) -> None:
    p = spec(tmp_path, ABP_DISABLE.format(disable='["lose"]'))
    code, out, _ = run("check", str(p), "-q", "--format", "json", "--out", str(tmp_path / "o"))
    assert code == 0
    (r,) = json.loads(out)["specs"][0]["results"]
    # Without the loss actions fewer states are reachable than the 93 of the full protocol.
    assert r["verdict"] == "holds" and 0 < r["stats"]["states"] < 93


def test_disable_unknown_rule_is_a_located_error(tmp_path: Path) -> None:
    p = spec(tmp_path, ABP_DISABLE.format(disable='["no-such-rule"]'))
    code, _, err = run("check", str(p), "-q", "--out", str(tmp_path / "o"))
    assert code == 2
    assert f"{p}: spec.disable: no action or action group named 'no-such-rule'" in err
    code, out, _ = run("list", str(SPECS / "alternating-bit.toml"))
    assert code == 0 and "recv_msg" in out and "lose" in out


def test_an_output_format_is_one_registry_entry(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    args = ["check", str(SPECS / "mutex-naive.toml"), "--engine", "explicit", "-j", "1"]
    args += ["--out", str(tmp_path / "out"), "--format", "toy"]
    code, _, err = run(*args)
    assert code == 2 and "'toy' is not one of 'text', 'json', 'junit'" in err

    def toy(results: Sequence[Result], interrupted: str) -> str:
        return "".join(f"{r.prop}={r.verdict}\n" for r in results) + f"[{interrupted}]\n"

    monkeypatch.setitem(output.FORMATS, "toy", toy)
    code, out, err = run(*args)
    assert code == 0, err
    assert out == "mutual-exclusion=violated\ncritical-reachable=reachable\n[]\n"
    assert "[text|json|junit|toy]" in run("check", "--help")[1]
