"""Model parameters reach a model by one route, and the models' transition systems are pinned.

* The ``connection`` and ``listener`` models declare their parameters once, as frozen
  dataclasses (`ConnectionParams`, `ListenerParams`); the schema the spec loader validates
  against is generated from them, and ``build`` reads only the typed object (no module of
  `tcpmodel.tcp` looks a parameter up by name).
* Every bundled spec configuration's transition system is pinned by its fingerprint
  (`tcpmodel.proofs.model_sha256`, the first 16 hex digits): a refactoring of a model changes
  none, so every verdict, state count and trace stays.  A deliberate change to a model changes
  some; the failure lists each configuration with its new value to paste here.
"""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from tcpmodel.errors import ModelError
from tcpmodel.models import MODELS
from tcpmodel.models.base import schema
from tcpmodel.proofs import model_sha256
from tcpmodel.spec import load
from tcpmodel.tcp.listener_params import ListenerParams
from tcpmodel.tcp.params import LINUX, ConnectionParams

ROOT = Path(__file__).resolve().parent.parent
TYPED: dict[str, type[ConnectionParams] | type[ListenerParams]] = {
    "connection": ConnectionParams,
    "listener": ListenerParams,
}


@pytest.mark.parametrize("model", sorted(TYPED))
def test_the_schema_is_generated_from_the_dataclass(model: str) -> None:
    cls = TYPED[model]
    m = MODELS[model]
    assert m.params == schema(cls)
    assert [p.name for p in m.params] == [f.name for f in fields(cls)]
    assert cls.of(m.defaults()) == cls()
    for p in m.params:
        # a default the schema itself accepts, of the field's kind
        assert p.problem(p.default) is None, p.name


def test_values_and_the_profile_reach_the_typed_object() -> None:
    defaults = MODELS["connection"].defaults()
    p = ConnectionParams.of({**defaults, "window": 3, "rto": 4, "rto_max": 2})
    assert (p.window, p.rto, p.rto_cap) == (3, 4, 4)
    assert p.time_wait_ticks == 2 * p.msl
    linux = ConnectionParams.of({**defaults, **LINUX})
    # TCP_TIMEWAIT_LEN (60 s) in ticks of 15 s; tcp_fin_timeout only after close()
    assert (linux.time_wait_ticks, linux.fin_timeout_ticks) == (4, 0)
    closed = ConnectionParams.of({**defaults, **LINUX, "close_mode": "close"})
    assert closed.fin_timeout_ticks == 4
    assert ListenerParams.of({"attack_budget": 5}).attack_budget == 5


@pytest.mark.parametrize(
    ("over", "words"),
    [
        ({"time_wait": "linux", "tick_seconds": 7}, "set tick_seconds to a divisor of 60"),
        ({"fin_timeout": "linux", "close_mode": "close"}, "divisor of 60 (the length"),
        ({"tw_reuse": True, "time_wait": 0}, "set time_wait above 0"),
        ({"attacker": "offpath", "seq_bits": 9}, "set seq_bits <= 8"),
        ({"isn_secret": "any", "seq_bits": 9}, "set seq_bits <= 8"),
        ({"attacker": "offpath", "data": 0}, "set data >= 1"),
        ({"tw_recycle": True, "tick_seconds": 15}, "set timestamps = true"),
        ({"tw_recycle": True, "timestamps": True}, 'set syn_in_time_wait = "linux"'),
        (
            {"tw_recycle": True, "timestamps": True, "syn_in_time_wait": "linux"},
            "TCP_PAWS_MSL = 60 s; set tick_seconds",
        ),
    ],
)
def test_parameters_that_do_not_fit_are_refused_when_built(
    over: dict[str, int | bool | str], words: str
) -> None:
    with pytest.raises(ModelError, match=re.escape(words)):
        ConnectionParams.of(over)
    with pytest.raises(ModelError, match=re.escape(words)):
        MODELS["connection"].build({**MODELS["connection"].defaults(), **over})


def test_listener_horizon_check() -> None:
    with pytest.raises(ModelError, match="client_start 4 must be below horizon 4"):
        ListenerParams(client_start=4, horizon=4)


def test_no_tcp_module_reads_a_parameter_by_name() -> None:
    by_name = re.compile(r"""\b(p|params|values)\[["']""")
    for path in sorted((ROOT / "tcpmodel" / "tcp").glob("*.py")):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            assert not by_name.search(line), f"{path.name}:{n}: {line.strip()}"
            assert "Knobs" not in line, f"{path.name}:{n}: {line.strip()}"


