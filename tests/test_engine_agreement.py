"""Every engine on every bundled spec: no two definite verdicts may disagree.

The explicit engines' verdicts on the bundled specs are the specs' expectations (the main job,
``tcpmodel check specs/``, fails otherwise), so each symbolic engine's definite verdict on every
configuration and property is compared with the expectation; on the small specs it is also
compared with the explicit engine's own verdict, computed here.  The symbolic engines run with
short bounds (they answer ``unknown`` where those cut them off, which agrees with anything);
``proved`` counts as ``holds``.  LTL properties are compared in tests/test_liveness.py.

kind and chc run on the specs where they give definite verdicts within these bounds (the small
specs and the listener's); on the ``connection`` model's specs, measured on every bundled one,
they gave none (all ``unknown``, after 3 to 48 s of solving per spec and engine), so there only
bmc runs, which does decide some (reachable witnesses at depth 8).  kind's proofs about the
connection model are tested where they succeed: tests/test_32bit.py, tests/test_proofs.py.

So that agreement cannot hold by every engine answering ``unknown``, each symbolic engine must
also give at least a pinned number of definite verdicts on each class of small spec, under
bounds that do not depend on the machine's speed (depth bounds; chc's time limit is a safety
net far beyond the seconds it needs), each of them the expected one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tcpmodel.check import Options, check_spec
from tcpmodel.engines.search import Bounds
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


CLASSES = {"mutex": ("mutex-naive", "mutex-peterson"), "alternating-bit": ("alternating-bit",)}
DEPTHS = {"bmc": Bounds(max_depth=8), "kind": Bounds(max_depth=4), "chc": Bounds(timeout=600)}
# (class, engine): the definite verdicts measured with `DEPTHS` (kind proves nothing about the
# alternating-bit protocol within k = 4, so it has no entry there)
DECIDES = {
    ("mutex", "bmc"): 3,
    ("mutex", "kind"): 3,
    ("mutex", "chc"): 6,
    ("alternating-bit", "bmc"): 5,
    ("alternating-bit", "chc"): 3,
}


@pytest.mark.slow
@pytest.mark.parametrize(("cls", "engine"), list(DECIDES), ids=[f"{c}-{e}" for c, e in DECIDES])
def test_each_symbolic_engine_decides_enough(cls: str, engine: str) -> None:
    definite = 0
    for name in CLASSES[cls]:
        spec = safety_only(load(SPECS / f"{name}.toml"))
        want = {(c.variant, k.prop.name): k.expect for c in spec.configurations for k in c.checks}
        for r in check_spec(spec, Options(engine, DEPTHS[engine])):
            assert r.reason or r.verdict != "unknown", r
            if r.verdict != "unknown":
                assert SAME.get(r.verdict, r.verdict) == want[(r.variant, r.prop)], r
                definite += 1
    assert definite >= DECIDES[(cls, engine)], (cls, engine, definite)


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
    engines = [e for e in BOUNDS if e == "bmc" or spec.model.name != "connection"]
    for engine in engines:
        for r in check_spec(spec, Options(engine, BOUNDS[engine])):
            if r.verdict == "unknown":
                assert r.reason, r
                continue
            want = reference[(r.variant, r.prop)]
            assert SAME.get(r.verdict, r.verdict) == want, (engine, r.variant, r.prop, r.verdict)
