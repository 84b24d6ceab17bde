"""A ``connection`` trace as a plain-text step table.

One row per step: the step number, the action, a's state, b's state, and the segments in
flight after the step (``#id a->b <SEQ=..>...``, ids from `tcpmodel.render.flow`), then the
RFC rule of the step on its own indented line.  Followed by the list of segments with their
fate.  Pure: the same trace gives the same text.
"""

from __future__ import annotations

from collections.abc import Sequence

from tcpmodel.render.flow import flow
from tcpmodel.results import Trace


def table(trace: Trace, caption: Sequence[str] = ()) -> str:
    f = flow(trace)
    rows: list[tuple[str, str, str, str, str]] = [
        ("step", "action", "a", "b", "in flight after the step")
    ]
    rules: list[str] = [""]
    for k, s in enumerate(trace.steps):
        flying = " ".join(f"#{x.id} {x.direction} {x.label()}" for x in f.in_flight(k))
        rows.append(
            (
                str(k),
                s.action or "(initial state)",
                str(s.state["a.state"]),
                str(s.state["b.state"]),
                flying or "-",
            )
        )
        rules.append(s.rule or "")
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [*caption, ""] if caption else []
    for r, rule in zip(rows, rules, strict=True):
        lines.append(
            "  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4]
        )
        if rule:
            lines.append(" " * (widths[0] + 2) + f"[{rule}]")
        if trace.loop is not None and r[0] == str(len(trace.steps) - 1):
            lines.append(f"(loop: back to step {trace.loop}; steps {trace.loop + 1}.. repeat)")
    lines += ["", "segments:"]
    for x in f.segments:
        end = "in flight at the end" if x.end is None else f"{x.fate} at step {x.end}"
        notes = [f"incarnation {x.inc}" + (" (old)" if x.old else "")]
        if x.duplicate_of is not None:
            notes.append(f"copy of #{x.duplicate_of}")
        lines.append(
            f"  #{x.id} {x.direction} {x.label()}: sent at step {x.sent}, {end}; "
            + ", ".join(notes)
        )
    return "\n".join(line.rstrip() for line in lines) + "\n"
