"""``check --ray ADDRESS``: configurations checked on a Ray cluster (here a local Ray instance
started by the test) give the results of one process, in spec order; progress and interrupts
cross to the driver; a missing Ray or an address that does not answer is a usage error."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import logging
import os
import re
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tcpmodel.check import NOT_STARTED, Options, check_spec
from tcpmodel.cli import main
from tcpmodel.cluster import Checker, Job
from tcpmodel.engines.search import Bounds
from tcpmodel.spec import load
from tests.test_interrupt import LONG, assert_complete_files, start, wait_for

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
# Quick specs (seconds with the Python explorer): several configurations, violations, witnesses.
SMALL = ("alternating-bit", "mutex-naive")
VOLATILE = ("seconds", "states_per_second", "peak_memory_mb")

HAVE_RAY = importlib.util.find_spec("ray") is not None
if not HAVE_RAY and os.environ.get("TCPMODEL_REQUIRE_RAY"):
    raise RuntimeError(
        "TCPMODEL_REQUIRE_RAY is set but ray is not installed: pip install -e '.[ray]'"
    )
needs_ray = pytest.mark.skipif(
    not HAVE_RAY, reason="ray is not installed (pip install -e '.[ray]'); CI installs it"
)


@pytest.fixture(scope="module")
def address() -> Iterator[str]:
    """A local Ray instance of two CPUs, for this module's tests; its GCS address."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    try:
        yield str(ray.get_runtime_context().gcs_address)
    finally:
        ray.shutdown()


def without_volatile(doc: dict[str, Any]) -> dict[str, Any]:
    for s in doc["specs"]:
        for x in s["results"]:
            for k in VOLATILE:
                del x["stats"][k]
    return doc


@needs_ray
@pytest.mark.slow  # Ray starts in about 20 s here
def test_ray_gives_the_results_of_one_process(address: str, tmp_path: Path) -> None:
    files = [str(SPECS / f"{n}.toml") for n in SMALL]
    common = ["check", *files, "--engine", "explicit", "--format", "json", "-q"]
    # The driver in a process of its own (ray.init connects a process once); env: the
    # token authentication mode this test's ray.init chose.
    p = start(*common, "--ray", address, "--out", str(tmp_path / "ray"))
    stdout, stderr = p.communicate(timeout=120)
    assert p.returncode == 0, stderr
    on_ray = without_volatile(json.loads(stdout))
    r = CliRunner().invoke(main, [*common, "--jobs", "1", "--out", str(tmp_path / "one")])
    assert r.exit_code == 0, r.output
    one = without_volatile(json.loads(r.stdout))
    assert [s["spec"] for s in on_ray["specs"]] == list(SMALL)
    assert on_ray == one
    results = [x for s in one["specs"] for x in s["results"]]
    configurations = {(s["spec"], x["variant"]) for s in one["specs"] for x in s["results"]}
    assert len(configurations) == 3  # more than the cluster's two CPUs: one waits
    assert {x["verdict"] for x in results} >= {"holds", "violated", "reachable"}
    assert all(x["stats"]["states"] > 0 for x in results)
    assert_complete_files(tmp_path / "ray")


# A progress line of a remote exploration: the label, then the states explored.
REPORT = r"(rfc9293(?:/[a-z-]+)?)(?: \[[^]]*\])?: ([\d,]+) states, depth "


def parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def checkers() -> list[int]:
    """The processes of this test's Ray instance (children of its raylet, a child of this
    process) that run a `Checker` actor."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if (d / "cmdline").read_bytes().startswith(b"ray::Checker") and (
                parent_of(parent_of(int(d.name))) == os.getpid()
            ):
                found.append(int(d.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


@needs_ray
@pytest.mark.slow
def test_progress_a_dead_worker_and_an_interrupt(address: str, tmp_path: Path) -> None:
    # rfc9293.toml: three configurations of minutes each; the cluster's two CPUs run two, the
    # third waits.  One checker is killed: its configuration is lost, a new checker may start
    # the third; then SIGINT.
    out = tmp_path / "out"
    args = ["--engine", "explicit", "--format", "json", "--out", str(out)]
    p = start("check", str(LONG), *args, "--ray", address)
    exploring: set[str] = set()
    while len(exploring) < 2:
        lines = wait_for(p, " states, depth ", seconds=90)
        assert lines and " states, depth " in lines[-1], "".join(lines)
        m = re.match(REPORT, lines[-1])
        assert m, lines[-1]
        if int(m.group(2).replace(",", "")) > 0:
            exploring.add(m.group(1))
    pids = checkers()
    assert len(pids) == 2, pids
    os.kill(pids[0], signal.SIGKILL)
    time.sleep(2.0)  # the driver sees the actor die and hands the third job to a new one
    p.send_signal(signal.SIGINT)
    stdout, stderr = p.communicate(timeout=90)
    assert p.returncode == 3, stderr
    doc = json.loads(stdout)
    assert doc["interrupted"] == "SIGINT"
    by_variant: dict[str | None, list[dict[str, Any]]] = {}
    for x in doc["specs"][0]["results"]:
        by_variant.setdefault(x["variant"], []).append(x)
    assert list(by_variant) == [None, "simultaneous-open", "server-closes-first"]  # spec order
    reasons = {v: {x["reason"] or "" for x in rs} for v, rs in by_variant.items()}
    died = [v for v, why in reasons.items() if all("the Ray worker died (" in r for r in why)]
    stopped = [v for v, why in reasons.items() if any("interrupted after " in r for r in why)]
    assert len(died) == 1 and died[0] in (None, "simultaneous-open"), reasons
    assert all(x["verdict"] == "unknown" for x in by_variant[died[0]])
    assert {None, "simultaneous-open"} - set(died) <= set(stopped), reasons
    # The third started on the new checker (and was stopped) or was never handed out.
    assert "server-closes-first" in stopped or reasons["server-closes-first"] == {NOT_STARTED}
    assert_complete_files(out)


def check_with_ray(address: str, tmp_path: Path) -> Any:
    spec = str(SPECS / "mutex-naive.toml")
    return CliRunner().invoke(main, ["check", spec, "--ray", address, "--out", str(tmp_path)])


def test_without_ray_installed_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    r = check_with_ray("auto", tmp_path)
    assert r.exit_code == 2, r.output
    assert "--ray auto: Ray is not installed; install it with pip install 'tcpmodel[ray]'" in (
        r.stderr
    )
    assert "Traceback" not in r.output


@needs_ray
@pytest.mark.parametrize(
    ("address", "says"),
    [
        ("127.0.0.1:1", "--ray 127.0.0.1:1: cannot reach the Ray cluster ("),
        ("ray://127.0.0.1:1", "--ray ray://127.0.0.1:1: cannot reach the Ray cluster ("),
        ("head-without-port", "--ray head-without-port: not an address of a Ray cluster; "),
    ],
)
def test_an_address_that_does_not_answer_is_a_usage_error(
    address: str, says: str, tmp_path: Path
) -> None:
    r = check_with_ray(address, tmp_path)
    assert r.exit_code == 2, r.output
    assert says in r.stderr
    assert "expected auto (a cluster started on this machine with ray start --head)" in r.stderr
    assert "Traceback" not in r.output


class FakeHub:
    """A `Hub` handle without Ray: ``hub.put.remote(label, p)`` records the report."""

    def __init__(self) -> None:
        self.reports: list[tuple[str, Any]] = []
        self.put = self

    def remote(self, label: str, p: Any) -> None:
        self.reports.append((label, p))


def test_a_checker_needs_the_spec_text_not_the_file() -> None:
    # The Checker actor's class, run in this process: the job names a file that does not
    # exist here (as on another machine); its text is what is checked.
    path = SPECS / "alternating-bit.toml"
    spec = load(path)
    hub = FakeHub()
    checker = Checker(hub)
    elsewhere = "/nowhere/alternating-bit.toml"
    job = Job(elsewhere, path.read_text(), "reordering", "explicit", Bounds(), None)
    got = checker.run(job)
    assert got is not None
    (cfg,) = [c for c in spec.configurations if c.variant == "reordering"]
    one = dataclasses.replace(spec, configurations=(cfg,))
    want = check_spec(one, Options("explicit", Bounds(), None))
    assert [(r.prop, r.verdict, r.stats.states) for r in got] == [
        (r.prop, r.verdict, r.stats.states) for r in want
    ]
    assert {r.file for r in got} == {elsewhere}
    assert {r.verdict for r in got} >= {"violated"}
    assert hub.reports[-1] == ("alternating-bit/reordering", None)  # the job's end
    checker.stop()  # the driver's stop: no job starts after it
    assert checker.run(job) is None
