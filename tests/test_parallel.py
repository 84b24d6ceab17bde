"""``check --jobs N``: configurations in worker processes give the results of one process, in
spec order; interrupts and a dying worker leave partial results, reported as such."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from tcpmodel.check import NOT_STARTED
from tcpmodel.cli import main
from tests.test_interrupt import LONG, assert_complete_files, start, wait_for

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
# Quick specs with several configurations, violations and witnesses.
SMALL = ("alternating-bit", "mutex-naive", "syn-flood-cookies", "accept-overflow")
JOBS2 = ("--engine", "explicit", "-j2", "--format", "json")
VOLATILE = ("seconds", "states_per_second", "peak_memory_mb")


def results_json(tmp: Path, jobs: int) -> dict[str, Any]:
    files = [str(SPECS / f"{n}.toml") for n in SMALL]
    # One engine for both runs: under ``auto`` a configuration whose C code is not cached yet
    # may run on either engine (`engines.race`), and the results name the engine that ran.
    args = ["check", *files, "--engine", "explicit", "--jobs", str(jobs), "-q", "--format", "json"]
    r = CliRunner().invoke(main, [*args, "--out", str(tmp / f"out{jobs}")])
    assert r.exit_code == 0, r.output
    doc: dict[str, Any] = json.loads(r.stdout)
    for s in doc["specs"]:
        for x in s["results"]:
            for k in VOLATILE:
                del x["stats"][k]
    return doc


def test_two_jobs_give_the_results_of_one(tmp_path: Path) -> None:
    one, two = results_json(tmp_path, 1), results_json(tmp_path, 2)
    assert [s["spec"] for s in two["specs"]] == list(SMALL)
    assert two == one
    assert sum(len(s["results"]) for s in one["specs"]) > len(SMALL)


# A progress line: the label, the engine running when auto races (``[explicit, compiling]``).
REPORT = r"(rfc9293(?:/simultaneous-open)?)(?: \[[^]]*\])?: ([\d,]+) states, depth "


def test_an_interrupt_reaches_the_workers(tmp_path: Path) -> None:
    # rfc9293.toml: three configurations of minutes each; two start, the third waits.
    out = tmp_path / "out"
    p = start("check", str(LONG), *JOBS2, "--out", str(out))
    # Both workers explore: each has reported states (either may be compiling first).
    exploring: set[str] = set()
    while exploring != {"rfc9293", "rfc9293/simultaneous-open"}:
        for line in wait_for(p, " states, depth "):
            m = re.match(REPORT, line)
            if m and int(m.group(2).replace(",", "")) > 0:
                exploring.add(m.group(1))
    p.send_signal(signal.SIGINT)  # to the parent only: it tells the workers
    stdout, stderr = p.communicate(timeout=90)
    assert p.returncode == 3, stderr
    doc = json.loads(stdout)
    assert doc["interrupted"] == "SIGINT"
    by_variant: dict[str | None, list[dict[str, Any]]] = {}
    for x in doc["specs"][0]["results"]:
        by_variant.setdefault(x["variant"], []).append(x)
    assert list(by_variant) == [None, "simultaneous-open", "server-closes-first"]  # spec order
    for variant in (None, "simultaneous-open"):
        rs = by_variant[variant]
        assert all(x["stats"]["states"] > 0 for x in rs)
        assert any(x["reason"] and x["reason"].startswith("interrupted after ") for x in rs)
    assert all(x["reason"] == NOT_STARTED for x in by_variant["server-closes-first"])
    assert_complete_files(out)


def workers_of(parent: int) -> list[int]:
    """The pool's worker processes of ``parent`` (not multiprocessing's resource tracker)."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            cmd = (d / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"spawn_main" in cmd:
            found.append(int(d.name))
    return found


def test_a_dead_worker_costs_its_configuration_only(tmp_path: Path) -> None:
    out = tmp_path / "out"
    p = start("check", str(LONG), *JOBS2, "--out", str(out))
    wait_for(p, "rfc9293/simultaneous-open: ")
    workers = workers_of(p.pid)
    assert len(workers) == 2, workers
    os.kill(workers[0], signal.SIGKILL)
    time.sleep(3.0)  # the parent sees the broken pool and starts a new one
    p.send_signal(signal.SIGTERM)
    stdout, stderr = p.communicate(timeout=90)
    assert p.returncode == 3, stderr
    results = json.loads(stdout)["specs"][0]["results"]
    died = [x for x in results if x["reason"] and "worker process died" in x["reason"]]
    assert died and {x["variant"] for x in died} != {x["variant"] for x in results}
    assert all(x["verdict"] == "unknown" for x in died)
    assert_complete_files(out)


def _idle_worker_cpu(stopping: Any, told: Any, out: Any) -> None:
    """In a spawned process: start as a pool worker does, idle for a second, report the CPU
    seconds this process used meanwhile."""
    import resource

    from tcpmodel.parallel import _start_worker

    _start_worker(stopping, told)
    before = resource.getrusage(resource.RUSAGE_SELF)
    time.sleep(1.0)
    after = resource.getrusage(resource.RUSAGE_SELF)
    out.put(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)


def test_an_idle_worker_uses_no_cpu() -> None:
    # A worker's signal watcher once lost the socket its handler writes to: it then saw end of
    # file at every wake-up and spun, taking half a core from every worker's exploration.
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    p = ctx.Process(target=_idle_worker_cpu, args=(ctx.RawValue("b", 0), None, out))
    p.start()
    try:
        cpu = out.get(timeout=60)
    finally:
        p.join(timeout=10)
        if p.is_alive():
            p.kill()
    assert cpu < 0.2, f"an idle worker used {cpu:.2f} s of CPU in 1 s"


def test_workers_take_their_share_of_the_cores_for_solver_threads() -> None:
    from tcpmodel.engines.search import default_jobs, share_cores, solver_threads

    try:
        share_cores(2)
        assert solver_threads() == max(1, default_jobs() // 2)
        share_cores(default_jobs() * 4)
        assert solver_threads() == 1
    finally:
        share_cores(1)
    assert solver_threads() == default_jobs()
