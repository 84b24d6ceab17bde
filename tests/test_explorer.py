"""The trace explorer page: its data (one entry per step, the enabled actions from the compiled
model, the taken one among them, lassos, escaping), the files `check --out` and
`validate --out` write, and the page in a real headless Chromium (no console error, stepping
moves the highlighted step, a screenshot)."""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tcpmodel.check import Options, check_spec
from tcpmodel.cli import main
from tcpmodel.kernel.pyexpr import evaluate
from tcpmodel.kernel.system import System
from tcpmodel.render import explorer, graphviz, text
from tcpmodel.results import Result, Step, Trace
from tcpmodel.semantics import values_of
from tcpmodel.spec import load

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
CAPTURES = ROOT / "tests" / "captures"
needs_dot = pytest.mark.skipif(not graphviz.available(), reason="Graphviz `dot` is not installed")
EVIL = '</script><script>document.title="pwned"</script><!-- & \u2028'


def result(spec: str, prop: str, variant: str | None = None) -> tuple[Result, System]:
    s = load(SPECS / f"{spec}.toml")
    (cfg,) = [c for c in s.configurations if c.variant == variant]
    (r,) = check_spec(
        dataclasses.replace(s, configurations=(cfg,)), Options(only=frozenset({prop}))
    )
    assert r.trace is not None
    return r, cfg.system


@pytest.fixture(scope="module")
def mutex() -> tuple[Result, System]:
    return result("mutex-naive", "mutual-exclusion")


@pytest.fixture(scope="module")
def fixed_isn() -> tuple[Result, System]:
    return result("fixed-isn", "no-old-data")


