"""One configuration's failure is not the run's: an engine that fails (Z3, memory, the native
engine) gives that configuration's properties ``unknown`` with the reason, or hands the run to
the Python explorer; other configurations and specs are checked; soundness errors stay loud."""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest
import z3
from click.testing import CliRunner

from tcpmodel.check import Options, _guarded, check_spec
from tcpmodel.cli import main
from tcpmodel.engines import native
from tcpmodel.engines.registry import ENGINES, Engine
from tcpmodel.engines.search import Bounds, ProgressFn, rss_mb
from tcpmodel.errors import NativeError, ReplayError
from tcpmodel.formula import Property, parse_property
from tcpmodel.kernel import clib
from tcpmodel.kernel.clib import Native
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.system import Builder, System
from tcpmodel.kernel.types import IntType
from tcpmodel.results import Outcome, Result, Stats
from tcpmodel.spec import Spec, load

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"

needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")

# Two configurations (base and a variant), each with a violation and a reachable witness.
TWO = """
[spec]
name = "two"
model = "mutex"
[params]
algorithm = "naive"
[[property]]
name = "mutual-exclusion"
expect = "violated"
[[variant]]
name = "peterson"
params = { algorithm = "peterson" }
expect = { mutual-exclusion = "holds" }
"""


def two(tmp: Path) -> Spec:
    p = tmp / "two.toml"
    p.write_text(TWO)
    return load(p)


Run = tuple[dict[str, Outcome], Stats]


def substitute(monkeypatch: pytest.MonkeyPatch, engine: str, run: Engine) -> None:
    """Run ``run`` for ``engine``: its registry entry, with another run function."""
    monkeypatch.setitem(ENGINES, engine, dataclasses.replace(ENGINES[engine], run=run))


def peterson_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, error: BaseException, engine: str
) -> list[Result]:
    spec = two(tmp_path)
    target = spec.configurations[1].system
    real = ENGINES[engine].run

    def run(
        system: System,
        props: Sequence[Property],
        bounds: Bounds,
        progress: ProgressFn | None,
        compiled: Compiled | None,
    ) -> Run:
        if system is target:
            raise error
        return real(system, props, bounds, progress, compiled)

    substitute(monkeypatch, engine, run)
    return check_spec(spec, Options(engine))


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (MemoryError(), "out of memory in the explicit engine (MemoryError)"),
        (z3.Z3Exception("solver gone"), "Z3 failed in the explicit engine: solver gone"),
    ],
)
def test_a_failing_configuration_is_unknown_and_the_others_are_checked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, error: BaseException, reason: str
) -> None:
    base, variant = peterson_fails(monkeypatch, tmp_path, error, "explicit")
    assert base.variant is None and base.verdict == "violated" and base.trace is not None
    assert variant.variant == "peterson" and variant.verdict == "unknown"
    assert variant.reason.startswith(reason)


def test_a_native_failure_falls_back_to_the_python_explorer(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    error = NativeError("gcc failed to compile the native explorer")
    base, variant = peterson_fails(monkeypatch, tmp_path, error, "native")
    assert base.engine == "native" and base.verdict == "violated"
    assert variant.engine == "explicit" and variant.verdict == "holds"
    assert variant.reason.startswith("the native engine failed (gcc failed")
    assert "checked by the Python explorer" in variant.reason
    assert variant.stats.states > 0 and variant.stats.complete


def test_a_soundness_error_is_not_swallowed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with pytest.raises(ReplayError):
        peterson_fails(monkeypatch, tmp_path, ReplayError("trace does not replay"), "explicit")


@needs_gcc
def test_a_real_gcc_failure_falls_back(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TCPMODEL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(clib, "CFLAGS", [*clib.CFLAGS, "-fno-such-option-anywhere"])
    results = check_spec(two(tmp_path), Options("native"))
    assert [r.verdict for r in results] == ["violated", "holds"]
    assert all(r.engine == "explicit" and "gcc failed" in r.reason for r in results)


def test_through_the_cli_the_other_specs_are_checked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    two(tmp_path)
    real = ENGINES["explicit"].run
    loaded: list[str] = []

    def by_spec(
        system: System,
        props: Sequence[Property],
        bounds: Bounds,
        progress: ProgressFn | None,
        compiled: Compiled | None,
    ) -> Run:
        loaded.append(system.name)
        if len(loaded) == 2:  # the second configuration checked: two.toml's variant
            raise MemoryError
        return real(system, props, bounds, progress, compiled)

    substitute(monkeypatch, "explicit", by_spec)
    files = [str(tmp_path / "two.toml"), str(SPECS / "mutex-peterson.toml")]
    r = CliRunner().invoke(
        main,
        [
            "check",
            *files,
            "--engine",
            "explicit",
            "--jobs",  # 1: the monkeypatched engine lives in this process
            "1",
            "-q",
            "--format",
            "json",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert r.exit_code == 3, r.output
    doc = json.loads(r.stdout)
    by = {(s["spec"], x["variant"], x["property"]): x for s in doc["specs"] for x in s["results"]}
    assert by[("two", None, "mutual-exclusion")]["verdict"] == "violated"
    assert by[("two", "peterson", "mutual-exclusion")]["verdict"] == "unknown"
    assert "MemoryError" in by[("two", "peterson", "mutual-exclusion")]["reason"]
    others = [x for (s, _, _), x in by.items() if s == "mutex-peterson"]
    assert others and all(x["met"] for x in others)


@needs_gcc
def test_max_memory_bounds_the_native_engine() -> None:
    # The native engine's tables may grow only up to --max-memory (less what the process
    # holds already); past it the search stops with the bound as the reason.
    spec = load(SPECS / "rfc9293.toml")
    cfg = spec.configurations[0]
    Native(cfg.system)  # compiled (and cached) before the memory is measured
    cap = rss_mb() + 40
    out, stats = native.explore(cfg.system, [c.prop for c in cfg.checks], Bounds(max_memory_mb=cap))
    assert not stats.complete and stats.states > 0
    assert any(f"memory bound {cap:.0f} MiB reached" in o.reason for o in out.values())
    assert stats.peak_memory_mb <= cap + 10


@needs_gcc
def test_a_native_overflow_falls_back_to_the_python_explorer() -> None:
    # x**3 exceeds the native engine's 64 bits; Python integers do not overflow.
    b = Builder("huge")
    x = b.var("x", IntType(0, 2**40), init=2**40)
    b.var("y", IntType(0, 6))
    b.action("cube", True, {"y": (x * x * x) % 7}, "cube")
    system = b.build()
    prop = parse_property("y-small", "always(y < 7)", system)

    def run(name: str, bounds: Bounds) -> Run:
        return ENGINES[name].run(system, [prop], bounds, None, None)

    got, stats, used = _guarded("native", run, [prop], Bounds())
    assert used == "explicit" and stats.complete
    o = got["y-small"]
    assert o.verdict == "holds"
    assert o.reason.startswith("the native engine failed (") and "64 bits" in o.reason
