"""The generated state diagram: every row of the domain's state table is an arc (or a step
inside a state's box) of the diagram the model's actions give; the DOT is deterministic; a
trace's path is numbered; the CLI writes it, and keeps the DOT when Graphviz is missing."""

from __future__ import annotations

import itertools
import random
import re
import shutil
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner

from tcpmodel.check import Options, check_spec
from tcpmodel.cli import main
from tcpmodel.render import graphviz, itf, states
from tcpmodel.results import Trace
from tcpmodel.spec import load

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = ROOT / "tests" / "data" / "rfc9293-state-table.md"
FIXED_ISN = ROOT / "specs" / "fixed-isn.toml"

LOUD = ("SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT")
SYNCHRONIZED = (*LOUD, "CLOSING", "LAST_ACK", "TIME_WAIT")

# Each row of the state table in tests/data/rfc9293-state-table.md (its `state` and `event`
# cells) and the arcs that implement it: (state, next state, a piece of the arc's
# `event / sent` line).
ROWS: dict[tuple[str, str], list[tuple[str, str, str]]] = {
    ("CLOSED", "passive OPEN"): [("CLOSED", "LISTEN", "passive OPEN / -")],
    ("CLOSED", "active OPEN"): [("CLOSED", "SYN_SENT", "OPEN / snd SYN")],
    ("CLOSED", "any segment but RST"): [
        ("CLOSED", "CLOSED", "rcv ACK / snd RST"),
        ("CLOSED", "CLOSED", "rcv SYN / snd RST,ACK"),
        ("CLOSED", "CLOSED", "rcv RST / -"),
    ],
    ("LISTEN", "SYN"): [("LISTEN", "SYN_RECEIVED", "rcv SYN / snd SYN,ACK")],
    ("LISTEN", "ACK-bearing segment"): [("LISTEN", "LISTEN", "rcv ACK / snd RST")],
    ("LISTEN", "RST"): [("LISTEN", "LISTEN", "rcv RST / -")],
    ("LISTEN / SYN-SENT", "CLOSE or ABORT"): [
        ("LISTEN", "CLOSED", "CLOSE / -"),
        ("SYN_SENT", "CLOSED", "CLOSE / -"),
        ("SYN_SENT", "CLOSED", "ABORT (quiet) / -"),
    ],
    ("LISTEN", "SEND (user sends data)"): [("LISTEN", "SYN_SENT", "/ snd SYN")],
    ("SYN-SENT", "SYN,ACK acking ISS+1"): [("SYN_SENT", "ESTABLISHED", "rcv SYN,ACK / snd ACK")],
    ("SYN-SENT", "SYN without ACK (simultaneous open)"): [
        ("SYN_SENT", "SYN_RECEIVED", "rcv SYN / snd SYN,ACK")
    ],
    ("SYN-SENT", "ACK not acking our SYN"): [("SYN_SENT", "SYN_SENT", "rcv ACK / snd RST")],
    ("SYN-SENT", "RST with an ACK that acknowledges our SYN"): [
        ("SYN_SENT", "CLOSED", "rcv RST,ACK / -")
    ],
    (
        "SYN-SENT",
        "RST without acceptable ACK; segment with neither SYN nor RST; RST with bad ACK",
    ): [("SYN_SENT", "SYN_SENT", "rcv RST / -"), ("SYN_SENT", "SYN_SENT", "rcv ACK / -")],
    ("SYN-RECEIVED", "ACK acking our SYN"): [("SYN_RECEIVED", "ESTABLISHED", "rcv ACK / -")],
    ("SYN-RECEIVED", "acceptable RST (in window; RFC 5961: exactly RCV.NXT)"): [
        ("SYN_RECEIVED", "LISTEN", "rcv RST / -"),
        ("SYN_RECEIVED", "CLOSED", "rcv RST / -"),
    ],
    ("SYN-RECEIVED", "retransmitted SYN"): [
        ("SYN_RECEIVED", "SYN_RECEIVED", "rcv SYN / snd SYN,ACK")
    ],
    ("SYN-RECEIVED", "FIN that also acks our SYN"): [
        ("SYN_RECEIVED", "CLOSE_WAIT", "rcv FIN,ACK / snd ACK")
    ],
    ("SYN-RECEIVED / ESTABLISHED", "CLOSE"): [
        ("SYN_RECEIVED", "FIN_WAIT_1", "CLOSE / snd FIN,ACK"),
        ("ESTABLISHED", "FIN_WAIT_1", "CLOSE / snd FIN,ACK"),
    ],
    ("ESTABLISHED", "FIN"): [("ESTABLISHED", "CLOSE_WAIT", "rcv FIN,ACK / snd ACK")],
    ("FIN-WAIT-1", "ACK of our FIN"): [("FIN_WAIT_1", "FIN_WAIT_2", "rcv ACK / -")],
    ("FIN-WAIT-1", "FIN, our FIN not yet acked (simultaneous close)"): [
        ("FIN_WAIT_1", "CLOSING", "rcv FIN,ACK / snd ACK")
    ],
    ("FIN-WAIT-1", "FIN that also acks our FIN"): [
        ("FIN_WAIT_1", "TIME_WAIT", "rcv FIN,ACK / snd ACK")
    ],
    ("FIN-WAIT-2", "FIN"): [("FIN_WAIT_2", "TIME_WAIT", "rcv FIN,ACK / snd ACK")],
    # RFC 9293 gives FIN-WAIT-2 no timer: no arc (the test checks none leaves on a timeout).
    ("FIN-WAIT-2", "(no timer in RFC 9293; Linux: `tcp_fin_timeout` after close())"): [],
    ("CLOSE-WAIT", "CLOSE"): [("CLOSE_WAIT", "LAST_ACK", "CLOSE / snd FIN,ACK")],
    ("CLOSING", "ACK of our FIN"): [("CLOSING", "TIME_WAIT", "rcv ACK / -")],
    ("LAST-ACK", "ACK of our FIN"): [("LAST_ACK", "CLOSED", "rcv ACK / -")],
    ("TIME-WAIT", "retransmitted FIN"): [("TIME_WAIT", "TIME_WAIT", "rcv FIN,ACK / snd ACK")],
    ("TIME-WAIT", "2MSL timer"): [("TIME_WAIT", "CLOSED", "2MSL timeout / -")],
    ("SYN-RECEIVED, ESTABLISHED, FIN-WAIT-1/2, CLOSE-WAIT", "ABORT"): [
        (s, "CLOSED", "ABORT / snd RST") for s in LOUD
    ],
    ("CLOSING, LAST-ACK, TIME-WAIT", "ABORT"): [
        (s, "CLOSED", "ABORT (quiet) / -") for s in ("CLOSING", "LAST_ACK", "TIME_WAIT")
    ],
    ("ESTABLISHED, FIN-WAIT-1/2, CLOSE-WAIT", "acceptable RST"): [
        (s, "CLOSED", "rcv RST / -") for s in LOUD[1:]
    ],
    ("CLOSING, LAST-ACK", "acceptable RST"): [
        (s, "CLOSED", "rcv RST / -") for s in ("CLOSING", "LAST_ACK")
    ],
    ("TIME-WAIT", "acceptable RST"): [
        ("TIME_WAIT", "CLOSED", "rcv RST / -"),  # RFC 9293 (assassination)
        ("TIME_WAIT", "TIME_WAIT", "rcv RST / -"),  # RFC 1337 F1
    ],
    (
        "SYN-RECEIVED and synchronized states",
        "unacceptable segment (not RST; PAWS-rejected counts)",
    ): [(s, s, "/ snd ACK") for s in SYNCHRONIZED if s != "SYN_RECEIVED"]
    + [("SYN_RECEIVED", "SYN_RECEIVED", "rcv ACK / snd ACK")],
    ("synchronized states", "SYN"): [
        ("ESTABLISHED", "ESTABLISHED", "rcv SYN / snd ACK"),  # RFC 5961 challenge ACK
        ("ESTABLISHED", "CLOSED", "rcv SYN / snd RST"),  # RFC 793
    ],
    ("any", "retransmission timer"): [
        ("SYN_SENT", "SYN_SENT", "retransmission timeout / snd SYN"),
        ("SYN_RECEIVED", "SYN_RECEIVED", "retransmission timeout / snd SYN,ACK"),
        ("ESTABLISHED", "ESTABLISHED", "retransmission timeout / snd ACK+data"),
        ("FIN_WAIT_1", "FIN_WAIT_1", "retransmission timeout / snd FIN,ACK"),
        ("LAST_ACK", "LAST_ACK", "retransmission timeout / snd FIN,ACK"),
    ],
    ("any", "too many retransmissions (R2) or user timeout"): [
        (s, "CLOSED", "R2: give up / -")
        for s in ("SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1", "LAST_ACK")
    ],
    ("any", "host crash (all connection state lost)"): [
        (s, "CLOSED", "CRASH / -") for s in states.STATES if s not in ("CLOSED", "LISTEN")
    ],
}


