"""Interrupted runs: SIGINT and SIGTERM stop at the next safe point, keep every definite verdict,
report the rest unknown, write complete output files and exit 3; a second signal exits at once.

The signals go to a real `python -m tcpmodel` process of this checkout (cwd), sent once its
progress on stderr shows states explored."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import z3

from tcpmodel import proofs as proof_files
from tcpmodel.check import NOT_STARTED, Options, check_spec
from tcpmodel.engines.bmc import bmc
from tcpmodel.engines.explicit import explore
from tcpmodel.engines.kind import kind
from tcpmodel.engines.search import Bounds
from tcpmodel.engines.symbolic import Budget, Stopped
from tcpmodel.files import is_temporary
from tcpmodel.interrupt import Interrupt, handling
from tcpmodel.spec import load
from tests.test_files import parse_all

ROOT = Path(__file__).resolve().parent.parent
LONG = ROOT / "specs" / "rfc9293.toml"  # minutes with --engine explicit


def start(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tcpmodel", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(p: subprocess.Popen[str], marker: str, seconds: float = 60.0) -> list[str]:
    """stderr lines of ``p`` up to the first that contains ``marker``."""
    assert p.stderr is not None
    lines: list[str] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ready, _, _ = select.select([p.stderr], [], [], end - time.monotonic())
        if not ready:
            break
        line = p.stderr.readline()
        if not line:
            break
        lines.append(line)
        if marker in line:
            return lines
    p.kill()
    raise AssertionError(f"no {marker!r} on stderr in {seconds} s: {lines}")


def assert_complete_files(folder: Path) -> None:
    """Every file in ``folder`` parses (JSON, XML, SVG) and no temporary file is left."""
    names = sorted(p.name for p in folder.iterdir())
    assert {"results.json", "junit.xml", "index.html"} <= set(names), names
    assert not [f for f in folder.iterdir() if is_temporary(f)]
    parse_all(folder)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_the_run_and_keeps_what_it_found(
    sig: signal.Signals, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    args = ["--engine", "explicit", "-j1", "--format", "json", "--out", str(out)]
    p = start("check", str(LONG), *args)
    wait_for(p, " states, depth ")  # progress: states explored
    p.send_signal(sig)
    stdout, stderr = p.communicate(timeout=60)
    assert p.returncode == 3, stderr
    assert f"{sig.name}: stopping at the next safe point" in stderr
    doc = json.loads(stdout)
    assert doc["interrupted"] == sig.name and doc["exit_code"] == 3
    results = [r for s in doc["specs"] for r in s["results"]]
    base = [r for r in results if r["variant"] is None]
    assert base and all(r["stats"]["states"] > 0 for r in base)
    # what was decided stays decided (with its trace); the rest is unknown, saying why
    for r in results:
        if r["verdict"] == "unknown":
            assert r["reason"].startswith("interrupted"), r
        else:
            assert r["met"] and r["verdict"] in ("reachable", "violated") and r["trace"], r
    open_ = [r for r in base if r["verdict"] == "unknown"]
    assert open_ and all(r["reason"].startswith("interrupted after ") for r in open_)
    assert all(", depth " in r["reason"] for r in open_)
    # the variants had not started: reported, not dropped
    later = [r for r in results if r["variant"] is not None]
    assert later and all(r["reason"] == NOT_STARTED for r in later)
    assert json.loads((out / "results.json").read_text()) == doc
    assert_complete_files(out)


def test_a_second_signal_exits_at_once(tmp_path: Path) -> None:
    p = start("check", str(LONG), "--engine", "explicit", "-j1", "--out", str(tmp_path / "out"))
    wait_for(p, " states, depth ")
    p.send_signal(signal.SIGINT)
    wait_for(p, "stopping at the next safe point")
    p.send_signal(signal.SIGINT)
    _, stderr = p.communicate(timeout=30)
    assert p.returncode == 130, stderr
    assert "SIGINT again: exiting at once" in stderr


def test_text_output_says_the_run_was_interrupted(tmp_path: Path) -> None:
    p = start("check", str(LONG), "--engine", "explicit", "-j1", "--out", str(tmp_path / "out"))
    wait_for(p, " states, depth ")
    p.send_signal(signal.SIGTERM)
    stdout, _ = p.communicate(timeout=60)
    assert p.returncode == 3
    assert "interrupted by SIGTERM: partial results" in stdout
    assert "unknown: interrupted after " in stdout
    assert "unknown: interrupted before it started" in stdout


def test_diff_interrupted_reports_unknown_not_a_change() -> None:
    # Two designs that take minutes with the Python explorer: nothing is decided when the
    # signal comes, so nothing may be reported as changed or unchanged.
    design_b = f"{LONG}:server-closes-first"
    p = start("diff", str(LONG), design_b, "--engine", "explicit", "--format", "json")
    wait_for(p, " states, depth ")
    p.send_signal(signal.SIGINT)
    stdout, stderr = p.communicate(timeout=120)
    assert p.returncode == 3, stderr
    assert "SIGINT: stopping at the next safe point" in stderr
    doc = json.loads(stdout)
    assert doc["status"] == "unknown" and doc["exit_code"] == 3
    assert not doc["added"] and not doc["removed"]
    assert any(v["change"] == "unknown" for v in doc["properties"])


def test_proofs_verify_interrupted_exits_3() -> None:
    # The committed artefacts take minutes to prove again (rfc9293-32bit): stop the first proof.
    p = start("proofs", "verify", "proofs")
    wait_for(p, "proving again with ")
    p.send_signal(signal.SIGINT)
    stdout, stderr = p.communicate(timeout=120)
    assert p.returncode == 3, stdout + stderr
    assert "UNKNOWN" in stdout and "not verified (interrupted by SIGINT)" in stdout
    assert "FAIL" not in stdout


def test_verify_all_interrupted_reports_every_artefact_unknown() -> None:
    files = proof_files.artefact_files([str(ROOT / "proofs" / "mutex-peterson")])
    found = [proof_files.load(p) for p in files]
    stop = Interrupt()
    stop.request()
    checked = proof_files.verify_all(found, None, stop)
    assert [v.status for v in checked] == ["interrupted"] * len(found)


# -- in-process: the flag and Z3's interrupt --------------------------------------------------


def delayed_request(stop: Interrupt, seconds: float) -> None:
    threading.Timer(seconds, stop.request).start()


def pigeonhole(n: int) -> z3.Solver:
    """n pigeons in n - 1 holes: unsat, and a minute's work for Z3 at n = 11."""
    s = z3.Solver()
    x = [[z3.Bool(f"x{i}_{j}") for j in range(n - 1)] for i in range(n)]
    for i in range(n):
        s.add(z3.Or(*x[i]))
    for j in range(n - 1):
        for i in range(n):
            for k in range(i + 1, n):
                s.add(z3.Or(z3.Not(x[i][j]), z3.Not(x[k][j])))
    return s


