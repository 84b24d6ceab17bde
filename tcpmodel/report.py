"""Results as text, JSON and JUnit XML; trace files for an output folder.

Pure functions from results to strings (the CLI prints or writes them):

* `to_json`: ``{"specs": [{"spec", "file", "results": [Result.to_json()...]}], "summary":
  {...}, "interrupted": null or the signal's name, "exit_code": n}``; the schema is
  documented in the README.
* `to_junit`: one ``<testsuite>`` per spec, one ``<testcase>`` per (variant, property), a
  ``<failure>`` for each unmet expectation (an ``unknown`` verdict is a failure too, typed
  ``unknown``, since it does not meet the expectation).
* `trace_text`: a step table of a trace that shows, after the initial state, only the
  variables each step changed, leaving out the fields of empty slots.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence

from tcpmodel.results import Result, Trace


def exit_code(results: Sequence[Result], interrupted: bool = False) -> int:
    """1 if a definite verdict misses its expectation, else 3 if any is unknown or the run was
    interrupted (`tcpmodel.interrupt`), else 0."""
    if any(not r.met and r.verdict != "unknown" for r in results):
        return 1
    if interrupted or any(r.verdict == "unknown" for r in results):
        return 3
    return 0


def summary(results: Sequence[Result]) -> dict[str, int]:
    return {
        "results": len(results),
        "met": sum(r.met for r in results),
        "unmet": sum(not r.met and r.verdict != "unknown" for r in results),
        "unknown": sum(r.verdict == "unknown" for r in results),
    }


def _by_spec(results: Sequence[Result]) -> list[tuple[str, str, list[Result]]]:
    groups: dict[tuple[str, str], list[Result]] = {}
    for r in results:
        groups.setdefault((r.spec, r.file), []).append(r)
    return [(s, f, rs) for (s, f), rs in groups.items()]


def to_json(results: Sequence[Result], interrupted: str = "") -> str:
    """``interrupted``: the signal that stopped the run (``"SIGINT"``), ``""`` for none."""
    doc = {
        "specs": [
            {"spec": s, "file": f, "results": [r.to_json() for r in rs]}
            for s, f, rs in _by_spec(results)
        ],
        "summary": summary(results),
        "interrupted": interrupted or None,
        "exit_code": exit_code(results, bool(interrupted)),
    }
    return json.dumps(doc, indent=2)


def to_junit(results: Sequence[Result]) -> str:
    root = ET.Element("testsuites", name="tcpmodel")
    total = fails = 0
    for spec, file, rs in _by_spec(results):
        suite = ET.SubElement(
            root,
            "testsuite",
            name=spec,
            file=file,
            tests=str(len(rs)),
            failures=str(sum(not r.met for r in rs)),
            errors="0",
            time=f"{_seconds(rs):.3f}",
        )
        for r in rs:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"tcpmodel.{spec}",
                name=r.case_name,
                file=file,
                time=f"{r.stats.seconds:.3f}",
            )
            props = ET.SubElement(case, "properties")
            for k, v in (
                ("formula", r.formula),
                ("expect", r.expect),
                ("verdict", r.verdict),
                ("engine", r.engine),
                ("states", str(r.stats.states)),
            ):
                ET.SubElement(props, "property", name=k, value=v)
            if not r.met:
                fail = ET.SubElement(
                    case,
                    "failure",
                    type=r.verdict,
                    message=f"expected {r.expect}, got {r.verdict}"
                    + (f" ({r.reason})" if r.reason else ""),
                )
                fail.text = trace_text(r.trace) if r.trace is not None else r.reason
        total += len(rs)
        fails += sum(not r.met for r in rs)
    root.set("tests", str(total))
    root.set("failures", str(fails))
    root.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def _seconds(rs: Sequence[Result]) -> float:
    # Properties of one configuration share an exploration: count each exploration once.
    seen: dict[str | None, float] = {}
    for r in rs:
        seen[r.variant] = r.stats.seconds
    return sum(seen.values())


def trace_text(trace: Trace) -> str:
    lines: list[str] = []
    prev: dict[str, object] = {}
    for k, s in enumerate(trace.steps):
        mark = "  <- loop starts" if trace.loop == k else ""
        if s.action is None:
            lines.append(f"{k:>3}  (initial state){mark}")
            changed = dict(s.state)
        else:
            rule = f"  [{s.rule}]" if s.rule else ""
            lines.append(f"{k:>3}  {s.action}{rule}{mark}")
            changed = {n: v for n, v in s.state.items() if prev.get(n) != v}
        body = ", ".join(
            f"{n}={_show(v)}" for n, v in changed.items() if not _empty_slot(n, s.state)
        )
        lines.append(f"       {body or '(no change)'}")
        prev = dict(s.state)
    if trace.loop is not None:
        lines.append(f"       ... and back to step {trace.loop}, forever")
    return "\n".join(lines)


def _empty_slot(name: str, state: Mapping[str, object]) -> bool:
    """``name`` is a field of an empty slot (``ch[i].f`` with ``ch[i].present`` false)."""
    head, dot, field = name.rpartition(".")
    if not dot or not head.endswith("]") or field == "present":
        return False
    return state.get(f"{head}.present") is False


def _show(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)
