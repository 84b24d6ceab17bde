"""``exists_forall(S, K, p)`` games, decided by an explorer: one strategy value for every
secret value.

The strategy and secret variables never change, so the reachable states split by the initial
state's strategy: `exists_forall` explores the states of each strategy once (the system
restricted to that strategy's initial states, compiled code shared), with one
``reachable(p and K == k)`` per secret value ``k``, and answers ``reachable`` only when one
strategy reaches ``p`` under every secret, with a shortest witness for that strategy and the
strategy in ``Outcome.strategy``; a strategy that wins for some secrets only is a lucky guess,
and the verdict is ``unreachable``, its reason naming the best strategy and how many secrets it
wins.  A bound or an interrupt before every pair is decided gives ``unknown``.  The explorer is
given as its run function (`tcpmodel.engines.registry.Engine`): only engines whose state sets
are exact (the registry's ``games``) may decide it.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

from tcpmodel.engines.registry import Engine
from tcpmodel.engines.search import NOT_STARTED, Bounds, ProgressFn, interrupted, remaining
from tcpmodel.formula import Property
from tcpmodel.kernel import expr as E
from tcpmodel.kernel.cgen import MAX_PREDICATES
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.system import System, Value, Variable
from tcpmodel.kernel.types import EnumType, show
from tcpmodel.results import Outcome, Stats, Trace


def exists_forall(
    system: System,
    prop: Property,
    run: Engine,
    bounds: Bounds | None = None,
    progress: ProgressFn | None = None,
    compiled: Compiled | None = None,
) -> tuple[Outcome, Stats]:
    """Decide ``exists_forall(S, K, p)`` (see the module docstring) with the explorer's
    ``run``; ``bounds`` apply to all the strategies' explorations together."""
    # Each strategy's exploration counts states per strategy: explored in full, no partial-order
    # reduction (`tcpmodel.kernel.por`), so the figures match the native engine's.
    bounds = dataclasses.replace(bounds or Bounds(), por=False)
    strat_vars = [system.var(n) for n in prop.strategy]
    secret_vars = [system.var(n) for n in prop.secret]

    def project(state: Sequence[Value], vs: Sequence[Variable]) -> tuple[Value, ...]:
        return tuple(state[system.index[v.name]] for v in vs)

    strategies = sorted(dict.fromkeys(project(s, strat_vars) for s in system.init))
    secrets = sorted(dict.fromkeys(project(s, secret_vars) for s in system.init))
    base = compiled or Compiled(system)
    start = time.monotonic()
    totals = Stats(complete=True)
    # per strategy: the secrets it wins, with a shortest witness each
    wins: dict[tuple[Value, ...], dict[tuple[Value, ...], Trace]] = {s: {} for s in strategies}
    stop = ""  # why some (strategy, secret) pair is undecided
    # One predicate per (strategy, secret) pair, at most MAX_PREDICATES per exploration (the
    # native engine's limit): strategies in groups, each group's states explored once (more
    # than MAX_PREDICATES secrets: once per slice of them).
    size = max(1, MAX_PREDICATES // len(secrets))
    for g in range(0, len(strategies), size):
        group = strategies[g : g + size]
        init = tuple(s for s in system.init if project(s, strat_vars) in group)
        restricted = dataclasses.replace(system, init=init)
        sub_compiled = Compiled(restricted, same_code_as=base)  # other initial states only
        for lo in range(0, len(secrets), MAX_PREDICATES):
            pairs = [(strat, sec) for strat in group for sec in secrets[lo : lo + MAX_PREDICATES]]
            subs = [
                Property(
                    f"{prop.name}#{k}",
                    "reachable",
                    E.and_(
                        prop.predicate,
                        *(_is(v, x) for v, x in zip(strat_vars, strat, strict=True)),
                        *(_is(v, x) for v, x in zip(secret_vars, sec, strict=True)),
                    ),
                    prop.formula,
                )
                for k, (strat, sec) in enumerate(pairs)
            ]
            left = remaining(bounds, totals.states, time.monotonic() - start)
            if interrupted(bounds):
                stop = stop or NOT_STARTED
                totals = dataclasses.replace(totals, complete=False)
                break
            if left is None:
                stop = stop or "a bound was reached before every strategy was explored"
                totals = dataclasses.replace(totals, complete=False)
                break
            got, st = run(restricted, subs, left, progress, sub_compiled)
            totals = Stats(
                states=totals.states + st.states,
                transitions=totals.transitions + st.transitions,
                depth=max(totals.depth, st.depth),
                seconds=time.monotonic() - start,
                peak_memory_mb=max(totals.peak_memory_mb, st.peak_memory_mb),
                complete=totals.complete and st.complete,
            )
            for sub, (strat, sec) in zip(subs, pairs, strict=True):
                o = got[sub.name]
                if o.verdict == "reachable" and o.trace is not None:
                    wins[strat][sec] = o.trace
                elif o.verdict == "unknown":
                    stop = stop or o.reason
    return _game_verdict(strat_vars, secret_vars, strategies, secrets, wins, stop), totals


def _is(v: Variable, value: Value) -> E.Expr:
    """``v == value`` for a value as the state holds it (an enum by its code)."""
    if isinstance(v.vtype, EnumType):
        return E.eq(v.ref, E.enum_const(v.vtype, v.vtype.values[int(value)]))
    return v.ref.eq(value)


def _game_verdict(
    strat_vars: Sequence[Variable],
    secret_vars: Sequence[Variable],
    strategies: Sequence[tuple[Value, ...]],
    secrets: Sequence[tuple[Value, ...]],
    wins: dict[tuple[Value, ...], dict[tuple[Value, ...], Trace]],
    stop: str,
) -> Outcome:
    """The verdict of an ``exists_forall`` property from what each strategy won."""

    def fmt(vs: Sequence[Variable], vals: tuple[Value, ...]) -> str:
        return ", ".join(f"{v.name}={show(v.vtype, x)}" for v, x in zip(vs, vals, strict=True))

    secret_names = ", ".join(v.name for v in secret_vars)
    n, m = len(secrets), len(strategies)
    winners = [s for s in strategies if len(wins[s]) == n]
    if winners:
        # the winner with the shortest witness, and that witness (the first secret of its length)
        best, trace, sec = min(
            ((s, t, k) for s in winners for k, t in wins[s].items()),
            key=lambda x: len(x[1]),
        )
        return Outcome(
            "reachable",
            trace,
            strategy={v.name: show(v.vtype, x) for v, x in zip(strat_vars, best, strict=True)},
            reason=f"the strategy {fmt(strat_vars, best)} succeeds for all {n} values of "
            f"{secret_names} ({len(winners)} of the {m} strategies win); the trace shows "
            f"{fmt(secret_vars, sec)}",
        )
    top = max(strategies, key=lambda s: len(wins[s]), default=None)
    best_text = (
        f"the best, {fmt(strat_vars, top)}, succeeds for {len(wins[top])} of the {n} values of "
        f"{secret_names}"
        if top is not None
        else "no strategy was explored"
    )
    if stop:
        return Outcome(
            "unknown",
            reason=f"{stop}; no strategy yet succeeds for every secret ({best_text} so far)",
        )
    lucky = " (a lucky guess, not an attack)" if top is not None and wins[top] else ""
    return Outcome(
        "unreachable",
        reason=f"no strategy succeeds for every secret: {best_text}{lucky}; "
        f"{m} strategies explored",
    )
