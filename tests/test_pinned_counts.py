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

from tcpmodel.check import Options, check_spec
from tcpmodel.engines import explicit, native
from tcpmodel.engines.search import Bounds
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


# The `listener` model's configurations (spec, variant): (states, transitions), explored whole
# by the Python explorer (a few hundred states each), as measured before the listener used the
# connection model's channels (`tcpmodel.tcp.network.Channels`).
LISTENER_COUNTS: dict[tuple[str, str | None], tuple[int, int]] = {
    ("syn-flood", None): (279, 446),
    ("syn-flood", "by-horizon"): (605, 888),
    ("syn-flood-cookies", None): (232, 358),
    ("syn-flood-cookies", "lost-ack"): (747, 1_281),
    ("syn-flood-cookies", "by-horizon"): (579, 831),
    ("accept-overflow", None): (49, 56),
    ("accept-overflow", "no-abort"): (54, 61),
}


@pytest.mark.parametrize("spec", sorted({s for s, _ in LISTENER_COUNTS}))
def test_listener_state_spaces_are_pinned(spec: str) -> None:
    got: dict[tuple[str, str | None], tuple[int, int]] = {}
    for cfg in load(SPECS / f"{spec}.toml").configurations:
        prop = parse_property("all", "always(1 == 1)", cfg.system)
        _, stats = explicit.explore(cfg.system, [prop], Bounds(max_states=100_000))
        assert stats.complete
        got[(spec, cfg.variant)] = (stats.states, stats.transitions)
    assert got == {k: v for k, v in LISTENER_COUNTS.items() if k[0] == spec}


# (spec, variant, property): (verdict, states, transitions, depth) of the explicit engine with
# `PINNED_BOUNDS`, as measured before the engines moved behind the registry and `check_spec`
# was split into steps: a refactoring of the orchestration changes none of them.
PINNED_BOUNDS = Bounds(max_depth=12)
VERDICTS: dict[tuple[str, str | None, str], tuple[str, int, int, int]] = {
    ("mutex-naive", None, "mutual-exclusion"): ("violated", 16, 28, 6),
    ("mutex-naive", None, "critical-reachable"): ("reachable", 16, 28, 6),
    ("mutex-peterson", None, "mutual-exclusion"): ("holds", 20, 34, 6),
    ("mutex-peterson", None, "critical-reachable"): ("reachable", 20, 34, 6),
    ("mutex-peterson", None, "deadlock-free"): ("holds", 20, 34, 6),
    ("mutex-peterson", None, "turn-respected"): ("holds", 20, 34, 6),
    ("alternating-bit", None, "delivers-in-order"): ("unknown", 93, 486, 12),
    ("alternating-bit", None, "ack-consistent"): ("unknown", 93, 486, 12),
    ("alternating-bit", None, "all-delivered"): ("reachable", 93, 486, 12),
    ("alternating-bit", None, "deadlock-free"): ("unknown", 93, 486, 12),
    ("alternating-bit", None, "receiver-never-ahead-by-two"): ("unknown", 93, 486, 12),
    ("alternating-bit", "reordering", "delivers-in-order"): ("violated", 159, 626, 8),
    ("alternating-bit", "reordering", "ack-consistent"): ("violated", 159, 626, 8),
    ("alternating-bit", "reordering", "all-delivered"): ("reachable", 159, 626, 8),
    ("alternating-bit", "reordering", "deadlock-free"): ("violated", 159, 626, 8),
    ("alternating-bit", "reordering", "receiver-never-ahead-by-two"): ("violated", 159, 626, 8),
    ("isn-attack", None, "spoofed-injection"): ("reachable", 72_608, 124_992, 12),
    ("isn-attack", None, "lucky-injection"): ("reachable", 7_440, 8_448, 4),
    ("isn-attack", "keyed", "spoofed-injection"): ("unknown", 72_608, 124_992, 12),
    ("isn-attack", "keyed", "lucky-injection"): ("reachable", 7_440, 8_448, 4),
    ("isn-attack", "fixed", "spoofed-injection"): ("reachable", 71_712, 123_888, 12),
    ("isn-attack", "fixed", "lucky-injection"): ("reachable", 7_440, 8_448, 4),
    ("isn-attack", "client-answers", "spoofed-injection"): ("reachable", 150_160, 315_472, 12),
    ("isn-attack", "client-answers", "lucky-injection"): ("reachable", 7_952, 8_704, 4),
}


@pytest.mark.slow
@pytest.mark.parametrize("spec", sorted({s for s, _, _ in VERDICTS}))
def test_verdicts_and_counts_are_pinned(spec: str) -> None:
    results = check_spec(load(SPECS / f"{spec}.toml"), Options("explicit", PINNED_BOUNDS))
    got = {
        (spec, r.variant, r.prop): (r.verdict, r.stats.states, r.stats.transitions, r.stats.depth)
        for r in results
    }
    assert got == {k: v for k, v in VERDICTS.items() if k[0] == spec}
