"""Counterexample diagrams: segment flow, the DOT ladder (golden file), text, ITF, the CLI."""

from __future__ import annotations

import dataclasses
import json
import shutil
from functools import cache
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner

from tcpmodel import render
from tcpmodel.check import Options, check_spec
from tcpmodel.cli import main
from tcpmodel.errors import UsageError
from tcpmodel.render import (
    caption,
    chain,
    digraph,
    drawing,
    explorer,
    graphviz,
    itf,
    ladder,
    listen,
    text,
)
from tcpmodel.render.flow import CHANNEL, flow, segments_in
from tcpmodel.results import Result, Step, Trace
from tcpmodel.semantics import replay
from tcpmodel.spec import load

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
GOLDEN = ROOT / "tests" / "golden"

# A witness with a loss, a duplicate and a tick: fixed-isn's parameters with a loss budget.
FAULTS = """
[spec]
name = "faults"
model = "connection"
[params]
isn = "fixed"
incarnations = 1
data = 1
loss = 1
duplicate = 1
[[property]]
name = "dup-and-loss"
formula = "reachable(net.dups == 1 and net.lost == 1 and b.state == ESTABLISHED)"
expect = "reachable"
"""


@cache
def result(path: Path, prop: str) -> Result:
    (r,) = check_spec(load(path), Options(only=frozenset({prop})))
    assert r.trace is not None
    return r


def fixed_isn() -> Result:
    return result(SPECS / "fixed-isn.toml", "no-old-data")


@cache
def faults_file(tmp: Path) -> Path:
    p = tmp / "faults.toml"
    p.write_text(FAULTS)
    return p


@pytest.fixture(scope="module")
def faults(tmp_path_factory: pytest.TempPathFactory) -> Result:
    return result(faults_file(tmp_path_factory.mktemp("faults")), "dup-and-loss")


def trace_of(r: Result) -> Trace:
    assert r.trace is not None
    return r.trace


def check_flow_matches_channels(t: Trace) -> None:
    """After every step, the segments the flow has in flight are exactly the channels'."""
    f = flow(t)
    for k, step in enumerate(t.steps):
        for x, ch in CHANNEL.items():
            want = sorted(str(fields) for fields, _ in segments_in(step.state, ch))
            got = sorted(str(s.fields) for s in f.in_flight(k) if s.sender == x)
            assert got == want, (k, x)


def test_flow_of_the_fixed_isn_counterexample() -> None:
    t = trace_of(fixed_isn())
    check_flow_matches_channels(t)
    f = flow(t)
    data = [s for s in f.segments if s.fields.len == 1]
    assert len(data) == 1
    (old,) = data
    # The data segment of incarnation 0, sent before the crash, arrives in the last step.
    assert (old.sender, old.inc, old.fate, old.end, old.old) == ("a", 0, "delivered", 13, True)
    assert old.label() == "<SEQ=1><ACK=5><CTL=ACK><LEN=1>"
    assert [e.text for e in f.at(6)] == ["CRASH", "CLOSED"]
    assert any(e.kind == "tick" for e in f.at(8))


def test_flow_sees_losses_and_duplicates(faults: Result) -> None:
    t = trace_of(faults)
    check_flow_matches_channels(t)
    f = flow(t)
    assert [s.fate for s in f.segments].count("lost") == 1
    (copy,) = [s for s in f.segments if s.duplicate]
    original = f.segments[copy.duplicate_of - 1] if copy.duplicate_of else None
    assert original is not None and original.fields == copy.fields
    dot = ladder.ladder(t, caption(faults))
    assert "[label=X " in dot and "dashed" in dot


def test_ladder_matches_the_golden_file() -> None:
    r = fixed_isn()
    dot = ladder.ladder(trace_of(r), caption(r))
    assert dot == ladder.ladder(trace_of(r), caption(r))
    golden = GOLDEN / "fixed-isn.no-old-data.dot"
    assert dot.encode() == golden.read_bytes(), (
        "the ladder changed; if on purpose, regenerate with "
        "`tcpmodel render specs/fixed-isn.toml --property no-old-data --format dot "
        f"-o {golden.relative_to(ROOT)}`"
    )


