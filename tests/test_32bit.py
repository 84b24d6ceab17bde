"""The connection model at real width: 32-bit sequence numbers (specs/fixed-isn-32bit.toml).

* The explicit engine explores fixed-isn-32bit exactly as fixed-isn (3 bits): a fixed ISN
  moves nothing with the width, so the same states, transitions and counterexample depth.
* BMC, on 32-bit bit-vectors, finds the old-data counterexample at the explorer's depth, and
  its trace (sequence numbers such as 2**31 + 1) replays through the concrete semantics.
"""

from __future__ import annotations

import time
from pathlib import Path

from tcpmodel.engines import native
from tcpmodel.engines.bmc import bmc
from tcpmodel.engines.explicit import Bounds, explore
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
    start = time.monotonic()
    got, stats = bmc(cfg.system, props, Bounds(max_depth=len(expected) - 1, timeout=120))
    o = got["no-old-data"]
    assert o.verdict == "violated", o.reason
    assert o.trace is not None
    assert len(o.trace) == len(expected) == stats.depth + 1
    replay(cfg.system, o.trace)
    last = o.trace.steps[-1].state
    assert last["b.old_data"] is True
    # b's ISS is 2**31: the trace carries real 32-bit sequence numbers.
    assert last["b.iss"] == 2**31
    assert time.monotonic() - start < 120