def domain_rows() -> list[tuple[str, str]]:
    """The (state, event) cells of the state table (a copy kept with the tests)."""
    rows = []
    for line in DOMAIN.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 4 and cells[0] not in ("state", "---"):
            rows.append((cells[0], cells[1]))
    return rows


@cache
def coverage() -> states.Explored:
    return states.coverage_transitions()


def test_every_row_of_the_domain_table_is_in_the_diagram() -> None:
    rows = domain_rows()
    assert len(rows) >= 30
    unmapped = [r for r in rows if r not in ROWS]
    assert not unmapped, f"rows of the state table this test does not map to arcs: {unmapped}"
    labels: dict[tuple[str, str], set[str]] = {}
    for t in coverage().transitions:
        labels.setdefault((t.src, t.dst), set()).add(t.label)
    dot = states.diagram(coverage().transitions)
    missing = []
    for row in rows:
        for src, dst, piece in ROWS[row]:
            lines = labels.get((src, dst), set())
            if not any(piece in line for line in lines):
                missing.append((row, src, dst, piece))
            else:
                # The line is drawn: on the arc's label, or inside the state's box.
                line = next(x for x in sorted(lines) if piece in x)
                drawn = line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                assert line in dot or drawn in dot, line
    assert not missing, "rows without an arc:\n" + "\n".join(map(str, missing))
    fin_wait_2 = {t.event for t in coverage().transitions if t.src == "FIN_WAIT_2"}
    assert not {e for e in fin_wait_2 if "timeout" in e}, fin_wait_2