def test_a_z3_query_in_progress_is_cancelled() -> None:
    stop = Interrupt()
    budget = Budget.of(None, stop)
    delayed_request(stop, 0.5)
    # Uncancelled, the query would end (unsat) after about a minute, without `Stopped`.
    with pytest.raises(Stopped, match="interrupted"):
        budget.check(pigeonhole(11))


@pytest.mark.parametrize("engine", [bmc, kind])
def test_the_z3_engines_stop_when_interrupted(engine: object) -> None:
    cfg = load(LONG).configurations[0]
    props = [c.prop for c in cfg.checks if c.prop.kind == "always"]
    stop = Interrupt()
    delayed_request(stop, 2.0)
    assert callable(engine)
    out, _ = engine(cfg.system, props, Bounds(max_depth=200, interrupt=stop))
    assert all(o.verdict == "unknown" and o.reason.startswith("interrupted") for o in out.values())


def test_an_interrupt_before_the_run_starts_nothing() -> None:
    spec = load(ROOT / "specs" / "mutex-naive.toml")
    stop = Interrupt()
    stop.request()
    results = check_spec(spec, Options("explicit", Bounds(interrupt=stop)))
    assert results and all(r.verdict == "unknown" and r.reason == NOT_STARTED for r in results)


def test_the_explorer_stops_at_its_next_check_point() -> None:
    cfg = load(LONG).configurations[0]
    stop = Interrupt()
    delayed_request(stop, 1.0)
    out, stats = explore(cfg.system, [c.prop for c in cfg.checks], Bounds(interrupt=stop))
    assert not stats.complete and stats.states > 0
    reason = f"interrupted after {stats.states} states, depth "
    assert any(o.reason.startswith(reason) for o in out.values())


def test_handling_restores_the_handlers() -> None:
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    with handling(lambda _line: None) as stop:
        assert signal.getsignal(signal.SIGINT) not in before
        os.kill(os.getpid(), signal.SIGINT)
        end = time.monotonic() + 5
        while not stop.requested and time.monotonic() < end:
            time.sleep(0.01)
        assert stop.requested and stop.cause == "SIGINT"
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
