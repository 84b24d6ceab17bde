"""``tcpmodel validate``: real packet captures checked against the ``connection`` model.

Data flow: `capture.read` (dpkt) → `capture.connections` (4-tuple, incarnations) →
`abstract.abstract` (roles, units, numbers relative to each ISN) → `abstract.parameters` (the
model configuration, chosen from the capture) → `search.search` (the trace-guided search over
the compiled model's own transitions, for the capture at ``a`` and at ``b``) → a `Verdict` per
connection: ``conforms`` with a witness trace that `tcpmodel.semantics.replay` accepted
(each distinct witness replayed once per compiled model),
``diverges`` at the first segment no execution explains, or ``unknown`` when a bound or the
abstraction stopped the search.  Pure: nothing here prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from tcpmodel.errors import UsageError
from tcpmodel.interrupt import Interrupt
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.system import System
from tcpmodel.models.base import ParamValue
from tcpmodel.results import Trace
from tcpmodel.semantics import replay
from tcpmodel.validate.abstract import (
    Abstraction,
    Unmappable,
    abstract,
    describe,
    half_close,
    parameters,
)
from tcpmodel.validate.capture import Connection, read
from tcpmodel.validate.search import Alternative, Outcome, Searcher, search
from tcpmodel.validate.successors import MODES, Mode, Successors

Kind = Literal["conforms", "diverges", "unknown"]
PROFILES = ("linux", "rfc9293")
# The shortest real time a model tick stands for under each profile: with "linux" a tick of
# the retransmission timer is an RTO, at least Linux's TCP_RTO_MIN of 200 ms; rfc9293 gives
# a tick no length, so time does not bound the ticks (only the search's own bound does).
TICK_SECONDS: dict[str, float | None] = {"linux": 0.2, "rfc9293": None}
QUICK_NODES = 5_000
CAPACITIES = (2, 3)  # segments in flight per direction: the smaller first, compiled faster
MAX_NODES = 200_000  # model states in the closure before one segment


@dataclass
class Verdict:
    file: str
    connection: str
    incarnations: int
    segments: int
    verdict: Kind
    reason: str = ""
    host: str = ""  # "a" or "b": where the capture was taken, as the search found
    config: str = ""
    params: dict[str, ParamValue] = field(default_factory=dict)
    trace: Trace | None = None
    obs_step: dict[int, int] = field(default_factory=dict)
    divergent: int | None = None  # index of the packet in the connection
    pairs: list[tuple[str, str]] = field(default_factory=list)
    alternatives: list[Alternative] = field(default_factory=list)
    conn: Connection | None = None
    abstraction: Abstraction | None = None
    seconds: float = 0.0
    model: Compiled | None = None  # the compiled model of ``trace`` (for the explorer page)

    @property
    def exit_code(self) -> int:
        return {"conforms": 0, "diverges": 1, "unknown": 3}[self.verdict]


class Models:
    """Compiled models by configuration: a capture of many connections compiles once.
    ``successors``: which successor function the searches use (`successors.Successors`)."""

    def __init__(self, successors: Mode = "auto") -> None:
        if successors not in MODES:
            raise UsageError(f"--successors {successors}: expected one of {', '.join(MODES)}")
        self.successors = successors
        self.cache: dict[tuple[tuple[str, ParamValue], ...], tuple[System, Searcher]] = {}

    def get(self, params: dict[str, ParamValue]) -> tuple[System, Searcher]:
        key = tuple(sorted(params.items()))
        if key not in self.cache:
            from tcpmodel.models import MODELS

            model = MODELS["connection"]
            full = {p.name: p.default for p in model.params}
            full.update(params)
            system = model.build(full)
            compiled = Compiled(system)
            fn = Successors(system, compiled, self.successors)
            self.cache[key] = (system, Searcher(system, compiled, fn))
        return self.cache[key]

    def notes(self) -> list[str]:
        """Why the C successor function was not used, once per reason (``native`` and
        ``auto`` modes that fell back to the Python one)."""
        return list(dict.fromkeys(sr.fn.note for _, sr in self.cache.values() if sr.fn.note))

    def release(self) -> None:
        """Detach the C compilations still running (they fill the cache for the next run)."""
        for _system, sr in self.cache.values():
            sr.fn.release()


def validate(
    paths: Sequence[str | Path],
    profile: str = "linux",
    spec: str | None = None,
    models: Models | None = None,
    stop: Interrupt | None = None,
    successors: Mode = "auto",
) -> list[Verdict]:
    """One verdict per connection of every capture in ``paths`` (`CaptureError`: unreadable);
    ``models`` keeps compiled models between calls (``successors``, the successor function's
    mode, is for a new one: `Models`).  Once ``stop`` is requested, each connection not yet
    searched is `unknown` (interrupted), and the verdicts found are kept.  A compilation of a
    configuration's C started meanwhile is detached at the end (`Models.release`)."""
    if profile not in PROFILES:
        raise UsageError(f"--profile {profile}: expected one of {', '.join(PROFILES)}")
    overrides = _spec_params(spec) if spec else {}
    models = models or Models(successors)
    try:
        return _validate_all(paths, profile, overrides, models, stop)
    finally:
        models.release()


