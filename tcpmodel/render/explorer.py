"""A trace as an interactive, self-contained HTML page that steps through it.

The page (``<stem>.explore.html`` beside a trace's other files) shows one step at a time: the
trace's diagram with the current step highlighted (its SVG node carries ``id="step<k>"``, see
`tcpmodel.render.ladder`, `chain` and `listen`), the action that led to the step and its RFC
rule, each endpoint's variables (for a ``connection`` trace ``a.*`` and ``b.*``, then the
other plain variables; for any other model every variable), the segments in flight after the
step, and the *other enabled actions* from the step's state: every transition the model
offers there, the one the trace takes marked, each with what it would change.  Without a
diagram the page says why and still steps through its table of steps.

Data: `steps(trace, choices, notes)` is one JSON-ready dict per step; `choices` (one tuple of
`Choice` per step, or ``None`` when the model was not available) comes from `enabled`, which
runs the compiled model's successor function on each state of the trace.  For a lasso the
last state's choice back to ``trace.loop`` is the one taken.  `page(...)` is pure: the same
arguments give the same text.

Offline by construction: no remote address, the style and the script inline, the data as
``<script type="application/json">`` whose ``<``, ``>`` and ``&`` are JSON ``\\u`` escapes,
so no text in a trace (``</script>`` in a label) can end the element early.  Controls: first,
previous, next, last buttons, the arrow keys (Home and End too), clicks on the table's rows
and the diagram's step labels, and ``#step=N`` in the address.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.system import System
from tcpmodel.kernel.types import show
from tcpmodel.render.html import opening
from tcpmodel.results import Shown, Trace

MAX_CHANGES = 8  # per other action: the first variables it would change, then "... more"
NO_MODEL = "the model was not available to compute them"


@dataclass(frozen=True, slots=True)
class Choice:
    """One transition enabled in a state of the trace: its action label and RFC rule, whether
    the trace takes it (``to``: the step it leads to), and what it would change."""

    action: str
    rule: str
    taken: bool
    to: int | None
    changes: tuple[str, ...]


def enabled(
    system: System, trace: Trace, compiled: Compiled | None = None
) -> tuple[tuple[Choice, ...], ...]:
    """Per step of ``trace``: every transition the model enables in that step's state, in the
    model's action order.  The one leading to the next step (for a lasso's last step: back to
    step ``trace.loop``) with the trace's action label is marked taken."""
    from tcpmodel.semantics import values_of

    c = compiled or Compiled(system)
    states = [c.encode(values_of(system, s.state)) for s in trace.steps]
    last = len(states) - 1
    out: list[tuple[Choice, ...]] = []
    for k, s in enumerate(states):
        nxt = k + 1 if k < last else trace.loop
        want = trace.steps[k + 1].action if k < last else None
        found = False
        here: list[Choice] = []
        for ai, t in c.successors(s):
            a = system.actions[ai]
            taken = (
                not found
                and nxt is not None
                and t == states[nxt]
                and (want is None or a.label == want)
            )
            found = found or taken
            after = {
                v.name: show(v.vtype, x) for v, x in zip(system.variables, c.decode(t), strict=True)
            }
            here.append(
                Choice(
                    a.label,
                    a.rule,
                    taken,
                    nxt if taken else None,
                    changes(trace.steps[k].state, after),
                )
            )
        out.append(tuple(here))
    return tuple(out)


def changes(before: Mapping[str, Shown], after: Mapping[str, Shown]) -> tuple[str, ...]:
    """What a transition changes, briefly: ``name: old → new`` for plain variables; for a slot
    array (a channel) one line with the records it holds before and after."""
    out: list[str] = []
    arrays: dict[str, tuple[int, int]] = {}
    for name, old in before.items():
        new = after.get(name, old)
        if "[" in name:
            array = name.split("[", 1)[0]
            if new != old or array in arrays:
                arrays.setdefault(array, (_held(before, array), _held(after, array)))
            continue
        if new != old:
            out.append(f"{name}: {_text(old)} → {_text(new)}")
    for array, (n, m) in arrays.items():
        out.append(f"{array}: {n} → {m} records" if n != m else f"{array}: records changed")
    if len(out) > MAX_CHANGES:
        out = [*out[:MAX_CHANGES], f"... and {len(out) - MAX_CHANGES} more"]
    return tuple(out) or ("(no change: a self-loop)",)


