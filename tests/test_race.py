"""``auto`` does not wait for gcc: with the C code not cached, the Python explorer runs while
gcc compiles (`tcpmodel.engines.race`); whichever ends first gives the outcomes, which are the
same either way, and the engine recorded is the one that ran.  No test times the machine: the
winner is forced (a Python explorer that waits for the compilation) or follows from the
compilation taking longer than a tiny search."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from tcpmodel.check import Options, check_spec
from tcpmodel.engines import race
from tcpmodel.engines.registry import ENGINES
from tcpmodel.engines.search import Bounds, ProgressFn
from tcpmodel.formula import Property
from tcpmodel.interrupt import Interrupt
from tcpmodel.kernel import clib
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.system import System
from tcpmodel.results import Outcome, Result, Stats
from tcpmodel.spec import load

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "specs" / "mutex-peterson.toml"

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """An empty cache of compiled code for the test."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("TCPMODEL_CACHE", str(folder))
    yield folder
    clib.wait_detached()


def comparable(r: Result) -> dict[str, Any]:
    """A result as JSON shows it, times and memory aside, and without the engine."""
    d: dict[str, Any] = dict(r.to_json())
    d.pop("engine")
    s = r.stats
    d["stats"] = (s.states, s.transitions, s.depth, s.complete)
    return d


def libraries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.so"))


def test_a_small_spec_is_checked_by_python_while_gcc_compiles(cache: Path) -> None:
    spec = load(SMALL)
    got = check_spec(spec, Options("auto"))
    assert {r.engine for r in got} == {"explicit"}
    want = check_spec(spec, Options("explicit"))
    assert [comparable(r) for r in got] == [comparable(r) for r in want]
    assert any(r.trace is not None for r in got)  # traces compared too


