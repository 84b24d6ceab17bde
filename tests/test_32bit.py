"""The connection model at real width: 32-bit sequence numbers (specs/fixed-isn-32bit.toml).

* The explicit engine explores fixed-isn-32bit exactly as fixed-isn (3 bits): a fixed ISN
  moves nothing with the width, so the same states, transitions and counterexample depth.
* BMC, on 32-bit bit-vectors, finds the old-data counterexample at the explorer's depth, and
  its trace (sequence numbers such as 2**31 + 1) replays through the concrete semantics.
* specs/rfc9293-32bit.toml is rfc9293.toml at real width; its proofs (committed artefacts in
  proofs/rfc9293-32bit/, re-run by tests/test_proofs.py) rest on invariants of two kinds, and a
  mutant of each kind breaks one: a TIME-WAIT shorter than MSL, an ISN clock that stands still.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import z3

from tcpmodel.engines import native
from tcpmodel.engines.bmc import bmc
from tcpmodel.engines.explicit import explore
from tcpmodel.engines.kind import _preserved, candidate
from tcpmodel.engines.search import Bounds
from tcpmodel.engines.symbolic import Budget, Encoding
from tcpmodel.formula import parse_property
from tcpmodel.models import MODELS, ParamValue
from tcpmodel.semantics import replay
from tcpmodel.spec import Configuration, load

SPECS = Path(__file__).resolve().parent.parent / "specs"


def configuration(name: str) -> Configuration:
    (cfg,) = load(SPECS / f"{name}.toml").configurations
    return cfg


def test_fixed_isn_32bit_differs_from_fixed_isn_only_in_the_width() -> None:
    narrow, wide = configuration("fixed-isn"), configuration("fixed-isn-32bit")
    assert {k: v for k, v in wide.params.items() if k != "seq_bits"} == {
        k: v for k, v in narrow.params.items() if k != "seq_bits"
    }
    assert wide.params["seq_bits"] == 32
    assert [c.prop.name for c in wide.checks] == [c.prop.name for c in narrow.checks]


def test_explorer_sees_the_same_state_space_at_32_bits() -> None:
    run = native.explore if native.compiler_available() else explore
    got = []
    for name in ("fixed-isn", "fixed-isn-32bit"):
        cfg = configuration(name)
        props = [c.prop for c in cfg.checks]
        out, stats = run(cfg.system, props, Bounds(), None, None)
        assert out["no-old-data"].verdict == "violated"
        trace = out["no-old-data"].trace
        assert trace is not None
        replay(cfg.system, trace)
        got.append((stats.states, stats.transitions, stats.depth, len(trace)))
    assert got[0] == got[1]


def test_bmc_finds_the_32bit_old_data_violation_at_the_explorers_depth() -> None:
    cfg = configuration("fixed-isn-32bit")
    props = [c.prop for c in cfg.checks if c.prop.name == "no-old-data"]
    run = native.explore if native.compiler_available() else explore
    want, _ = run(cfg.system, props, Bounds(), None, None)
    expected = want["no-old-data"].trace
    assert expected is not None
    got, stats = bmc(cfg.system, props, Bounds(max_depth=len(expected) - 1))
    o = got["no-old-data"]
    assert o.verdict == "violated", o.reason
    assert o.trace is not None
    assert len(o.trace) == len(expected) == stats.depth + 1
    replay(cfg.system, o.trace)
    last = o.trace.steps[-1].state
    assert last["b.old_data"] is True
    # b's ISS is 2**31: the trace carries real 32-bit sequence numbers.
    assert last["b.iss"] == 2**31


# specs/rfc9293-32bit.toml: rfc9293's configuration at real width, proved with invariants.

REAL_WIDTH = {"seq_bits", "isn_rate", "msl", "horizon", "rto_max"}


def test_rfc9293_32bit_is_rfc9293_at_real_width() -> None:
    narrow, wide = configuration_of("rfc9293", None), configuration_of("rfc9293-32bit", None)
    differs = {k for k in wide.params if wide.params[k] != narrow.params[k]}
    assert differs == REAL_WIDTH
    assert wide.params["seq_bits"] == 32 and wide.params["isn_rate"] == 250_000
    assert wide.params["msl"] == 120 and wide.params["time_wait"] == "2msl"
    # The horizon stays below the ISN clock's cycle, as rfc9293.toml's does.
    assert int(wide.params["horizon"]) * 250_000 < 2**32
    variants = {c.variant: c.params for c in load(SPECS / "rfc9293-32bit.toml").configurations}
    assert variants["keyed"]["isn"] == "keyed" and variants["linux"]["msl"] == 30


def configuration_of(name: str, variant: str | None) -> Configuration:
    return next(c for c in load(SPECS / f"{name}.toml").configurations if c.variant == variant)


def breaks(cfg: Configuration, action: str, invariant: str) -> bool:
    """Whether ``action`` can break ``invariant`` from a state where every invariant of the
    spec holds (a counterexample to induction), by the query kind's Houdini check makes."""

    cands = [candidate(i) for i in cfg.invariants]
    enc = Encoding(cfg.system, [c.predicate for c in cands])
    names = [i.name for i in cfg.invariants]
    act = next(i for i, a in enumerate(cfg.system.actions) if a.label == action)
    goal = enc.theory.term(cands[names.index(invariant)].predicate, enc.nxt)
    assume = [enc.pred(c.predicate) for c in cands]
    r, model = _preserved(enc, act, assume, goal, Budget.of(None))
    assert str(r) in ("sat", "unsat"), r
    return model is not None


def mutant(spec: str, variant: str | None, **params: ParamValue) -> Configuration:
    """A configuration of ``spec`` with ``params`` changed, the same invariants."""
    base = configuration_of(spec, variant)
    p = {**base.params, **params}
    system = MODELS["connection"].build(p)
    invs = tuple(parse_property(i.name, i.formula, system) for i in base.invariants)
    return dataclasses.replace(base, params=p, system=system, invariants=invs)


def test_a_time_wait_shorter_than_msl_breaks_the_time_wait_half_of_the_proof() -> None:
    # With TIME-WAIT (60 s) shorter than MSL (120 s), a data segment of a may outlive it.
    assert breaks(mutant("rfc9293-32bit", None, time_wait=60), "a.time_wait_expires", "a-closed")


def test_a_still_isn_clock_breaks_the_clock_half_of_the_proof() -> None:
    # With an ISN clock that stands still (isn_rate = 0, a fixed ISN) every ISS reads the
    # same clock value: time in TIME-WAIT no longer makes a's ISS older than the next one.
    assert breaks(mutant("rfc9293-32bit", None, isn_rate=0), "tick", "tw-age")


def test_forall_and_exists_are_the_slot_by_slot_formulas() -> None:
    system = configuration("fixed-isn").system
    pairs = [
        (
            "forall(s in net.ab, s.syn implies s.seq == a.iss)",
            " and ".join(
                f"(net.ab[{i}].present implies (net.ab[{i}].syn implies net.ab[{i}].seq == a.iss))"
                for i in range(2)
            ),
        ),
        (
            "exists(s in net.ba, s.fin and seq_to_int(s.seq) > 3)",
            " or ".join(
                f"(net.ba[{i}].present and net.ba[{i}].fin and seq_to_int(net.ba[{i}].seq) > 3)"
                for i in range(2)
            ),
        ),
    ]
    for short, long in pairs:
        p, q = (parse_property("x", f"always({f})", system).predicate for f in (short, long))
        enc = Encoding(system, [p, q])
        s = z3.Solver()
        s.add(enc.domain, enc.pred(p) != enc.pred(q))
        assert s.check() == z3.unsat, short
