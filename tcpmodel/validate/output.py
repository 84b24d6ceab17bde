"""Verdicts of ``tcpmodel validate`` as text, JSON, JUnit XML and ladder diagrams.

`FORMATS` maps each ``validate --format`` name to a `VerdictWriter` (verdicts to the complete
text printed on stdout): ``text``, ``json`` (also written as ``results.json``), ``junit``
(``junit.xml``); its choices are read when the command line is parsed, so a new format is one
entry.

`ladder(v)` draws a connection's capture the way `tcpmodel.render.ladder` draws a trace: two
lifelines, time downwards, one row per captured segment, each an arrow from its sender to its
receiver labelled RFC 9293 style with the capture's numbers relative to each side's ISN, the
states the witness gives each end beside the lifelines.  The first divergent segment is red
and the caption lists what the model would have allowed there.  Pure: text in, text out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

from tcpmodel.files import write_atomic
from tcpmodel.render import digraph
from tcpmodel.render.digraph import Attr, add_edge, row
from tcpmodel.render.ladder import BLANK, WIDTH, header, lifelines
from tcpmodel.validate import Verdict
from tcpmodel.validate.abstract import relative_label

RED = "#d7191c"


def _side(v: Verdict) -> dict[str, str]:
    """Which real endpoint each model end is."""
    out = {}
    if v.abstraction is not None:
        for (h, port), end in v.abstraction.role.items():
            out[end] = f"{h}:{port}" if ":" not in h else f"[{h}]:{port}"
    return out


def caption(v: Verdict) -> list[str]:
    ends = _side(v)
    lines = [f"{v.file}: {v.connection} ({v.segments} segments)"]
    if ends:
        where = {"a": "a", "b": "b"}.get(v.host, "?")
        lines.append(
            f"a = {ends.get('a', '?')} (first SYN), b = {ends.get('b', '?')}; captured at {where}"
            if v.host
            else f"a = {ends.get('a')}, b = {ends.get('b')}"
        )
    lines.append(f"verdict: {v.verdict}" + (f" ({v.reason})" if v.reason else ""))
    if v.config:
        lines.append(f"model: connection, {v.config}")
    if v.verdict == "diverges":
        lines.append("states just before it (a, b): " + _pairs(v))
        lines.append("the model would have allowed there:")
        lines += [f"  {x}" for x in alternatives(v)]
    return lines


def _pairs(v: Verdict) -> str:
    return "; ".join(f"{a}/{b}" for a, b in v.pairs) or "none"


def alternatives(v: Verdict, limit: int = 12) -> list[str]:
    out = []
    for alt in v.alternatives[:limit]:
        syn, ack, fin, rst, _seq, _ackno, ln, _inc = alt.seg
        ctl = ",".join(
            n for n, on in (("SYN", syn), ("FIN", fin), ("RST", rst), ("ACK", ack)) if on
        )
        label = f"<SEQ={alt.seq_rel if alt.seq_rel is not None else '?'}>"
        if ack:
            label += f"<ACK={alt.ack_rel if alt.ack_rel is not None else '?'}>"
        label += f"<CTL={ctl}>" + ("<LEN=1>" if ln else "")
        out.append(f"{alt.direction} {label} (units; {alt.action})")
    if len(v.alternatives) > limit:
        out.append(f"... and {len(v.alternatives) - limit} more")
    return out or ["nothing observable (every path had ended)"]


def text(verdicts: Sequence[Verdict]) -> str:
    lines = []
    for v in verdicts:
        lines += caption(v)
        if v.verdict == "diverges" and v.conn is not None and v.divergent is not None:
            p = v.conn.packets[v.divergent]
            assert v.abstraction is not None
            inc = v.conn.incarnation[v.divergent]
            who = v.abstraction.role[p.source]
            lines.insert(
                len(lines) - len(alternatives(v)) - 2,
                f"first divergent segment: packet {p.number} at "
                f"+{p.time - v.conn.packets[0].time:.6f} s, "
                f"{who}->{'b' if who == 'a' else 'a'} {relative_label(v.abstraction, p, inc)}",
            )
        lines.append("")
    counts = {k: sum(1 for v in verdicts if v.verdict == k) for k in ("conforms", "diverges")}
    unknown = len(verdicts) - counts["conforms"] - counts["diverges"]
    lines.append(
        f"{len(verdicts)} connections: {counts['conforms']} conform, {counts['diverges']} "
        f"diverge, {unknown} unknown"
    )
    return "\n".join(lines) + "\n"


def to_json(verdicts: Sequence[Verdict]) -> str:
    items = []
    for v in verdicts:
        div = None
        if v.divergent is not None and v.conn is not None and v.verdict == "diverges":
            div = v.conn.packets[v.divergent].number
        items.append(
            {
                "file": v.file,
                "connection": v.connection,
                "incarnations": v.incarnations,
                "segments": v.segments,
                "verdict": v.verdict,
                "reason": v.reason or None,
                "captured_at": v.host or None,
                "model": {"name": "connection", "params": v.params},
                "divergent_packet": div,
                "states_before": [list(p) for p in v.pairs],
                "allowed": alternatives(v) if v.verdict == "diverges" else [],
                "witness_steps": len(v.trace.steps) if v.trace is not None else None,
                "seconds": round(v.seconds, 4),
            }
        )
    return json.dumps(items, indent=2)


def to_junit(verdicts: Sequence[Verdict]) -> str:
    fails = sum(1 for v in verdicts if v.verdict == "diverges")
    skips = sum(1 for v in verdicts if v.verdict == "unknown")
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<testsuite name="tcpmodel validate" tests="{len(verdicts)}" failures="{fails}" '
        f'skipped="{skips}">',
    ]
    for v in verdicts:
        name = escape(v.connection, {'"': "&quot;"})
        out.append(
            f'  <testcase classname="{escape(v.file)}" name="{name}" time="{v.seconds:.3f}">'
        )
        if v.verdict == "diverges":
            out.append(f'    <failure message="{escape(v.reason, {chr(34): "&quot;"})}">')
            out.append(escape("\n".join(caption(v))))
            out.append("    </failure>")
        elif v.verdict == "unknown":
            out.append(f'    <skipped message="{escape(v.reason, {chr(34): "&quot;"})}"/>')
        out.append("  </testcase>")
    out.append("</testsuite>")
    return "\n".join(out)


VerdictWriter = Callable[[Sequence[Verdict]], str]
"""``writer(verdicts)``: the complete text ``tcpmodel validate --format`` prints, final newline
included."""


def _json(verdicts: Sequence[Verdict]) -> str:
    return to_json(verdicts) + "\n"


def _junit(verdicts: Sequence[Verdict]) -> str:
    return to_junit(verdicts) + "\n"


FORMATS: dict[str, VerdictWriter] = {"text": text, "json": _json, "junit": _junit}
"""Every output format of ``tcpmodel validate``, by name, in the order ``--format`` lists them.