def test_the_compilation_python_won_fills_the_cache(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = load(SMALL)
    first = check_spec(spec, Options("auto"))
    assert {r.engine for r in first} == {"explicit"}
    clib.wait_detached()
    assert len(libraries(cache)) == 2  # the successor function and the predicates
    assert not list(cache.glob("*.tmp"))  # nothing half-written left

    def no_compiling(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled again")

    monkeypatch.setattr(subprocess, "Popen", no_compiling)
    monkeypatch.setattr(subprocess, "run", no_compiling)
    again = check_spec(spec, Options("auto"))
    assert {r.engine for r in again} == {"native"}
    assert [comparable(r) for r in again] == [comparable(r) for r in first]


def waits_for_gcc(
    system: System,
    props: Sequence[Property],
    bounds: Bounds,
    progress: ProgressFn | None,
    compiled: Compiled | None,
) -> tuple[dict[str, Outcome], Stats]:
    """A Python explorer slower than any compilation: it stops only when asked."""
    stop = bounds.interrupt
    assert stop is not None  # the race's
    deadline = time.monotonic() + 300
    while not stop.requested and time.monotonic() < deadline:
        time.sleep(0.01)
    return {p.name: Outcome("unknown", reason="stopped") for p in props}, Stats()


def test_when_gcc_ends_first_native_runs_from_the_start(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = load(SMALL)
    want = check_spec(spec, Options("explicit"))
    python = dataclasses.replace(ENGINES["explicit"], run=waits_for_gcc)
    monkeypatch.setitem(ENGINES, "explicit", python)
    got = check_spec(spec, Options("auto"))
    assert {r.engine for r in got} == {"native"}
    assert [comparable(r) for r in got] == [comparable(r) for r in want]
    assert len(libraries(cache)) == 2


def test_a_gcc_failure_leaves_the_python_outcomes_saying_so(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clib, "CFLAGS", (*clib.CFLAGS, "-fno-such-option-anywhere"))
    spec = load(SMALL)
    want = check_spec(spec, Options("explicit"))
    real = ENGINES["explicit"].run

    def until_gcc_then_python(
        system: System,
        props: Sequence[Property],
        bounds: Bounds,
        progress: ProgressFn | None,
        compiled: Compiled | None,
    ) -> tuple[dict[str, Outcome], Stats]:
        racing = bounds.interrupt
        assert racing is not None
        deadline = time.monotonic() + 300
        while getattr(racing, "error", None) is None and time.monotonic() < deadline:
            assert not racing.requested  # a failed compilation does not stop Python
            time.sleep(0.01)
        return real(system, props, bounds, progress, compiled)

    python = dataclasses.replace(ENGINES["explicit"], run=until_gcc_then_python)
    monkeypatch.setitem(ENGINES, "explicit", python)
    got = check_spec(spec, Options("auto"))
    assert {r.engine for r in got} == {"explicit"}
    assert all(r.reason and "the native engine failed (gcc failed" in r.reason for r in got)
    assert [r.verdict for r in got] == [r.verdict for r in want]
    assert not libraries(cache) and not list(cache.glob("*.tmp"))


def test_an_interrupt_cancels_the_compilation(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user = Interrupt()

    def interrupted_python(
        system: System,
        props: Sequence[Property],
        bounds: Bounds,
        progress: ProgressFn | None,
        compiled: Compiled | None,
    ) -> tuple[dict[str, Outcome], Stats]:
        user.request("test")
        assert bounds.interrupt is not None and bounds.interrupt.requested
        return {p.name: Outcome("unknown", reason="interrupted") for p in props}, Stats()

    python = dataclasses.replace(ENGINES["explicit"], run=interrupted_python)
    monkeypatch.setitem(ENGINES, "explicit", python)
    got = check_spec(load(SMALL), Options("auto", Bounds(interrupt=user)))
    user.close()
    assert {r.verdict for r in got} == {"unknown"}
    assert not libraries(cache) and not list(cache.glob("*.tmp"))


def test_one_compilation_at_a_time(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A compilation started while a detached one runs waits for it (the next configuration's
    does not pile up compilers): held by a gate file, then both complete."""
    gate = cache.parent / "gate"
    monkeypatch.setenv("TCPMODEL_TEST_GATE", str(gate))
    held = 'while [ ! -e "$TCPMODEL_TEST_GATE" ]; do sleep 0.02; done\n'
    monkeypatch.setattr(clib, "_BACKGROUND", held + clib._BACKGROUND)
    first = clib.start_build(["int first(void) { return 1; }\n"])
    assert first is not None and first.proc is not None
    first.detach()
    second = clib.start_build(["int second(void) { return 2; }\n"])
    assert second is not None
    assert second.proc is None and not second.done()  # queued behind the first
    gate.touch()
    deadline = time.monotonic() + 120
    while not second.done() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert second.result() is None
    clib.wait_detached()
    assert len(libraries(cache)) == 2 and not list(cache.glob("*.tmp"))
    assert clib.start_build(["int first(void) { return 1; }\n"]) is None  # cached


def test_the_time_limit_spans_the_compilation(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The native engine gets only the time left after the race: none here (gcc takes longer
    than the limit), so nothing is decided and the reason is the time limit."""
    python = dataclasses.replace(ENGINES["explicit"], run=waits_for_gcc)
    monkeypatch.setitem(ENGINES, "explicit", python)
    got = check_spec(load(SMALL), Options("auto", Bounds(timeout=0.001)))
    assert {r.verdict for r in got} == {"unknown"}
    assert all(r.reason.startswith("time limit 0.001 s reached") for r in got)


def test_progress_names_the_engine_running(capsys: pytest.CaptureFixture[str]) -> None:
    from tcpmodel.engines.search import Progress
    from tcpmodel.progress import Display

    show = Display()
    show("spec", Progress(1000, 3, 10, 1.0, engine="explicit, compiling"))
    show("spec", Progress(2000, 4, 10, 1.0))
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("spec [explicit, compiling]: 1,000 states")
    assert lines[1].startswith("spec: 2,000 states")


def test_a_large_configuration_is_handed_to_the_native_engine(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Python stops at `race.HANDOFF` states, the run waits for gcc and the native engine
    checks the configuration from the start: the results are the Python explorer's own."""
    monkeypatch.setattr(race, "HANDOFF", 10)
    spec = load(SMALL)
    want = check_spec(spec, Options("explicit"))
    assert min(r.stats.states for r in want) > 10
    real = ENGINES["explicit"].run
    python_states: list[int] = []

    def counted(
        system: System,
        props: Sequence[Property],
        bounds: Bounds,
        progress: ProgressFn | None,
        compiled: Compiled | None,
    ) -> tuple[dict[str, Outcome], Stats]:
        got, stats = real(system, props, bounds, progress, compiled)
        python_states.append(stats.states)
        return got, stats

    monkeypatch.setitem(ENGINES, "explicit", dataclasses.replace(ENGINES["explicit"], run=counted))
    got = check_spec(spec, Options("auto"))
    assert {r.engine for r in got} == {"native"}
    assert [comparable(r) for r in got] == [comparable(r) for r in want]
    # each Python run stopped at the hand-off, short of the configuration's states
    assert python_states and all(
        10 <= n < r.stats.states for n, r in zip(python_states, want, strict=False)
    )


def test_a_gcc_failure_after_the_hand_off_checks_with_python_from_the_start(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(race, "HANDOFF", 10)
    monkeypatch.setattr(clib, "CFLAGS", (*clib.CFLAGS, "-fno-such-option-anywhere"))
    spec = load(SMALL)
    want = check_spec(spec, Options("explicit"))
    got = check_spec(spec, Options("auto"))
    assert {r.engine for r in got} == {"explicit"}
    assert all(r.reason and "the native engine failed (gcc failed" in r.reason for r in got)
    assert [(r.verdict, r.stats.states) for r in got] == [(r.verdict, r.stats.states) for r in want]


def test_a_state_bound_below_the_hand_off_stays_with_python(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(race, "HANDOFF", 10)
    got = check_spec(load(SMALL), Options("auto", Bounds(max_states=10)))
    # (auto then tries to prove what the bound left open: those results are kind's)
    explored = [r for r in got if r.engine != "kind"]
    assert explored and {r.engine for r in explored} == {"explicit"}
    assert all(
        r.verdict != "unknown" or r.reason.startswith("state bound 10 reached") for r in explored
    )
    assert all(r.stats.states < 20 for r in explored)  # not a complete search: bound kept
