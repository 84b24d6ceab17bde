"""The main job's verdicts and state counts, pinned for every bundled spec.

The README's first command, ``tcpmodel check specs/``, writes ``out/results.json``; `.ci/run`
runs it before the tests.  This test compares that file with ``tests/data/main-job-pins.json``:
for every spec, variant and property, the verdict, and for every exploration (the explicit and
native engines give the same figures) the states, transitions, depth and whether it was
complete.  A change to a model, an engine or the orchestration that alters any of them fails
here with the configuration named; a deliberate change is pinned anew with::

    tcpmodel check specs/ --out out/
    python3 tests/test_main_job_pins.py out/results.json    # rewrites the pins

Proofs (kind, chc) pin their verdict only: their figures are not state counts.

Without ``out/results.json`` of a run over every bundled spec the test skips locally and fails
under ``CI=true``, where the main job must have run first.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
PINS = ROOT / "tests" / "data" / "main-job-pins.json"
RESULTS = ROOT / "out" / "results.json"
EXPLORERS = ("explicit", "native")

Pin = dict[str, Any]


def pins_of(doc: dict[str, Any]) -> dict[str, Pin]:
    """``spec/variant/property`` -> the figures pinned, from a results.json document."""
    out: dict[str, Pin] = {}
    for spec in doc["specs"]:
        for r in spec["results"]:
            key = f"{spec['spec']}/{r['variant'] or 'base'}/{r['property']}"
            pin: Pin = {"verdict": r["verdict"]}
            if r["engine"] in EXPLORERS:
                st = r["stats"]
                pin |= {k: st[k] for k in ("states", "transitions", "depth", "complete")}
            out[key] = pin
    return out


def _bundled() -> set[str]:
    return {p.stem for p in (ROOT / "specs").glob("*.toml")}


def _results() -> dict[str, Any]:
    why = ""
    if not RESULTS.exists():
        why = f"{RESULTS} is missing"
    else:
        doc: dict[str, Any] = json.loads(RESULTS.read_text())
        ran = {s["spec"] for s in doc["specs"]}
        if ran != _bundled():
            missing = sorted(_bundled() - ran)
            why = f"{RESULTS} is not a run over every bundled spec (missing: {missing})"
        elif doc.get("interrupted"):
            why = f"{RESULTS} is from an interrupted run"
        else:
            return doc
    why += "; run the main job first: tcpmodel check specs/ --out out/"
    if os.environ.get("CI") == "true":
        pytest.fail(why)
    pytest.skip(why)


def test_every_verdict_and_state_count_of_the_main_job_is_pinned() -> None:
    want: dict[str, Pin] = json.loads(PINS.read_text())
    got = pins_of(_results())
    assert sorted(got) == sorted(want), "the main job's properties differ from the pinned ones"
    differ = {k: (want[k], got[k]) for k in want if want[k] != got[k]}
    assert not differ, "\n".join(f"{k}: pinned {w}, now {g}" for k, (w, g) in differ.items())
    # Every bundled spec has pins, and most of them are exact state counts.
    assert {k.split("/")[0] for k in want} == _bundled()
    assert sum("states" in p for p in want.values()) >= len(want) * 3 // 4


if __name__ == "__main__":
    source = Path(sys.argv[1] if len(sys.argv) > 1 else RESULTS)
    pins = pins_of(json.loads(source.read_text()))
    PINS.write_text(json.dumps(pins, indent=1, sort_keys=True) + "\n")
    print(f"{len(pins)} results pinned in {PINS}")
