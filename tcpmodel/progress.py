"""Progress of the running explorations on stderr, for the command line.

A `Display` is a `tcpmodel.parallel.ProgressTo`: ``display(label, p)`` reports exploration
``label`` (``spec`` or ``spec/variant``) at `Progress` ``p`` (the explorers report at most once
a second), ``display(label, None)`` says that exploration is over, and `done` ends the display
after each spec.  Where it draws depends on stderr:

* an interactive terminal: a live `rich.progress.Progress` table, one row per running
  exploration (label, states, depth, states/s, seconds), redrawn in place and cleared by
  `done`;
* anything else (a CI log, a pipe, a test reading stderr line by line): one plain line per
  report, ``rfc9293: 1,000 states, depth 5, 1,000 states/s, 1.0 s`` (rich draws nothing live
  there).

`say` prints a line of its own (the interrupt messages), above a live table.  Reports come from
the thread that reads the worker processes' progress (`tcpmodel.parallel`) as well as from the
main thread: the table of rows is guarded by a lock.
"""

from __future__ import annotations

import threading

from rich import progress as rich_progress
from rich.console import Console

from tcpmodel.engines.search import Progress


def shown(label: str, p: Progress) -> str:
    """``label``, with the engine running when the report names one (``auto`` racing the
    Python explorer against the C compiler: ``spec [explicit, compiling]``)."""
    return f"{label} [{p.engine}]" if p.engine else label


def line(label: str, p: Progress) -> str:
    """The plain progress line of exploration ``label`` at ``p``."""
    return (
        f"{shown(label, p)}: {p.states:,} states, depth {p.depth}, {p.rate:,.0f} states/s, "
        f"{p.seconds:.1f} s"
    )


class Display:
    """Progress on ``console`` (default: stderr); see the module docstring."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console if console is not None else Console(stderr=True, highlight=False)
        self.live = self.console.is_interactive
        self._lock = threading.Lock()
        self._table: rich_progress.Progress | None = None
        self._rows: dict[str, rich_progress.TaskID] = {}

    def __call__(self, label: str, p: Progress | None) -> None:
        if not self.live:
            if p is not None:
                self.say(line(label, p))
            return
        with self._lock:
            if p is None:
                row = self._rows.pop(label, None)
                if row is not None and self._table is not None:
                    self._table.remove_task(row)
                    self._table.refresh()
                return
            table = self._table if self._table is not None else self._start()
            if label not in self._rows:
                self._rows[label] = table.add_task(
                    shown(label, p),
                    total=None,
                    completed=p.states,
                    depth=p.depth,
                    rate=p.rate,
                    seconds=p.seconds,
                )
            table.update(
                self._rows[label],
                description=shown(label, p),
                completed=p.states,
                refresh=True,
                depth=p.depth,
                rate=p.rate,
                seconds=p.seconds,
            )

    def _start(self) -> rich_progress.Progress:
        self._table = rich_progress.Progress(
            rich_progress.TextColumn("{task.description}", markup=False),
            rich_progress.TextColumn("{task.completed:,} states", justify="right"),
            rich_progress.TextColumn("depth {task.fields[depth]}"),
            rich_progress.TextColumn("{task.fields[rate]:,.0f} states/s", justify="right"),
            rich_progress.TextColumn("{task.fields[seconds]:.1f} s"),
            console=self.console,
            auto_refresh=False,  # redrawn on each report: nothing moves in between
            transient=True,
            redirect_stdout=False,  # stdout is the results, never progress
        )
        self._table.start()
        return self._table

    def say(self, text: str) -> None:
        """``text`` on a line of its own (above the live table, if one is drawn)."""
        self.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def done(self) -> None:
        """Clear the live table (the explorations it showed are over)."""
        with self._lock:
            self._rows.clear()
            if self._table is not None:
                self._table.stop()
                self._table = None
