"""docs/tutorial.ipynb executed with nbclient: every lesson's verdict comes from the engine and
its diagram is drawn, so the notebook cannot rot."""

from __future__ import annotations

import os
import re
import shutil

import pytest

from tcpmodel.api import check
from tests.test_cli import ROOT, SPECS

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK = ROOT / "docs" / "tutorial.ipynb"
LESSONS = {  # tag: (property, verdict)
    "handshake": ("handshake", "reachable"),
    "close": ("three-way-close", "reachable"),
    "time-wait": ("clean-close", "violated"),
    "fixed-isn": ("no-old-data", "violated"),
    "syn-flood": ("legit-connects", "violated"),
    "cookies": ("full-queue-answers-client-syn", "holds"),
    "simultaneous-close": ("simultaneous-close", "reachable"),
}
LINE = re.compile(
    r"^(?P<prop>[\w-]+): (?P<verdict>\w+) \(expected (?P<expect>\w+)\), engine "
    r"(?P<engine>\w+), (?P<states>[\d,]+) states, trace of (?P<steps>\d+) steps$"
)


@pytest.mark.skipif(shutil.which("dot") is None, reason="the diagrams need Graphviz dot")
def test_tutorial_runs_and_shows_each_lessons_verdict_and_diagram(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the kernel imports this checkout's tcpmodel
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), (
        "commit the notebook without outputs"
    )
    client = nbclient.NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()
    by_tag = {c.metadata["tags"][0]: c for c in nb.cells if c.metadata.get("tags")}
    seen: dict[str, dict[str, str]] = {}
    for tag, (prop, verdict) in LESSONS.items():
        outputs = by_tag[tag].outputs
        text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream").strip()
        m = LINE.match(text)
        assert m is not None, (tag, text)
        assert (m["prop"], m["verdict"], m["expect"]) == (prop, verdict, verdict)
        assert m["engine"] in ("explicit", "native") and int(m["states"].replace(",", "")) > 0
        seen[tag] = m.groupdict()
        svgs = [o for o in outputs if "image/svg+xml" in o.get("data", {})]
        if verdict == "holds":
            assert not svgs  # nothing to draw
        else:
            assert len(svgs) == 1 and "<svg" in svgs[0]["data"]["image/svg+xml"], tag
    diagram = by_tag["state-diagram"].outputs[0]["data"]["image/svg+xml"]
    assert "TIME_WAIT" in diagram and "CLOSING" in diagram
    table = by_tag["table"].outputs
    assert "exit code: 0" in "".join(o.get("text", "") for o in table)
    html = next(o["data"]["text/html"] for o in table if "text/html" in o.get("data", {}))
    assert html.count("<tr>") == len(LESSONS) + 1 and html.count(">ok<") == len(LESSONS)
    # the numbers the notebook shows are the engine's: the handshake checked again here
    (r,) = check(SPECS / "rfc9293.toml", variant=None, properties=["handshake"])
    assert r.trace is not None
    assert int(seen["handshake"]["states"]) == r.stats.states
    assert int(seen["handshake"]["steps"]) == len(r.trace) - 1