The same shape as `tcpmodel.output.FORMATS` (a name to a writer of stdout's text, read when
the command line is parsed, so a format is one entry: a test adds a toy one with
``monkeypatch.setitem``), but a second table: its writers take capture `Verdict` values (a
connection, its segments, the first divergent packet), not a check's `Result` values, and an
interrupted validation has no ``interrupted`` argument to pass (its unsearched connections
are ``unknown`` verdicts already)."""


def choices() -> tuple[str, ...]:
    """What ``validate --format`` accepts."""
    return tuple(FORMATS)


def ladder(v: Verdict) -> str:
    """The capture of one connection as DOT (see the module docstring)."""
    assert v.conn is not None
    conn = v.conn
    ab = v.abstraction
    n = len(conn.packets)
    stop = n if v.verdict != "diverges" or v.divergent is None else v.divergent + 1
    states = _states(v)
    graph: dict[str, Attr] = {
        "rankdir": "TB",
        "splines": False,
        "newrank": True,
        "outputorder": "edgesfirst",
        "nodesep": 0.25,
        "ranksep": 0.1,
    }
    ends = _side(v)
    g = digraph.new("capture", caption(v), graph)
    header(g, "packet", f"a {ends.get('a', '')}", f"b {ends.get('b', '')}")
    ranks = 2 * stop + 1
    for r in range(ranks):
        k, odd = divmod(r, 2)
        point: dict[str, Attr] = {"label": "", "shape": "point", "width": 0.03}
        step, na, nb = dict(BLANK), dict(BLANK), dict(BLANK)
        mid: dict[str, Attr] = {
            "label": "",
            "shape": "plaintext",
            "width": WIDTH,
            "fixedsize": True,
        }
        if odd and k < stop:
            p = conn.packets[k]
            inc = conn.incarnation[k]
            label = relative_label(ab, p, inc) if ab is not None else p.ctl()
            bad = v.verdict == "diverges" and k == v.divergent
            mid = {
                "label": f"#{p.number} {label}" + (f"\n(incarnation {inc})" if inc else ""),
                "shape": "plaintext",
                "style": "filled",
                "fillcolor": "white",
                "fontsize": 9,
                "fontcolor": RED if bad else "black",
                "margin": "0.02,0.01",
                "height": 0.1,
            }
            step = {"label": f"{p.number}  {p.time - conn.packets[0].time:.3f}s",
                    "shape": "plaintext"}  # fmt: skip
        if not odd and k > 0 and (k - 1) in states:
            sa, sb = states[k - 1]
            if sa:
                na = {"label": sa, "shape": "plaintext"}
            if sb:
                nb = {"label": sb, "shape": "plaintext"}
        row(
            g,
            [(f"s{r}", step), (f"an{r}", na), (f"a{r}", point), (f"m{r}", mid),
             (f"b{r}", point), (f"bn{r}", nb)],
        )  # fmt: skip
    lifelines(g, ("s", "an", "m", "bn"), ("a", "b"), ranks)
    for k in range(stop):
        p = conn.packets[k]
        who = ab.role[p.source] if ab is not None else "a"
        other = "b" if who == "a" else "a"
        bad = v.verdict == "diverges" and k == v.divergent
        kv: dict[str, Attr] = {"constraint": False, "color": RED if bad else "black"}
        if bad:
            kv["penwidth"] = 2.5
        add_edge(g, f"{who}{2 * k}", f"{other}{2 * k + 2}", kv)
    return digraph.source(g)


def _states(v: Verdict) -> dict[int, tuple[str, str]]:
    """After each explained packet: the witness's state of a and of b when it changed."""
    out: dict[int, tuple[str, str]] = {}
    if v.trace is None:
        return out
    last = ("", "")
    for k in sorted(v.obs_step):
        st = v.trace.steps[v.obs_step[k]].state
        now = (str(st["a.state"]), str(st["b.state"]))
        out[k] = (now[0] if now[0] != last[0] else "", now[1] if now[1] != last[1] else "")
        last = now
    return out


