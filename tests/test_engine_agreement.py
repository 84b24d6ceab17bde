"""Every engine on every bundled spec: no two definite verdicts may disagree.

The explicit engines' verdicts on the bundled specs are the specs' expectations (the main job,
``tcpmodel check specs/``, fails otherwise), so each symbolic engine's definite verdict on every
configuration and property is compared with the expectation; on the small specs it is also
compared with the explicit engine's own verdict, computed here.  The symbolic engines run with
short bounds (they answer ``unknown`` where those cut them off, which agrees with anything);
``proved`` counts as ``holds``.  LTL properties are compared in tests/test_liveness.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tcpmodel.check import Options, check_spec
from tcpmodel.engines.explicit import Bounds
from tcpmodel.spec import Spec, load, spec_files

SPECS = Path(__file__).resolve().parent.parent / "specs"
SMALL = {"mutex-naive", "mutex-peterson", "alternating-bit", "fixed-isn", "accept-overflow"}
SAME = {"proved": "holds"}
BOUNDS = {
    "bmc": Bounds(max_depth=8, timeout=3.0),
    "kind": Bounds(max_depth=4, timeout=3.0),
    "chc": Bounds(timeout=2.0),
}


def safety_only(spec: Spec) -> Spec:
    """The spec with its LTL properties left out (they have their own agreement test)."""
    import dataclasses

    cfgs = tuple(
        dataclasses.replace(cfg, checks=tuple(c for c in cfg.checks if c.prop.kind != "ltl"))
        for cfg in spec.configurations
    )
    return dataclasses.replace(spec, configurations=tuple(c for c in cfgs if c.checks))


SPEC_FILES = sorted(spec_files([str(SPECS)]), key=lambda p: p.name)


@pytest.mark.slow
@pytest.mark.parametrize("path", SPEC_FILES, ids=[p.stem for p in SPEC_FILES])
def test_symbolic_engines_never_contradict(path: Path) -> None:
    spec = safety_only(load(path))
    if not spec.configurations:
        pytest.skip("only LTL properties")
    reference = {(c.variant, k.prop.name): k.expect for c in spec.configurations for k in c.checks}
    if spec.name in SMALL:
        for r in check_spec(spec, Options("explicit")):
            assert r.verdict == reference[(r.variant, r.prop)], r
    for engine, bounds in BOUNDS.items():
        for r in check_spec(spec, Options(engine, bounds)):
            if r.verdict == "unknown":
                assert r.reason, r
                continue
            want = reference[(r.variant, r.prop)]
            assert SAME.get(r.verdict, r.verdict) == want, (engine, r.variant, r.prop, r.verdict)