def test_every_state_change_of_the_diagram_is_allowed_by_rfc9293() -> None:
    from tests.test_connection import ALLOWED, CRASH

    changes = {(t.src, t.dst) for t in coverage().transitions if t.src != t.dst}
    extra = changes - ALLOWED - CRASH - {("LISTEN", "CLOSED")}  # CLOSE in LISTEN (3.10.4)
    assert not extra, f"arcs RFC 9293 does not allow: {sorted(extra)}"
    assert {s for pair in changes for s in pair} == set(states.STATES)


def test_diagram_is_deterministic_and_independent_of_order() -> None:
    ts = list(coverage().transitions)
    one = states.diagram(ts, ["caption"])
    random.Random(7).shuffle(ts)
    assert states.diagram(ts, ["caption"]) == one
    assert one.startswith("digraph tcp_states {")
    for s in states.STATES:
        assert f"\t\t{s} [label=<<TABLE" in one  # each state a node, its label HTML-like


@cache
def fixed_isn_trace() -> Trace:
    spec = load(FIXED_ISN)
    (r,) = check_spec(spec, Options(engine="explicit", only=frozenset({"no-old-data"})))
    assert r.trace is not None
    return r.trace


def test_trace_path_is_numbered_on_the_diagram() -> None:
    trace = fixed_isn_trace()
    path = states.trace_transitions(trace)
    # Every step of an endpoint appears, in order, and the states chain up per endpoint.
    assert [k for k, _ in path] == sorted(k for k, _ in path)
    for end in ("a", "b"):
        mine = [t for _, t in path if t.end == end]
        for t, u in itertools.pairwise(mine):
            assert t.dst == u.src, (t, u)
    dot = states.diagram(coverage().transitions, [], path)
    for k, t in path:
        numbered = re.search(rf"\[[0-9, ]*\b{k}\b[0-9, ]*\] {re.escape(t.label)}", dot)
        assert numbered, f"step {k} ({t.label}) is not numbered"
    assert states.COLOUR["a"] in dot and states.COLOUR["b"] in dot


def test_cli_writes_dot_and_keeps_it_without_graphviz(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trace_file = tmp_path / "t.json"
    trace_file.write_text(itf.dumps(fixed_isn_trace()))
    out = tmp_path / "s.dot"
    r = CliRunner().invoke(
        main,
        [
            "diagram",
            str(FIXED_ISN),
            "--trace",
            str(trace_file),
            "--format",
            "dot",
            "-o",
            str(out),
            "--max-states",
            "20000",
            "-q",
        ],
    )
    assert r.exit_code == 0, r.output
    text = out.read_text()
    assert "fixed-isn: 20,000 states explored of more" in text
    assert "warning" in r.output and "arcs of unexplored states missing" in r.output
    assert "[1, 11] OPEN / snd SYN" in text
    monkeypatch.setattr(shutil, "which", lambda _: None)
    png = tmp_path / "s.png"
    r = CliRunner().invoke(
        main,
        ["diagram", str(FIXED_ISN), "--format", "png", "-o", str(png), "--max-states", "100", "-q"],
    )
    assert r.exit_code == 2
    assert "Graphviz" in r.output and "apt-get install graphviz" in r.output
    assert not png.exists() and (tmp_path / "s.dot").exists()


def test_cli_rejects_bad_inputs(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"states": 3}')
    r = CliRunner().invoke(main, ["diagram", "--trace", str(bad), "--format", "dot", "-q"])
    assert r.exit_code == 2 and "--trace" in r.output and "ITF" in r.output
    r = CliRunner().invoke(main, ["diagram", "--trace", str(tmp_path / "none.json"), "-q"])
    assert r.exit_code == 2 and "cannot read" in r.output
    r = CliRunner().invoke(main, ["diagram", "--variant", "x", "-q"])
    assert r.exit_code == 2 and "--variant needs a SPEC" in r.output
    r = CliRunner().invoke(main, ["diagram", str(ROOT / "specs" / "mutex-naive.toml"), "-q"])
    assert r.exit_code == 2 and "connection" in r.output


@pytest.mark.skipif(not graphviz.available(), reason="Graphviz dot is not installed")
def test_svg_names_every_state() -> None:
    svg = graphviz.render(states.diagram(coverage().transitions), "svg").decode()
    for s in states.STATES:
        assert f">{s}<" in svg
