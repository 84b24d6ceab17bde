"""The output formats of ``tcpmodel check``, in one table.

A `Writer` turns a run's results and ``interrupted`` (the signal that stopped the run, ``""``
for none) into the complete text printed on stdout, final newline included.  `FORMATS` maps
each ``--format`` name to its writer: ``text`` (a rich table of the verdicts, the reasons and
the traces of unmet expectations, a summary line), ``json`` (`tcpmodel.report.to_json`, also
written as ``results.json``) and ``junit`` (`tcpmodel.report.to_junit`, also written as
``junit.xml``).  ``--format``'s choices are read from `FORMATS` when the command line is
parsed: adding a format is adding one entry (a test adds a toy one with
``monkeypatch.setitem(FORMATS, name, writer)``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from rich.console import Console
from rich.table import Table

from tcpmodel import report
from tcpmodel.engines import registry
from tcpmodel.results import Result

Writer = Callable[[Sequence[Result], str], str]
"""``writer(results, interrupted)``: the text of one output format."""


def console() -> Console:
    """The console tables are printed with on stdout: wide in CI logs, where there is no
    terminal to measure."""
    return Console(highlight=False, width=None if sys.stdout.isatty() else 160)


def trace_header(r: Result) -> str:
    """The lines above a result's trace: where, which property, which verdict."""
    where = r.spec if r.variant is None else f"{r.spec} (variant {r.variant})"
    return f"{where}: {r.prop} = {r.formula}\nverdict: {r.verdict} (expected {r.expect})\n\n"


_NOT_PROOFS = ("holds", "unreachable")


def text(results: Sequence[Result], interrupted: str = "") -> str:
    """A table of the verdicts; each reason of an unknown, proved or game verdict; the trace
    of each violation or unmet expectation; a summary (styled when stdout is a terminal)."""
    out = console()
    with out.capture() as captured:
        t = Table("spec", "variant", "property", "expect", "verdict", "", "states", "depth", "s")
        for r in results:
            mark = "ok" if r.met else ("UNKNOWN" if r.verdict == "unknown" else "FAIL")
            t.add_row(
                r.spec,
                r.variant or "",
                r.prop,
                r.expect,
                r.verdict,
                mark,
                f"{r.stats.states:,}" if registry.counts_states(r.engine) else "-",
                str(r.stats.depth),
                f"{r.stats.seconds:.2f}",
            )
        out.print(t)
        for r in results:
            # exists_forall verdicts say which strategy wins for how many secrets (a lucky
            # guess).
            if r.verdict in ("unknown", "proved") or (r.game and r.reason):
                out.print(f"{r.spec} {r.case_name}: {r.verdict}: {r.reason}", markup=False)
            elif r.stats.omission_probability is not None and r.verdict in _NOT_PROOFS:
                # hash compaction: not a proof (the reason gives the omission probability)
                out.print(f"{r.spec} {r.case_name}: {r.verdict} ({r.reason})", markup=False)
            if r.trace is not None and (r.verdict == "violated" or not r.met):
                out.print(f"\n{trace_header(r)}{report.trace_text(r.trace)}", markup=False)
        s = report.summary(results)
        out.print(
            f"\n{s['results']} results: {s['met']} met, {s['unmet']} unmet, {s['unknown']} unknown"
        )
        if interrupted:
            out.print(
                f"interrupted by {interrupted}: partial results; every verdict above that is "
                "not unknown was decided before the interrupt",
                markup=False,
            )
    return captured.get()


def json(results: Sequence[Result], interrupted: str = "") -> str:
    """`tcpmodel.report.to_json`, with a final newline."""
    return report.to_json(results, interrupted) + "\n"


def junit(results: Sequence[Result], interrupted: str = "") -> str:
    """`tcpmodel.report.to_junit`, with a final newline (an interrupted run's unknown verdicts
    are failures typed ``unknown`` already)."""
    del interrupted
    return report.to_junit(results) + "\n"


FORMATS: dict[str, Writer] = {"text": text, "json": json, "junit": junit}
"""Every output format of ``tcpmodel check``, by name, in the order ``--format`` lists them."""


def choices() -> tuple[str, ...]:
    """What ``--format`` accepts."""
    return tuple(FORMATS)
