"""The parameters of the ``listener`` model (`tcpmodel.tcp.listener`), typed, with their
defaults and their cross-checks; the model's schema (``PARAMS``) is generated from the fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tcpmodel.errors import ModelError
from tcpmodel.models.base import ParamValue, param, values_of


@dataclass(frozen=True, slots=True)
class ListenerParams:
    """Every parameter of the ``listener`` model, typed, with its default; the model's schema
    (`PARAMS`) is generated from these fields."""

    backlog: int = param(
        2,
        "request entries the listener keeps (half-open connections)",
        1,
        4,
    )
    accept_backlog: int = param(
        2,
        "established connections the accept queue holds",
        1,
        4,
    )
    synack_retries: int = param(
        2,
        "Linux tcp_synack_retries: SYN,ACK retransmissions",
        0,
        6,
    )
    syn_retries: int = param(
        2,
        "Linux tcp_syn_retries: the client's SYN retransmissions",
        0,
        6,
    )
    syncookies: bool = param(
        True,
        "Linux tcp_syncookies: answer a full queue with a cookie",
    )
    abort_on_overflow: bool = param(
        False,
        "Linux tcp_abort_on_overflow: answer a final ACK that meets a full accept queue with RST",
    )
    accept_rate: int = param(
        1,
        "the application accept()s every N ticks (0: never)",
        0,
        16,
    )
    other_clients: int = param(
        0,
        "other clients' connections that join the accept queue",
        0,
        3,
    )
    attack_rate: int = param(
        1,
        "spoofed SYNs per tick, at most",
        0,
        4,
    )
    attack_budget: int | str = param(
        "unlimited",
        "spoofed SYNs in all",
        0,
        64,
        choices=("unlimited",),
    )
    client_start: int = param(
        0,
        "the tick at which the client calls connect()",
        0,
        127,
    )
    horizon: int = param(
        10,
        "ticks a run lasts (0: unbounded, for liveness)",
        0,
        128,
    )
    capacity: int = param(
        2,
        "segments in flight per direction",
        1,
        4,
    )
    loss: int = param(
        0,
        "segments the network may lose in a run",
        0,
        3,
    )
    backlog_limit: bool = param(
        True,
        "a SYN that finds `backlog` entries gets none (false: the mutation that removes the cap)",
    )

    def __post_init__(self) -> None:
        if self.horizon and self.client_start >= self.horizon:
            raise ModelError(
                f"client_start {self.client_start} must be below horizon {self.horizon}: "
                "the client calls connect() within the run"
            )

    @classmethod
    def of(cls, p: Mapping[str, ParamValue]) -> ListenerParams:
        """The parameters of a validated mapping (a missing name takes its default)."""
        return cls(**values_of(cls, p))
