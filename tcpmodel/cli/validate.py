"""``tcpmodel validate``: packet captures against the connection model, printed in one of
`tcpmodel.validate.output.FORMATS` (read when the command line is parsed)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from tcpmodel import interrupt
from tcpmodel.cli.common import RegistryChoice, fail
from tcpmodel.errors import TcpModelError, UsageError


def _formats() -> tuple[str, ...]:
    """``--format``'s choices, `tcpmodel.validate.output.FORMATS` (imported only when
    ``validate`` parses its command line: the other commands never load the capture reader)."""
    from tcpmodel.validate import output as written

    return written.choices()


@click.command()
@click.argument("captures", nargs=-1, required=True, metavar="CAPTURE...")
@click.option(
    "--profile",
    type=click.Choice(["linux", "rfc9293"]),
    default="linux",
    show_default=True,
    help="The connection model's parameter profile (linux: the Linux behaviours).",
)
@click.option("--spec", metavar="SPEC", help="A connection spec whose parameters override.")
@click.option(
    "--format",
    "fmt",
    type=RegistryChoice(_formats),
    default="text",
    show_default=True,
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="Folder for each connection's .svg/.dot/.txt/.json, results.json, junit.xml, index.html.",
)
def validate(
    captures: Sequence[str], profile: str, spec: str | None, fmt: str, out: str | None
) -> None:
    """Check packet captures (pcap, pcapng) against the connection model.

    One verdict per connection: conforms (exit 0), diverges (exit 1: the first segment no
    execution explains), unknown (exit 3: a bound or the abstraction stopped the search).
    An unreadable capture is exit 2.  Interrupted (SIGINT, SIGTERM), the connections not yet
    searched are unknown and the verdicts found are printed and written."""
    from tcpmodel import validate as checking
    from tcpmodel.validate import output as written

    try:
        with interrupt.handling() as stop:
            verdicts = checking.validate(captures, profile, spec, stop=stop)
        if out is not None:
            written.write_out(Path(out), verdicts)
    except TcpModelError as e:
        fail(e)
    except OSError as e:
        fail(UsageError(f"--out {out}: cannot write: {e.strerror}"))
    click.echo(written.FORMATS[fmt](verdicts), nl=False)
    sys.exit(checking.exit_code(verdicts))
