"""Proof artefacts: an unbounded proof by ``kind`` or ``chc`` written down, to be checked again.

An artefact is one JSON object in ``<DIR>/<spec>/<variant or "base">.<property>.json``,
written by ``tcpmodel check --engine kind|chc|auto --proofs DIR`` for every property kind or
chc proved (verdict ``proved``, or ``unreachable`` for ``reachable(p)``; ``auto`` proves with
kind what a bound kept the explorer from settling).  Its keys (all required):

===================  =========================================================================
``format``           ``"tcpmodel-proof/1"``
``spec``             the spec's name
``spec_file``        the spec file, relative to the artefact's folder (POSIX separators), so a
                     checkout can move as a whole
``spec_sha256``      sha256 of the spec file's bytes
``variant``          the variant's name, or ``null`` for the base configuration
``model``            the model's name
``model_sha256``     sha256 of `fingerprint`: the configuration's `System` (variables, arrays,
                     initial states, actions with guards and updates, fairness, definitions)
``params``           the configuration's parameters
``property``         the property's name, and ``formula`` its text
``verdict``          ``proved`` (``holds`` from a completeness threshold is accepted too) or
                     ``unreachable``
``engine``           ``kind`` or ``chc``
``k``                kind: the depth the run had reached when it stopped (the re-run's depth
                     bound); ``null`` for chc
``invariant``        chc: Spacer's inductive invariant as text; ``null`` for kind
``invariants``       the spec's ``[[invariant]]`` formulas kind assumed (kept by its check)
``reason``           the outcome's reason as `tcpmodel check` reported it
``z3``, ``tcpmodel`` versions; ``seconds`` of the engine run; ``created`` (UTC, ISO 8601)
===================  =========================================================================

`verify` reloads the spec, recomputes both hashes and, when neither changed, runs the proof
again from scratch with the recorded engine, depth bound and invariants; it passes only if
the verdict is the same.  A file that is not such an object is an `ArtefactError` naming the
file and the key.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import z3

import tcpmodel
from tcpmodel.check import NOT_STARTED, Options, check_spec
from tcpmodel.engines import registry
from tcpmodel.engines.search import Bounds
from tcpmodel.errors import TcpModelError
from tcpmodel.files import write_atomic
from tcpmodel.formula import Property
from tcpmodel.interrupt import Interrupt
from tcpmodel.kernel.expr import Const, Expr, Op, Var
from tcpmodel.kernel.system import System
from tcpmodel.kernel.types import EnumType, Sort
from tcpmodel.models import ParamValue
from tcpmodel.results import Result
from tcpmodel.spec import Configuration, Spec
from tcpmodel.spec import load as load_spec

FORMAT = "tcpmodel-proof/1"
VERDICTS = ("proved", "holds", "unreachable")


class ArtefactError(TcpModelError, ValueError):
    """A proof artefact file is unreadable or not an artefact: names the file and the key."""


@dataclass(frozen=True, slots=True)
class Artefact:
    """One proof, as stored; ``path`` is where it was read from or is written to."""

    path: Path
    spec: str
    spec_file: str
    spec_sha256: str
    variant: str | None
    model: str
    model_sha256: str
    params: Mapping[str, ParamValue]
    property: str
    formula: str
    verdict: str
    engine: str
    k: int | None
    invariant: str | None
    invariants: tuple[str, ...]
    reason: str
    z3: str
    tcpmodel: str
    seconds: float
    created: str

    def spec_path(self) -> Path:
        """The spec file, found from the artefact's folder."""
        return Path(os.path.normpath(self.path.parent / self.spec_file))

    def to_json(self) -> dict[str, object]:
        doc: dict[str, object] = {"format": FORMAT}
        for f in dataclasses.fields(self):
            if f.name != "path":
                doc[f.name] = getattr(self, f.name)
        doc["params"] = dict(self.params)
        doc["invariants"] = list(self.invariants)
        return doc


