"""The results of one ``tcpmodel check`` as a self-contained HTML page (``out/index.html``).

The page reads offline: no script, no remote address, the style inline.  It holds a
summary (results, met, unmet, unknown, exit code), the verdict table of every result (an
``unknown`` verdict with its reason), and for each result with a trace a section with its
caption, its diagram (the SVG file's text inlined) and links to the files written next to
the page.

`report(results, files, svgs)` is pure: ``files`` maps a result's `stem` to the names of the
files that exist for it (only those are linked), ``svgs`` maps a stem to the SVG text of its
diagram (a stem without one gets a note that the diagram is missing and why).  The caller
writes the files and the page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from html import escape
from urllib.parse import quote

from tcpmodel.render import caption
from tcpmodel.report import exit_code, summary
from tcpmodel.results import Result

TITLE = "tcpmodel report"
EXIT_MEANING = {
    0: "every verdict met its expectation",
    1: "some definite verdict missed its expectation",
    3: "no expectation missed, but some verdict is unknown (a bound was reached, or the run "
    "was interrupted)",
}
NO_SVG = "Graphviz `dot` did not draw it"

STYLE = """
body { font-family: Helvetica, Arial, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.5em; }
h2 { font-size: 1.15em; margin-top: 2em; border-top: 1px solid #ccc; padding-top: 0.8em; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #eee; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.ok { color: #1a7f37; }
.fail { color: #cf222e; font-weight: bold; }
.unknown { color: #9a6700; font-weight: bold; }
.reason { color: #9a6700; }
pre.caption { background: #f6f8fa; padding: 0.5em; white-space: pre-wrap; }
.diagram { overflow-x: auto; }
.diagram svg { max-width: 100%; height: auto; }
.missing { color: #cf222e; }
"""

_XMLNS = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')
_IDS = re.compile(r'(\bid="|url\(#|href="#)')


def opening(title: str, style: str) -> list[str]:
    """The lines that open a self-contained page: doctype, head (charset, viewport, title,
    the inline ``style``), and the body's heading."""
    return [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{style}</style>",
        "</head>",
        "<body>",
        f"<h1>{escape(title)}</h1>",
    ]


def stem(r: Result) -> str:
    """``<spec>[.<variant>].<property>``: the name of a result's trace files, without suffix."""
    return ".".join(x for x in (r.spec, r.variant, r.prop) if x)


def report(
    results: Sequence[Result],
    files: Mapping[str, Sequence[str]],
    svgs: Mapping[str, str],
    *,
    downloads: Sequence[str] = (),
    svg_missing: str = NO_SVG,
    interrupted: str = "",
) -> str:
    """The page; ``downloads`` are files of the whole run (results.json, junit.xml);
    ``interrupted``: the signal that stopped the run early, if one did."""
    s = summary(results)
    code = exit_code(results, bool(interrupted))
    out = [
        *opening(TITLE, STYLE),
        f'<p class="summary">{s["results"]} results: {s["met"]} met, {s["unmet"]} unmet, '
        f"{s['unknown']} unknown; exit code {code}"
        + (f" ({escape(EXIT_MEANING[code])})" if code in EXIT_MEANING else "")
        + "</p>",
    ]
    if interrupted:
        out.append(
            f'<p class="unknown">Interrupted by {escape(interrupted)}: partial results; '
            "what was not decided is unknown.</p>"
        )
    if downloads:
        out.append("<p>Files: " + _links(downloads) + "</p>")
    out += _table(results)
    for r in results:
        if r.trace is not None:
            out += _section(r, files.get(stem(r), ()), svgs.get(stem(r)), svg_missing)
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def inline_svg(svg: str, prefix: str) -> str:
    """An SVG file's text as an element of an HTML page.

    The XML prologue (declaration, DOCTYPE, comments) goes; so do the root's ``xmlns``
    declarations, which HTML does not need (its parser puts ``<svg>`` in the SVG namespace);
    ids get ``prefix`` so that several diagrams on one page keep them unique.
    """
    start = svg.find("<svg")
    body = svg[start:] if start >= 0 else svg
    end = body.find(">")
    body = _XMLNS.sub("", body[:end]) + body[end:]
    return _IDS.sub(lambda m: m.group(1) + prefix, body).strip()


def verdict_table(results: Sequence[Result]) -> str:
    """The page's verdict table as an HTML fragment (what a `tcpmodel.Results` shows in
    Jupyter)."""
    return "\n".join(_table(results))


def _table(results: Sequence[Result]) -> list[str]:
    head = ("spec", "variant", "property", "expect", "verdict", "met", "engine")
    nums = ("states", "depth", "seconds")
    out = [
        "<table>",
        "<thead><tr>"
        + "".join(f"<th>{h}</th>" for h in head)
        + "".join(f'<th class="num">{h}</th>' for h in nums)
        + "</tr></thead>",
        "<tbody>",
    ]
    for r in results:
        verdict = escape(r.verdict)
        if r.verdict == "unknown":
            verdict += f'<br><span class="reason">{escape(r.reason or "no reason given")}</span>'
        mark, cls = _mark(r)
        cells = [
            escape(r.spec),
            escape(r.variant or ""),
            escape(r.prop),
            escape(r.expect),
            verdict,
            f'<span class="{cls}">{mark}</span>',
            escape(r.engine),
        ]
        figures = (f"{r.stats.states:,}", str(r.stats.depth), f"{r.stats.seconds:.2f}")
        out.append(
            "<tr>"
            + "".join(f"<td>{c}</td>" for c in cells)
            + "".join(f'<td class="num">{c}</td>' for c in figures)
            + "</tr>"
        )
    out += ["</tbody>", "</table>"]
    return out


def _mark(r: Result) -> tuple[str, str]:
    if r.met:
        return "ok", "ok"
    if r.verdict == "unknown":
        return "UNKNOWN", "unknown"
    return "FAIL", "fail"


def _section(r: Result, names: Sequence[str], svg: str | None, svg_missing: str) -> list[str]:
    assert r.trace is not None
    name = stem(r)
    kind = {"violated": "counterexample", "reachable": "witness"}.get(r.verdict, "trace")
    out = [
        f'<section id="{escape(name)}">',
        f"<h2>{escape(r.spec)} {escape(r.case_name)}: {escape(r.verdict)} "
        f"({kind}, {len(r.trace) - 1} steps)</h2>",
        '<pre class="caption">' + escape("\n".join(caption(r))) + "</pre>",
    ]
    if svg is not None:
        out.append('<div class="diagram">' + inline_svg(svg, name + "-") + "</div>")
    else:
        out.append(
            f'<p class="missing">The SVG diagram is missing: {escape(svg_missing)}. '
            "The .dot file is its Graphviz source.</p>"
        )
    if names:
        out.append("<p>Files: " + _links(names) + "</p>")
    out.append("</section>")
    return out


def _links(names: Sequence[str]) -> str:
    return ", ".join(f'<a href="{escape(quote(n))}">{escape(n)}</a>' for n in names)
