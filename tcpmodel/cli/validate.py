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
@click.option(
    "--successors",
    type=click.Choice(["auto", "native", "python"]),
    default="auto",
    show_default=True,
    help="The model's successor function: python; native (C, compiled by gcc first if not "
    "cached); auto (C once a large capture has expanded many states, compiled meanwhile). "
    "The verdicts are the same.",
)
def validate(
    captures: Sequence[str],
    profile: str,
    spec: str | None,
    fmt: str,
    out: str | None,
    successors: str,
) -> None:
    """Check packet captures (pcap, pcapng) against the connection model.

    One verdict per connection: conforms (exit 0), diverges (exit 1: the first segment no
    execution explains), unknown (exit 3: a bound or the abstraction stopped the search).
    An unreadable capture is exit 2.  Interrupted (SIGINT, SIGTERM), the connections not yet
    searched are unknown and the verdicts found are printed and written."""
    from tcpmodel import validate as checking
    from tcpmodel.validate import output as written
    from tcpmodel.validate.successors import MODES

    mode = next(m for m in MODES if m == successors)
    models = checking.Models(mode)
    try:
        with interrupt.handling() as stop:
            verdicts = checking.validate(captures, profile, spec, models=models, stop=stop)
        if mode == "native":
            for note in models.notes():
                click.echo(f"note: the Python successor function was used: {note}", err=True)
        if out is not None:
            written.write_out(Path(out), verdicts)
    except TcpModelError as e:
        fail(e)
    except OSError as e:
        fail(UsageError(f"--out {out}: cannot write: {e.strerror}"))
    click.echo(written.FORMATS[fmt](verdicts), nl=False)
    sys.exit(checking.exit_code(verdicts))
