"""Mutants: every `holds` in the bundled specs must rest on a protection that matters.

For each configuration with a `holds` expectation, the table below names the protection and a
mutation that removes it: for the `connection` model a shorter TIME-WAIT, RFC 1337 F1 off, no
quiet time, no timestamp guard; for the `listener` model SYN cookies off or the request
queue's cap removed; for the alternating-bit protocol a reordering channel.  The mutated
configuration is checked at the same bounds (same horizon, budgets, sequence space) and every
listed property must come back `violated`, with a counterexample that replays (an LTL
property such as the listener's `legit-connects` with a lasso, under the model's fairness).
A `holds` that no mutant covers fails `test_every_holds_is_covered`, so a new spec cannot add
an unexamined "holds".  It covers the specs of the models in `COVERED_MODELS`: `connection`,
`listener` and `alternating-bit`.  The `mutex` model stays out: its one parameter chooses the
algorithm, and the naive one breaks mutual-exclusion (specs/mutex-naive.toml shows it) but
neither deadlock-free nor mutex-peterson's own turn-respected, which speaks of Peterson's WAIT.
The listener's `unreachable` expectations (specs/accept-overflow.toml) have their mutants,
which make them `reachable`, in tests/test_listener.py.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from tcpmodel.check import Options, check_spec
from tcpmodel.models import MODELS
from tcpmodel.spec import load, spec_files
from tests.specfile import write_spec

SPECS = Path(__file__).resolve().parent.parent / "specs"

COVERED_MODELS = ("connection", "listener", "alternating-bit")

TW = ["no-old-data", "no-old-fin"]
FOUR = ["no-old-data", "no-old-fin", "clean-close", "isn-agreement"]

# (spec, variant, mutation, properties the mutation must violate)
MUTANTS: list[tuple[str, str | None, dict[str, Any], list[str]]] = [
    *(
        m
        for v in (None, "simultaneous-open", "server-closes-first")
        for m in (
            # TIME-WAIT shorter than MSL: old data, FINs and RSTs reach the next incarnation
            ("rfc9293", v, {"time_wait": 1}, [*TW, "no-old-rst"]),
            ("rfc9293", v, {"time_wait": 0}, ["clean-close"]),  # no TIME-WAIT
            ("rfc9293", v, {"rfc1337": False}, ["isn-agreement"]),  # F1 off: H2
        )
    ),
    ("twa-f1", None, {"rfc1337": False}, [*FOUR, "no-old-rst"]),
    # tw_recycle's cache is per address: behind one NAT address the second host's SYNs meet it.
    ("tw-recycle-nat", "no-nat", {"nat": True}, ["no-recycle-drop"]),
    # Half-close keeps the clean close only while TIME-WAIT outlives the last ACK's loss.
    ("request-response", "shutdown", {"time_wait": 0}, ["clean-close"]),
    ("no-time-wait", "time-wait-2msl", {"time_wait": 0}, [*FOUR, "no-old-rst"]),
    ("tw-reuse", None, {"tw_reuse_guard": False}, TW),
    (
        "crash-reconnect",
        None,
        {"quiet_time": False},
        ["no-old-data", "no-old-fin", "isn-agreement"],
    ),
    ("server-time-wait", None, {"time_wait": 1}, ["no-old-data", "no-old-fin", "isn-agreement"]),
    # Liveness: a retry limit (R2) leaves a FIN-WAIT-2 with no timer; without the Linux
    # tcp_fin_timeout the fix is gone.
    (
        "simultaneous-close",
        None,
        {"retries_unlimited": False, "retries": 1},
        ["close-terminates"],
    ),
    ("simultaneous-close", "fin-timeout", {"fin_timeout": 0}, ["close-terminates"]),
    # One more SYN,ACK retry lengthens the schedule past the bound.
    ("synack-timeout", None, {"synack_retries": 6}, ["synrcvd-released"]),
    ("synack-timeout", "synack-retries-2", {"synack_retries": 3}, ["synrcvd-released"]),
    # At real width the ISN clock alone keeps old data out of a fast reconnect, so the mutant
    # removes both protections: TIME-WAIT shorter than MSL and an ISN clock that stands still
    # (5.8 million states to the 20-step violation).
    *(
        ("rfc9293-32bit", v, {"time_wait": 1, "isn_rate": 0}, ["no-old-data"])
        for v in (None, "keyed", "linux")
    ),
    # listener (docs/listener.md): the cap on request entries is what bounds the queue, with
    # or without cookies; cookies are what let the client in through the flood, and what
    # answer its SYN when the flood has filled the queue (specs/syn-flood.toml shows both
    # violations with cookies off).
    ("syn-flood", None, {"backlog_limit": False}, ["queue-bounded"]),
    (
        "syn-flood-cookies",
        None,
        {"syncookies": False},
        ["legit-connects", "full-queue-answers-client-syn"],
    ),
    ("syn-flood-cookies", None, {"backlog_limit": False}, ["queue-bounded"]),
    ("syn-flood-cookies", "lost-ack", {"syncookies": False}, ["full-queue-answers-client-syn"]),
    ("syn-flood-cookies", "lost-ack", {"backlog_limit": False}, ["queue-bounded"]),
    ("syn-flood-cookies", "by-horizon", {"syncookies": False}, ["legit-connects-by-horizon"]),
    # The alternating bit relies on FIFO channels: reordering breaks every one of its holds.
    (
        "alternating-bit",
        None,
        {"channel": "reordering"},
        ["delivers-in-order", "ack-consistent", "deadlock-free", "receiver-never-ahead-by-two"],
    ),
]


def _model(spec: str) -> str:
    """The model the spec names (`connection`, `listener`, ...)."""
    doc = tomllib.loads((SPECS / f"{spec}.toml").read_text())
    return str(doc["spec"]["model"])


def _params(spec: str, variant: str | None) -> dict[str, Any]:
    """The configuration's parameters as the spec sets them, its profile's first."""
    doc = tomllib.loads((SPECS / f"{spec}.toml").read_text())
    profile = doc["spec"].get("profile")
    params = dict(MODELS[doc["spec"]["model"]].profiles[profile]) if profile else {}
    params.update(doc.get("params", {}))
    if variant is not None:
        (v,) = [v for v in doc.get("variant", []) if v["name"] == variant]
        params.update(v.get("params", {}))
    return params


def _formulas(spec: str, variant: str | None) -> dict[str, str]:
    """The spec's own formulas (library properties have none) of the configuration."""
    doc = tomllib.loads((SPECS / f"{spec}.toml").read_text())
    props = doc.get("property", [])
    if variant is not None:
        (v,) = [v for v in doc.get("variant", []) if v["name"] == variant]
        props = v.get("property", props)
    return {p["name"]: p["formula"] for p in props if "formula" in p}


