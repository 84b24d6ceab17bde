"""State graphs as `networkx.MultiDiGraph` values, for analysis in one call, and their export.

* `state_graph(system, max_states)`: every reachable state of a (small) configuration.  Node
  ``k`` is the ``k``-th state in breadth-first order, its attributes the state's variables
  (user-facing values: enum names, booleans, integers) plus ``depth`` and ``initial``; one edge
  per transition, keyed by its action label, with ``action`` and ``rule``.  Past
  ``max_states`` states it raises `UsageError` (a graph cut short would answer questions
  wrongly).
* `rfc_graph(system=None)`: the generated RFC 9293 state diagram of the ``connection`` model
  (`tcpmodel.render.states`): nodes are the eleven states, one edge per ``Transition`` (keyed
  by its label, ``rcv SYN / snd SYN,ACK``) with ``event``, ``sends`` and ``end`` (``a``/``b``).
  Without ``system``, the coverage configurations that together take every row of RFC 9293's
  state table, so ``rfc_graph()`` minus a spec's graph is what that spec never exercises.
* `dumps(graph, fmt)`: GraphML, GEXF or node-link JSON text.

The liveness engine keeps its own Tarjan (`tcpmodel.engines.liveness`): it runs on the product
with the automaton, where building a networkx graph would cost more than the search.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import networkx as nx

from tcpmodel.engines.search import trace_step
from tcpmodel.errors import UsageError
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.system import System

FORMATS = ("graphml", "gexf", "json")
DEFAULT_MAX_STATES = 100_000

Graph = Any  # networkx.MultiDiGraph (networkx ships no type information)


def state_graph(
    system: System,
    max_states: int = DEFAULT_MAX_STATES,
    progress: Callable[[int], None] | None = None,
    where: str = "",
) -> Graph:
    """Every reachable state and transition of ``system`` (see the module docstring);
    ``where`` names the configuration in the error past ``max_states``."""
    c = Compiled(system)
    g = nx.MultiDiGraph(name=system.name)
    index: dict[bytes, int] = {}
    frontier = c.initial()
    for s in frontier:
        index[s] = len(index)
        g.add_node(index[s], depth=0, initial=True, **trace_step(c, s, None).state)
    depth = 0
    while frontier:
        depth += 1
        nxt: list[bytes] = []
        for s in frontier:
            for ai, t in c.successors(s):
                if t not in index:
                    if len(index) >= max_states:
                        raise UsageError(
                            f"{where or system.name}: more than {max_states:,} reachable "
                            "states; a state graph is for small configurations: raise "
                            "--max-states or choose smaller parameters"
                        )
                    index[t] = len(index)
                    g.add_node(index[t], depth=depth, initial=False, **trace_step(c, t, None).state)
                    nxt.append(t)
                a = system.actions[ai]
                g.add_edge(index[s], index[t], key=a.label, action=a.label, rule=a.rule)
        if progress is not None:
            progress(len(index))
        frontier = nxt
    return g


def rfc_graph(system: System | None = None, max_states: int | None = None) -> Graph:
    """The generated RFC 9293 state diagram as a graph (see the module docstring)."""
    from tcpmodel.render import states

    found = (
        states.coverage_transitions()
        if system is None
        else states.explore_transitions(system, max_states)
    )
    g = nx.MultiDiGraph(name="RFC 9293 states", complete=found.complete)
    g.add_nodes_from(states.STATES)
    for t in sorted(found.transitions):
        g.add_edge(t.src, t.dst, key=t.label, event=t.event, sends=t.sends, end=t.end)
    return g


def dumps(graph: Graph, fmt: str) -> str:
    """``graph`` as GraphML, GEXF, or node-link JSON (networkx's ``node_link_data``)."""
    if fmt == "json":
        return json.dumps(nx.node_link_data(graph, edges="edges"), indent=1) + "\n"
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt}: expected one of {', '.join(FORMATS)}")
    buf = io.BytesIO()
    if fmt == "graphml":
        nx.write_graphml(graph, buf)
    else:
        nx.write_gexf(graph, buf)
    return buf.getvalue().decode()