def _held(state: Mapping[str, Shown], array: str) -> int:
    n = 0
    while f"{array}[{n}].present" in state:
        n += 1
    return sum(1 for i in range(n) if state[f"{array}[{i}].present"])


def _text(v: Shown) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def steps(
    trace: Trace,
    choices: Sequence[Sequence[Choice]] | None,
    notes: Mapping[int, Sequence[str]] | None = None,
) -> list[dict[str, object]]:
    """One JSON-ready dict per step: ``k``, ``action``, ``rule``, ``cite`` (its short
    citation), ``panes`` (titled lists of ``[name, value, changed]``), ``flight`` (the
    segments in flight after the step, or ``None`` for a model without a segment view),
    ``others`` (the enabled transitions, or ``None``) and ``notes``."""
    from tcpmodel.render import drawing, listen

    shown = drawing.of(trace)
    flight = None if shown.flight is None else shown.flight(trace)
    out: list[dict[str, object]] = []
    prev: Mapping[str, Shown] = {}
    for k, step in enumerate(trace.steps):
        state = step.state
        groups = shown.panes(state)
        panes = [
            {
                "title": title,
                "vars": [
                    [n, _text(state[n]), k > 0 and (n not in prev or prev[n] != state[n])]
                    for n in names
                ],
            }
            for title, names in groups
        ]
        out.append(
            {
                "k": k,
                "action": step.action,
                "rule": step.rule,
                "cite": listen.cite(step.rule) if step.rule else None,
                "panes": panes,
                "flight": None if flight is None else flight[k],
                "others": None
                if choices is None
                else [
                    {
                        "action": c.action,
                        "rule": c.rule,
                        "taken": c.taken,
                        "to": c.to,
                        "changes": list(c.changes),
                    }
                    for c in choices[k]
                ],
                "notes": list((notes or {}).get(k, ())),
            }
        )
        prev = state
    return out


