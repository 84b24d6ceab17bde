"""The validate search's memos change no outcome: a search on a `Searcher` that has already
searched other connections (its closures, matches and trace steps remembered) returns exactly
what the same search returns on a fresh one, for conforming connections and for mutants that
diverge; a memo emptied when full changes nothing either; each distinct witness is replayed
once per model."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

import tcpmodel.validate as validate_mod
from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.system import System
from tcpmodel.models.base import ParamValue
from tcpmodel.results import Trace
from tcpmodel.semantics import replay
from tcpmodel.validate import Models, validate
from tcpmodel.validate.abstract import abstract, half_close, parameters
from tcpmodel.validate.capture import Connection, connections, read
from tcpmodel.validate.search import Outcome, Searcher, search

sys.path.insert(0, str(Path(__file__).parent))
from mutate import mutants

HERE = Path(__file__).parent / "captures"
search_mod = importlib.import_module("tcpmodel.validate.search")  # the package exports `search`


@pytest.fixture(scope="module")
def models() -> Models:
    return Models()


def _searches(conn: Connection, models: Models, fresh: bool) -> list[Outcome]:
    """Both capture points' quick searches of ``conn`` in its linux configuration."""
    ab = abstract(conn)
    params = parameters(ab, "linux", half_close(ab))
    _system, sr = models.get(params)
    out = []
    for host in ("a", "b"):
        s = Searcher(sr.system, sr.c) if fresh else sr
        out.append(search(s, list(ab.obs), host, int(params["incarnations"]), 0.2, max_nodes=5000))
    return out


def _mutated(tmp_path: Path) -> list[Connection]:
    conns = []
    for kind, _number, data in mutants(HERE / "basic.pcap"):
        path = tmp_path / f"basic.{kind}.pcap"
        path.write_bytes(data)
        conns += connections(read(path))
    return conns


def test_warm_searches_equal_fresh_ones(tmp_path: Path, models: Models) -> None:
    conns = connections(read(HERE / "many.pcap"))[:12] + _mutated(tmp_path)
    warm = [o for c in conns for o in _searches(c, models, fresh=False)]
    cold = [o for c in conns for o in _searches(c, models, fresh=True)]
    assert warm == cold
    # The comparison covers both kinds of outcome: witnesses and divergences with alternatives.
    assert any(o.matched == 11 for o in warm)
    assert any(o.alternatives for o in warm)
    # The second connection of many.pcap reused the first one's search steps.
    _system, sr = models.get(_params(conns[0]))
    assert sr.closures and sr.matches


def _params(conn: Connection) -> dict[str, ParamValue]:
    ab = abstract(conn)
    return parameters(ab, "linux", half_close(ab))


def test_a_full_memo_is_emptied_and_changes_nothing(
    tmp_path: Path, models: Models, monkeypatch: pytest.MonkeyPatch
) -> None:
    conns = connections(read(HERE / "many.pcap"))[:3] + _mutated(tmp_path)[:3]
    cold = [o for c in conns for o in _searches(c, models, fresh=True)]
    for _system, sr in models.cache.values():
        sr.closures.clear()
        sr.matches.clear()
        sr.memo_size = 0
    # Every step weighs more than 1: each one stored empties what was stored before.
    monkeypatch.setattr(search_mod, "MEMO", 1)
    warm = [o for c in conns for o in _searches(c, models, fresh=False)]
    assert warm == cold
    _system, sr = models.get(_params(conns[0]))
    assert len(sr.closures) + len(sr.matches) == 1 and sr.memo_size >= 1


def test_each_distinct_witness_is_replayed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def counting(system: System, trace: Trace, compiled: Compiled | None = None) -> None:
        calls.append(1)
        replay(system, trace, compiled)

    monkeypatch.setattr(validate_mod, "replay", counting)
    verdicts = validate([HERE / "many.pcap", HERE / "basic.pcap"], models=Models())
    assert all(v.verdict == "conforms" and v.trace is not None for v in verdicts)
    distinct = {(v.config, tuple(s.state.items() for s in v.trace.steps).__repr__())
                for v in verdicts if v.trace is not None}  # fmt: skip
    assert len(calls) == len(distinct) < len(verdicts)