@pytest.mark.parametrize(
    ("spec", "variant", "mutation", "props"),
    MUTANTS,
    ids=[
        f"{s}{'/' + v if v else ''}:{','.join(f'{k}={x}' for k, x in m.items())}"
        for s, v, m, _ in MUTANTS
    ],
)
def test_mutant_is_violated(
    spec: str, variant: str | None, mutation: dict[str, Any], props: list[str], tmp_path: Path
) -> None:
    params = _params(spec, variant) | mutation
    formulas = _formulas(spec, variant)
    expect = [
        {"name": p, "expect": "violated"} | ({"formula": formulas[p]} if p in formulas else {})
        for p in props
    ]
    path = write_spec(tmp_path / "mutant.toml", f"{spec}-mutant", params, expect, _model(spec))
    results = check_spec(load(path), Options())
    assert {r.prop: r.verdict for r in results} == dict.fromkeys(props, "violated")
    assert all(r.trace is not None and r.trace.steps for r in results)


# Proofs whose explicit mutant is out of reach (rfc9293-32bit's no-old-fin: no violation in
# 30 million states at depth 24) are covered by a proof mutant instead: the mutation breaks
# an invariant the proof rests on, from a state where all of them hold (tests/test_32bit.py).
# (spec, variant, mutation, action, invariant, properties whose proof it covers)
PROOF_MUTANTS: list[tuple[str, str | None, dict[str, Any], str, str, list[str]]] = [
    ("rfc9293-32bit", v, {"isn_rate": 0}, "tick", "tw-age", ["no-old-fin"])
    for v in (None, "keyed", "linux")
]


@pytest.mark.parametrize(
    ("spec", "variant", "mutation", "action", "invariant", "props"),
    PROOF_MUTANTS,
    ids=[f"{s}{'/' + v if v else ''}:{i}" for s, v, _, _, i, _ in PROOF_MUTANTS],
)
def test_proof_mutant_breaks_an_invariant(
    spec: str,
    variant: str | None,
    mutation: dict[str, Any],
    action: str,
    invariant: str,
    props: list[str],
) -> None:
    from tests.test_32bit import breaks, mutant

    assert breaks(mutant(spec, variant, **mutation), action, invariant)


def test_every_holds_is_covered() -> None:
    covered = {(s, v, p) for s, v, _, props in MUTANTS for p in props}
    covered |= {(s, v, p) for s, v, _, _, _, props in PROOF_MUTANTS for p in props}
    missing = [
        (s.name, cfg.variant, c.prop.name)
        for s in (load(f) for f in spec_files([str(SPECS)]))
        if s.model.name in COVERED_MODELS
        for cfg in s.configurations
        for c in cfg.checks
        if c.expect == "holds" and (s.name, cfg.variant, c.prop.name) not in covered
    ]
    assert missing == []
