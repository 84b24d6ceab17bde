"""The command line: parse and validate, call one function, print, choose the exit code.

Exit codes: 0 every expectation met; 1 a definite verdict missed its expectation; 2 a usage or
spec error (one line on stderr, no traceback); 3 a verdict is ``unknown`` (a bound was reached).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import click
from rich.console import Console
from rich.table import Table

from tcpmodel import report
from tcpmodel.check import ENGINES, Options, check_spec
from tcpmodel.engines.explicit import Bounds, Progress
from tcpmodel.errors import TcpModelError, UsageError
from tcpmodel.models import MODELS
from tcpmodel.results import Result
from tcpmodel.spec import Spec, load, spec_files


def _default_memory_mb() -> int:
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return 4096
    return int(total * 0.75 / 2**20)


class _Progress:
    """Progress lines on stderr: at most one a second, overwritten in place on a terminal."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.dirty = False

    def __call__(self, label: str, p: Progress) -> None:
        line = (
            f"{label}: {p.states:,} states, depth {p.depth}, {p.rate:,.0f} states/s, "
            f"{p.seconds:.1f} s"
        )
        if self.tty:
            sys.stderr.write("\r" + line.ljust(79))
            self.dirty = True
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def done(self) -> None:
        if self.dirty:
            sys.stderr.write("\n")
            self.dirty = False


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tcpmodel")
def main() -> None:
    """tcpmodel: a model checker for TCP connection management (RFC 9293)."""


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--property", "props", multiple=True, metavar="NAME", help="Check only NAME.")
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default="auto",
    show_default=True,
    help="auto: native when gcc is installed, else explicit.",
)
@click.option("--max-depth", type=click.IntRange(min=0), help="Stop exploring past this depth.")
@click.option("--max-states", type=click.IntRange(min=1), help="Stop after this many states.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="S",
    help="Seconds per exploration.",
)
@click.option(
    "--max-memory",
    type=click.IntRange(min=1),
    metavar="MB",
    default=_default_memory_mb,
    show_default="75% of RAM",
    help="Resident memory ceiling.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "junit"]),
    default="text",
    show_default=True,
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="out",
    show_default=True,
    help="Folder for results.json, junit.xml and trace files.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
def check(
    paths: Sequence[str],
    props: Sequence[str],
    engine: str,
    max_depth: int | None,
    max_states: int | None,
    timeout: float | None,
    max_memory: int,
    fmt: str,
    out: str,
    quiet: bool,
) -> None:
    """Check every property of the specs in PATHS (files or folders of *.toml)."""
    specs = _load_all(paths)
    only = frozenset(props) if props else None
    if only is not None:
        known = {c.prop.name for s in specs for cfg in s.configurations for c in cfg.checks}
        missing = sorted(only - known)
        if missing:
            _fail(
                UsageError(
                    f"--property {missing[0]}: no spec here has this property; "
                    f"known: {', '.join(sorted(known))}"
                )
            )
    options = Options(engine, Bounds(max_depth, max_states, timeout, max_memory), only)
    progress = None if quiet else _Progress()
    results: list[Result] = []
    try:
        for s in specs:
            results += check_spec(s, options, progress)
            if progress is not None:
                progress.done()
    except TcpModelError as e:
        _fail(e)
    _write_out(Path(out), results)
    if fmt == "json":
        click.echo(report.to_json(results))
    elif fmt == "junit":
        click.echo(report.to_junit(results))
    else:
        _print_text(results)
    sys.exit(report.exit_code(results))


@main.command(name="list")
@click.argument("paths", nargs=-1)
def list_(paths: Sequence[str]) -> None:
    """List the specs in PATHS, or with no PATHS the models, parameters and properties."""
    console = _console()
    if not paths:
        for m in MODELS.values():
            console.print(f"[bold]{m.name}[/bold]: {m.description}")
            t = Table("parameter", "values", "default", "meaning")
            for p in m.params:
                t.add_row(p.name, p.describe(), str(p.default), p.doc)
            console.print(t)
            t = Table("property", "formula", "meaning")
            for lp in m.properties:
                t.add_row(lp.name, lp.formula, lp.doc)
            console.print(t)
        return
    for s in _load_all(paths):
        console.print(f"[bold]{s.name}[/bold] ({s.file}): model {s.model.name}")
        if s.description:
            console.print(f"  {s.description}")
        params = ", ".join(f"{k}={v}" for k, v in s.params.items())
        console.print(f"  parameters: {params}", markup=False)
        rules = ", ".join(s.configurations[0].system.rule_names())
        console.print(f"  rules (names for `disable`): {rules}", markup=False)
        t = Table("variant", "property", "formula", "expect")
        for cfg in s.configurations:
            for c in cfg.checks:
                t.add_row(cfg.variant or "-", c.prop.name, c.prop.formula, c.expect)
        console.print(t)


RENDER_FORMATS = ("svg", "png", "dot", "txt", "json")


@main.command()
@click.argument("spec_path", metavar="SPEC")
@click.option("--property", "prop", required=True, metavar="NAME", help="The property to draw.")
@click.option("--variant", metavar="V", help="A variant of the spec (default: the base).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(RENDER_FORMATS),
    default="svg",
    show_default=True,
    help="svg/png: ladder diagram (needs Graphviz dot); dot; txt: step table; json: ITF.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Output file (default: <spec>[.<variant>].<property>.<ext> here).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
def render(
    spec_path: str, prop: str, variant: str | None, fmt: str, output: str | None, quiet: bool
) -> None:
    """Draw the counterexample or witness of one property of SPEC."""
    # Imported here: `tcpmodel check` never needs the renderers.
    from tcpmodel import render as rendering
    from tcpmodel.render import graphviz, itf, ladder, text

    spec = _load_all([spec_path])[0]
    cfgs = [c for c in spec.configurations if c.variant == variant]
    if not cfgs:
        names = ", ".join(c.variant for c in spec.configurations if c.variant) or "none"
        _fail(UsageError(f"--variant {variant}: {spec.file} has no such variant; known: {names}"))
    cfg = cfgs[0]
    known = [c.prop.name for c in cfg.checks]
    if prop not in known:
        _fail(
            UsageError(
                f"--property {prop}: {spec.name}{'/' + variant if variant else ''} has no such "
                f"property; known: {', '.join(known)}"
            )
        )
    progress = None if quiet else _Progress()
    try:
        (r,) = check_spec(
            dataclasses.replace(spec, configurations=(cfg,)),
            Options(only=frozenset({prop})),
            progress,
        )
    except TcpModelError as e:
        _fail(e)
    if progress is not None:
        progress.done()
    if r.trace is None:
        why = f": {r.reason}" if r.reason else ""
        _fail(
            UsageError(
                f"{r.spec} {r.case_name}: verdict {r.verdict}{why}; "
                "there is no counterexample or witness to draw"
            )
        )
    stem = ".".join(x for x in (spec.name, variant, prop) if x)
    path = Path(output) if output else Path(f"{stem}.{fmt}")
    lines = rendering.caption(r)
    try:
        if fmt == "json":
            data: str | bytes = itf.dumps(
                r.trace, {"source": spec.file, "description": "\n".join(lines)}
            )
        elif fmt == "txt":
            data = text.table(r.trace, lines)
        else:
            data = ladder.ladder(r.trace, lines)
            if fmt != "dot":
                dot_text = data
                try:
                    data = graphviz.render(dot_text, fmt)
                except UsageError as e:
                    kept = path.with_suffix(".dot")
                    _write(kept, dot_text)
                    _fail(UsageError(f"{e}; wrote {kept}"))
    except TcpModelError as e:
        _fail(e)
    _write(path, data)
    click.echo(f"{r.spec} {r.case_name}: {r.verdict}, {len(r.trace) - 1} steps: wrote {path}")


def _write(path: Path, data: str | bytes) -> None:
    try:
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data)
    except OSError as e:
        _fail(UsageError(f"{path}: cannot write: {e.strerror}"))


def _load_all(paths: Sequence[str]) -> list[Spec]:
    try:
        return [load(p) for p in spec_files(paths)]
    except TcpModelError as e:
        _fail(e)


def _fail(e: Exception) -> NoReturn:
    click.echo(f"tcpmodel: error: {e}", err=True)
    sys.exit(2)


def _write_out(folder: Path, results: Sequence[Result]) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "results.json").write_text(report.to_json(results) + "\n")
        (folder / "junit.xml").write_text(report.to_junit(results) + "\n")
        for r in results:
            if r.trace is None:
                continue
            stem = ".".join(x for x in (r.spec, r.variant, r.prop) if x)
            (folder / f"{stem}.txt").write_text(
                _trace_header(r) + report.trace_text(r.trace) + "\n"
            )
    except OSError as e:
        _fail(UsageError(f"--out {folder}: cannot write results: {e.strerror}"))


