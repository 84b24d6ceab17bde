"""validate's successor function: the C one (`clib.Native`) and the Python one give the same
verdicts, witnesses and divergences on the committed captures and on mutants; without gcc,
or when the C fails, the Python one takes over with the same verdicts; ``auto`` turns to the
C only after many states, from the cache or after a background compilation."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tcpmodel.errors import NativeError
from tcpmodel.kernel import cgen, clib
from tcpmodel.kernel.system import System
from tcpmodel.validate import Models, Verdict, validate
from tcpmodel.validate import successors as succ_mod
from tcpmodel.validate.search import Searcher
from tcpmodel.validate.successors import Successors

sys.path.insert(0, str(Path(__file__).parent))
from mutate import mutants

HERE = Path(__file__).parent / "captures"
# Three committed captures (a retransmission, an abort), many.pcap cut to its first connections
# (they all share one configuration) and basic's mutants; with TCPMODEL_SLOW_TESTS=1 every
# capture but the slowest to search and the mutants of three (minutes: each configuration's C
# is compiled once, ~20 s of gcc, then cached).
SLOW = os.environ.get("TCPMODEL_SLOW_TESTS") == "1"
SMALL = sorted(
    p
    for p in HERE.glob("*.pcap")
    if p.stem not in {"many", "time-wait-reuse"}
    and (SLOW or p.stem in {"basic", "abort", "data-retransmission"})
)
MUTATED = ("basic", "abort", "fin-retransmission") if SLOW else ("basic",)

needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")


def _captures(tmp: Path) -> list[Path]:
    paths = list(SMALL)
    for name in MUTATED:
        for kind, _number, data in mutants(HERE / f"{name}.pcap"):
            path = tmp / f"{name}.{kind}.pcap"
            path.write_bytes(data)
            paths.append(path)
    return paths


def _many(tmp: Path, n: int = 20) -> Path:
    """The first ``n`` connections of many.pcap (its records in capture order)."""
    import dpkt

    from tcpmodel.validate.capture import connections, read

    conns = connections(read(HERE / "many.pcap"))[:n]
    keep = {p.number for c in conns for p in c.packets}
    path = tmp / "many20.pcap"
    with (HERE / "many.pcap").open("rb") as f, path.open("wb") as out:
        r = dpkt.pcap.Reader(f)
        w = dpkt.pcap.Writer(out, snaplen=65535, linktype=r.datalink())
        for number, (ts, buf) in enumerate(r, start=1):
            if number in keep:
                w.writepkt(buf, ts)
    return path


def _seen(v: Verdict) -> tuple[Any, ...]:
    """Everything a verdict reports, the witness's states included."""
    trace = None if v.trace is None else [(s.action, s.state) for s in v.trace.steps]
    return (v.file, v.connection, v.verdict, v.reason, v.host, v.config, trace, v.obs_step,
            v.divergent, v.pairs, v.alternatives)  # fmt: skip


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    tmp = tmp_path_factory.mktemp("native")
    return [*_captures(tmp), _many(tmp)]


@pytest.fixture(scope="module")
def python(paths: list[Path]) -> list[Verdict]:
    return validate(paths, models=Models("python"))


@needs_gcc
def test_native_and_python_successors_agree(paths: list[Path], python: list[Verdict]) -> None:
    models = Models("native")
    native = validate(paths, models=models)
    assert [_seen(v) for v in native] == [_seen(v) for v in python]
    # Every search ran on the C function, and the comparison covers both kinds of verdict.
    assert models.cache and all(sr.fn.engine == "native" for _, sr in models.cache.values())
    assert not models.notes()
    kinds = {v.verdict for v in python}
    assert {"conforms", "diverges"} <= kinds
    assert any(v.alternatives for v in python)


