"""``tcpmodel render`` (one property's counterexample or witness as a picture, a step table
or ITF) and ``tcpmodel diagram`` (the connection model's state diagram)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from tcpmodel import report
from tcpmodel.check import Options, check_spec
from tcpmodel.cli.common import configuration, fail, image, load_all, write
from tcpmodel.errors import TcpModelError, UsageError
from tcpmodel.progress import Display

RENDER_FORMATS = ("svg", "png", "dot", "txt", "json")


@click.command()
@click.argument("spec_path", metavar="SPEC")
@click.option("--property", "prop", required=True, metavar="NAME", help="The property to draw.")
@click.option("--variant", metavar="V", help="A variant of the spec (default: the base).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(RENDER_FORMATS),
    default="svg",
    show_default=True,
    help="svg/png: ladder diagram (listener: with the server's queues; other models: a chain "
    "of states; needs Graphviz dot); "
    "dot; txt: step table; json: ITF.",
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
    from tcpmodel.render import chain, itf, text

    spec = load_all([spec_path])[0]
    try:
        cfg = configuration(spec, variant)
    except UsageError as e:
        fail(e)
    known = [c.prop.name for c in cfg.checks]
    if prop not in known:
        fail(
            UsageError(
                f"--property {prop}: {spec.name}{'/' + variant if variant else ''} has no such "
                f"property; known: {', '.join(known)}"
            )
        )
    progress = None if quiet else Display()
    try:
        (r,) = check_spec(
            dataclasses.replace(spec, configurations=(cfg,)),
            Options(only=frozenset({prop})),
            progress,
        )
    except TcpModelError as e:
        fail(e)
    if progress is not None:
        progress.done()
    if r.trace is None:
        why = f": {r.reason}" if r.reason else ""
        fail(
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
            data = (
                text.table(r.trace, lines)
                if chain.is_connection(r.trace)
                else "\n".join(lines) + "\n\n" + report.trace_text(r.trace) + "\n"
            )
        else:
            data = rendering.diagram(r.trace, lines)
            if fmt != "dot":
                data = image(data, fmt, path)
    except TcpModelError as e:
        fail(e)
    write(path, data)
    click.echo(f"{r.spec} {r.case_name}: {r.verdict}, {len(r.trace) - 1} steps: wrote {path}")


DIAGRAM_FORMATS = ("svg", "png", "dot")


@click.command()
@click.argument("spec_path", metavar="[SPEC]", required=False)
@click.option("--variant", metavar="V", help="A variant of SPEC (default: the base).")
@click.option(
    "--trace",
    "trace_path",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="An ITF trace (render --format json, check --out) whose path is drawn, numbered.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(DIAGRAM_FORMATS),
    default="svg",
    show_default=True,
    help="svg/png need Graphviz dot.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Output file (default: states.<ext>, or <spec>[.<variant>].states.<ext>).",
)
@click.option(
    "--max-states",
    type=click.IntRange(min=1),
    default=2_000_000,
    show_default=True,
    help="With SPEC: states to explore before drawing what was seen.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
def diagram(
    spec_path: str | None,
    variant: str | None,
    trace_path: str | None,
    fmt: str,
    output: str | None,
    max_states: int,
    quiet: bool,
) -> None:
    """Draw the connection model's state diagram, generated from its actions.

    Without SPEC: the transitions of small configurations that take every row of RFC 9293's
    state table.  With SPEC: the transitions of its configuration (explored up to
    --max-states).  With --trace: the trace's path highlighted, arcs numbered by step."""
    from tcpmodel.render import itf, states

    def progress(n: int, seconds: float) -> None:
        if not quiet:
            click.echo(f"diagram: {n:,} states, {n / max(seconds, 1e-9):,.0f} states/s", err=True)

    caption: list[str] = []
    try:
        path: list[tuple[int, states.Transition]] = []
        if trace_path is not None:
            try:
                text = Path(trace_path).read_text()
            except OSError as e:
                raise UsageError(f"--trace {trace_path}: cannot read: {e.strerror}") from None
            try:
                path = states.trace_transitions(itf.loads(text))
            except UsageError as e:
                raise UsageError(
                    f"--trace {trace_path}: {e} (expected an ITF trace of the connection "
                    "model, as `tcpmodel render --format json` writes)"
                ) from None
            caption.append(f"trace: {trace_path} ({max((k for k, _ in path), default=0)} steps)")
        if spec_path is None:
            if variant is not None:
                raise UsageError("--variant needs a SPEC")
            found = states.coverage_transitions(progress)
            caption.insert(
                0,
                f"connection model: {len(states.COVERAGE)} small configurations, "
                f"{found.states:,} states explored",
            )
            stem = "states"
        else:
            spec = load_all([spec_path])[0]
            cfg = configuration(spec, variant)
            found = states.explore_transitions(cfg.system, max_states, progress)
            where = spec.name + (f" (variant {variant})" if variant else "")
            seen = f"{found.states:,} states explored"
            if not found.complete:
                seen += f" of more (--max-states {max_states:,}): arcs of unexplored states missing"
                click.echo(f"tcpmodel: warning: {where}: {seen}", err=True)
            caption.insert(0, f"{where}: {seen}")
            stem = ".".join(x for x in (spec.name, variant, "states") if x)
        dot_text = states.diagram(found.transitions, caption, path)
    except TcpModelError as e:
        fail(e)
    out = Path(output) if output else Path(f"{stem}.{fmt}")
    write(out, dot_text if fmt == "dot" else image(dot_text, fmt, out))
    arcs = len({(t.src, t.dst) for t in found.transitions})
    click.echo(f"state diagram: {arcs} arcs, {len(found.transitions)} labels: wrote {out}")
