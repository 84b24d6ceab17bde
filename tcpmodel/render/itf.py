"""Traces in the ITF format of Apalache and Quint (Informal Trace Format), and back.

``{"#meta": {...}, "vars": [names...], "states": [{"#meta": {"index": i, "action": label,
"rule": rule, "name": name, "params": {k: v}}, name: value, ...}], "loop": k}`` (``loop``
omitted for a finite trace).  Values as ITF encodes them: integers as ``{"#bigint": "5"}``,
booleans as JSON booleans, enum values as their names (strings).  Variable names are the
model's (``a.state``, ``net.ab[0].seq``).  The action that led to each state (its label, and
its name and parameters as the model declared them) and its RFC rule ride in the state's
``#meta`` (ITF lets ``#meta`` hold anything), so `read` gives back the same `Trace`, which
`tcpmodel.semantics.replay` accepts.  Works for every model, not only ``connection``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tcpmodel.errors import UsageError
from tcpmodel.results import Shown, Step, Trace

FORMAT = "ITF"
DESCRIPTION = "https://apalache-mc.org/docs/adr/015adr-trace.html"


def _value(v: Shown) -> object:
    if isinstance(v, bool | str):
        return v
    return {"#bigint": str(v)}


def to_itf(trace: Trace, meta: Mapping[str, str] | None = None) -> dict[str, object]:
    names = list(trace.steps[0].state) if trace.steps else []
    doc: dict[str, object] = {
        "#meta": {"format": FORMAT, "format-description": DESCRIPTION, **(meta or {})},
        "vars": names,
        "states": [
            {
                "#meta": {
                    "index": k,
                    "action": s.action,
                    "rule": s.rule,
                    "name": s.name,
                    "params": dict(s.params),
                },
                **{n: _value(s.state[n]) for n in names},
            }
            for k, s in enumerate(trace.steps)
        ],
    }
    if trace.loop is not None:
        doc["loop"] = trace.loop
    return doc


def dumps(trace: Trace, meta: Mapping[str, str] | None = None) -> str:
    return json.dumps(to_itf(trace, meta), indent=1) + "\n"


def _shown(name: str, v: Any) -> Shown:
    if isinstance(v, bool | str):
        return v
    if isinstance(v, dict) and set(v) == {"#bigint"} and isinstance(v["#bigint"], str):
        try:
            return int(v["#bigint"])
        except ValueError:
            pass
    if isinstance(v, int):  # ITF writers may use plain JSON numbers for small integers
        return v
    raise UsageError(f"ITF: variable {name}: expected a boolean, a string or {{'#bigint': '...'}}")


def _call(
    label: str | None, name: Any, params: Any
) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """A step's action name and parameters: as ``#meta`` records them, else (a file written
    before they were recorded, or by another tool) read from the label ``name(k=v, ...)``,
    which is how tcpmodel writes an action's label."""
    if isinstance(name, str) and isinstance(params, dict):
        return name, tuple((str(k), str(v)) for k, v in params.items())
    if label is None:
        return None, ()
    head, paren, rest = label.partition("(")
    if not paren or not rest.endswith(")"):
        return label, ()
    pairs = [p.partition("=") for p in rest[:-1].split(", ")]
    if not all(eq for _, eq, _ in pairs):
        return label, ()
    return head, tuple((k, v) for k, _, v in pairs)


def from_itf(doc: Any) -> Trace:
    """The `Trace` an ITF document holds; `UsageError` when it is not one."""
    if not isinstance(doc, dict) or not isinstance(doc.get("states"), list):
        raise UsageError("ITF: expected an object with a list of states")
    names = doc.get("vars")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise UsageError("ITF: expected `vars`, a list of variable names")
    steps: list[Step] = []
    for k, raw in enumerate(doc["states"]):
        if not isinstance(raw, dict):
            raise UsageError(f"ITF: state {k} is not an object")
        missing = [n for n in names if n not in raw]
        if missing:
            raise UsageError(f"ITF: state {k} lacks variable {missing[0]}")
        m = raw.get("#meta", {})
        m = m if isinstance(m, dict) else {}
        action, rule = m.get("action"), m.get("rule")
        label = action if isinstance(action, str) else None
        name, params = _call(label, m.get("name"), m.get("params"))
        steps.append(
            Step(
                label,
                rule if isinstance(rule, str) else None,
                {n: _shown(n, raw[n]) for n in names},
                name,
                params,
            )
        )
    loop = doc.get("loop")
    if loop is not None and (not isinstance(loop, int) or not 0 <= loop < len(steps)):
        raise UsageError(f"ITF: loop {loop!r} is not the index of a state")
    return Trace(tuple(steps), loop)


def loads(text: str) -> Trace:
    try:
        return from_itf(json.loads(text))
    except json.JSONDecodeError as e:
        raise UsageError(f"ITF: not JSON: {e}") from None