# (spec, variant): the first 16 hex digits of the configuration's model_sha256.
FINGERPRINTS: dict[tuple[str, str | None], str] = {
    ("abort-reconnect", None): "2f57a11c02794914",
    ("accept-overflow", None): "91698869b00107c1",
    ("accept-overflow", "no-abort"): "63b2b3013434cc70",
    ("alternating-bit", None): "d7686ffc04198ae1",
    ("alternating-bit", "reordering"): "020bb2299fe4ceb4",
    ("crash-reconnect", None): "31cbe40b0f046cf0",
    ("crash-reconnect", "no-quiet-time"): "cd7d163361811e59",
    ("fixed-isn-32bit", None): "70259ea1e0f0ded9",
    ("fixed-isn", None): "beedac188c336b07",
    ("isn-attack", None): "befddb11e484fd51",
    ("isn-attack", "keyed"): "6feae20a54d5f6f5",
    ("isn-attack", "fixed"): "8db44b7486297681",
    ("isn-attack", "client-answers"): "828976b11efa6f09",
    ("mutex-naive", None): "f721954fb62193d3",
    ("mutex-peterson", None): "2a192ca3b8d0da66",
    ("no-time-wait", None): "867af71574e7feb7",
    ("no-time-wait", "time-wait-2msl"): "97381e7458e19044",
    ("request-response", None): "8c820234538ee74b",
    ("request-response", "shutdown"): "fddcd8f7a67448ac",
    ("request-response", "old-pong"): "45927616a020eadd",
    ("rfc9293-32bit", None): "1cf98fa314dd93ec",
    ("rfc9293-32bit", "keyed"): "45448bf3d63f8386",
    ("rfc9293-32bit", "linux"): "2a013cca0768f50c",
    ("rfc9293", None): "21adcbe43024a333",
    ("rfc9293", "simultaneous-open"): "961b7c28a05ad8e0",
    ("rfc9293", "server-closes-first"): "4ac38fa6c7239861",
    ("server-time-wait", None): "2e93cbb14dcb8ea2",
    ("short-time-wait", None): "6d3251bcfe5659bc",
    ("simultaneous-close", None): "f60fb2429608c6d1",
    ("simultaneous-close", "no-fairness"): "f60fb2429608c6d1",
    ("simultaneous-close", "no-fin-retransmission"): "aaba0104ef3a5c4a",
    ("simultaneous-close", "retry-limit"): "05268fca02c0bd9a",
    ("simultaneous-close", "fin-timeout"): "8911dd1ee0bb89b4",
    ("simultaneous-close", "one-segment-window"): "d3c02f4c105bf47a",
    ("syn-flood-cookies", None): "d8d517768f608999",
    ("syn-flood-cookies", "lost-ack"): "6a72213e4aeb0ffe",
    ("syn-flood-cookies", "by-horizon"): "4c271886db462895",
    ("syn-flood", None): "8aba83a0c83086eb",
    ("syn-flood", "by-horizon"): "af53baea00e81e6e",
    ("synack-timeout", None): "8adb7f3d901c9ba8",
    ("synack-timeout", "synack-retries-2"): "71de8ed3ba8a621e",
    ("tw-recycle-nat", None): "677622b622796598",
    ("tw-recycle-nat", "no-nat"): "5eba27f18cb82eca",
    ("tw-reuse-no-ts", None): "6a9ed3c3cfc596d1",
    ("tw-reuse", None): "65586106a5471d54",
    ("twa-f1", None): "97381e7458e19044",
    ("twa", None): "33c28abcd432838f",
}


@pytest.mark.slow
def test_every_bundled_configuration_is_pinned() -> None:
    got = {
        (f.stem, c.variant): model_sha256(c.system)[:16]
        for f in sorted((ROOT / "specs").glob("*.toml"))
        for c in load(f).configurations
    }
    changed = [
        f"    {key!r}: {value!r},".replace("'", '"').replace('"None"', "None")
        for key, value in got.items()
        if FINGERPRINTS.get(key) != value
    ]
    assert not changed, "transition systems changed (new values):\n" + "\n".join(changed)
    assert set(got) == set(FINGERPRINTS)
