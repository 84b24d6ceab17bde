"""How each model's traces are drawn: one `Drawing` per model, keyed by the name of its
`System` (`DRAWINGS`), and chosen by the model a trace is a run of (`Trace.model`, set by the
engine that found it), never by the trace's variable names.

A `Drawing` holds the model's diagram (DOT text of a trace and its caption lines), how the
explorer page groups a state's variables into panes, and the segments in flight after each
step (``None``: the model has no segment view).  `chain.is_connection` and
`listen.is_listener` read this registry too (the ``connection`` step table of
`tcpmodel.render.text` is for the ladder's traces).  ``connection`` traces get the ladder
(`tcpmodel.render.ladder`), ``listener`` traces the queue ladder (`tcpmodel.render.listen`);
every other model, and a trace that names none (read back from ITF, built by hand), the chain
of states (`CHAIN`).  A new model's picture is one entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from tcpmodel.results import Shown, Trace

Panes = list[tuple[str, list[str]]]


@dataclass(frozen=True, slots=True)
class Drawing:
    """How one model's traces are drawn (see the module docstring)."""

    name: str
    diagram: Callable[[Trace, Sequence[str]], str]
    panes: Callable[[Mapping[str, Shown]], Panes]
    flight: Callable[[Trace], list[list[str]]] | None = None


def _ladder(trace: Trace, caption: Sequence[str]) -> str:
    from tcpmodel.render.ladder import ladder

    return ladder(trace, caption)


def _listen_ladder(trace: Trace, caption: Sequence[str]) -> str:
    from tcpmodel.render.listen import listen_ladder

    return listen_ladder(trace, caption)


def _chain(trace: Trace, caption: Sequence[str]) -> str:
    from tcpmodel.render.chain import chain

    return chain(trace, caption)


def _all_variables(state: Mapping[str, Shown]) -> Panes:
    return [("variables", list(state))]


def _endpoints(state: Mapping[str, Shown]) -> Panes:
    """The client's variables, the server's, then the other plain ones (the network's
    segments are shown in flight instead)."""
    return [
        ("a (client)", [n for n in state if n.startswith("a.")]),
        ("b (server)", [n for n in state if n.startswith("b.")]),
        ("network and clock", [n for n in state if n[:2] not in ("a.", "b.") and "[" not in n]),
    ]


def _connection_flight(trace: Trace) -> list[list[str]]:
    """The segments in flight after each step, as ``#id a->b <SEQ=..>...`` lines."""
    from tcpmodel.render.flow import flow

    f = flow(trace)
    return [
        [f"#{x.id} {x.direction} {x.label()}" for x in f.in_flight(k)]
        for k in range(len(trace.steps))
    ]


def _listener_flight(trace: Trace) -> list[list[str]]:
    """The client's and the server's segments in flight after each step."""
    from tcpmodel.render.listen import segments

    segs = segments(trace)
    names = {"c": "client->server", "s": "server->client"}
    return [
        [
            f"#{x.id} {names[x.sender]} {x.label()}"
            for x in segs
            if x.sent <= k and (x.end is None or x.end > k)
        ]
        for k in range(len(trace.steps))
    ]


CONNECTION = Drawing("ladder", _ladder, _endpoints, flight=_connection_flight)
LISTENER = Drawing("listen", _listen_ladder, _all_variables, flight=_listener_flight)
CHAIN = Drawing("chain", _chain, _all_variables)

DRAWINGS: dict[str, Drawing] = {"connection": CONNECTION, "listener": LISTENER}
"""Each model's drawing by the name of its `System`; a model not here is drawn as `CHAIN`."""


def of(trace: Trace) -> Drawing:
    """The drawing of ``trace``: its model's, or `CHAIN` (an empty trace too)."""
    if not trace.steps or trace.model is None:
        return CHAIN
    return DRAWINGS.get(trace.model, CHAIN)