def _validate_all(
    paths: Sequence[str | Path],
    profile: str,
    overrides: dict[str, ParamValue],
    models: Models,
    stop: Interrupt | None,
) -> list[Verdict]:
    import time

    out: list[Verdict] = []
    for path in paths:
        packets = read(path)
        from tcpmodel.validate.capture import connections

        for conn in connections(packets):
            if stop is not None and stop.requested:
                reason = f"interrupted ({stop.cause}) before this connection was searched"
                out.append(
                    Verdict(
                        str(path),
                        conn.name,
                        conn.incarnations,
                        len(conn.packets),
                        "unknown",
                        reason,
                        conn=conn,
                    )
                )
                continue
            t0 = time.perf_counter()
            v = _validate(str(path), conn, profile, overrides, models)
            v.seconds = time.perf_counter() - t0
            out.append(v)
    return out


def _spec_params(spec: str) -> dict[str, ParamValue]:
    from tcpmodel.spec import load

    s = load(Path(spec))
    if s.model.name != "connection":
        raise UsageError(f"--spec {spec}: model {s.model.name}; validate needs a connection spec")
    return dict(s.params)


def _validate(
    file: str,
    conn: Connection,
    profile: str,
    overrides: dict[str, ParamValue],
    models: Models,
) -> Verdict:
    base = Verdict(file, conn.name, conn.incarnations, len(conn.packets), "unknown", conn=conn)
    try:
        ab = abstract(conn)
    except Unmappable as e:
        base.reason = str(e)
        return base
    base.abstraction = ab
    best: tuple[Outcome, str, dict[str, ParamValue], System, Searcher] | None = None
    # The smallest configuration first: a channel of 2 segments compiles and searches fastest.
    close_mode = half_close(ab)
    for capacity in CAPACITIES:
        try:
            params = parameters(ab, profile, close_mode)
            params["capacity"] = capacity
        except Unmappable as e:
            base.reason = str(e)
            return base
        params.update(overrides)
        system, sr = models.get(params)
        # A quick pass with a small bound per host first: the wrong capture point usually
        # fails within a few segments, the right one rarely needs many states.
        cut = {"a": True, "b": True}
        for bound in (QUICK_NODES, MAX_NODES):
            for host in ("a", "b"):
                if not cut[host]:
                    continue  # the quick pass was conclusive for this capture point
                incs = int(params["incarnations"])
                o = search(sr, list(ab.obs), host, incs, TICK_SECONDS[profile], max_nodes=bound)
                if o.matched == len(ab.obs):
                    return _conforms(base, o, host, params, system, sr)
                cut[host] = bool(o.cut)
                if (
                    best is None
                    or o.matched > best[0].matched
                    or (o.matched == best[0].matched and best[0].cut and not o.cut)
                ):
                    best = (o, host, params, system, sr)
    assert best is not None
    o, host, params, system, sr = best
    base.host = host
    base.params = params
    base.config = describe(params)
    base.trace = _trace(sr, o)
    base.model = sr.c
    base.obs_step = o.obs_step
    base.divergent = o.matched
    base.pairs = o.pairs
    base.alternatives = o.alternatives
    if o.cut:
        base.verdict = "unknown"
        base.reason = f"search bound reached: {o.cut}"
    else:
        base.verdict = "diverges"
        p = conn.packets[o.matched]
        base.reason = f"packet {p.number} ({ab.obs[o.matched].sender}) is explained by no execution"
    return base


def _conforms(
    v: Verdict, o: Outcome, host: str, params: dict[str, ParamValue], system: System, sr: Searcher
) -> Verdict:
    trace = _trace(sr, o)
    # The same witness replays the same way: each distinct one is replayed once per model.
    key = tuple(o.path)
    if key not in sr.replayed:
        replay(system, trace, sr.c)
        sr.replayed.add(key)
    v.verdict = "conforms"
    v.host = host
    v.params = params
    v.config = describe(params)
    v.trace = trace
    v.model = sr.c
    v.obs_step = o.obs_step
    return v


def _trace(sr: Searcher, o: Outcome) -> Trace:
    return Trace(tuple(sr.step(s, ai) for s, ai in o.path), model=sr.c.system.name)


def exit_code(verdicts: Sequence[Verdict]) -> int:
    if any(v.verdict == "diverges" for v in verdicts):
        return 1
    if any(v.verdict == "unknown" for v in verdicts):
        return 3
    return 0
