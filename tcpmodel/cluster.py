"""Checking the configurations of a run on a Ray cluster (``check --ray ADDRESS``).

The same contract as `tcpmodel.parallel.check_all` (each spec with its results, in spec order,
as `tcpmodel.check.check_spec` gives them for the spec alone), with the cluster in place of the
local pool of worker processes.  A *job* is one configuration of one spec: the spec's TOML
text (not its path: a worker may be on a machine without the file), the variant's name and the
options.  The driver starts one `Checker` actor per CPU of the cluster (at most one per job),
each holding one CPU, and hands each a job as it becomes free, so a node checks as many
configurations at once as it has CPUs.  An actor that dies (killed, out of memory) costs its
configuration (``unknown``, ``the Ray worker died``) and a new one takes its place; jobs are
not retried.  ``--max-memory`` is shared among the actors.

Progress: a checker puts its explorations' reports to one small actor, the `Hub` (no CPU); the
driver takes them five times a second and passes them to its progress function, so the run's
stderr shows the states, depth and rate of every remote exploration as for local workers.

Interrupts: when the driver's `Interrupt` is requested, the jobs not handed out are reported
``interrupted before it started``, and each busy checker is told to stop (`Checker.stop`, run
beside `Checker.run` in the actor's second thread): its engines stop at their next safe point
and it returns what it found, as a local worker does.  A checker still busy `GRACE_S` seconds
later is killed (``ray.kill``).

Connecting: ``auto`` (the cluster started on this machine by ``ray start --head``),
``HOST:PORT`` (the head's GCS port, 6379 by default) or ``ray://HOST:PORT`` (the Ray client
server, 10001 by default).  Ray is an optional dependency (``pip install 'tcpmodel[ray]'``);
when it is missing, the address does not answer, or the workers cannot import this module, the
error is a `UsageError` (exit 2).  Each node needs the same tcpmodel and its dependencies; the
native engine compiles its C code into the node's own cache (``$TCPMODEL_CACHE``) the first
time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from tcpmodel.check import NOT_STARTED, Options, check_spec, selected
from tcpmodel.engines.search import Bounds, Progress
from tcpmodel.errors import TcpModelError, UsageError
from tcpmodel.interrupt import Interrupt
from tcpmodel.parallel import unknown_results
from tcpmodel.results import Result
from tcpmodel.spec import Configuration, Spec, loads

ProgressTo = Callable[[str, Progress | None], None]

INSTALL = "pip install 'tcpmodel[ray]'"
POLL_S = 0.2  # how often the driver passes progress on
GRACE_S = 30.0  # how long running jobs have to stop after an interrupt before ray.kill
CONNECT_S = 5.0  # how long the head's address has to answer


@dataclass(frozen=True, slots=True)
class Job:
    file: str  # the driver's path of the spec: for messages and `Result.file` only
    text: str  # the spec's TOML text
    variant: str | None
    engine: str
    bounds: Bounds  # without the interrupt: each task has its own
    only: frozenset[str] | None
    compact: bool = False  # hash compaction (`tcpmodel.check.Options.compact`)


def import_ray(address: str) -> ModuleType:
    """The ``ray`` module, or a `UsageError` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise UsageError(
            f"--ray {address}: Ray is not installed; install it with {INSTALL}"
        ) from None
    return ray


def connect(address: str) -> ModuleType:
    """Ray, connected to the cluster at ``address`` (see the module docstring)."""
    ray = import_ray(address)
    expected = (
        "expected auto (a cluster started on this machine with ray start --head), "
        "HOST:6379 (the head's GCS port) or ray://HOST:10001 (its Ray client server)"
    )
    if address != "auto":
        # Ray itself waits minutes for an address that does not answer, then exits.
        host, sep, port = address.removeprefix("ray://").rpartition(":")
        if not sep or not host or not port.isdigit():
            raise UsageError(f"--ray {address}: not an address of a Ray cluster; {expected}")
        try:
            socket.create_connection((host, int(port)), timeout=CONNECT_S).close()
        except OSError as e:
            raise UsageError(
                f"--ray {address}: cannot reach the Ray cluster ({e.strerror or e}); {expected}, "
                "reachable from this machine"
            ) from None
    try:
        ray.init(
            address=address,
            logging_level=logging.WARNING,
            log_to_driver=False,  # progress and results come through the hub and the tasks
            configure_logging=False,
        )
    except (ConnectionError, ValueError, RuntimeError, SystemExit) as e:
        raise UsageError(
            f"--ray {address}: cannot connect to the Ray cluster ({e}); {expected}; a cluster "
            "with token authentication also needs RAY_AUTH_MODE=token and its token "
            "(~/.ray/auth_token or RAY_AUTH_TOKEN)"
        ) from None
    return ray


def check_all(
    specs: Sequence[Spec],
    options: Options,
    progress: ProgressTo | None,
    address: str,
) -> Iterator[tuple[Spec, list[Result]]]:
    """Each spec with its results, in order, checked on the cluster at ``address``."""
    # Ray prints its cluster's messages (``(raylet) A worker died ...``) on stdout, which is
    # for the results (``--format json``): stderr while Ray is connected.
    with contextlib.redirect_stdout(sys.stderr):
        ray = connect(address)
        try:
            got = _on_cluster(ray, address, specs, options, progress)
        finally:
            ray.shutdown()
    for k, s in enumerate(specs):
        yield s, [r for cfg in s.configurations for r in got.get((k, cfg.variant), [])]


Key = tuple[int, str | None]