class Scripts(HTMLParser):
    """The page's script elements (type, text) and every attribute outside them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[tuple[str, str]] = []
        self.attrs: list[tuple[str, str]] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attrs += [(k, v or "") for k, v in attrs]
        if tag == "script":
            self._in = dict(attrs).get("type") or ""
            self.scripts.append((self._in, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in is not None:
            kind, body = self.scripts[-1]
            self.scripts[-1] = (kind, body + data)


def page_data(page: str) -> dict[str, Any]:
    """The JSON data element of a page, parsed the way the browser reads it."""
    p = Scripts()
    p.feed(page)
    p.close()
    (data,) = [body for kind, body in p.scripts if kind == "application/json"]
    out: dict[str, Any] = json.loads(data)
    return out


# ---------------------------------------------------------------------------------------------
# The page's data


def test_one_entry_per_step_and_the_taken_action_is_enabled(
    mutex: tuple[Result, System], fixed_isn: tuple[Result, System]
) -> None:
    for r, system in (mutex, fixed_isn):
        trace = r.trace
        assert trace is not None and trace.loop is None
        choices = explorer.enabled(system, trace)
        data = page_data(explorer.page(trace, "t", [], None, choices))
        assert len(choices) == len(data["steps"]) == len(trace) > 5
        last = len(trace) - 1
        for k, here in enumerate(choices):
            taken = [c for c in here if c.taken]
            if k < last:
                assert len(taken) == 1, (k, here)
                assert taken[0].action == trace.steps[k + 1].action and taken[0].to == k + 1
            else:
                assert taken == []  # a finite trace: nothing after the violating state
            shown = data["steps"][k]["others"]
            assert [o["action"] for o in shown] == [c.action for c in here]
            assert [o["taken"] for o in shown] == [c.taken for c in here]


def test_enabled_actions_are_those_whose_guard_holds(mutex: tuple[Result, System]) -> None:
    """Against the expression evaluator, not the compiled successor function."""
    r, system = mutex
    assert r.trace is not None
    choices = explorer.enabled(system, r.trace)
    for step, here in zip(r.trace.steps, choices, strict=True):
        env = dict(
            zip((v.name for v in system.variables), values_of(system, step.state), strict=True)
        )
        want = [a.label for a in system.actions if evaluate(a.guard, env)]
        assert [c.action for c in here] == want and want


def test_a_lasso_takes_the_step_back_to_its_loop() -> None:
    r, system = result("syn-flood", "legit-connects")
    trace = r.trace
    assert trace is not None and trace.loop is not None
    choices = explorer.enabled(system, trace)
    assert all(sum(c.taken for c in here) == 1 for here in choices)
    (back,) = [c for c in choices[-1] if c.taken]
    assert back.to == trace.loop
    data = page_data(explorer.page(trace, "t", [], None, choices))
    assert data["loop"] == trace.loop and len(data["steps"]) == len(trace)


def test_connection_panes_and_segments_in_flight(fixed_isn: tuple[Result, System]) -> None:
    r, system = fixed_isn
    assert r.trace is not None
    steps = explorer.steps(r.trace, explorer.enabled(system, r.trace))
    table = text.table(r.trace)
    for k, s in enumerate(steps):
        panes: Any = s["panes"]
        titles = [p["title"] for p in panes]
        assert titles == ["a (client)", "b (server)", "network and clock"]
        assert all(v[0].startswith("a.") for v in panes[0]["vars"])
        assert all(v[0].startswith("b.") for v in panes[1]["vars"])
        state = r.trace.steps[k].state
        assert panes[0]["vars"][0] == [
            "a.state",
            state["a.state"],
            k > 0 and state["a.state"] != r.trace.steps[k - 1].state["a.state"],
        ]
        flight: Any = s["flight"]
        for line in flight:  # the same ids and labels as the text table's column
            assert line in table
    assert steps[0]["flight"] == [] and steps[1]["flight"] != []
    assert steps[-1]["cite"] == "RFC 9293 3.10.7.4"


def test_other_models_show_every_variable(mutex: tuple[Result, System]) -> None:
    r, _ = mutex
    assert r.trace is not None
    (s0, *_) = explorer.steps(r.trace, None)
    panes: Any = s0["panes"]
    assert [p["title"] for p in panes] == ["variables"]
    assert [v[0] for v in panes[0]["vars"]] == list(r.trace.steps[0].state)
    assert s0["flight"] is None and s0["others"] is None


def test_changes_name_variables_and_channels() -> None:
    before = {"x": 1, "ok": False, "net[0].present": False, "net[0].v": 0}
    after = {"x": 2, "ok": False, "net[0].present": True, "net[0].v": 3}
    assert explorer.changes(before, after) == ("x: 1 → 2", "net: 0 → 1 records")
    assert explorer.changes(before, before) == ("(no change: a self-loop)",)


def evil_trace() -> Trace:
    return Trace(
        (
            Step(None, None, {"x": 0, "label": EVIL}),
            Step(EVIL, f"rule {EVIL}", {"x": 1, "label": EVIL}),
        )
    )


def test_json_is_escaped_inside_the_script_element() -> None:
    page = explorer.page(evil_trace(), f"title {EVIL}", [EVIL], None, None, svg_missing=EVIL)
    p = Scripts()
    p.feed(page)
    p.close()
    assert [kind for kind, _ in p.scripts] == ["application/json", ""]
    data = page_data(page)
    assert data["steps"][1]["action"] == EVIL and data["steps"][1]["rule"] == f"rule {EVIL}"
    assert data["title"] == f"title {EVIL}"
    raw = page.split('id="trace-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in raw and ">" not in raw and "&" not in raw and "\u2028" not in raw
    assert page.count("<script") == 2  # the title, caption and note are HTML-escaped
    assert "No diagram: " in page and "<svg" not in page


def test_page_is_offline(fixed_isn: tuple[Result, System]) -> None:
    r, system = fixed_isn
    assert r.trace is not None
    svg = '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><g id="step0"/></svg>'
    page = explorer.page(r.trace, "t", [], svg, explorer.enabled(system, r.trace))
    p = Scripts()
    p.feed(page)
    p.close()
    for key, value in p.attrs:
        assert key not in ("src", "href", "xlink:href") or value.startswith("#"), (key, value)
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert '<svg><g id="step0"/></svg>' in page


# ---------------------------------------------------------------------------------------------
# The files


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("out")
    code, _, err = run(
        "check",
        str(SPECS / "fixed-isn.toml"),
        str(SPECS / "mutex-naive.toml"),
        "--property",
        "no-old-data",
        "--property",
        "mutual-exclusion",
        "--out",
        str(folder),
        "--quiet",
        "--jobs",
        "2",  # the results come from worker processes, the systems from this one
    )
    assert code == 0, err
    return folder


def test_check_out_writes_an_explorer_per_trace(out: Path) -> None:
    index = (out / "index.html").read_text()
    for stem, steps in (("fixed-isn.no-old-data", 14), ("mutex-naive.mutual-exclusion", 7)):
        page = (out / f"{stem}.explore.html").read_text()
        assert f'href="{stem}.explore.html"' in index
        data = page_data(page)
        assert len(data["steps"]) == steps
        assert all(s["others"] is not None for s in data["steps"])
        if graphviz.available():
            assert all(f'id="step{k}"' in page for k in range(steps))


def test_without_graphviz_the_page_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda cmd, *a, **k: None if cmd == "dot" else which(cmd))
    code, _, _ = run("check", str(SPECS / "mutex-naive.toml"), "-q", "--out", str(tmp_path))
    assert code == 0
    page = (tmp_path / "mutex-naive.mutual-exclusion.explore.html").read_text()
    assert "<svg" not in page and "No diagram: the Graphviz `dot` program is not installed" in page
    assert len(page_data(page)["steps"]) == 7


def test_an_interrupted_run_writes_pages_without_other_actions(
    mutex: tuple[Result, System], tmp_path: Path
) -> None:
    from tcpmodel.cli.out import write_out

    r, _ = mutex
    write_out(tmp_path, [r], "SIGINT", {})
    data = page_data((tmp_path / "mutex-naive.mutual-exclusion.explore.html").read_text())
    assert all(s["others"] is None for s in data["steps"]) and len(data["steps"]) == 7
    assert data["others_missing"] == "the run was interrupted by SIGINT"


def test_validate_out_explores_a_divergent_connection(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from mutate import mutants

    (_, number, data) = next(m for m in mutants(CAPTURES / "basic.pcap") if m[0] == "synack-isn")
    bad = tmp_path / "mutant.pcap"
    bad.write_bytes(data)
    code, _, err = run("validate", str(bad), "--out", str(tmp_path / "out"))
    assert code == 1, err
    folder = tmp_path / "out"
    page = (folder / "mutant.0.explore.html").read_text()
    assert "href='mutant.0.explore.html'" in (folder / "index.html").read_text()
    steps = page_data(page)["steps"]
    witness = json.loads((folder / "mutant.0.json").read_text())
    assert len(steps) == len(witness["states"])
    last = steps[-1]
    assert any(f"packet {number}" in n and "no execution" in n for n in last["notes"])
    assert any("explains captured packet 1" in n for s in steps for n in s["notes"])
    assert last["others"]  # the model's moves from the last state explained


# ---------------------------------------------------------------------------------------------
# In a real browser


def _chromium() -> tuple[str, str] | None:
    browser = next(
        (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p),
        None,
    )
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    found = _chromium()
    if found is None:
        pytest.skip("chromium and chromedriver are not installed (apt-get install chromium "
                    "chromium-driver)")  # fmt: skip
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1000"):  # fmt: skip
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(found[1]))
    try:
        yield driver
    finally:
        driver.quit()


def _errors(driver: Any) -> list[dict[str, Any]]:
    return [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]


def _at(driver: Any) -> tuple[str, list[str], str]:
    from selenium.webdriver.common.by import By

    counter = driver.find_element(By.ID, "counter").text
    lit = [e.get_attribute("id") for e in driver.find_elements(By.CSS_SELECTOR, "svg .current")]
    row = driver.find_element(By.CSS_SELECTOR, "#steps tr.current").get_attribute("id")
    return counter, lit, row


@needs_dot
def test_browser_steps_through_a_counterexample(browser: Any, out: Path, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    page = out / "fixed-isn.no-old-data.explore.html"
    browser.get(page.as_uri())
    assert _errors(browser) == []
    assert _at(browser) == ("step 0 of 13", ["step0"], "row0")
    assert browser.find_element(By.ID, "prev").get_attribute("disabled") is not None
    browser.find_element(By.ID, "next").click()
    assert _at(browser) == ("step 1 of 13", ["step1"], "row1")
    assert browser.find_element(By.ID, "action").text == "1 a.open"
    others = browser.find_element(By.ID, "others").text
    assert "b.listen_syn(slot=0) (taken by the trace)" in others
    browser.find_element(By.ID, "next").click()
    browser.find_element(By.ID, "prev").click()
    assert _at(browser) == ("step 1 of 13", ["step1"], "row1")
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_RIGHT)
    assert _at(browser)[:2] == ("step 2 of 13", ["step2"])
    assert browser.execute_script("return location.hash") == "#step=2"
    browser.find_element(By.ID, "last").click()
    assert _at(browser)[:2] == ("step 13 of 13", ["step13"])
    assert browser.find_element(By.ID, "next").get_attribute("disabled") is not None
    browser.get(page.as_uri() + "#step=5")
    assert _at(browser)[:2] == ("step 5 of 13", ["step5"])
    shot = tmp_path / "explorer.png"
    assert browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert _errors(browser) == []


def test_browser_shows_hostile_labels_as_text(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    page = tmp_path / "evil.html"
    page.write_text(explorer.page(evil_trace(), "evil", [EVIL], None, None), encoding="utf-8")
    browser.get(page.as_uri() + "#step=1")
    assert _errors(browser) == []
    assert browser.title == "evil"
    assert browser.find_element(By.ID, "counter").text == "step 1 of 1"
    shown = browser.execute_script("return document.getElementById('action').textContent")
    assert shown == f"1  {EVIL}"
    assert len(browser.find_elements(By.TAG_NAME, "script")) == 2
