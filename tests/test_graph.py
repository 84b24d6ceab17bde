"""State graphs as networkx graphs: counts equal the explorer's, the RFC diagram's arcs, the
analysis examples of the README, export round trips, and the liveness engine's own Tarjan
against networkx on random graphs."""

from __future__ import annotations

import io
import json
from pathlib import Path

import networkx as nx
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from tcpmodel.cli import main
from tcpmodel.engines.explicit import explore
from tcpmodel.engines.liveness import _sccs
from tcpmodel.errors import UsageError
from tcpmodel.graph import dumps, rfc_graph, state_graph
from tcpmodel.spec import load
from tests.specfile import write_spec
from tests.test_cli import SPECS


@pytest.mark.parametrize("name", ["mutex-peterson", "mutex-naive", "alternating-bit"])
def test_state_graph_has_the_explorers_states_and_transitions(name: str) -> None:
    system = load(SPECS / f"{name}.toml").configurations[0].system
    _, stats = explore(system, [])  # no property: the whole state space
    g = state_graph(system)
    assert stats.complete
    assert g.number_of_nodes() == stats.states
    assert g.number_of_edges() == stats.transitions
    assert [n for n, d in g.nodes(data=True) if d["initial"]] == list(range(len(system.init)))
    # BFS depths: every edge goes at most one level down
    assert all(g.nodes[v]["depth"] <= g.nodes[u]["depth"] + 1 for u, v in g.edges())


def test_mutual_exclusion_read_off_the_graph() -> None:
    naive = state_graph(load(SPECS / "mutex-naive.toml").configurations[0].system)
    peterson = state_graph(load(SPECS / "mutex-peterson.toml").configurations[0].system)

    def both_crit(g: nx.MultiDiGraph) -> list[int]:
        return [n for n, d in g.nodes(data=True) if d["p0.pc"] == d["p1.pc"] == "CRIT"]

    assert both_crit(peterson) == []
    bad = both_crit(naive)
    assert bad and nx.shortest_path_length(naive, 0, bad[0]) == 6  # the 6-step counterexample


def test_state_graph_refuses_past_the_bound() -> None:
    system = load(SPECS / "twa.toml").configurations[0].system
    with pytest.raises(UsageError, match=r"more than 1,000 reachable states"):
        state_graph(system, max_states=1000)


def test_rfc_graph_covers_figure_5_and_answers_the_teaching_questions(tmp_path: Path) -> None:
    full = rfc_graph()
    assert {"CLOSED", "LISTEN", "TIME_WAIT", "CLOSING"} <= set(full.nodes)
    for arc in [
        ("CLOSED", "SYN_SENT"),
        ("LISTEN", "SYN_RECEIVED"),
        ("SYN_SENT", "ESTABLISHED"),
        ("ESTABLISHED", "FIN_WAIT_1"),
        ("FIN_WAIT_1", "CLOSING"),
        ("FIN_WAIT_2", "TIME_WAIT"),
        ("TIME_WAIT", "CLOSED"),
    ]:
        assert full.has_edge(*arc), arc
    # every simple path from CLOSED to TIME_WAIT passes through ESTABLISHED or SYN_RECEIVED's
    # FIN (no shortcut past the handshake)
    paths = list(nx.all_simple_paths(nx.DiGraph(full), "CLOSED", "TIME_WAIT"))
    assert paths and all("FIN_WAIT_1" in p or "CLOSING" in p for p in paths)
    # which transitions of RFC 9293's table a small spec (no user calls but OPEN and CLOSE)
    # never exercises
    spec = write_spec(
        tmp_path / "s.toml",
        "s",
        {"incarnations": 1, "loss": 0, "duplicate": 0, "data": 1, "isn": "fixed"},
        [{"name": "handshake", "expect": "reachable"}],
    )
    mine = rfc_graph(load(spec).configurations[0].system)
    never = {(u, v) for u, v in full.edges()} - {(u, v) for u, v in mine.edges()}
    assert {("LISTEN", "SYN_SENT"), ("SYN_SENT", "CLOSED")} <= never
    assert not {(u, v) for u, v in mine.edges()} - {(u, v) for u, v in full.edges()}


@pytest.mark.parametrize("fmt", ["graphml", "gexf", "json"])
def test_exports_read_back(fmt: str) -> None:
    g = state_graph(load(SPECS / "mutex-naive.toml").configurations[0].system)
    text = dumps(g, fmt)
    if fmt == "graphml":
        back = nx.read_graphml(io.BytesIO(text.encode()))
    elif fmt == "gexf":
        back = nx.read_gexf(io.BytesIO(text.encode()))
    else:
        back = nx.node_link_graph(json.loads(text), edges="edges")
    assert back.number_of_nodes() == g.number_of_nodes()
    assert back.number_of_edges() == g.number_of_edges()
    if fmt == "json":
        assert dict(back.nodes[0]) == dict(g.nodes[0])


def test_cli_graph(tmp_path: Path) -> None:
    out = tmp_path / "g.json"
    r = CliRunner().invoke(
        main, ["graph", str(SPECS / "mutex-naive.toml"), "--format", "json", "-o", str(out)]
    )
    assert r.exit_code == 0, r.output
    assert "16 nodes, 30 edges" in r.stdout
    assert len(json.loads(out.read_text())["nodes"]) == 16
    r = CliRunner().invoke(main, ["graph", str(SPECS / "twa.toml"), "--max-states", "500"])
    assert r.exit_code == 2
    assert "twa.toml: more than 500 reachable states" in r.stderr
    r = CliRunner().invoke(main, ["graph", str(SPECS / "mutex-naive.toml"), "--variant", "x"])
    assert r.exit_code == 2 and "no such variant" in r.stderr


@st.composite
def graphs(draw: st.DrawFn) -> tuple[int, list[list[tuple[int, int]]], set[int] | None]:
    n = draw(st.integers(1, 14))
    edges: list[list[tuple[int, int]]] = [
        [(draw(st.integers(0, 3)), t) for t in draw(st.lists(st.integers(0, n - 1), max_size=4))]
        for _ in range(n)
    ]
    allowed = draw(st.none() | st.sets(st.integers(0, n - 1)))
    return n, edges, allowed


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_liveness_sccs_equal_networkx(
    g: tuple[int, list[list[tuple[int, int]]], set[int] | None],
) -> None:
    n, edges, allowed = g
    keep = set(range(n)) if allowed is None else allowed
    ref = nx.DiGraph()
    ref.add_nodes_from(keep)
    ref.add_edges_from((u, v) for u in keep for _, v in edges[u] if v in keep)
    want = {
        frozenset(c)
        for c in nx.strongly_connected_components(ref)
        if len(c) > 1 or any(ref.has_edge(v, v) for v in c)
    }
    got = _sccs(n, edges, allowed)
    assert {frozenset(c) for c in got} == want
    assert all(c == sorted(c) for c in got)
