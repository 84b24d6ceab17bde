"""What every command of `tcpmodel.cli` shares: the registry-read choice, the bounds option
group, and the one way a command fails (one line on stderr, exit 2), loads specs, picks a
configuration, writes a file or draws DOT with Graphviz.

A command module defines its command with ``click.command`` and these helpers; the group in
``tcpmodel/cli/__init__.py`` adds it.  An option several commands take belongs here, next to
`bounds`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from tcpmodel.errors import TcpModelError, UsageError
from tcpmodel.files import write_atomic
from tcpmodel.spec import Configuration, Spec, load, spec_files


class RegistryChoice(click.Choice[str]):
    """A choice among a registry's names, read when the command line is parsed, so that an
    entry registered after this module was imported (a test's toy engine or format) is offered
    too.  ``names`` is not called before then: a command's registry may live in a module the
    other commands never import."""

    def __init__(self, names: Callable[[], Sequence[str]]) -> None:
        self.names = names
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(self.names())

    @choices.setter
    def choices(self, value: Sequence[str]) -> None:
        del value  # always the registry's


def default_memory_mb() -> int:
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return 4096
    return int(total * 0.75 / 2**20)


_F = TypeVar("_F", bound=Callable[..., Any])


def bounds(states: str, seconds: str) -> Callable[[_F], _F]:
    """The exploration bounds a command takes (``--max-depth``, ``--max-states``,
    ``--timeout``, ``--max-memory``), with its own words for the states and time limits."""
    options = (
        click.option(
            "--max-depth", type=click.IntRange(min=0), help="Stop exploring past this depth."
        ),
        click.option("--max-states", type=click.IntRange(min=1), help=states),
        click.option(
            "--timeout", type=click.FloatRange(min=0, min_open=True), metavar="S", help=seconds
        ),
        click.option(
            "--max-memory",
            type=click.IntRange(min=1),
            metavar="MB",
            default=default_memory_mb,
            show_default="75% of RAM",
            help="Resident memory ceiling.",
        ),
    )

    def apply(command: _F) -> _F:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


def fail(e: Exception) -> NoReturn:
    """``e`` as one line on stderr, then exit 2 (bad input)."""
    click.echo(f"tcpmodel: error: {e}", err=True)
    sys.exit(2)


def load_all(paths: Sequence[str]) -> list[Spec]:
    try:
        return [load(p) for p in spec_files(paths)]
    except TcpModelError as e:
        fail(e)


def configuration(spec: Spec, variant: str | None) -> Configuration:
    """The base configuration of ``spec`` (``variant`` None) or the named variant."""
    for cfg in spec.configurations:
        if cfg.variant == variant:
            return cfg
    names = ", ".join(c.variant for c in spec.configurations if c.variant) or "none"
    raise UsageError(f"--variant {variant}: {spec.file} has no such variant; known: {names}")


def write(path: Path, data: str | bytes) -> None:
    try:
        write_atomic(path, data)
    except OSError as e:
        fail(UsageError(f"{path}: cannot write: {e.strerror}"))


def image(dot_text: str, fmt: str, path: Path) -> bytes:
    """``dot_text`` drawn by Graphviz as ``fmt``; without Graphviz the DOT is written next to
    ``path`` and the command fails, saying how to install it."""
    from tcpmodel.render import graphviz

    try:
        return graphviz.render(dot_text, fmt)
    except UsageError as e:
        kept = path.with_suffix(".dot")
        write(kept, dot_text)
        fail(UsageError(f"{e}; wrote {kept}"))
