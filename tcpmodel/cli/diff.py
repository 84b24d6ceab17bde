"""``tcpmodel diff``: two designs of one model compared (`tcpmodel.diff`): verdicts, and the
steps one adds or removes, with a ladder of each in ``--out``."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tcpmodel import behaviours, interrupt
from tcpmodel.cli.common import RegistryChoice, bounds, fail, write
from tcpmodel.engines.search import Bounds
from tcpmodel.errors import TcpModelError, UsageError
from tcpmodel.progress import Display

if TYPE_CHECKING:
    from tcpmodel.diff import Diff


@click.command(name="diff")
@click.argument("design_a", metavar="SPEC_A[:VARIANT]")
@click.argument("design_b", metavar="SPEC_B[:VARIANT]")
@click.option(
    "--engine",
    type=RegistryChoice(behaviours.engines),
    default="auto",
    show_default=True,
    help="The explorer for the verdicts and the behaviours.",
)
@bounds(
    "States per exploration before stopping.",
    "Seconds for each design's checks, and again for its behaviours.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Write a ladder (.dot, and .svg with Graphviz) of each added or removed behaviour.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
def diff_(
    design_a: str,
    design_b: str,
    engine: str,
    max_depth: int | None,
    max_states: int | None,
    timeout: float | None,
    max_memory: int,
    fmt: str,
    out: str | None,
    quiet: bool,
) -> None:
    """Compare two designs of one model: verdicts, and the steps one adds or removes.

    A design is a spec file, or SPEC:VARIANT for one of its variants.  Exit 0 when nothing
    changed, 1 when a verdict or a reachable step differs, 2 on bad input, 3 when a bound
    stopped a search (or SIGINT, SIGTERM) before anything definite changed."""
    import json

    from tcpmodel.diff import diff, parse_design, to_json, to_text

    shown = None if quiet else Display()
    progress = None if shown is None else functools.partial(shown, "diff")
    try:
        a, b = parse_design(design_a), parse_design(design_b)
        # Interrupted, the searches stop at their next safe point: what was decided stays,
        # the rest is unknown (exit 3 unless a difference was already found).
        with interrupt.handling(None if shown is None else shown.say) as stop:
            bounds = Bounds(max_depth, max_states, timeout, max_memory, stop)
            d = diff(a, b, engine, bounds, progress)
    except TcpModelError as e:
        fail(e)
    if shown is not None:
        shown.done()
    if out is not None:
        _write_diff_ladders(Path(out), d, quiet)
    if fmt == "json":
        click.echo(json.dumps(to_json(d), indent=2))
    else:
        click.echo(to_text(d))
    sys.exit(d.exit_code)


def _write_diff_ladders(folder: Path, d: Diff, quiet: bool) -> None:
    """``added.<behaviour>.dot`` / ``removed.<behaviour>.dot`` (and ``.svg``) in ``folder``."""
    from tcpmodel import render as rendering
    from tcpmodel.diff import caption
    from tcpmodel.render import graphviz

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        fail(UsageError(f"--out {folder}: cannot create: {e.strerror}"))
    svg = graphviz.available()
    for kind, items, where in (("added", d.added, d.b), ("removed", d.removed, d.a)):
        for x, t in items:
            dot = rendering.diagram(t, caption(d, x, where, kind))
            stem = f"{kind}.{x.slug}"
            write(folder / f"{stem}.dot", dot)
            if svg:
                try:
                    write(folder / f"{stem}.svg", graphviz.render(dot, "svg"))
                except UsageError as e:
                    fail(e)
    if not svg and (d.added or d.removed) and not quiet:
        click.echo(f"tcpmodel: warning: no .svg in {folder}: {graphviz.INSTALL}", err=True)
