"""The Promela export: SPIN explores exactly the states tcpmodel explores.

How counts are compared: tcpmodel's native engine explores the configuration whole (one
always-true property); SPIN runs the exported model built with ``spin -o2 -a`` and
``gcc -DSAFETY -DNOREDUCE``, with a DFS stack deeper than tcpmodel's state count (so the search
cannot be cut short).  Then

    SPIN "states, stored" == tcpmodel states + Export.extra_states

where ``extra_states`` is 0 for a model with one initial state (SPIN starts in it) and 1 for a
model with several (SPIN also stores the state before ``main`` chooses one).  The verifiers are
compiled with ``-O0``: much faster to build, the same states.  Everything here needs ``spin``
and ``gcc`` and is skipped without them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tcpmodel.cli import main
from tcpmodel.engines import native
from tcpmodel.engines.search import Bounds
from tcpmodel.errors import UsageError
from tcpmodel.formula import Property, parse_property
from tcpmodel.kernel import spin
from tcpmodel.kernel.expr import (
    OPS,
    TRUE,
    Expr,
    and_,
    eq,
    implies,
    in_window,
    int_to_seq,
    ite,
    seq_le,
    seq_lt,
    seq_to_int,
)
from tcpmodel.kernel.promela import TRANSLATED, promela
from tcpmodel.kernel.system import Builder, System
from tcpmodel.kernel.types import BOOL, IntType, SeqType
from tcpmodel.models import MODELS
from tcpmodel.models.base import ParamValue
from tcpmodel.spec import load

SPECS = Path(__file__).resolve().parent.parent / "specs"

needs_spin = pytest.mark.skipif(
    not spin.spin_available(), reason="needs spin and gcc (apt-get install spin gcc)"
)

# Small connection configurations (each a few thousand to 73,000 states).
CONNECTION: dict[str, dict[str, ParamValue]] = {
    # unordered network (a multiset) with a loss and a duplicate
    "multiset-loss-dup": {
        "incarnations": 1,
        "data": 0,
        "isn": "fixed",
        "loss": 1,
        "duplicate": 1,
        "reorder": True,
        "b_close_first": "never",
    },
    # FIFO network (no reordering), one data unit, a loss
    "fifo": {
        "incarnations": 1,
        "data": 1,
        "isn": "fixed",
        "loss": 1,
        "duplicate": 0,
        "reorder": False,
        "b_close_first": "never",
    },
    # 16 initial states (the attacker's guess times the keyed ISN's secret)
    "initial-states": {
        "seq_bits": 2,
        "isn": "keyed",
        "isn_secret": "any",
        "attacker": "offpath",
        "a_down": True,
        "incarnations": 1,
        "loss": 0,
        "duplicate": 0,
        "b_close_first": "never",
        "horizon": 3,
    },
}


# Deeper than any DFS of these models can go: more than the largest one's states.
MAX_DEPTH = 100_000


def tcpmodel_states(system: System) -> int:
    prop = parse_property("all", "always(1 == 1)", system)
    _, stats = native.explore(system, [prop], Bounds())
    assert stats.complete
    return stats.states


def spin_run(
    system: System, folder: Path, invariants: list[tuple[str, Expr]] | None = None
) -> tuple[spin.PanRun, int]:
    exported = promela(system, invariants or [])
    pan = spin.build_pan(exported.text, folder, optimize="-O0")
    return spin.run_pan(pan, max_depth=MAX_DEPTH, hash_bits=20), exported.extra_states


def spec_system(name: str, variant: str | None) -> System:
    (cfg,) = [c for c in load(SPECS / f"{name}.toml").configurations if c.variant == variant]
    return cfg.system


def test_every_operator_is_translated() -> None:
    assert set(OPS) == TRANSLATED


@needs_spin
@pytest.mark.parametrize(
    ("name", "variant"),
    [
        ("mutex-peterson", None),
        ("mutex-naive", None),
        ("alternating-bit", None),
        ("alternating-bit", "reordering"),
    ],
    ids=["mutex-peterson", "mutex-naive", "alternating-bit-fifo", "alternating-bit-reordering"],
)
def test_classic_models_same_states(name: str, variant: str | None, tmp_path: Path) -> None:
    system = spec_system(name, variant)
    run, extra = spin_run(system, tmp_path)
    assert run.complete and run.errors == 0
    assert run.states == tcpmodel_states(system) + extra


@needs_spin
@pytest.mark.parametrize("config", list(CONNECTION))
def test_connection_same_states(config: str, tmp_path: Path) -> None:
    """With no-old-data (which holds in these one-incarnation configurations) exported as an
    assertion: its process, always blocked, adds no state."""
    model = MODELS["connection"]
    system = model.build({**model.defaults(), **CONNECTION[config]})
    prop = parse_property("no-old-data", "always(not a.old_data and not b.old_data)", system)
    outcomes, stats = native.explore(system, [prop], Bounds())
    assert outcomes["no-old-data"].verdict == "holds" and stats.complete
    run, extra = spin_run(system, tmp_path, [(prop.name, prop.predicate)])
    assert extra == (1 if len(system.init) > 1 else 0)
    assert run.complete and run.errors == 0
    assert run.states == stats.states + extra


@needs_spin
@pytest.mark.parametrize(
    ("name", "variant"),
    [("alternating-bit", None), ("alternating-bit", "reordering"), ("mutex-naive", None)],
)
def test_same_verdicts_on_always_properties(name: str, variant: str | None, tmp_path: Path) -> None:
    (cfg,) = [c for c in load(SPECS / f"{name}.toml").configurations if c.variant == variant]
    props = [c.prop for c in cfg.checks if c.prop.kind == "always"]
    assert props
    outcomes, _ = native.explore(cfg.system, props, Bounds())
    for k, p in enumerate(props):
        run, _ = spin_run(cfg.system, tmp_path / str(k), [(p.name, p.predicate)])
        violated = outcomes[p.name].verdict == "violated"
        assert (run.errors > 0) == violated, (p.name, outcomes[p.name].verdict, run.output)


def operators_system() -> tuple[System, Expr]:
    """Counters over every value of their types, and a predicate stating, for every
    valuation, the value Python gives each operator: SPIN must find it never false."""
    b = Builder("operators")
    x = b.var("x", IntType(-7, 7))
    s = b.var("s", SeqType(3))
    t = b.var("t", SeqType(3))
    w = b.var("w", IntType(0, 3))
    flag = b.var("flag", BOOL)
    b.action("x", TRUE, {"x": ite(x.eq(7), -7, x + 1)})
    b.action("s", TRUE, {"s": s + 1})
    b.action("t", TRUE, {"t": t + 3})
    b.action("w", TRUE, {"w": ite(w.eq(3), 0, w + 1)})
    b.action("flag", TRUE, {"flag": ~flag})
    facts: list[Expr] = []
    for v in range(-7, 8):
        facts.append(
            implies(
                x.eq(v),
                and_(
                    (x % 3).eq(v % 3),
                    (x // 3).eq(v // 3),
                    (-x).eq(-v),
                    (x * x - x).eq(v * v - v),
                    int_to_seq(x, SeqType(3)).eq(v & 7),
                    ite(x.ge(0), x.gt(2), x.le(-3)).eq(v > 2 if v >= 0 else v <= -3),
                ),
            )
        )
    for a in range(8):
        facts.append(implies(s.eq(a), and_((seq_to_int(s) - 3).eq(a - 3), (s - 5).eq((a - 5) & 7))))
        for c in range(8):
            d = (c - a) & 7
            fact = and_(
                eq(seq_lt(s, t), 0 < d < 4),
                eq(seq_le(s, t), d < 4),
                (s + t).eq((a + c) & 7),
                *(implies(w.eq(k), eq(in_window(s, t, w), (a - c) & 7 < k)) for k in range(4)),
            )
            facts.append(implies(and_(s.eq(a), t.eq(c)), fact))
    facts.append(implies(flag, flag.ne(False)))
    return b.build(), and_(*facts)


@needs_spin
def test_operators_agree_with_python(tmp_path: Path) -> None:
    system, facts = operators_system()
    prop = Property("facts", "always", facts, "the operators' values")
    outcomes, stats = native.explore(system, [prop], Bounds())
    assert outcomes["facts"].verdict == "holds"
    assert stats.states == 15 * 8 * 8 * 4 * 2
    run, extra = spin_run(system, tmp_path, [("facts", facts)])
    assert run.errors == 0, run.output
    assert run.states == stats.states + extra


def test_what_cannot_be_exported_is_named() -> None:
    b = Builder("wide")
    b.var("a.iss", SeqType(32))
    with pytest.raises(UsageError, match=r"a\.iss is Seq\(32\).*30 bits"):
        promela(b.build())
    b = Builder("big")
    n = b.var("n", IntType(0, 100_000))
    b.action("square", TRUE, {"n": (n * n) % 7})
    with pytest.raises(UsageError, match="beyond SPIN's 32-bit ints"):
        promela(b.build())
    b = Builder("clash")
    b.var("a.b", BOOL)
    b.var("a_b", BOOL)
    with pytest.raises(UsageError, match="both written a_b"):
        promela(b.build())


def test_export_command_writes_promela(tmp_path: Path) -> None:
    out = tmp_path / "abp.pml"
    r = CliRunner().invoke(
        main,
        [
            *("export", str(SPECS / "alternating-bit.toml"), "--variant", "reordering"),
            *("--promela", "-o", str(out)),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "states stored = tcpmodel's states + 0" in r.stdout
    assert "not exported: all-delivered" in r.stdout
    text = out.read_text()
    assert "active proctype main()" in text and "always_delivers_in_order" in text
    r = CliRunner().invoke(main, ["export", str(SPECS / "rfc9293-32bit.toml"), "--promela"])
    assert r.exit_code == 2 and "Seq(32)" in r.stderr