# -- hashes ---------------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fingerprint(system: System) -> str:
    """The system as deterministic text: every part a checking engine reads.  Expressions are
    written with the sort of every constant and operator, so retyping one changes the text."""
    lines = [f"system {system.name}"]
    lines += [f"var {v.name}: {v.vtype!r}" for v in system.variables]
    lines += [f"array {a!r}" for a in system.arrays]
    lines += [f"init {s!r}" for s in system.init]
    for a in system.actions:
        ups = " ".join(f"{v}:={_expr(e)}" for v, e in a.updates)
        lines.append(
            f"action {a.label} group={a.group} rule={a.rule!r} guard={_expr(a.guard)} {ups}"
        )
    lines += [f"fair {f.kind}:{f.group}" for f in system.fairness]
    lines.append(f"terminal {_expr(system.terminal)}")
    lines += [f"define {n} = {_expr(e)}" for n, e in system.definitions]
    return "\n".join(lines)


def model_sha256(system: System) -> str:
    return hashlib.sha256(fingerprint(system).encode()).hexdigest()


def _sort(s: Sort) -> str:
    return f"Enum {s.name}" if isinstance(s, EnumType) else s.describe()


def _expr(e: Expr) -> str:
    if isinstance(e, Var):
        return e.name
    if isinstance(e, Const):
        return f"{e.value!r}:{_sort(e.const_sort)}"
    if isinstance(e, Op):
        return f"{e.op}:{_sort(e.op_sort)}({', '.join(_expr(a) for a in e.args)})"
    raise TypeError(f"not an expression node: {e!r}")  # pragma: no cover


# -- writing --------------------------------------------------------------------------------


def is_proof(r: Result) -> bool:
    return r.engine in registry.provers() and r.verdict in VERDICTS


def artefact_path(folder: Path, spec: str, variant: str | None, prop: str) -> Path:
    return folder / spec / f"{variant or 'base'}.{prop}.json"


def artefacts(spec: Spec, results: Sequence[Result], folder: Path) -> list[Artefact]:
    """An artefact for each result of ``spec`` that is a proof by kind or chc."""
    spec_hash = file_sha256(Path(spec.file))
    created = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    cfgs = {c.variant: c for c in spec.configurations}
    hashes: dict[str | None, str] = {}
    out: list[Artefact] = []
    for r in results:
        if r.spec != spec.name or not is_proof(r):
            continue
        cfg = cfgs[r.variant]
        if r.variant not in hashes:
            hashes[r.variant] = model_sha256(cfg.system)
        path = artefact_path(folder, spec.name, r.variant, r.prop)
        used = r.invariants or ()
        rel = os.path.relpath(Path(spec.file).resolve(), path.parent.resolve())
        out.append(
            Artefact(
                path=path,
                spec=spec.name,
                spec_file=Path(rel).as_posix(),
                spec_sha256=spec_hash,
                variant=r.variant,
                model=spec.model.name,
                model_sha256=hashes[r.variant],
                params=dict(cfg.params),
                property=r.prop,
                formula=r.formula,
                verdict=r.verdict,
                engine=r.engine,
                k=r.k,
                invariant=r.invariant,
                invariants=tuple(i.formula for i in cfg.invariants if i.formula in used),
                reason=r.reason,
                z3=z3.get_version_string(),
                tcpmodel=tcpmodel.__version__,
                seconds=round(r.stats.seconds, 3),
                created=created,
            )
        )
    return out


def save(a: Artefact) -> None:
    a.path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(a.path, json.dumps(a.to_json(), indent=2) + "\n")


# -- reading --------------------------------------------------------------------------------