def test_ladder_names_every_segment_and_state() -> None:
    r = fixed_isn()
    t = trace_of(r)
    dot = ladder.ladder(t, caption(r))
    for s in flow(t).segments:
        assert f'"#{s.id} {s.label()}' in dot  # a quoted text label, not HTML
    for step in t.steps:
        assert str(step.state["a.state"]) in dot and str(step.state["b.state"]) in dot
    assert "no-old-data" in dot and "violated" in dot and "3.10.7.4" in dot


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
def test_svg_names_every_segment_and_state() -> None:
    r = fixed_isn()
    t = trace_of(r)
    svg = graphviz.render(ladder.ladder(t, caption(r)), "svg").decode()
    for s in flow(t).segments:
        assert s.label().replace("<", "&lt;").replace(">", "&gt;") in svg
    for name in ("SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1", "LISTEN", "CLOSED"):
        assert name in svg
    assert graphviz.render(ladder.ladder(t, caption(r)), "png").startswith(b"\x89PNG")


def test_missing_dot_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _: None)
    with pytest.raises(UsageError, match="apt-get install graphviz"):
        graphviz.render("digraph {}", "svg")


def test_dot_missing_when_it_runs_is_the_same_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """`dot` found by `available` but gone when the graphviz package runs it."""
    import graphviz as package

    def gone(*args: object, **kwargs: object) -> bytes:
        raise package.ExecutableNotFound(["dot", "-Tsvg"])

    monkeypatch.setattr(shutil, "which", lambda _: "/usr/bin/dot")
    monkeypatch.setattr(package, "pipe", gone)
    with pytest.raises(UsageError, match="apt-get install graphviz"):
        graphviz.render("digraph {}", "svg")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
def test_failing_dot_is_a_usage_error_with_its_first_line() -> None:
    with pytest.raises(UsageError, match=r"^Graphviz `dot` failed: Error: .*syntax error"):
        graphviz.render("digraph { a -> ", "svg")


# Labels with DOT and HTML syntax in them: a label that is all `<...>` (which the graphviz
# package would otherwise pass on as an HTML-like label), quotes, backslashes (escString
# escapes such as \n must stay two characters), ampersands and markup.
SPECIAL = (
    "<CTL=SYN,ACK>",
    '<SEQ=100><CTL=SYN> "quoted"',
    "back\\slash \\n \\l end\\",
    "A & B <b>not bold</b> &amp;",
)


