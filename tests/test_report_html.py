"""``check --out``: a diagram, step table and ITF trace per trace, and an offline index.html."""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest
from click.testing import CliRunner

from tcpmodel.check import Options, check_spec
from tcpmodel.cli import main
from tcpmodel.errors import UsageError
from tcpmodel.render import chain, graphviz, html
from tcpmodel.results import Result, Stats, Step, Trace
from tcpmodel.spec import load

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
HAVE_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAVE_DOT, reason="Graphviz `dot` is not installed")

VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    ]
)
TRACE_FILES = ("dot", "txt", "json")

NAIVE_UNMET = """
[spec]
name = "naive"
model = "mutex"
[params]
algorithm = "naive"
[[property]]
name = "mutual-exclusion"
expect = "holds"
"""


class Page(HTMLParser):
    """Records nesting errors, counts of HTML elements (outside inline SVG) and attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.counts: Counter[str] = Counter()
        self.attrs: list[tuple[str, str]] = []
        self.decls: list[str] = []

    def handle_decl(self, decl: str) -> None:
        self.decls.append(decl)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._seen(tag, attrs)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._seen(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            self.errors.append(f"</{tag}> closes a void element")
        elif not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
        else:
            self.stack.pop()

    def _seen(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if "svg" not in self.stack:  # an SVG's <title> is its own, not the page's
            self.counts[tag] += 1
        self.attrs += [(k, v or "") for k, v in attrs]


def parse(page: str) -> Page:
    p = Page()
    p.feed(page)
    p.close()
    return p


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


def traced(out: Path) -> list[str]:
    """Stems of the results in out/results.json that have a trace."""
    doc = json.loads((out / "results.json").read_text())
    return [
        ".".join(x for x in (s["spec"], r["variant"], r["property"]) if x)
        for s in doc["specs"]
        for r in s["results"]
        if r["trace"] is not None
    ]


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("out")
    specs = (str(SPECS / "fixed-isn.toml"), str(SPECS / "mutex-naive.toml"))
    code, _, err = run("check", *specs, "--out", str(folder), "--quiet")
    assert code == 0, err
    return folder


def check_links(page: Page, folder: Path) -> list[str]:
    """Every href/src names a file in ``folder``; returns the names."""
    names = []
    for key, value in page.attrs:
        assert not value.startswith(("http://", "https://")), (key, value)
        if key in ("href", "src", "xlink:href"):
            assert "://" not in value and not value.startswith(("/", "#")), value
            assert (folder / unquote(value)).is_file(), value
            names.append(unquote(value))
    return names


def test_every_trace_gets_its_files(out: Path) -> None:
    stems = traced(out)
    assert "fixed-isn.no-old-data" in stems and "mutex-naive.mutual-exclusion" in stems
    for stem in stems:
        for ext in TRACE_FILES:
            assert (out / f"{stem}.{ext}").stat().st_size > 0, f"{stem}.{ext}"
    ladder_dot = (out / "fixed-isn.no-old-data.dot").read_text()
    chain_dot = (out / "mutex-naive.mutual-exclusion.dot").read_text()
    assert ladder_dot.startswith("digraph ladder") and chain_dot.startswith("digraph chain")
    assert "in flight after the step" in (out / "fixed-isn.no-old-data.txt").read_text()
    mutex_txt = (out / "mutex-naive.mutual-exclusion.txt").read_text()
    assert "verdict: violated" in mutex_txt and "p1.enter" in mutex_txt
    itf = json.loads((out / "mutex-naive.mutual-exclusion.json").read_text())
    assert itf["#meta"]["source"].endswith("mutex-naive.toml") and len(itf["states"]) == 7


@needs_dot
def test_every_trace_gets_an_svg_inlined_in_the_page(out: Path) -> None:
    stems = traced(out)
    page = (out / "index.html").read_text()
    for stem in stems:
        assert (out / f"{stem}.svg").read_text().lstrip().startswith("<?xml")
        assert f'href="{stem}.svg"' in page
    assert page.count("<svg") == len(stems)
    assert "<?xml" not in page and "<!DOCTYPE svg" not in page


def test_page_is_well_formed_and_offline(out: Path) -> None:
    text = (out / "index.html").read_text(encoding="utf-8")
    page = parse(text)
    assert page.errors == [] and page.stack == []
    assert page.decls == ["DOCTYPE html"]
    for tag in ("html", "head", "body", "title"):
        assert page.counts[tag] == 1, tag
    assert page.counts["script"] == 0 and "<script" not in text.lower()
    assert ("lang", "en") in page.attrs and ("charset", "utf-8") in page.attrs
    assert "http://" not in text and "https://" not in text
    assert "ACK of our SYN -&gt; ESTABLISHED]</pre>" in text  # captions are escaped
    assert "5 results: 5 met, 0 unmet, 0 unknown; exit code 0" in text


def test_page_links_only_files_that_exist(out: Path) -> None:
    names = check_links(parse((out / "index.html").read_text()), out)
    assert {"results.json", "junit.xml"} <= set(names)
    for stem in traced(out):
        assert {f"{stem}.{ext}" for ext in TRACE_FILES} <= set(names)


def test_unknown_rows_show_the_reason(tmp_path: Path) -> None:
    code, _, _ = run(
        "check", str(SPECS / "mutex-naive.toml"), "--max-depth", "2", "-q", "--out", str(tmp_path)
    )
    assert code == 3
    text = (tmp_path / "index.html").read_text()
    assert "depth bound 2 reached" in text and "UNKNOWN" in text and "exit code 3" in text
    assert parse(text).errors == []


def mutex_trace() -> Trace:
    (r,) = check_spec(
        load(SPECS / "mutex-naive.toml"), Options(only=frozenset({"mutual-exclusion"}))
    )
    assert r.trace is not None
    return r.trace


def test_chain_is_deterministic_and_shows_every_change() -> None:
    trace = mutex_trace()
    dot = chain.chain(trace, ["caption <line>"])
    assert dot == chain.chain(mutex_trace(), ["caption <line>"])
    assert not chain.is_connection(trace)
    nodes = [line for line in dot.splitlines() if line.startswith("\ts") and "->" not in line]
    assert len(nodes) == len(trace)
    for k, step in enumerate(trace.steps):
        for name, v in step.state.items():
            shown = str(v).lower() if isinstance(v, bool) else str(v)
            if k == 0 or trace.steps[k - 1].state[name] != v:
                assert f"{name} = {shown}" in nodes[k], (k, name)
        assert (step.action or "initial state") in nodes[k]
    assert "#e7298a" in nodes[-1] and "#e7298a" not in nodes[-2]  # the last step stands out
    assert f"s{len(trace) - 2} -> s{len(trace) - 1}" in dot and "loop" not in dot
    assert 'label="caption <line>\\l"' in dot


def test_chain_draws_a_lasso() -> None:
    s = [Step(None, None, {"x": 0}), Step("inc", "x := 1", {"x": 1}), Step("dec", None, {"x": 0})]
    dot = chain.chain(Trace(tuple(s), loop=1))
    assert "s2 -> s1 [" in dot and "[label=loop " in dot and "x = 0" in dot


def test_report_escapes_and_marks_missing_svgs() -> None:
    trace = Trace((Step(None, None, {"v": "<b>"}),))
    stats = Stats(states=3, depth=1, seconds=0.5)
    base = Result(
        "s<1>", "x.toml", None, "p", "always(a < b)", "holds", "violated", "explicit", stats, trace
    )
    unknown = dataclasses.replace(
        base, variant="v&w", prop="q", verdict="unknown", trace=None, reason="time limit <1 s>"
    )
    rs = [base, unknown]
    text = html.report(rs, {"s<1>.p": ["s<1>.p.dot"]}, {}, svg_missing="no dot here")
    page = parse(text)
    assert page.errors == [] and page.counts["title"] == 1
    assert "s&lt;1&gt;" in text and "v&amp;w" in text and "time limit &lt;1 s&gt;" in text
    assert "always(a &lt; b)" in text and "<b>" not in text
    assert "The SVG diagram is missing: no dot here." in text
    assert ("href", "s%3C1%3E.p.dot") in page.attrs
    assert "exit code 1" in text


def test_inline_svg_drops_prologue_and_namespaces() -> None:
    svg = (
        '<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN"\n'
        ' "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n<!-- made -->\n'
        '<svg width="1pt" xmlns="http://www.w3.org/2000/svg" '
        'xmlns:xlink="http://www.w3.org/1999/xlink">\n<g id="graph0"><path fill="url(#g1)"/>'
        "</g>\n</svg>\n"
    )
    assert html.inline_svg(svg, "t-") == (
        '<svg width="1pt">\n<g id="t-graph0"><path fill="url(#t-g1)"/></g>\n</svg>'
    )


def without_dot(monkeypatch: pytest.MonkeyPatch) -> None:
    which = shutil.which

    def fake(cmd: str, *args: object, **kwargs: object) -> str | None:
        return None if cmd == "dot" else which(cmd)

    monkeypatch.setattr(shutil, "which", fake)  # the one graphviz.py calls


def test_without_graphviz_the_rest_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unmet = tmp_path / "naive.toml"
    unmet.write_text(NAIVE_UNMET)
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "naive.mutual-exclusion.svg").write_text("<svg/>")  # from an older run
    with_dot, _, _ = run("check", str(unmet), "-q", "--out", str(tmp_path / "with"))
    without_dot(monkeypatch)
    assert not graphviz.available()
    code, _, err = run("check", str(unmet), "-q", "--out", str(folder))
    assert code == with_dot == 1
    stem = "naive.mutual-exclusion"
    for ext in TRACE_FILES:
        assert (folder / f"{stem}.{ext}").is_file()
    assert not list(folder.glob("*.svg"))
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "apt-get install graphviz" in warnings[0]
    text = (folder / "index.html").read_text()
    assert "The SVG diagram is missing" in text and "<svg" not in text
    names = check_links(parse(text), folder)
    assert f"{stem}.dot" in names and f"{stem}.svg" not in names


def test_a_failing_dot_warns_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def broken(dot: str, fmt: str, timeout: float = 60.0) -> bytes:
        calls.append(fmt)
        raise UsageError("Graphviz `dot` failed: syntax error in line 1")

    monkeypatch.setattr(graphviz, "available", lambda: True)
    monkeypatch.setattr(graphviz, "render", broken)
    code, _, err = run("check", str(SPECS / "mutex-naive.toml"), "-q", "--out", str(tmp_path))
    assert code == 0 and calls == ["svg"]
    assert len(err.strip().splitlines()) == 1 and "syntax error" in err
    assert not list(tmp_path.glob("*.svg")) and len(list(tmp_path.glob("*.dot"))) == 2
    assert "syntax error" in (tmp_path / "index.html").read_text()


def test_listener_traces_get_the_queue_ladder(tmp_path: Path) -> None:
    """``check --out`` on a listener spec: each trace's .dot is the queue ladder (client,
    server with its queues, attacker), and with Graphviz its SVG is inlined in index.html."""
    code, _, err = run("check", str(SPECS / "syn-flood.toml"), "--out", str(tmp_path), "-q")
    assert code == 0, err
    stems = traced(tmp_path)
    assert set(stems) == {
        "syn-flood.legit-connects",
        "syn-flood.full-queue-answers-client-syn",
        "syn-flood.by-horizon.legit-connects",
        "syn-flood.by-horizon.legit-connects-by-horizon",
    }
    for stem in stems:
        dot = (tmp_path / f"{stem}.dot").read_text()
        assert dot.startswith("digraph listen") and "request queue (2)" in dot, stem
        # The client's SYN dropped by the full queue ends one trace; the others go on to
        # the client's give-up.
        end = "srv.syn_queue_full" if "full-queue" in stem else "client.give_up"
        assert "attacker.syn_entry" in dot and end in dot, stem
    page = (tmp_path / "index.html").read_text()
    assert parse(page).errors == []
    if HAVE_DOT:
        assert page.count("<svg") == len(stems)
        assert "attacker.syn_entry" in page
