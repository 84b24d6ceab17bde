"""Checking the configurations of a run in parallel worker processes (``check --jobs N``).

A *task* is one configuration of one spec: its spec file, the variant's name and the
options.  `check_all` yields each spec's results in spec order (configurations in the spec's
order), as `tcpmodel.check.check_spec` gives them for the spec alone; with ``jobs == 1``, or a
single configuration to check, it is exactly that, in this process.  Otherwise a pool of
``jobs`` processes (started with ``spawn``: no Z3 state or threads are forked) loads the spec
files itself (each process once per file) and checks one configuration per task; results,
being plain frozen dataclasses, come back pickled.

Bounds apply per configuration as in one process, except ``max_memory_mb``: it is the run's,
so each worker gets an equal share, and so do the cores: an engine's solver threads default to
the worker's share (`tcpmodel.engines.search.share_cores`).  Progress from workers reaches
the caller's function through a queue, read by a thread of this process; a worker says when
its configuration is done (``Progress`` ``None``).

Interrupts: the caller's `Interrupt` (`tcpmodel.interrupt`) is relayed to the workers by a
flag in shared memory, which each worker turns into a request of its own `Interrupt` (its
engines stop at their next safe point and return what they found); workers also handle
SIGINT themselves (Ctrl-C reaches the whole process group) without exiting on a second one,
and die with their parent (Linux ``PR_SET_PDEATHSIG``) when it exits at once.  Tasks not yet started
are reported ``interrupted before it started`` without running an engine.  When a worker dies
(killed, out of memory) the pool breaks: the first task in spec order that the break cost is
``unknown`` with the reason (it is the dead worker's, or one that ran beside it), and the
tasks not finished go on in a new pool.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import multiprocessing
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from tcpmodel import interrupt
from tcpmodel.check import NOT_STARTED, Options, check_spec, selected
from tcpmodel.engines.registry import resolve
from tcpmodel.engines.search import Bounds, Progress, share_cores
from tcpmodel.interrupt import Interrupt
from tcpmodel.results import Result, Stats
from tcpmodel.spec import Configuration, Spec, load

ProgressTo = Callable[[str, Progress | None], None]

_PR_SET_PDEATHSIG = 1
RELAY_S = 0.1  # how often a worker looks at the parent's stop flag


@dataclass(frozen=True, slots=True)
class Task:
    file: str
    variant: str | None
    engine: str
    bounds: Bounds  # without the interrupt: each worker has its own
    only: frozenset[str] | None
    compact: bool = False


def check_all(
    specs: Sequence[Spec],
    options: Options,
    progress: ProgressTo | None = None,
    jobs: int = 1,
    ray: str | None = None,
) -> Iterator[tuple[Spec, list[Result]]]:
    """Each spec with its results, in order (see the module docstring); with ``ray``, the
    address of a Ray cluster, checked there instead (`tcpmodel.cluster`; ``jobs`` unused)."""
    if ray is not None:
        from tcpmodel import cluster  # Ray is optional: imported only when asked for

        yield from cluster.check_all(specs, options, progress, ray)
        return
    tasks = [
        (k, cfg)
        for k, s in enumerate(specs)
        for cfg in s.configurations
        if selected(cfg, options.only)
    ]
    if jobs <= 1 or len(tasks) <= 1:
        for s in specs:
            yield s, check_spec(s, options, None if progress is None else progress)
        return
    yield from _in_pool(specs, tasks, options, progress, jobs)


def _in_pool(
    specs: Sequence[Spec],
    tasks: Sequence[tuple[int, Configuration]],
    options: Options,
    progress: ProgressTo | None,
    jobs: int,
) -> Iterator[tuple[Spec, list[Result]]]:
    stop = options.bounds.interrupt
    ctx = multiprocessing.get_context("spawn")
    told = ctx.Queue() if progress is not None else None
    # A flag in shared memory, not an Event: a worker killed while waiting on an Event's
    # condition would block the parent's set() for ever.
    stopping = ctx.RawValue("b", 0)

    def set_stopping() -> None:
        stopping.value = 1

    bounds = options.bounds
    share = None if bounds.max_memory_mb is None else bounds.max_memory_mb / min(jobs, len(tasks))
    bounds = dataclasses.replace(bounds, max_memory_mb=share, interrupt=None)
    relay = contextlib.ExitStack()
    if stop is not None:
        relay.enter_context(stop.cancelling(set_stopping))
        if stop.requested:
            set_stopping()
    reader = None
    finished = threading.Event()
    if told is not None and progress is not None:
        reader = threading.Thread(target=_read, args=(told, progress, finished), daemon=True)
        reader.start()
    pending = list(tasks)
    got: dict[tuple[int, str | None], list[Result]] = {}
    try:
        while pending:
            workers = min(jobs, len(pending))
            pool = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=ctx,
                initializer=_start_worker,
                initargs=(stopping, told, workers),
            )
            with pool:
                futures = [
                    (
                        k,
                        cfg,
                        pool.submit(
                            _work,
                            Task(
                                specs[k].file,
                                cfg.variant,
                                options.engine,
                                bounds,
                                options.only,
                                options.compact,
                            ),
                        ),
                    )
                    for k, cfg in pending
                ]
                pending = []
                broken = ""
                try:
                    for k, cfg, f in futures:
                        try:
                            done = f.result()
                            if done is None:  # the stop came first: no engine was run
                                done = unknown_results(specs[k], cfg, options, NOT_STARTED)
                            got[(k, cfg.variant)] = done
                        except BrokenProcessPool as e:
                            # The worker of this task, or of one running beside it, died:
                            # this one is lost, the others go to a new pool.
                            if not broken:
                                broken = str(e) or "a worker process died"
                                why = f"the worker process died ({broken})"
                                if stop is not None and stop.requested:
                                    why = f"interrupted: {why}"
                                got[(k, cfg.variant)] = unknown_results(specs[k], cfg, options, why)
                            else:
                                pending.append((k, cfg))
                except BaseException:
                    set_stopping()  # an error to report: the others need not finish first
                    raise
            if stop is not None and stop.requested:
                for k, cfg in pending:
                    got[(k, cfg.variant)] = unknown_results(specs[k], cfg, options, NOT_STARTED)
                pending = []
    finally:
        relay.close()
        finished.set()
        if reader is not None:
            reader.join()
    for k, s in enumerate(specs):
        yield s, [r for cfg in s.configurations for r in got.get((k, cfg.variant), [])]


def unknown_results(spec: Spec, cfg: Configuration, options: Options, reason: str) -> list[Result]:
    """``unknown`` with ``reason`` for each selected property of ``cfg`` (a configuration
    that was not checked, or whose check was lost)."""
    return [
        Result(
            spec=spec.name,
            file=spec.file,
            variant=cfg.variant,
            prop=cfg.checks[i].prop.name,
            formula=cfg.checks[i].prop.formula,
            expect=cfg.checks[i].expect,
            verdict="unknown",
            engine=resolve(options.engine),
            stats=Stats(),
            reason=reason,
        )
        for i in selected(cfg, options.only)
    ]


def _read(told: Any, progress: ProgressTo, finished: threading.Event) -> None:
    """Pass the workers' progress on until ``finished``.  (No sentinel through the queue: a
    worker killed while writing to it can leave its lock taken, and its stream cut.)"""
    while not finished.is_set():
        try:
            label, p = told.get(timeout=0.2)
        except queue.Empty:
            continue
        except Exception:  # a stream cut by a killed worker: no more progress, the run goes on
            return
        with contextlib.suppress(Exception):
            progress(label, p)


# -- in the worker process ------------------------------------------------------------------


@dataclass(slots=True)
class _Worker:
    stop: Interrupt
    told: Any  # multiprocessing.Queue of (label, Progress | None), or None
    # Puts the signal handlers back; held for the worker's life, since it also holds the
    # socket the signal handler writes to (`interrupt.install`).
    uninstall: Callable[[], None]


_WORKER: list[_Worker] = []  # this process's worker state, set once by `_start_worker`


def _start_worker(stopping: Any, told: Any, workers: int = 1) -> None:
    """Pool initializer: die with the parent, handle signals, relay the parent's stop, take
    a share of the cores (one of ``workers``)."""
    share_cores(workers)
    with contextlib.suppress(Exception):
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if told is not None:
        told.cancel_join_thread()  # exit without waiting to flush progress nobody needs
    stop = Interrupt()
    # SIGINT: Ctrl-C reaches the whole process group.  Not SIGTERM: the pool ends its workers
    # with it when one of them died.
    uninstall = interrupt.install(stop, say=None, second_exits=False, signals=(signal.SIGINT,))

    def relay() -> None:
        while not stopping.value:
            time.sleep(RELAY_S)
        stop.request("the parent's stop")

    threading.Thread(target=relay, name="tcpmodel-relay", daemon=True).start()
    _WORKER.append(_Worker(stop, told, uninstall))


@lru_cache(maxsize=8)
def _load(file: str) -> Spec:
    return load(Path(file))


def _work(task: Task) -> list[Result] | None:
    """The results of one configuration; ``None`` if the stop came before it started."""
    w = _WORKER[0]
    if w.stop.requested:
        return None
    spec = _load(task.file)
    cfg = next(c for c in spec.configurations if c.variant == task.variant)
    one = dataclasses.replace(spec, configurations=(cfg,))
    bounds = dataclasses.replace(task.bounds, interrupt=w.stop)
    label = spec.name if cfg.variant is None else f"{spec.name}/{cfg.variant}"

    def tell(_label: str, p: Progress) -> None:
        w.told.put((_label, p))

    try:
        options = Options(task.engine, bounds, task.only, task.compact)
        return check_spec(one, options, tell if w.told else None)
    finally:
        if w.told is not None:
            w.told.put((label, None))
