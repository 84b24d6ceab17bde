"""Pinned state spaces of bundled configurations: a change to the `connection` model that
alters what a configuration can do shows up here as a changed count, with the configuration
named.

The configurations are explored whole (a property that always holds), with the compiled
engine.  The counts of the configurations that existed before data from b, FIN with data,
close_mode and the Linux parameters were added are the counts measured before those
parameters existed: at their defaults the new parameters leave each transition system
unchanged (their fingerprints were compared), so the counts stay.  The others pin the new
specs' configurations.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tcpmodel.engines import native
from tcpmodel.engines.explicit import Bounds
from tcpmodel.formula import parse_property
from tcpmodel.spec import load

SPECS = Path(__file__).resolve().parent.parent / "specs"

# (spec, variant): (states, transitions)
COUNTS: dict[tuple[str, str | None], tuple[int, int]] = {
    ("simultaneous-close", None): (28_005, 152_370),
    ("simultaneous-close", "no-fin-retransmission"): (462, 1_322),
    ("simultaneous-close", "retry-limit"): (30_965, 165_823),
    ("simultaneous-close", "fin-timeout"): (32_316, 171_569),
    ("simultaneous-close", "one-segment-window"): (33_453, 187_099),
    ("synack-timeout", None): (17_442, 59_528),
    ("synack-timeout", "synack-retries-2"): (9_295, 32_875),
    ("isn-attack", None): (75_408, 131_584),
    ("request-response", "shutdown"): (3_629_131, 13_326_820),
}


@pytest.mark.skipif(not native.compiler_available(), reason="needs gcc")
@pytest.mark.parametrize(
    ("spec", "variant"), list(COUNTS), ids=[f"{s}/{v or 'base'}" for s, v in COUNTS]
)
def test_state_space_is_pinned(spec: str, variant: str | None) -> None:
    (cfg,) = [c for c in load(SPECS / f"{spec}.toml").configurations if c.variant == variant]
    prop = parse_property("all", "always(1 == 1)", cfg.system)
    _, stats = native.explore(cfg.system, [prop], Bounds(max_states=10_000_000))
    assert stats.complete
    assert (stats.states, stats.transitions) == COUNTS[(spec, variant)]