def _trace_header(r: Result) -> str:
    where = r.spec if r.variant is None else f"{r.spec} (variant {r.variant})"
    return f"{where}: {r.prop} = {r.formula}\nverdict: {r.verdict} (expected {r.expect})\n\n"


def _console() -> Console:
    # Wide tables in CI logs, where there is no terminal to measure.
    return Console(highlight=False, width=None if sys.stdout.isatty() else 160)


def _print_text(results: Sequence[Result]) -> None:
    console = _console()
    t = Table("spec", "variant", "property", "expect", "verdict", "", "states", "depth", "s")
    for r in results:
        mark = "ok" if r.met else ("UNKNOWN" if r.verdict == "unknown" else "FAIL")
        t.add_row(
            r.spec,
            r.variant or "",
            r.prop,
            r.expect,
            r.verdict,
            mark,
            f"{r.stats.states:,}",
            str(r.stats.depth),
            f"{r.stats.seconds:.2f}",
        )
    console.print(t)
    for r in results:
        if r.verdict == "unknown":
            console.print(f"{r.spec} {r.case_name}: unknown: {r.reason}", markup=False)
        if r.trace is not None and (r.verdict == "violated" or not r.met):
            console.print(f"\n{_trace_header(r)}{report.trace_text(r.trace)}", markup=False)
    s = report.summary(results)
    console.print(
        f"\n{s['results']} results: {s['met']} met, {s['unmet']} unmet, {s['unknown']} unknown"
    )
