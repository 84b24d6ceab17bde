"""Proof artefacts and spec invariants, through the CLI: the committed artefacts verify, a
changed spec or model fails, a malformed artefact is a located error, and ``[[invariant]]``
tables reach kind (a false one is reported and not used; a non-``always`` one is rejected)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tcpmodel import proofs
from tcpmodel.cli import main
from tcpmodel.spec import load

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
PROOFS = ROOT / "proofs"
PETERSON = PROOFS / "mutex-peterson" / "base.mutual-exclusion.json"


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


PETERSON_WITH_INVARIANTS = """
[spec]
name = "peterson-inv"
model = "mutex"
[params]
algorithm = "peterson"
[[property]]
name = "mutual-exclusion"
expect = "holds"
[[invariant]]
name = "p1-flag"
formula = "always(p1.flag or p1.pc == IDLE)"
[[invariant]]
formula = "always(p0.flag or p0.pc == IDLE)"
[[invariant]]
name = "false-one"
description = "false: p0 leaves IDLE"
formula = "always(p0.pc == IDLE)"
"""


def copy_proof(tmp: Path, artefact: Path = PETERSON) -> tuple[Path, Path]:
    """The artefact and its spec, copied into ``tmp`` with the same relative layout."""
    a = proofs.load(artefact)
    dst = tmp / "proofs" / artefact.relative_to(PROOFS)
    dst.parent.mkdir(parents=True)
    shutil.copy(artefact, dst)
    spec = tmp / "specs" / a.spec_path().name
    spec.parent.mkdir()
    shutil.copy(a.spec_path(), spec)
    assert proofs.load(dst).spec_path() == spec
    return dst, spec


def test_committed_artefacts_verify() -> None:
    assert sorted(PROOFS.rglob("*.json")), "no committed proof artefacts"
    code, out, err = run("proofs", "verify", str(PROOFS))
    assert code == 0, out + err
    assert "0 failed" in out


def test_a_changed_spec_fails_without_rerunning(tmp_path: Path) -> None:
    artefact, spec = copy_proof(tmp_path)
    spec.write_text(spec.read_text() + "\n# edited: even a comment changes the spec's hash\n")
    code, out, _ = run("proofs", "verify", str(tmp_path / "proofs"))
    assert code == 1
    assert f"FAIL {artefact}: spec file {spec} changed (sha256" in out
    assert "model" not in out.split("FAIL", 1)[1]


def test_a_changed_model_fails(tmp_path: Path) -> None:
    artefact, _ = copy_proof(tmp_path)
    doc = json.loads(artefact.read_text())
    doc["model_sha256"] = "0" * 64
    artefact.write_text(json.dumps(doc))
    code, out, _ = run("proofs", "verify", str(artefact))
    assert code == 1
    assert "model mutex changed (sha256 000000000000 ->" in out


def test_a_proof_that_no_longer_holds_fails(tmp_path: Path) -> None:
    artefact, _ = copy_proof(tmp_path)
    doc = json.loads(artefact.read_text())
    doc["k"] = 2  # the proof needs 17-induction: at depth 2 kind gives unknown
    artefact.write_text(json.dumps(doc))
    code, out, _ = run("proofs", "verify", str(artefact))
    assert code == 1
    assert "kind now gives unknown" in out


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda d: d.pop("engine"), "engine: missing"),
        (lambda d: d.update(k="16"), "k: expected a non-negative integer or null"),
        (lambda d: d.update(engine="bmc"), "engine: expected one of kind, chc"),
        (lambda d: d.update(spec_sha256="abc"), "spec_sha256: expected 64 lowercase hex"),
        (lambda d: d.update(extra=1), "extra: unknown key"),
        (lambda d: d.update(format="other"), "format: expected 'tcpmodel-proof/1'"),
    ],
)
def test_a_malformed_artefact_is_a_located_error(
    tmp_path: Path, edit: Callable[[dict[str, Any]], object], key: str
) -> None:
    artefact, _ = copy_proof(tmp_path)
    doc = json.loads(artefact.read_text())
    edit(doc)
    artefact.write_text(json.dumps(doc))
    code, _, err = run("proofs", "verify", str(tmp_path / "proofs"))
    assert code == 2
    assert f"{artefact}: {key}" in err


def test_an_artefact_that_is_not_json_is_a_located_error(tmp_path: Path) -> None:
    bad = tmp_path / "p.json"
    bad.write_text("{not json")
    code, _, err = run("proofs", "verify", str(bad))
    assert code == 2
    assert f"{bad}: not JSON" in err
    code, _, err = run("proofs", "verify", str(tmp_path / "missing"))
    assert code == 2 and "no such file or folder" in err


def test_check_writes_artefacts_with_the_invariants_kind_kept(tmp_path: Path) -> None:
    spec = tmp_path / "specs" / "peterson-inv.toml"
    spec.parent.mkdir()
    spec.write_text(PETERSON_WITH_INVARIANTS)
    out_dir = tmp_path / "proofs"
    code, out, err = run(
        "check", str(spec), "-q", "--engine", "kind", "--format", "json",
        "--out", str(tmp_path / "out"), "--proofs", str(out_dir),
    )  # fmt: skip
    assert code == 0, out + err
    (r,) = json.loads(out)["specs"][0]["results"]
    assert r["verdict"] == "proved"
    assert "invariant 'always(p0.pc == IDLE)' not used: not inductive" in r["reason"]
    assert "strengthened by always(p1.flag or p1.pc == IDLE), always(p0.flag" in r["reason"]
    a = proofs.load(out_dir / "peterson-inv" / "base.mutual-exclusion.json")
    assert a.invariants == ("always(p1.flag or p1.pc == IDLE)", "always(p0.flag or p0.pc == IDLE)")
    assert a.engine == "kind" and a.k is not None and a.invariant is None
    assert a.spec_file == "../../specs/peterson-inv.toml"
    code, out, err = run("proofs", "verify", str(out_dir))
    assert code == 0, out + err


def test_a_proof_without_usable_invariants_says_so(tmp_path: Path) -> None:
    spec = tmp_path / "s.toml"
    body = PETERSON_WITH_INVARIANTS.split("[[invariant]]")[0]
    spec.write_text(body + '[[invariant]]\nformula = "always(p1.pc == IDLE)"\n')
    code, out, _ = run(
        "check", str(spec), "-q", "--engine", "kind", "--format", "json",
        "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert code == 0
    (r,) = json.loads(out)["specs"][0]["results"]
    assert "invariant 'always(p1.pc == IDLE)' not used" in r["reason"]
    assert r["reason"].endswith("; no invariant used")


def test_chc_artefact_records_the_invariant(tmp_path: Path) -> None:
    code, out, err = run(
        "check", str(SPECS / "mutex-peterson.toml"), "-q", "--engine", "chc",
        "--property", "turn-respected", "--out", str(tmp_path / "out"),
        "--proofs", str(tmp_path / "proofs"),
    )  # fmt: skip
    assert code == 0, out + err
    a = proofs.load(tmp_path / "proofs" / "mutex-peterson" / "base.turn-respected.json")
    assert a.engine == "chc" and a.k is None and a.invariant
    assert a.verdict == "proved" and a.reason == f"invariant: {a.invariant}"
    code, out, err = run("proofs", "verify", str(tmp_path / "proofs"))
    assert code == 0, out + err


def test_proofs_need_a_proving_engine(tmp_path: Path) -> None:
    code, _, err = run(
        "check", str(SPECS / "mutex-peterson.toml"), "-q", "--engine", "explicit",
        "--out", str(tmp_path / "out"), "--proofs", str(tmp_path / "proofs"),
    )  # fmt: skip
    assert code == 2 and "--proofs needs --engine kind, chc or auto" in err


@pytest.mark.parametrize(
    ("tables", "key", "why"),
    [
        (
            '[[invariant]]\nname = "r"\nformula = "reachable(p0.pc == CRIT)"\n',
            "invariant 'r'.formula",
            "a reachable(...) formula; expected always(<state predicate>)",
        ),
        (
            '[[invariant]]\nformula = "always(eventually(p0.pc == CRIT))"\n',
            "invariant[0].formula",
            "an LTL formula; expected always(<state predicate>)",
        ),
        (
            '[[invariant]]\nformula = "always(p0.pc == NOWHERE)"\n',
            "invariant[0].formula",
            "column",
        ),
        (
            '[[variant]]\nname = "v"\n[[variant.invariant]]\nformula = "p0.flag"\n',
            "variant 'v'.invariant[0].formula",
            "expected always(",
        ),
        ('[[invariant]]\nname = "x"\n', "invariant 'x'.formula", "missing"),
        ('[[invariant]]\nformula = "always(p0.flag)"\nbound = 3\n', "invariant[0].bound", ""),
    ],
)
def test_a_bad_invariant_is_a_located_spec_error(
    tmp_path: Path, tables: str, key: str, why: str
) -> None:
    spec = tmp_path / "s.toml"
    spec.write_text(PETERSON_WITH_INVARIANTS.split("[[invariant]]")[0] + tables)
    code, _, err = run("check", str(spec), "-q", "--out", str(tmp_path / "out"))
    assert code == 2
    assert f"{spec}: {key}: " in err and why in err


def test_variant_invariants_add_to_the_specs(tmp_path: Path) -> None:
    spec = tmp_path / "s.toml"
    spec.write_text(
        PETERSON_WITH_INVARIANTS
        + '[[variant]]\nname = "v"\n[[variant.invariant]]\nformula = "always(turn <= 1)"\n'
    )
    base, variant = load(spec).configurations
    assert [i.name for i in base.invariants] == [
        "p1-flag",
        "always(p0.flag or p0.pc == IDLE)",
        "false-one",
    ]
    assert [i.formula for i in variant.invariants][-1] == "always(turn <= 1)"
    assert len(variant.invariants) == 4


def test_the_model_hash_follows_the_system() -> None:
    cfg = load(SPECS / "mutex-peterson.toml").configurations[0]
    again = load(SPECS / "mutex-peterson.toml").configurations[0]
    assert proofs.model_sha256(cfg.system) == proofs.model_sha256(again.system)
    fewer = cfg.system.without([cfg.system.actions[0].name])
    assert proofs.model_sha256(fewer) != proofs.model_sha256(cfg.system)