def svg_texts(svg: bytes) -> list[str]:
    root = ElementTree.fromstring(svg)
    texts = ("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
    return [t.replace("\xa0", " ") for t in texts]  # dot draws "  " as " &nbsp;"


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
def test_special_labels_are_drawn_as_text() -> None:
    g = digraph.new("special", SPECIAL, {"rankdir": "TB"})
    for i, label in enumerate(SPECIAL):
        digraph.add_node(g, f"n{i}", {"label": label, "shape": "box", "tooltip": label})
    digraph.add_edge(g, "n0", "n1", {"label": SPECIAL[2], "xlabel": SPECIAL[3]})
    dot = digraph.source(g)
    assert "label=<" not in dot  # no label went to Graphviz as HTML
    texts = svg_texts(graphviz.render(dot, "svg"))
    for label in SPECIAL:
        # the node, the caption line (and the edge's label or xlabel), each as written
        assert texts.count(label) == (3 if label in SPECIAL[2:] else 2), (label, texts)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
def test_a_trace_with_special_text_renders() -> None:
    """Through a renderer: an action, a rule and a value with the same text (the chain)."""
    steps = (
        Step(None, None, {"x": SPECIAL[0]}),
        Step("p.send(<CTL=SYN,ACK>)", SPECIAL[1], {"x": SPECIAL[3]}),
    )
    dot = render.diagram(Trace(steps), [SPECIAL[2]])
    assert dot.startswith("digraph chain")
    texts = svg_texts(graphviz.render(dot, "svg"))
    for want in (
        "x = <CTL=SYN,ACK>",
        "1  p.send(<CTL=SYN,ACK>)",
        f"[{SPECIAL[1]}]",
        f"x = {SPECIAL[3]}",
        SPECIAL[2],
    ):
        assert want in texts, (want, texts)


def test_text_table() -> None:
    r = fixed_isn()
    out = text.table(trace_of(r), caption(r))
    assert "b.ack_syn_received(slot=0)" in out and "FIN_WAIT_1" in out
    assert "#4 a->b <SEQ=1><ACK=5><CTL=ACK><LEN=1>: sent at step 5, delivered at step 13" in out


def test_itf_round_trip_replays(faults: Result) -> None:
    for r in (fixed_isn(), faults):
        t = trace_of(r)
        doc = json.loads(itf.dumps(t, {"source": r.file}))
        assert doc["states"][0]["#meta"]["index"] == 0 and "loop" not in doc
        assert doc["states"][1]["a.state"] == "SYN_SENT"
        assert doc["states"][1]["a.snd_nxt"] == {"#bigint": "1"}
        assert doc["states"][1]["a.started"] is True
        back = itf.loads(json.dumps(doc))
        assert back == t
        cfg = load(Path(r.file)).configurations[0]
        replay(cfg.system, back)


def test_steps_carry_the_action_name_and_params_through_itf() -> None:
    """The drawings read a step's action by name and parameters, never by parsing its label:
    the engine's steps carry them, ITF keeps them, and an ITF file without them (written by
    another tool, or before they were recorded) gets them from the label."""
    t = trace_of(fixed_isn())
    calls = [s.call() for s in t.steps]
    assert calls[0] == ("", {})
    assert any(p.get("slot", "").isdigit() for _, p in calls), calls
    for s in t.steps[1:]:
        name, params = s.call()
        assert s.name == name and s.action == (
            name + "(" + ", ".join(f"{k}={v}" for k, v in params.items()) + ")" if params else name
        )
    back = itf.loads(itf.dumps(t))
    assert [s.call() for s in back.steps] == calls
    doc = json.loads(itf.dumps(t))
    for st in doc["states"]:
        del st["#meta"]["name"], st["#meta"]["params"]
    assert [s.call() for s in itf.from_itf(doc).steps] == calls
    odd = {"vars": ["x"], "states": [{"#meta": {"action": "go(x)"}, "x": 1}]}
    assert itf.from_itf(odd).steps[0].call() == ("go(x)", {})


def test_itf_keeps_a_loop_and_rejects_garbage() -> None:
    t = dataclasses.replace(trace_of(fixed_isn()), loop=2)
    assert itf.loads(itf.dumps(t)) == t
    with pytest.raises(UsageError, match="ITF"):
        itf.loads('{"vars": ["x"], "states": [{"x": 1.5}]}')


def test_ladder_refuses_other_models() -> None:
    r = result(SPECS / "mutex-naive.toml", "mutual-exclusion")
    with pytest.raises(UsageError, match="connection"):
        ladder.ladder(trace_of(r))


def run(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(main, list(args))
    return res.exit_code, res.stdout, res.stderr


def test_cli_render_writes_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    spec = str(SPECS / "fixed-isn.toml")
    code, out, err = run("render", spec, "--property", "no-old-data", "--format", "dot", "-q")
    assert code == 0, err
    dot = tmp_path / "fixed-isn.no-old-data.dot"
    assert dot.read_bytes() == (GOLDEN / "fixed-isn.no-old-data.dot").read_bytes()
    assert "wrote fixed-isn.no-old-data.dot" in out
    for fmt in ("txt", "json"):
        target = tmp_path / f"h.{fmt}"
        code, _, err = run(
            "render", spec, "--property", "handshake", "--format", fmt, "-o", str(target), "-q"
        )
        assert code == 0, err
        assert "ESTABLISHED" in target.read_text()
    if shutil.which("dot") is not None:
        code, _, err = run("render", spec, "--property", "no-old-data", "-q")
        assert code == 0, err
        assert (tmp_path / "fixed-isn.no-old-data.svg").read_text().lstrip().startswith("<")


def test_cli_render_without_dot_keeps_the_dot_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(shutil, "which", lambda _: None)
    spec = str(SPECS / "fixed-isn.toml")
    code, _, err = run("render", spec, "--property", "no-old-data", "--format", "png", "-q")
    assert code == 2
    assert "apt-get install graphviz" in err and "fixed-isn.no-old-data.dot" in err
    assert (tmp_path / "fixed-isn.no-old-data.dot").exists()
    assert not (tmp_path / "fixed-isn.no-old-data.png").exists()


def test_cli_render_without_a_trace_exits_2(tmp_path: Path) -> None:
    code, _, err = run(
        "render", str(SPECS / "mutex-peterson.toml"), "--property", "mutual-exclusion",
        "-o", str(tmp_path / "x.svg"), "-q",
    )  # fmt: skip
    assert code == 2
    assert "holds" in err and "no counterexample or witness" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.svg").exists()


def test_cli_render_unknown_property_or_variant_exits_2() -> None:
    spec = str(SPECS / "fixed-isn.toml")
    code, _, err = run("render", spec, "--property", "nope", "-q")
    assert code == 2 and "known: no-old-data, handshake" in err
    code, _, err = run("render", spec, "--property", "handshake", "--variant", "v", "-q")
    assert code == 2 and "no such variant" in err


def test_twa_ladder_matches_the_golden_file() -> None:
    """A long trace (24 steps) where a long-delayed duplicate's midpoint is taken by another
    label: its label moves along the middle column, still on its arrow."""
    r = result(SPECS / "twa.toml", "no-old-data")
    dot = ladder.ladder(trace_of(r), caption(r))
    golden = GOLDEN / "twa.no-old-data.dot"
    assert dot.encode() == golden.read_bytes(), (
        "the ladder changed; if on purpose, regenerate with "
        "`tcpmodel render specs/twa.toml --property no-old-data --format dot "
        f"-o {golden.relative_to(ROOT)}`"
    )
    # Every delivered segment's label is a middle node (on its arrow), none an xlabel.
    assert "xlabel" not in dot


def test_label_ranks_stay_on_the_arrow() -> None:
    assert ladder._label_ranks(3, 4) == [7]
    ranks = ladder._label_ranks(9, 24)
    assert ranks[0] == 33 and all(18 < r < 48 for r in ranks)
    for r in ranks:
        off = ladder.WIDTH * abs(r - 33) / (2 * (24 - 9))
        assert off <= ladder.OFFSET


def test_a_lasso_is_marked_as_a_loop() -> None:
    t = dataclasses.replace(trace_of(fixed_isn()), loop=9)
    dot = ladder.ladder(t)
    # A bar in the loop column from the last step (rank 26) up to step 9 (rank 18).
    assert "lp18 -> lp19 [" in dot and "dir=back" in dot and "lp25 -> lp26 [" in dot
    assert "repeat from\\nstep 9" in dot
    assert "steps 10..13 repeat forever" in dot
    assert "loop: back to step 9" in text.table(t)
    assert "loop" not in ladder.ladder(trace_of(fixed_isn())).replace("splines", "")


def test_render_draws_other_models_as_a_chain(tmp_path: Path) -> None:
    out = tmp_path / "m.dot"
    r = CliRunner().invoke(
        main,
        [
            "render",
            str(SPECS / "mutex-naive.toml"),
            "--property",
            "mutual-exclusion",
            "--format",
            "dot",
            "-o",
            str(out),
            "-q",
        ],
    )
    assert r.exit_code == 0, r.output
    dot = out.read_text()
    assert dot.startswith("digraph") and "p1.pc = CRIT" in dot and "mutual-exclusion" in dot


# ---- the listener's picture: the queue ladder ----------------------------------------------


@cache
def listener_result(spec: str, prop: str, variant: str | None = None) -> Result:
    s = load(SPECS / f"{spec}.toml")
    (cfg,) = [c for c in s.configurations if c.variant == variant]
    (r,) = check_spec(
        dataclasses.replace(s, configurations=(cfg,)), Options(only=frozenset({prop}))
    )
    assert r.trace is not None
    return r


def test_listen_ladder_matches_the_golden_file() -> None:
    r = listener_result("syn-flood", "legit-connects")
    dot = listen.listen_ladder(trace_of(r), caption(r))
    assert dot == listen.listen_ladder(trace_of(r), caption(r))
    golden = GOLDEN / "syn-flood.legit-connects.dot"
    assert dot.encode() == golden.read_bytes(), (
        "the listener diagram changed; if on purpose, regenerate with "
        "`tcpmodel render specs/syn-flood.toml --property legit-connects --format dot "
        f"-o {golden.relative_to(ROOT)}`"
    )


def test_listen_ladder_draws_the_flood() -> None:
    """Every step is a row with its action; each attacker SYN is an arrow into the server;
    each of the client's SYNs arrives while the request queue shows `backlog` spoofed
    entries (two red S cells in the snapshot of the row before the arrival); the lasso's
    cycle is marked; no segment is drawn lost (the flood loses nothing)."""
    r = listener_result("syn-flood", "legit-connects")
    t = trace_of(r)
    assert listen.is_listener(t) and not chain.is_connection(t)
    dot = listen.listen_ladder(t, caption(r))
    assert dot.startswith("digraph listen")
    for k, st in enumerate(t.steps):
        assert f"{k}  t=" in dot and (st.action or "initial state") in dot
    attacks = [k for k, s in enumerate(t.steps) if (s.action or "").startswith("attacker.")]
    assert len(attacks) >= 2
    for k in attacks:
        assert f"\tx{2 * k} -> v{2 * k} [" in dot
    segs = listen.segments(t)
    assert [s.label() for s in segs] == ["<CTL=SYN>"] * 3
    assert all(s.sender == "c" and not s.lost and s.end is not None for s in segs)
    rows = dot.splitlines()
    for s in segs:
        assert s.end is not None
        before = next(line for line in rows if f"\tv{2 * (s.end - 1)} [label=<<TABLE" in line)
        assert before.count(f'BGCOLOR="{listen.SPOOFED}"') == 2
        assert f"\tc{2 * s.sent} -> v{2 * s.end}:w [" in dot
    assert t.loop is not None and f"back to\\nstep {t.loop}" in dot
    assert f"steps {t.loop + 1}..{len(t) - 1} repeat forever" in dot
    assert "ETIMEDOUT" in dot and "[label=X " not in dot
    # Rules: in full the first time, by their citation afterwards.
    assert dot.count("[Linux tcp_syncookies = 0]") == 2
    assert "[Linux tcp_syncookies = 0: a SYN that\\l finds the request queue full" in dot


def test_listen_ladder_draws_a_lost_cookie_ack() -> None:
    r = listener_result("syn-flood-cookies", "legit-connects", "lost-ack")
    t = trace_of(r)
    segs = listen.segments(t)
    assert [(s.sender, s.label(), s.lost) for s in segs] == [
        ("c", "<CTL=SYN>", False),
        ("s", "<CTL=SYN,ACK> cookie", False),
        ("c", "<CTL=ACK> cookie", True),
    ]
    lost = segs[-1]
    assert lost.end is not None and (t.steps[lost.end].action or "").startswith("net.lose_cs")
    dot = listen.listen_ladder(t, caption(r))
    assert "[label=X " in dot and f"-> m{2 * lost.end} [" in dot
    assert "ESTABLISHED\\n(on a cookie)" in dot


def test_listen_ladder_shows_the_accept_queue() -> None:
    """accept-overflow/no-abort's witness: another client's connection (o) fills the accept
    queue, the client's ACKs are dropped, then its connection (C) is queued and accepted;
    no attacker acts, so the attacker's columns are left out."""
    r = listener_result("accept-overflow", "accepted-after-overflow", "no-abort")
    t = trace_of(r)
    dot = listen.listen_ladder(t, caption(r))
    assert not listen.attacked(t) and "attacker" not in dot and " x0 " not in dot
    assert '<FONT COLOR="black">o</FONT>' in dot
    assert '<FONT COLOR="white">C</FONT>' in dot and "C accepted" in dot
    assert [s.label() for s in listen.segments(t)].count("<CTL=ACK>") == 3


def test_listen_ladder_marks_a_stutter_at_the_horizon() -> None:
    r = listener_result("syn-flood", "legit-connects", "by-horizon")
    t = trace_of(r)
    assert t.loop == len(t) - 1
    assert "stays in step" in listen.listen_ladder(t, caption(r))


def test_diagram_picks_the_picture() -> None:
    assert render.diagram(trace_of(fixed_isn())).startswith("digraph ladder")
    flood = trace_of(listener_result("syn-flood", "legit-connects"))
    assert render.diagram(flood).startswith("digraph listen")
    mutex = trace_of(result(SPECS / "mutex-naive.toml", "mutual-exclusion"))
    assert not listen.is_listener(mutex) and render.diagram(mutex).startswith("digraph chain")


@pytest.mark.skipif(not graphviz.available(), reason="needs Graphviz dot")
def test_cli_renders_the_flood_with_graphviz(tmp_path: Path) -> None:
    out = tmp_path / "flood.svg"
    code, _, err = run(
        "render",
        str(SPECS / "syn-flood.toml"),
        "--property",
        "legit-connects",
        "-o",
        str(out),
        "-q",
    )
    assert code == 0, err
    svg = out.read_text()
    assert "<svg" in svg and "attacker.syn_entry" in svg and "client.give_up" in svg


def test_the_model_chooses_the_drawing_not_the_variable_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A trace is drawn as its model says (`render.drawing.DRAWINGS`): a ``connection``
    trace that names no model is a chain, and a registered entry draws its model's traces."""
    t = trace_of(fixed_isn())
    assert t.model == "connection" and drawing.of(t) is drawing.CONNECTION
    anonymous = Trace(t.steps, t.loop)
    assert drawing.of(anonymous) is drawing.CHAIN
    assert render.diagram(anonymous).startswith("digraph chain")
    mutex = trace_of(result(SPECS / "mutex-naive.toml", "mutual-exclusion"))
    assert mutex.model == "mutex-naive" and drawing.of(mutex) is drawing.CHAIN
    toy = drawing.Drawing("toy", lambda trace, lines: "digraph toy {}\n", drawing.CONNECTION.panes)
    monkeypatch.setitem(drawing.DRAWINGS, "mutex-naive", toy)
    assert render.diagram(mutex) == "digraph toy {}\n"
    panes = explorer.steps(mutex, None)[0]["panes"]
    assert isinstance(panes, list) and panes[0]["title"] == "a (client)"