def stem(v: Verdict, k: int) -> str:
    from pathlib import Path

    return f"{Path(v.file).stem}.{k}"


def files(v: Verdict, k: int) -> dict[str, str]:
    """The dot, txt and json (ITF witness) text of one connection's verdict."""
    from tcpmodel.render import itf
    from tcpmodel.render import text as steps

    lines = caption(v)
    out = {"dot": ladder(v)}
    if v.trace is not None:
        what = "witness" if v.verdict == "conforms" else "witness of the prefix explained"
        out["txt"] = steps.table(v.trace, [*lines, f"model trace ({what}):"])
        out["json"] = itf.dumps(v.trace, {"source": v.file, "description": "\n".join(lines)})
    else:
        out["txt"] = "\n".join(lines) + "\n"
    return out


def explorer_page(v: Verdict, k: int, svg: str | None, svg_missing: str = "") -> str:
    """The page that steps through the model trace of ``v`` (the witness, or for a divergent
    connection the witness of the prefix explained): the model's ladder of that trace, the
    captured packet each step explains, and at the end of a divergent prefix the packet no
    execution explains and what the model would have allowed instead."""
    from tcpmodel.render import explorer

    assert v.trace is not None
    notes: dict[int, list[str]] = {}
    if v.conn is not None:
        for i, step in sorted(v.obs_step.items()):
            p = v.conn.packets[i]
            inc = v.conn.incarnation[i]
            label = relative_label(v.abstraction, p, inc) if v.abstraction else p.ctl()
            notes.setdefault(step, []).append(f"explains captured packet {p.number}: {label}")
        if v.verdict == "diverges" and v.divergent is not None:
            p = v.conn.packets[v.divergent]
            inc = v.conn.incarnation[v.divergent]
            label = relative_label(v.abstraction, p, inc) if v.abstraction else p.ctl()
            notes.setdefault(len(v.trace) - 1, []).extend(
                [
                    f"next captured packet {p.number}: {label} is explained by no execution; "
                    "the model would have allowed there:",
                    *alternatives(v),
                ]
            )
    choices = None
    if v.model is not None:
        choices = explorer.enabled(v.model.system, v.trace, v.model)
    what = "witness" if v.verdict == "conforms" else "witness of the prefix explained"
    return explorer.page(
        v.trace,
        f"{stem(v, k)}: {v.connection}, model {what}",
        caption(v),
        svg,
        choices,
        svg_missing=svg_missing,
        notes=notes,
    )