def data_json(data: object) -> str:
    """``data`` as JSON safe inside ``<script type="application/json">``: ``<``, ``>``, ``&``
    and the JavaScript line separators become ``\\u`` escapes (JSON reads them back as the
    same characters), so no string can close the element or start a comment."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=False, separators=(",", ":"))
    for ch in ("<", ">", "&", "\u2028", "\u2029"):
        text = text.replace(ch, f"\\u{ord(ch):04x}")
    return text


def page(
    trace: Trace,
    title: str,
    caption: Sequence[str],
    svg: str | None,
    choices: Sequence[Sequence[Choice]] | None,
    *,
    svg_missing: str = "",
    others_missing: str = NO_MODEL,
    notes: Mapping[int, Sequence[str]] | None = None,
) -> str:
    """The explorer page of ``trace``.  ``svg``: the diagram's SVG file text (its step nodes
    with ``id="step<k>"``), or ``None`` and ``svg_missing`` saying why there is none;
    ``choices`` from `enabled` (``None``: the page says ``others_missing``); ``notes``: extra
    lines per step (what a validated capture's packet was)."""
    from tcpmodel.render.html import inline_svg

    data = {
        "title": title,
        "loop": trace.loop,
        "others_missing": others_missing,
        "steps": steps(trace, choices, notes),
    }
    if svg is not None:
        diagram = inline_svg(svg, "")
    else:
        diagram = (
            '<p class="missing">No diagram: '
            + escape(svg_missing or "Graphviz `dot` did not draw it")
            + "; step through the table below.</p>"
        )
    rows = []
    for k, s in enumerate(trace.steps):
        rule = f'<br><span class="rule">[{escape(s.rule)}]</span>' if s.rule else ""
        rows.append(
            f'<tr id="row{k}" data-step="{k}"><td class="num">{k}</td>'
            f"<td>{escape(s.action or 'initial state')}{rule}</td></tr>"
        )
    lasso = (
        f'<p class="loop">A lasso: after step {len(trace) - 1} the run goes back to step '
        f"{trace.loop}, and steps {trace.loop + 1}..{len(trace) - 1} repeat forever.</p>"
        if trace.loop is not None
        else ""
    )
    out = [
        *opening(title, STYLE),
        f'<pre class="caption">{escape(chr(10).join(caption))}</pre>',
        lasso,
        '<div class="controls">',
        '<button type="button" id="first" title="first step (Home)">&#x00AB; first</button>',
        '<button type="button" id="prev" title="previous step (&#x2190;)">&#x25C0; previous'
        "</button>",
        f'<span id="counter">step 0 of {len(trace) - 1}</span>',
        '<button type="button" id="next" title="next step (&#x2192;)">next &#x25B6;</button>',
        '<button type="button" id="last" title="last step (End)">last &#x00BB;</button>',
        '<span class="hint">keys: &#x2190; &#x2192; Home End; the address may say #step=N</span>',
        "</div>",
        '<div class="layout">',
        f'<div class="diagram" id="diagram">{diagram}</div>',
        '<div class="panel">',
        '<h2 id="action"></h2>',
        '<p id="rule" class="rule"></p>',
        '<ul id="notes" class="notes"></ul>',
        "<h3>Segments in flight after this step</h3>",
        '<ul id="flight"></ul>',
        "<h3>Enabled actions in this state (what else could have happened)</h3>",
        '<ul id="others"></ul>',
        '<div id="panes"></div>',
        "</div>",
        "</div>",
        "<h2>Steps</h2>",
        '<table id="steps"><thead><tr><th class="num">step</th><th>action [rule]</th></tr>'
        "</thead><tbody>",
        *rows,
        "</tbody></table>",
        f'<script type="application/json" id="trace-data">{data_json(data)}</script>',
        f"<script>{SCRIPT}</script>",
        "</body>",
        "</html>",
    ]
    return "\n".join(x for x in out if x) + "\n"


STYLE = """
body { font-family: Helvetica, Arial, sans-serif; margin: 1em; color: #222; }
h1 { font-size: 1.3em; }
h2 { font-size: 1.1em; }
h3 { font-size: 0.95em; margin: 1em 0 0.3em; }
pre.caption { background: #f6f8fa; padding: 0.5em; white-space: pre-wrap; }
.controls { position: sticky; top: 0; background: #fff; padding: 0.4em 0; z-index: 2;
  border-bottom: 1px solid #ccc; }
.controls button { font-size: 1em; margin-right: 0.3em; }
#counter { font-weight: bold; margin: 0 0.8em; font-variant-numeric: tabular-nums; }
.hint { color: #777; font-size: 0.85em; margin-left: 1em; }
.layout { display: flex; gap: 1em; align-items: flex-start; }
.diagram { flex: 3; overflow: auto; max-height: 85vh; }
.diagram svg { height: auto; }
.panel { flex: 2; position: sticky; top: 3em; max-height: 85vh; overflow: auto;
  font-size: 0.9em; }
.rule { color: #555; }
.missing { color: #cf222e; }
.loop { color: #1b9e77; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: left; vertical-align: top; }
th { background: #eee; }
td.num { text-align: right; }
#steps tbody tr { cursor: pointer; }
tr.current { background: #fff3b0; }
td.changed { background: #ffe9a8; font-weight: bold; }
#panes { display: flex; flex-wrap: wrap; gap: 0 1em; }
.pane { margin-top: 0.6em; flex: 1; min-width: 14em; }
.pane table { width: 100%; }
#others li { margin-bottom: 0.3em; }
#others li.taken { font-weight: bold; }
#others .what { color: #555; font-weight: normal; font-size: 0.9em; }
.notes li { color: #9a6700; }
svg .current text { fill: #d6006f; font-weight: bold; }
svg .current polygon, svg .current path, svg .current ellipse { stroke: #d6006f;
  stroke-width: 3; }
svg rect.highlight { fill: #fff3b0; stroke: #d6006f; stroke-width: 1; }
svg g.node[id^="step"] { cursor: pointer; }
"""

# The script reads the data element, builds the panel with textContent only (no HTML from
# the data is ever parsed), and keeps one step current: its table row, its SVG node (with a
# rectangle drawn behind it) and the address's #step=N.
SCRIPT = """
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("trace-data").textContent);
  var steps = data.steps;
  var last = steps.length - 1;
  var current = -1;
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = text; }
    if (cls) { e.className = cls; }
    return e;
  }
  function clear(e) { while (e.firstChild) { e.removeChild(e.firstChild); } }
  function list(id, items, empty) {
    var ul = document.getElementById(id);
    clear(ul);
    if (items.length === 0) { ul.appendChild(el("li", empty)); }
    items.forEach(function (x) { ul.appendChild(x); });
  }
  function highlight(k) {
    var old = document.querySelectorAll("svg .current");
    Array.prototype.forEach.call(old, function (g) { g.classList.remove("current"); });
    var box = document.querySelector("svg rect.highlight");
    if (box) { box.parentNode.removeChild(box); }
    var g = document.getElementById("step" + k);
    if (!g) { return; }
    g.classList.add("current");
    var b = g.getBBox();
    var r = document.createElementNS("http://www.w3.org/2000/svg", "rect");
    r.setAttribute("class", "highlight");
    r.setAttribute("x", b.x - 3);
    r.setAttribute("y", b.y - 2);
    r.setAttribute("width", b.width + 6);
    r.setAttribute("height", b.height + 4);
    g.parentNode.insertBefore(r, g);
    if (g.scrollIntoView) { g.scrollIntoView({block: "nearest", inline: "nearest"}); }
  }
  function show(k) {
    k = Math.max(0, Math.min(last, k));
    var s = steps[k];
    current = k;
    document.getElementById("counter").textContent = "step " + k + " of " + last;
    document.getElementById("first").disabled = k === 0;
    document.getElementById("prev").disabled = k === 0;
    document.getElementById("next").disabled = k === last;
    document.getElementById("last").disabled = k === last;
    document.getElementById("action").textContent =
      k + "  " + (s.action === null ? "initial state" : s.action);
    document.getElementById("rule").textContent = s.rule ? "[" + s.rule + "]" : "";
    var notes = s.notes.slice();
    if (data.loop !== null && k === last) {
      notes.push("lasso: the run goes back to step " + data.loop + " from here, forever");
    }
    var ul = document.getElementById("notes");
    clear(ul);
    notes.forEach(function (n) { ul.appendChild(el("li", n)); });
    var panes = document.getElementById("panes");
    clear(panes);
    s.panes.forEach(function (p) {
      var div = el("div", null, "pane");
      div.appendChild(el("h3", p.title));
      var t = el("table");
      p.vars.forEach(function (v) {
        var tr = el("tr");
        tr.appendChild(el("td", v[0]));
        tr.appendChild(el("td", v[1], v[2] ? "changed" : ""));
        t.appendChild(tr);
      });
      div.appendChild(t);
      panes.appendChild(div);
    });
    if (s.flight === null) {
      list("flight", [], "(this model's channels are among its variables)");
    } else {
      list("flight", s.flight.map(function (x) { return el("li", x); }), "none");
    }
    if (s.others === null) {
      list("others", [], "(not computed: " + data.others_missing + ")");
    } else {
      list("others", s.others.map(function (o) {
        var li = el("li", null, o.taken ? "taken" : "");
        li.appendChild(el("span", o.action));
        if (o.taken) {
          li.appendChild(el("span", o.to === k + 1 ? "  (taken by the trace)"
            : "  (taken: back to step " + o.to + ")"));
        }
        if (o.rule) { li.appendChild(el("div", "[" + o.rule + "]", "what rule")); }
        li.appendChild(el("div", o.changes.join("; "), "what"));
        return li;
      }), k === last && data.loop === null ? "none: a deadlock (no transition is enabled)"
        : "none");
    }
    var rows = document.querySelectorAll("#steps tbody tr");
    Array.prototype.forEach.call(rows, function (tr, i) {
      tr.classList.toggle("current", i === k);
    });
    highlight(k);
    try {
      history.replaceState(null, "", "#step=" + k);
    } catch (e) {
      /* some browsers refuse to change the address of a file: page; stepping still works */
    }
  }
  function fromHash() {
    var m = /step=(\\d+)/.exec(location.hash);
    return m ? parseInt(m[1], 10) : 0;
  }
  document.getElementById("first").addEventListener("click", function () { show(0); });
  document.getElementById("prev").addEventListener("click", function () { show(current - 1); });
  document.getElementById("next").addEventListener("click", function () { show(current + 1); });
  document.getElementById("last").addEventListener("click", function () { show(last); });
  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) { return; }
    var to = {ArrowLeft: current - 1, ArrowRight: current + 1, Home: 0, End: last}[e.key];
    if (to !== undefined) { e.preventDefault(); show(to); }
  });
  Array.prototype.forEach.call(document.querySelectorAll("#steps tbody tr"), function (tr) {
    tr.addEventListener("click", function () { show(parseInt(tr.dataset.step, 10)); });
  });
  for (var k = 0; k <= last; k++) {
    (function (k) {
      var g = document.getElementById("step" + k);
      if (g) { g.addEventListener("click", function () { show(k); }); }
    })(k);
  }
  window.addEventListener("hashchange", function () {
    var k = fromHash();
    if (k !== current) { show(k); }
  });
  show(fromHash());
})();
"""
