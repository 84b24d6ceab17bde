"""Progress on stderr (`tcpmodel.progress`): a live rich table on a terminal, plain lines
elsewhere, interrupt messages on lines of their own."""

from __future__ import annotations

import io
import re

from rich.console import Console

from tcpmodel.engines.search import Progress
from tcpmodel.progress import Display

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def terminal() -> tuple[Display, io.StringIO]:
    out = io.StringIO()
    console = Console(
        file=out, force_terminal=True, force_interactive=True, width=120, color_system=None
    )
    return Display(console), out


def last_frame(out: io.StringIO) -> list[str]:
    """The rows of the table drawn last, with single spaces between the columns."""
    frame = ANSI.sub("", out.getvalue()).split("\r")[-1]
    return [" ".join(row.split()) for row in frame.splitlines()]


def test_the_terminal_table_shows_every_running_exploration() -> None:
    d, out = terminal()
    assert d.live
    d("rfc9293", Progress(1000, 5, 10, 1.0))
    d("rfc9293/simultaneous-open", Progress(2000, 6, 10, 1.0))
    assert last_frame(out) == [
        "rfc9293 1,000 states depth 5 1,000 states/s 1.0 s",
        "rfc9293/simultaneous-open 2,000 states depth 6 2,000 states/s 1.0 s",
    ]
    d("rfc9293", None)  # that one is done: its row goes
    d("rfc9293/simultaneous-open", Progress(3000, 7, 10, 2.0))
    assert last_frame(out) == [
        "rfc9293/simultaneous-open 3,000 states depth 7 1,500 states/s 2.0 s"
    ]
    d.done()
    assert out.getvalue().endswith("\x1b[1A\x1b[2K")  # the last row is erased


def test_an_interrupt_message_is_a_line_of_its_own_above_the_table() -> None:
    d, out = terminal()
    d("rfc9293", Progress(1000, 5, 10, 1.0))
    d.say("tcpmodel: SIGINT: stopping at the next safe point")
    d("rfc9293", Progress(2000, 6, 10, 2.0))
    text = out.getvalue()
    # The table's line is erased, the message printed with its newline, the table redrawn.
    assert "\x1b[2Ktcpmodel: SIGINT: stopping at the next safe point\n" in text
    assert last_frame(out) == ["rfc9293 2,000 states depth 6 1,000 states/s 2.0 s"]


def test_without_a_terminal_each_report_is_a_plain_line() -> None:
    out = io.StringIO()
    d = Display(Console(file=out, width=40))
    assert not d.live
    d("rfc9293/simultaneous-open-with-a-long-name", Progress(3000, 7, 10, 2.0))
    d("rfc9293/simultaneous-open-with-a-long-name", None)
    d.say("tcpmodel: SIGTERM: stopping")
    d.done()
    # Not wrapped at the console's width, no escape codes: CI logs and tests read these.
    assert out.getvalue() == (
        "rfc9293/simultaneous-open-with-a-long-name: 3,000 states, depth 7, 1,500 states/s, "
        "2.0 s\ntcpmodel: SIGTERM: stopping\n"
    )