def _on_cluster(
    ray: ModuleType,
    address: str,
    specs: Sequence[Spec],
    options: Options,
    progress: ProgressTo | None,
) -> dict[Key, list[Result]]:
    stop = options.bounds.interrupt
    waiting = [
        ((k, cfg.variant), cfg)
        for k, s in enumerate(specs)
        for cfg in s.configurations
        if selected(cfg, options.only)
    ]
    got: dict[Key, list[Result]] = {}
    if not waiting:
        return got
    cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
    share = options.bounds.max_memory_mb
    if share is not None:
        share = share / min(cpus, len(waiting))
    bounds = dataclasses.replace(options.bounds, max_memory_mb=share, interrupt=None)
    texts = [Path(s.file).read_text(encoding="utf-8") for s in specs]
    try:
        hub = ray.remote(num_cpus=0)(Hub).remote()
        ray.get(hub.take.remote())  # the workers import this module (or say they cannot)
    except Exception as e:
        if "No module named 'tcpmodel" not in str(e):
            raise
        why = next(
            (line.strip() for line in str(e).splitlines() if "No module named" in line), str(e)
        )
        raise UsageError(
            f"--ray {address}: the cluster's workers cannot import this version of tcpmodel "
            f"({why}); install the same tcpmodel (pip install 'tcpmodel[ray]') on every node"
        ) from None
    # One CPU each; two threads: `run`, and `stop` while it runs.
    checker = ray.remote(num_cpus=1, max_concurrency=2, max_restarts=0)(Checker)
    free = [checker.remote(hub) for _ in range(min(cpus, len(waiting)))]
    running: dict[Any, tuple[Key, Configuration, Any]] = {}  # ref -> job, its actor
    stopped_at: float | None = None

    def tell() -> None:
        for label, p in ray.get(hub.take.remote()):
            if progress is not None:
                progress(label, p)

    while waiting or running:
        if stop is not None and stop.requested and stopped_at is None:
            stopped_at = time.monotonic()
            for _key, _cfg, actor in running.values():
                actor.stop.remote()
            for (k, variant), cfg in waiting:
                got[(k, variant)] = unknown_results(specs[k], cfg, options, NOT_STARTED)
            waiting = []
        while free and waiting:
            ((k, variant), cfg), actor = waiting.pop(0), free.pop()
            job = Job(
                specs[k].file,
                texts[k],
                variant,
                options.engine,
                bounds,
                options.only,
                options.compact,
            )
            running[actor.run.remote(job)] = ((k, variant), cfg, actor)
        ready, _ = ray.wait(list(running), num_returns=1, timeout=POLL_S)
        for ref in ready:
            (k, variant), cfg, actor = running.pop(ref)
            done = _gather(ray, ref, late=stopped_at is not None)
            if isinstance(done, str):  # its actor is gone: a new one takes its place
                actor = checker.remote(hub)
            if done is None or isinstance(done, str):
                done = unknown_results(
                    specs[k], cfg, options, NOT_STARTED if done is None else done
                )
            got[(k, variant)] = done
            free.append(actor)
        tell()
        if stopped_at is not None and time.monotonic() - stopped_at > GRACE_S:
            for _key, _cfg, actor in running.values():
                ray.kill(actor)  # its `run` ends with ActorDiedError
            stopped_at = float("inf")  # killed once
    tell()
    return got


LATE = f"interrupted: the Ray worker did not stop within {GRACE_S:.0f} s and was killed"


def _gather(ray: ModuleType, ref: Any, late: bool) -> list[Result] | str | None:
    """A job's results; ``None`` if it never ran an engine; the ``unknown`` reason of its
    properties if its worker died or was killed; its error if it raised one."""
    exceptions = ray.exceptions
    try:
        done: list[Result] | None = ray.get(ref)
        return done
    except exceptions.RayTaskError as e:
        if isinstance(e.cause, TcpModelError):
            raise e.cause from None
        raise
    except exceptions.RayError as e:  # the worker or its node died
        if late:
            return LATE
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        return f"the Ray worker died ({first})"


class Hub:
    """The actor that passes progress reports from the checkers to the driver."""

    def __init__(self) -> None:
        self.reports: list[tuple[str, Progress | None]] = []

    def put(self, label: str, p: Progress | None) -> None:
        self.reports.append((label, p))

    def take(self) -> list[tuple[str, Progress | None]]:
        taken, self.reports = self.reports, []
        return taken


# -- in the Ray worker ----------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _loads(text: str, file: str) -> Spec:
    return loads(text, file)


class Checker:
    """The actor that checks jobs, one at a time, on one CPU of the cluster.  It never waits
    for another actor (``ray.get`` in a task or actor gives its CPU back to the scheduler
    while it waits, which would let more jobs run than there are CPUs)."""

    def __init__(self, hub: Any) -> None:
        self.hub = hub
        self.stop_requested = False
        self.current: Interrupt | None = None
        self.lock = threading.Lock()

    def stop(self) -> None:
        """The driver's stop: the job running stops at its next safe point, none starts."""
        with self.lock:
            self.stop_requested = True
            if self.current is not None:
                self.current.request("the driver's stop")

    def run(self, job: Job) -> list[Result] | None:
        """The results of one configuration; ``None`` if the driver stopped first."""
        with self.lock:
            if self.stop_requested:
                return None
            stop = self.current = Interrupt()
        spec = _loads(job.text, job.file)
        cfg = next(c for c in spec.configurations if c.variant == job.variant)
        one = dataclasses.replace(spec, configurations=(cfg,))
        label = spec.name if cfg.variant is None else f"{spec.name}/{cfg.variant}"

        def tell(_label: str, p: Progress) -> None:
            self.hub.put.remote(_label, p)

        try:
            bounds = dataclasses.replace(job.bounds, interrupt=stop)
            return check_spec(one, Options(job.engine, bounds, job.only, job.compact), tell)
        finally:
            with self.lock:
                self.current = None
            stop.close()
            self.hub.put.remote(label, None)
