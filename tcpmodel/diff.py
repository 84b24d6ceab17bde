"""Two designs compared: property verdicts side by side, behaviours added and removed.

A *design* is one configuration of a spec (its base or a variant).  `diff` checks both designs'
properties with the usual engines (`tcpmodel.check.check_spec`) and explores both designs'
observable steps (`tcpmodel.behaviours`).  The result, a `Diff`, holds:

* ``verdicts``: per property name (the union of both designs'), the two `Result` values (or
  ``None`` where a design lacks the property) and a `change` word;
* ``added``: behaviours reachable in B and proved unreachable in A, each with its shortest
  trace in B; ``removed``: the converse, with traces in A;
* ``undecided``: behaviours a bound left open in a design (found in one design, not decided in
  the other), so a partial exploration never reads as "nothing changed".

`Diff.status` is ``changed`` (a verdict or a behaviour differs), ``same`` (both explorations
complete, every verdict definite and equal) or ``unknown`` (nothing definite changed, but a
bound left something open): exit codes 1, 0 and 3.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tcpmodel.behaviours import Behaviour, Explored, explore_behaviours
from tcpmodel.check import Options, check_spec, with_spec_bounds
from tcpmodel.engines.search import Bounds, ProgressFn
from tcpmodel.errors import UsageError
from tcpmodel.results import Result, Trace
from tcpmodel.spec import Configuration, Spec, configuration, load

Status = Literal["same", "changed", "unknown"]


@dataclass(frozen=True, slots=True)
class Design:
    """One configuration of a spec: ``SPEC`` or ``SPEC:VARIANT`` on the command line."""

    spec: Spec
    config: Configuration

    @property
    def name(self) -> str:
        v = self.config.variant
        return self.spec.name if v is None else f"{self.spec.name}:{v}"


@dataclass(frozen=True, slots=True)
class VerdictChange:
    prop: str
    a: Result | None
    b: Result | None

    @property
    def change(self) -> str:
        """``same``, ``changed``, ``unknown`` (either verdict unknown), ``only in A/B``."""
        if self.a is None:
            return "only in B"
        if self.b is None:
            return "only in A"
        if "unknown" in (self.a.verdict, self.b.verdict):
            return "unknown"
        return "same" if _settled(self.a.verdict) == _settled(self.b.verdict) else "changed"


def _settled(verdict: str) -> str:
    return "holds" if verdict == "proved" else verdict


@dataclass(frozen=True, slots=True)
class Diff:
    a: Design
    b: Design
    verdicts: tuple[VerdictChange, ...]
    explored_a: Explored
    explored_b: Explored
    added: tuple[tuple[Behaviour, Trace], ...]
    removed: tuple[tuple[Behaviour, Trace], ...]
    undecided: tuple[Behaviour, ...]

    @property
    def status(self) -> Status:
        if self.added or self.removed or any(v.change == "changed" for v in self.verdicts):
            return "changed"
        if (
            self.undecided
            or not (self.explored_a.complete and self.explored_b.complete)
            or any(v.change == "unknown" for v in self.verdicts)
        ):
            return "unknown"
        return "same"

    @property
    def exit_code(self) -> int:
        return {"same": 0, "changed": 1, "unknown": 3}[self.status]


def parse_design(arg: str) -> Design:
    """``SPEC`` or ``SPEC:VARIANT`` as a `Design`; errors name the spec, the variant and what
    was expected."""
    path, variant = arg, None
    if not Path(arg).is_file() and ":" in arg:
        path, variant = arg.rsplit(":", 1)
        if not variant:
            raise UsageError(f"{arg}: empty variant after ':'; expected SPEC or SPEC:VARIANT")
    if not Path(path).is_file():
        raise UsageError(f"{path}: no such spec file; expected SPEC or SPEC:VARIANT")
    spec = load(Path(path))
    try:
        return Design(spec, configuration(spec, variant))
    except UsageError as e:
        raise UsageError(f"{arg}: {e}") from None


def diff(
    a: Design,
    b: Design,
    engine: str = "auto",
    bounds: Bounds | None = None,
    progress: ProgressFn | None = None,
) -> Diff:
    """Compare designs ``a`` and ``b`` (same model); see the module docstring."""
    if a.spec.model.name != b.spec.model.name:
        raise UsageError(
            f"{a.name} uses model {a.spec.model.name!r}, {b.name} model {b.spec.model.name!r}; "
            "expected two designs of the same model"
        )
    given = bounds or Bounds()
    ra = _check(a, engine, given, progress)
    rb = _check(b, engine, given, progress)
    ea = explore_behaviours(
        a.config.system, engine, with_spec_bounds(given, a.spec.bounds), progress
    )
    eb = explore_behaviours(
        b.config.system, engine, with_spec_bounds(given, b.spec.bounds), progress
    )
    names = list(dict.fromkeys([*ra, *rb]))
    verdicts = tuple(VerdictChange(n, ra.get(n), rb.get(n)) for n in names)
    added = tuple(sorted((x, t) for x, t in eb.found.items() if ea.reachable(x) is False))
    removed = tuple(sorted((x, t) for x, t in ea.found.items() if eb.reachable(x) is False))
    open_ = {x for x in ea.found if eb.reachable(x) is None}
    open_ |= {x for x in eb.found if ea.reachable(x) is None}
    return Diff(a, b, verdicts, ea, eb, added, removed, tuple(sorted(open_)))


def _check(
    d: Design, engine: str, bounds: Bounds, progress: ProgressFn | None
) -> dict[str, Result]:
    one = dataclasses.replace(d.spec, configurations=(d.config,))
    on_progress = None if progress is None else (lambda _label, p: progress(p))
    return {r.prop: r for r in check_spec(one, Options(engine, bounds), on_progress)}


def caption(d: Diff, b: Behaviour, where: Design, kind: str) -> list[str]:
    """The caption of an added or removed behaviour's ladder."""
    other = d.a if where is d.b else d.b
    rule = (d.explored_b if where is d.b else d.explored_a).rules.get(b, "")
    return [
        f"{kind} in {d.b.name} (against {d.a.name}): {b}",
        f"reachable in {where.name}, unreachable in {other.name}",
        *([f"rule: {rule}"] if rule else []),
    ]