def page(verdicts: Sequence[Verdict], svgs: dict[str, str], written: dict[str, list[str]]) -> str:
    """index.html: the verdict table and every diagram inline (offline: no script)."""
    from html import escape as h

    from tcpmodel.render.html import STYLE

    rows = []
    body = []
    for k, v in enumerate(verdicts):
        s = stem(v, k)
        cls = {"conforms": "ok", "diverges": "fail"}.get(v.verdict, "unknown")
        rows.append(
            f"<tr><td>{h(v.file)}</td><td>{h(v.connection)}</td><td class='num'>{v.segments}"
            f"</td><td class='{cls}'>{v.verdict}</td><td class='reason'>{h(v.reason)}</td></tr>"
        )
        links = " ".join(f"<a href='{h(f)}'>{h(f)}</a>" for f in written.get(s, []))
        body.append(f"<h2>{h(v.connection)}: {v.verdict}</h2>")
        body.append(f"<pre class='caption'>{h(chr(10).join(caption(v)))}</pre><p>{links}</p>")
        if s in svgs:
            body.append(f"<div class='diagram'>{svgs[s]}</div>")
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>tcpmodel validate</title>"
        f"<style>{STYLE}</style></head><body><h1>tcpmodel validate</h1>"
        "<table><tr><th>capture</th><th>connection</th><th>segments</th><th>verdict</th>"
        f"<th>reason</th></tr>{''.join(rows)}</table>{''.join(body)}</body></html>\n"
    )


def write_out(folder: Path, verdicts: Sequence[Verdict]) -> None:
    """Each connection's files, results.json, junit.xml and index.html into ``folder``; the
    SVGs need Graphviz (without it they are skipped and the page says so)."""
    from tcpmodel.errors import UsageError
    from tcpmodel.render import graphviz

    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / "results.json", to_json(verdicts) + "\n")
    write_atomic(folder / "junit.xml", to_junit(verdicts) + "\n")
    svgs: dict[str, str] = {}
    written: dict[str, list[str]] = {}
    draw = graphviz.available()
    for k, v in enumerate(verdicts):
        s = stem(v, k)
        texts = files(v, k)
        if draw:
            try:
                svgs[s] = graphviz.render(texts["dot"], "svg").decode()
                texts = {"svg": svgs[s], **texts}
            except UsageError:
                draw = False
        if v.trace is not None:
            texts["explore.html"] = _explorer(v, k, draw)
        for ext, data in texts.items():
            write_atomic(folder / f"{s}.{ext}", data, encoding="utf-8")
        written[s] = [f"{s}.{ext}" for ext in texts]
    write_atomic(folder / "index.html", page(verdicts, svgs, written), encoding="utf-8")


def _explorer(v: Verdict, k: int, draw: bool) -> str:
    """The explorer page of ``v``'s model trace, its ladder drawn when Graphviz works."""
    from tcpmodel.errors import UsageError
    from tcpmodel.render import graphviz
    from tcpmodel.render import ladder as model_ladder

    assert v.trace is not None
    svg, why = None, graphviz.INSTALL.split(";")[0]
    if draw:
        try:
            svg = graphviz.render(model_ladder.ladder(v.trace, caption(v)), "svg").decode()
        except UsageError as e:
            why = str(e)
    return explorer_page(v, k, svg, why)