def test_without_gcc_python_takes_over(
    paths: list[Path], python: list[Verdict], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TCPMODEL_CACHE", str(tmp_path / "cache"))  # nothing compiled there
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(succ_mod, "NATIVE_AFTER", 1)  # auto asks for the C at once
    for mode in ("native", "auto"):
        models = Models(mode)
        got = validate(paths[:2], models=models)
        assert [_seen(v) for v in got] == [_seen(v) for v in python[:2]]
        assert all(sr.fn.engine == "python" for _, sr in models.cache.values())
        (note,) = models.notes()
        assert "gcc" in note and "not on PATH" in note
        assert "--successors python" in note and "--engine" not in note


def _basic(mode: str = "python") -> tuple[System, Searcher]:
    """basic.pcap's configuration (capacity 2, where its search ends)."""
    from tcpmodel.validate.abstract import abstract, half_close, parameters
    from tcpmodel.validate.capture import connections, read

    (conn,) = connections(read(HERE / "basic.pcap"))
    ab = abstract(conn)
    params = parameters(ab, "linux", half_close(ab)) | {"capacity": 2}
    return Models(mode).get(params)  # type: ignore[arg-type]


@needs_gcc
def test_auto_turns_to_the_c_after_many_states(
    python: list[Verdict], monkeypatch: pytest.MonkeyPatch
) -> None:
    want = _seen(next(p for p in python if p.file.endswith("basic.pcap")))
    # A small capture stays with the Python function: no C generated, nothing compiled.
    models = Models("auto")
    (v,) = validate([HERE / "basic.pcap"], models=models)
    (_system, sr) = next(iter(models.cache.values()))
    assert sr.fn.engine == "python" and sr.fn._source is None and _seen(v) == want
    # Past NATIVE_AFTER states, the C function from the cache.
    system, _sr = _basic()
    clib.build(cgen.c_source(system))
    monkeypatch.setattr(succ_mod, "NATIVE_AFTER", 50)
    models = Models("auto")
    (v,) = validate([HERE / "basic.pcap"], models=models)
    (_system, sr) = next(iter(models.cache.values()))
    assert sr.fn.count > 50 and sr.fn.engine == "native" and _seen(v) == want


class _Build:
    """A stand-in for `clib.Background`: done after ``polls`` polls, then ``error``."""

    def __init__(self, polls: int, error: NativeError | None = None) -> None:
        self.polls, self.error, self.detached = polls, error, False

    def done(self) -> bool:
        self.polls -= 1
        return self.polls < 0

    def result(self) -> NativeError | None:
        return self.error

    def detach(self) -> None:
        self.detached = True


@needs_gcc
def test_auto_waits_for_the_background_compilation(monkeypatch: pytest.MonkeyPatch) -> None:
    system, sr = _basic()
    clib.build(cgen.c_source(system))  # Native loads it once the stand-in is done
    builds: list[_Build] = []

    def starting(polls: int, error: NativeError | None = None) -> Callable[[list[str]], _Build]:
        def start(sources: list[str]) -> _Build:
            builds.append(_Build(polls, error))
            return builds[-1]

        return start

    monkeypatch.setattr(clib, "cached", lambda source: False)
    monkeypatch.setattr(clib, "start_build", starting(2))
    fn = Successors(system, sr.c, "auto", after=3)
    monkeypatch.setattr(succ_mod, "POLL", 1)
    s = sr.c.initial()[0]
    engines = []
    for _ in range(8):
        assert fn(s) == list(sr.c.successors(s))
        engines.append(fn.engine)
    # Asked at the 3rd state, polled at the 4th and 5th, done at the 6th.
    assert engines == ["python"] * 5 + ["native"] * 3
    assert len(builds) == 1 and not fn.note

    # A compilation that fails leaves the Python function, saying why; one still running
    # when the run ends is detached.
    failing = Successors(system, sr.c, "auto", after=1)
    builds.clear()
    monkeypatch.setattr(clib, "start_build", starting(0, NativeError("gcc: boom")))
    for _ in range(3):
        failing(s)
    assert failing.engine == "python" and failing.note == "gcc: boom"
    running = Successors(system, sr.c, "auto", after=1)
    builds.clear()
    monkeypatch.setattr(clib, "start_build", starting(99))
    running(s)
    running.release()
    assert builds[0].detached and running.engine == "python"


@needs_gcc
def test_a_failing_c_call_hands_back_to_python(monkeypatch: pytest.MonkeyPatch) -> None:
    system, sr = _basic()
    fn = Successors(system, sr.c, "native")
    assert fn.engine == "native"

    def overflow(s: bytes) -> list[tuple[int, bytes]]:
        raise NativeError("an integer result exceeds the 64 bits of the native engine")

    fn.function = overflow
    s = sr.c.initial()[0]
    assert fn(s) == list(sr.c.successors(s))
    assert fn.engine == "python" and "64 bits" in fn.note


def test_cli_successors_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from tcpmodel.cli import main

    monkeypatch.setenv("TCPMODEL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(shutil, "which", lambda name: None)
    basic = str(HERE / "basic.pcap")
    r = CliRunner().invoke(main, ["validate", basic, "--successors", "native"])
    assert r.exit_code == 0, r.output
    assert "conforms" in r.stdout
    assert "note: the Python successor function was used" in r.stderr and "gcc" in r.stderr
    # auto falls back silently (a small capture never asks for the C).
    r = CliRunner().invoke(main, ["validate", basic])
    assert r.exit_code == 0 and "conforms" in r.stdout and not r.stderr
    r = CliRunner().invoke(main, ["validate", basic, "--successors", "c"])
    assert r.exit_code == 2 and "--successors" in r.stderr
