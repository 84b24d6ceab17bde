"""Stopping a run at its next safe point when the user asks (SIGINT, SIGTERM).

`Interrupt` is a request to stop, shared by a command and the engines it runs (it travels in
`tcpmodel.engines.search.Bounds`): a flag the engines poll at their check points (the
explorers with the other bounds, every 1024 states; the Z3 engines before each query), and
*cancel* callbacks for work that cannot poll: a Z3 query in progress registers its solver's
``interrupt`` with `Interrupt.cancelling` for as long as it runs.  An engine that sees the flag
stops as it stops at a bound: what it decided stays decided (a violation keeps its trace), the
rest is ``unknown`` with a reason that starts with ``interrupted``.

`handling` installs the handlers for the length of a command.  The first SIGINT or SIGTERM
requests the stop and says so on stderr; a second one ends the process at once with status
128 + the signal's number (130 for Ctrl-C), leaving only complete files behind
(`tcpmodel.files.write_atomic`).  Python runs a signal handler only between bytecodes, so a
handler would wait for a Z3 query in C to end: the work is done instead by a watcher thread,
woken through `signal.set_wakeup_fd` while the main thread is still inside the query; after a
request the cancel callbacks are called again every `RECANCEL_S` seconds, in case a query
started just after the flag was read.  Worker processes (`tcpmodel.parallel`) `install` the
handler for SIGINT only (Ctrl-C reaches the whole process group), without the exit on a
second one: their parent decides, and SIGTERM still ends a worker as its pool expects.

Use::

    with interrupt.handling() as stop:
        results = check_spec(spec, Options(bounds=Bounds(interrupt=stop)))
    if stop.requested: ...   # a partial run: report it as such (exit code 3)
"""

from __future__ import annotations

import os
import select
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)
RECANCEL_S = 0.1


class Interrupt:
    """A request to stop (see the module docstring); safe to use from any thread."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._cancels: dict[int, Callable[[], None]] = {}
        self._next = 0
        self.cause = ""  # what asked: "SIGINT", "SIGTERM", or the caller's word

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    def request(self, cause: str = "a stop request") -> None:
        """Ask every engine polling this flag to stop, and cancel what is running (again
        every `RECANCEL_S` seconds, until `close`: a query may start just after the flag
        was read)."""
        with self._lock:
            first = not self._event.is_set()
            if first:
                self.cause = cause
                self._event.set()
        if first and not self._closed.is_set():
            threading.Thread(target=self._recancel, name="tcpmodel-cancel", daemon=True).start()
        self.cancel_running()

    def close(self) -> None:
        """No more cancelling (the run is over)."""
        self._closed.set()

    def _recancel(self) -> None:
        while not self._closed.wait(RECANCEL_S):
            with suppress(Exception):
                self.cancel_running()

    def cancel_running(self) -> None:
        """Call the cancel callbacks registered now (a no-op before a request)."""
        if not self.requested:
            return
        with self._lock:
            cancels = list(self._cancels.values())
        for cancel in cancels:
            cancel()

    @contextmanager
    def cancelling(self, cancel: Callable[[], None]) -> Iterator[None]:
        """While the block runs, a stop request calls ``cancel`` (e.g. ``solver.interrupt``)."""
        with self._lock:
            key = self._next
            self._next += 1
            self._cancels[key] = cancel
        try:
            yield
        finally:
            with self._lock:
                del self._cancels[key]


def _ignore(signum: int, frame: FrameType | None) -> None:
    """The Python-level handler: nothing (the watcher thread acts), but it keeps SIGINT from
    raising KeyboardInterrupt and makes Python write the wakeup byte."""


def install(
    stop: Interrupt,
    say: Callable[[str], None] | None = None,
    second_exits: bool = True,
    signals: Sequence[signal.Signals] = SIGNALS,
) -> Callable[[], None]:
    """Handle ``signals`` (SIGINT and SIGTERM) from now on (main thread only): the first
    requests ``stop`` (``say`` is told), a second exits at once if ``second_exits`` (else it
    is ignored: a worker process, whose parent decides).  Returns the function that puts the
    previous handlers back."""
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    old_handlers = {s: signal.signal(s, _ignore) for s in signals}
    old_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    done = threading.Event()

    def on_signal(signum: int) -> None:
        name = signal.Signals(signum).name
        if stop.requested:
            if second_exits:
                if say is not None:
                    with suppress(Exception):
                        say(f"tcpmodel: {name} again: exiting at once")
                os._exit(128 + signum)
            return
        if say is not None:
            with suppress(Exception):
                say(
                    f"tcpmodel: {name}: stopping at the next safe point and writing what was "
                    "found (send it again to exit at once)"
                )
        stop.request(name)

    def watch() -> None:
        # The watcher must outlive any error (a closed stderr, a solver gone): without it a
        # second signal could not end the process.
        while not done.is_set():
            select.select([reader], [], [])
            try:
                data = reader.recv(64)
            except BlockingIOError:
                continue
            if not data:  # the writer is closed: no signal can reach this watcher any more
                return
            for signum in data:
                if signum in signals and not done.is_set():  # else a wake-up to end the watch
                    with suppress(Exception):
                        on_signal(signum)

    watcher = threading.Thread(target=watch, name="tcpmodel-interrupt", daemon=True)
    watcher.start()

    def uninstall() -> None:
        done.set()
        signal.set_wakeup_fd(old_fd)
        for s, h in old_handlers.items():
            signal.signal(s, h)
        writer.send(b"\0")
        watcher.join()
        reader.close()
        writer.close()

    return uninstall


@contextmanager
def handling(say: Callable[[str], None] | None = None) -> Iterator[Interrupt]:
    """Handle SIGINT and SIGTERM while the block runs: the first requests the stop of the
    yielded `Interrupt` (``say`` is told, by default a line on stderr), the second exits at
    once.  Outside the main thread no handler can be installed: the `Interrupt` is only set
    by `Interrupt.request`."""
    stop = Interrupt()
    if threading.current_thread() is not threading.main_thread():
        try:
            yield stop
        finally:
            stop.close()
        return
    uninstall = install(stop, say or _stderr)
    try:
        yield stop
    finally:
        uninstall()
        stop.close()


def _stderr(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