def to_json(d: Diff) -> dict[str, object]:
    def res(r: Result | None) -> Mapping[str, object] | None:
        if r is None:
            return None
        return {"verdict": r.verdict, "expect": r.expect, "reason": r.reason or None}

    def beh(x: Behaviour, t: Trace, e: Explored) -> dict[str, object]:
        return {
            "behaviour": str(x),
            "actor": x.actor,
            "action": x.action,
            "src": x.src,
            "dst": x.dst,
            "rule": e.rules.get(x, ""),
            "steps": len(t) - 1,
            "trace": t.to_json(),
        }

    def explored(e: Explored) -> dict[str, object]:
        return {
            "reachable": len(e.found),
            "candidates": len(e.found) + len(e.absent) + len(e.undecided),
            "undecided": len(e.undecided),
            "complete": e.complete,
            "explorations": e.runs,
            "states": e.stats.states,
            "seconds": round(e.stats.seconds, 2),
            "engine": e.engine,
            "reason": e.reason or None,
        }

    return {
        "a": {"design": d.a.name, "file": d.a.spec.file, **explored(d.explored_a)},
        "b": {"design": d.b.name, "file": d.b.spec.file, **explored(d.explored_b)},
        "properties": [
            {"property": v.prop, "a": res(v.a), "b": res(v.b), "change": v.change}
            for v in d.verdicts
        ],
        "added": [beh(x, t, d.explored_b) for x, t in d.added],
        "removed": [beh(x, t, d.explored_a) for x, t in d.removed],
        "undecided": [str(x) for x in d.undecided],
        "status": d.status,
        "exit_code": d.exit_code,
    }


def to_text(d: Diff) -> str:
    """The report ``tcpmodel diff`` prints."""
    a, b = d.a.name, d.b.name
    rows = [("property", a, b, "change")]
    for v in d.verdicts:
        rows.append(
            (v.prop, v.a.verdict if v.a else "-", v.b.verdict if v.b else "-", _word(v, a, b))
        )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [f"{a} ({d.a.spec.file}) against {b} ({d.b.spec.file}), model {d.a.spec.model.name}"]
    lines.append("")
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.append("")
    for name, e in ((a, d.explored_a), (b, d.explored_b)):
        done = "complete" if e.complete else f"INCOMPLETE ({e.reason}; {len(e.undecided)} open)"
        lines.append(
            f"{name}: {len(e.found)} observable steps reachable, "
            f"{e.runs} exploration{'' if e.runs == 1 else 's'} of up to {e.stats.states:,} "
            f"states, {done}"
        )
    for title, items, e in (
        (f"added in {b}", d.added, d.explored_b),
        (f"removed in {b}", d.removed, d.explored_a),
    ):
        lines.append("")
        lines.append(f"{title} ({len(items)}):" if items else f"{title}: none")
        for x, t in items:
            rule = e.rules.get(x, "")
            n = len(t) - 1
            steps = f"{n} step{'' if n == 1 else 's'}"
            lines.append(f"  {x}  ({steps})" + (f"  [{rule}]" if rule else ""))
    if d.undecided:
        lines.append("")
        lines.append(f"undecided (a bound stopped the other design's search): {len(d.undecided)}")
        lines += [f"  {x}" for x in d.undecided]
    lines.append("")
    lines.append(
        {
            "same": "nothing changed",
            "changed": "changed",
            "unknown": "unknown: a bound stopped a search before every difference was decided",
        }[d.status]
    )
    return "\n".join(lines)


def _word(v: VerdictChange, a: str, b: str) -> str:
    c = v.change
    if c == "only in A":
        return f"only in {a}"
    if c == "only in B":
        return f"only in {b}"
    if c == "changed" and v.b is not None:
        return f"now {v.b.verdict}"
    return c
