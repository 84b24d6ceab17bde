"""Concrete semantics for replaying traces.

`replay(system, trace)` checks, independently of the engine that produced ``trace``, that its
first state is initial and that each later state is what the named action produces from the
state before it.  Every trace an engine reports passes through here before it is shown, and a
failure is a `ReplayError`: an internal soundness failure, never a user error.
"""

from __future__ import annotations

from collections.abc import Mapping

from tcpmodel.errors import ReplayError
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.system import System, Value
from tcpmodel.kernel.types import EnumType
from tcpmodel.results import Shown, Trace


def values_of(system: System, state: Mapping[str, Shown]) -> tuple[Value, ...]:
    """A shown state (enum names, ...) as the tuple of values in variable order."""
    out: list[Value] = []
    for v in system.variables:
        if v.name not in state:
            raise ReplayError(f"state lacks variable {v.name}")
        x = state[v.name]
        if isinstance(v.vtype, EnumType):
            out.append(v.vtype.index(str(x)))
        else:
            out.append(x if isinstance(x, bool) else int(x))
    return tuple(out)


def replay(system: System, trace: Trace, compiled: Compiled | None = None) -> None:
    c = compiled or Compiled(system)
    if not trace.steps:
        raise ReplayError("empty trace")
    states = [c.encode(values_of(system, s.state)) for s in trace.steps]
    if states[0] not in set(c.initial()):
        raise ReplayError("the trace does not start in an initial state")
    labels = [a.label for a in system.actions]
    for k in range(1, len(states)):
        want = trace.steps[k].action
        succ = [(labels[ai], t) for ai, t in c.successors(states[k - 1])]
        if not any(lab == want and t == states[k] for lab, t in succ):
            raise ReplayError(
                f"step {k}: action {want!r} does not lead from step {k - 1} to step {k}"
            )
    if trace.loop is not None:
        last = states[-1]
        succ_states = {t for _, t in c.successors(last)}
        if states[trace.loop] not in succ_states and states[trace.loop] != last:
            raise ReplayError(f"the lasso does not close: no step back to state {trace.loop}")