def artefact_files(paths: Sequence[str]) -> list[Path]:
    """The artefacts named by ``paths``: files as given, folders searched for ``*.json``."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(p.rglob("*.json"))
            if not found:
                raise ArtefactError(
                    f"{raw}: no proof artefacts (*.json) in this folder; expected the folder "
                    "that `tcpmodel check --engine kind --proofs DIR` wrote"
                )
            out.extend(found)
        elif p.is_file():
            out.append(p)
        else:
            raise ArtefactError(
                f"{raw}: no such file or folder; expected a proof artefact or a folder of them"
            )
    return out


_Kind = Literal["str", "str?", "int?", "float", "strs", "params"]

_KEYS: dict[str, _Kind] = {
    "spec": "str",
    "spec_file": "str",
    "spec_sha256": "str",
    "variant": "str?",
    "model": "str",
    "model_sha256": "str",
    "params": "params",
    "property": "str",
    "formula": "str",
    "verdict": "str",
    "engine": "str",
    "k": "int?",
    "invariant": "str?",
    "invariants": "strs",
    "reason": "str",
    "z3": "str",
    "tcpmodel": "str",
    "seconds": "float",
    "created": "str",
}

_WANT = {
    "str": "a string",
    "str?": "a string or null",
    "int?": "a non-negative integer or null",
    "float": "a number",
    "strs": "an array of strings",
    "params": "an object of parameter values (strings, integers, booleans)",
}


def _fits(v: Any, kind: _Kind) -> bool:
    if kind == "str":
        return isinstance(v, str)
    if kind == "str?":
        return v is None or isinstance(v, str)
    if kind == "int?":
        return v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 0)
    if kind == "float":
        return isinstance(v, int | float) and not isinstance(v, bool)
    if kind == "strs":
        return isinstance(v, list) and all(isinstance(x, str) for x in v)
    return isinstance(v, dict) and all(isinstance(x, str | int | bool) for x in v.values())


def load(path: Path) -> Artefact:
    """Read and check one artefact; `ArtefactError` names the file and the key at fault."""

    def err(key: str, msg: str) -> ArtefactError:
        return ArtefactError(f"{path}: {key}: {msg}")

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ArtefactError(f"{path}: cannot read the file ({e.strerror or e})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ArtefactError(
            f"{path}: not JSON ({e}); expected a proof artefact written by "
            "`tcpmodel check --proofs DIR`"
        ) from None
    if not isinstance(doc, dict):
        raise ArtefactError(f"{path}: expected a JSON object, got {type(doc).__name__}")
    if doc.get("format") != FORMAT:
        raise err("format", f"expected {FORMAT!r}, got {doc.get('format')!r}")
    for k in doc:
        if k != "format" and k not in _KEYS:
            raise err(k, f"unknown key; expected one of: format, {', '.join(_KEYS)}")
    for k, kind in _KEYS.items():
        if k not in doc:
            raise err(k, f"missing; expected {_WANT[kind]}")
        if not _fits(doc[k], kind):
            raise err(k, f"expected {_WANT[kind]}, got {json.dumps(doc[k])}")
    for k in ("spec_sha256", "model_sha256"):
        if len(doc[k]) != 64 or any(c not in "0123456789abcdef" for c in doc[k]):
            raise err(k, f"expected 64 lowercase hex digits (sha256), got {doc[k]!r}")
    if doc["engine"] not in registry.provers():
        raise err(
            "engine", f"expected one of {', '.join(registry.provers())}, got {doc['engine']!r}"
        )
    if doc["verdict"] not in VERDICTS:
        raise err("verdict", f"expected one of {', '.join(VERDICTS)}, got {doc['verdict']!r}")
    if doc["engine"] == "kind" and doc["k"] is None:
        raise err("k", "missing for engine kind; expected the depth bound of the proof")
    values = {k: doc[k] for k in _KEYS}
    values["invariants"] = tuple(values["invariants"])
    values["seconds"] = float(values["seconds"])
    return Artefact(path=path, **values)


# -- verifying ------------------------------------------------------------------------------

Status = Literal["ok", "changed", "failed", "interrupted"]


@dataclass(frozen=True, slots=True)
class Verification:
    """What `verify` found: ``ok``; ``changed`` (spec, model or property differ from the
    recorded ones: not re-run); ``failed`` (re-run and not proved again); ``interrupted``
    (the run was interrupted before the proof went through again: not known). ``why`` says
    what."""

    artefact: Artefact
    status: Status
    why: str = ""
    verdict: str = ""
    seconds: float = 0.0


def verify(a: Artefact, timeout: float | None = None) -> Verification:
    """Check that ``a`` still describes the spec and model, then prove it again."""
    return verify_all([a], timeout)[0]


def verify_all(
    found: Sequence[Artefact],
    timeout: float | None = None,
    interrupt: Interrupt | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Verification]:
    """`verify` for each artefact, in order; artefacts of one configuration proved by one run
    (same engine, depth bound and invariants, e.g. two properties kind proved together) are
    proved again by one run.  Once ``interrupt`` is requested, the proof running stops and
    every artefact not yet proved again is ``interrupted``.  ``progress`` is told of each
    proof run as it starts."""
    out: dict[int, Verification] = {}
    groups: dict[tuple[object, ...], list[tuple[int, Artefact, Spec, Configuration]]] = {}
    loaded: dict[Path, Spec] = {}
    for n, a in enumerate(found):
        if interrupt is not None and interrupt.requested:
            out[n] = Verification(a, "interrupted", NOT_STARTED)
            continue
        got = _unchanged(a, loaded)
        if isinstance(got, Verification):
            out[n] = got
            continue
        spec, cfg, invs = got
        key = (str(a.spec_path()), a.variant, a.engine, a.k, invs)
        groups.setdefault(key, []).append((n, a, spec, dataclasses.replace(cfg, invariants=invs)))
    for members in groups.values():
        if progress is not None and not (interrupt is not None and interrupt.requested):
            a = members[0][1]
            names = ", ".join(m[1].property for m in members)
            progress(f"proving again with {a.engine}: {a.spec} {a.variant or 'base'}: {names}")
        out.update(_rerun(members, timeout, interrupt))
    return [out[n] for n in range(len(found))]


def _unchanged(
    a: Artefact, loaded: dict[Path, Spec]
) -> Verification | tuple[Spec, Configuration, tuple[Property, ...]]:
    """What changed since ``a`` was written (a `Verification`), or what to prove it with;
    ``loaded`` keeps the specs already loaded, by path."""
    spec_path = a.spec_path()
    if not spec_path.is_file():
        return Verification(a, "changed", f"spec file {spec_path} no longer exists")
    spec_hash = file_sha256(spec_path)
    try:
        spec = loaded.get(spec_path) or load_spec(spec_path)
        loaded[spec_path] = spec
    except TcpModelError as e:
        what = "changed and" if spec_hash != a.spec_sha256 else "unchanged but"
        return Verification(a, "changed", f"spec file {spec_path} {what} no longer loads: {e}")
    cfg = next((c for c in spec.configurations if c.variant == a.variant), None)
    changes: list[str] = []
    if spec_hash != a.spec_sha256:
        changes.append(
            f"spec file {spec_path} changed (sha256 {_short(a.spec_sha256)} -> {_short(spec_hash)})"
        )
    if cfg is None:
        changes.append(f"variant {a.variant!r} no longer exists")
        return Verification(a, "changed", "; ".join(changes))
    model_hash = model_sha256(cfg.system)
    if spec.model.name != a.model:
        changes.append(f"model {a.model} is now {spec.model.name}")
    elif model_hash != a.model_sha256:
        changes.append(
            f"model {a.model} changed (sha256 {_short(a.model_sha256)} -> {_short(model_hash)})"
        )
    if dict(cfg.params) != dict(a.params):
        changes.append(f"parameters are now {dict(cfg.params)}, were {dict(a.params)}")
    check = next((c for c in cfg.checks if c.prop.name == a.property), None)
    if check is None:
        changes.append(f"property {a.property!r} no longer exists")
    elif check.prop.formula != a.formula:
        changes.append(f"property {a.property} is now {check.prop.formula!r}, was {a.formula!r}")
    known = {i.formula: i for i in cfg.invariants}
    lost = [t for t in a.invariants if t not in known]
    if lost:
        changes.append(f"invariant {lost[0]!r} is no longer in the spec")
    if changes:
        return Verification(a, "changed", "; ".join(changes))
    return spec, cfg, tuple(known[t] for t in a.invariants)


def _rerun(
    members: Sequence[tuple[int, Artefact, Spec, Configuration]],
    timeout: float | None,
    interrupt: Interrupt | None = None,
) -> dict[int, Verification]:
    _, first, spec, one = members[0]
    props = frozenset(a.property for _, a, _, _ in members)
    bounds = Bounds(max_depth=first.k, timeout=timeout, interrupt=interrupt)
    options = Options(first.engine, bounds, props)
    try:
        results = check_spec(dataclasses.replace(spec, configurations=(one,)), options)
    except TcpModelError as e:
        return {n: Verification(a, "failed", f"{a.engine} failed: {e}") for n, a, _, _ in members}
    got = {r.prop: r for r in results}
    out: dict[int, Verification] = {}
    for n, a, _, _ in members:
        r = got[a.property]
        if r.verdict == "unknown" and interrupt is not None and interrupt.requested:
            out[n] = Verification(a, "interrupted", r.reason, r.verdict, r.stats.seconds)
        elif r.verdict != a.verdict:
            why = f": {r.reason}" if r.reason else ""
            out[n] = Verification(
                a, "failed", f"{a.engine} now gives {r.verdict}{why}", r.verdict, r.stats.seconds
            )
        else:
            out[n] = Verification(a, "ok", r.reason, r.verdict, r.stats.seconds)
    return out


def _short(h: str) -> str:
    return h[:12]
