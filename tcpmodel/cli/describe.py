"""Commands that show or export a spec's model without checking it: ``tcpmodel list``
(models, parameters, properties; a spec's rules and variants), ``tcpmodel graph`` (the state
graph with networkx) and ``tcpmodel export --promela`` (for SPIN)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click
from rich.table import Table

from tcpmodel import output
from tcpmodel.cli.common import configuration, fail, load_all, write
from tcpmodel.errors import TcpModelError, UsageError
from tcpmodel.models import MODELS


@click.command(name="list")
@click.argument("paths", nargs=-1)
def list_(paths: Sequence[str]) -> None:
    """List the specs in PATHS, or with no PATHS the models, parameters and properties."""
    console = output.console()
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
    for s in load_all(paths):
        console.print(f"[bold]{s.name}[/bold] ({s.file}): model {s.model.name}")
        if s.description:
            console.print(f"  {s.description}")
        if s.profile:
            console.print(f"  profile: {s.profile} (parameters start from it)", markup=False)
        params = ", ".join(f"{k}={v}" for k, v in s.params.items())
        console.print(f"  parameters: {params}", markup=False)
        rules = ", ".join(s.configurations[0].system.rule_names())
        console.print(f"  rules (names for `disable`): {rules}", markup=False)
        for cfg in s.configurations:
            if cfg.disabled:
                # A removed action can leave states with nothing to do (a due timer whose
                # action is gone blocks time): name what went, so a deadlock can be read.
                where = f"variant {cfg.variant}" if cfg.variant else "base"
                console.print(
                    f"  disabled ({where}): {', '.join(cfg.disabled)}; "
                    f"{len(cfg.removed)} actions removed: {', '.join(cfg.removed)}",
                    markup=False,
                )
        t = Table("variant", "property", "formula", "expect")
        for cfg in s.configurations:
            for c in cfg.checks:
                t.add_row(cfg.variant or "-", c.prop.name, c.prop.formula, c.expect)
        console.print(t)


@click.command()
@click.argument("spec_path", metavar="SPEC")
@click.option("--variant", metavar="V", help="A variant of SPEC (default: the base).")
@click.option("--promela", is_flag=True, required=True, help="Write Promela, for SPIN.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Output file (default: <spec>[.<variant>].pml here).",
)
@click.option(
    "--no-properties", is_flag=True, help="Leave out the assertions of the always properties."
)
def export(
    spec_path: str, variant: str | None, promela: bool, output: str | None, no_properties: bool
) -> None:
    """Write the transition system of SPEC as Promela, so that SPIN explores the same states.

    Each always property becomes an assertion; other properties are not exported. SPIN's
    "states, stored" (spin -o2 -a, gcc -DSAFETY -DNOREDUCE) equal tcpmodel's states, plus one
    when the model has several initial states (the state before SPIN chooses one)."""
    from tcpmodel.kernel import promela as promela_export

    del promela  # the only format, and required: the flag says what is written
    spec = load_all([spec_path])[0]
    try:
        cfg = configuration(spec, variant)
        checks = [] if no_properties else [c.prop for c in cfg.checks]
        invariants = [(p.name, p.predicate) for p in checks if p.kind == "always"]
        source = spec.file + (f", variant {variant}" if variant else "")
        result = promela_export.promela(cfg.system, invariants, source)
    except TcpModelError as e:
        fail(e)
    stem = ".".join(x for x in (spec.name, variant) if x)
    path = Path(output) if output else Path(f"{stem}.pml")
    write(path, result.text)
    left = [p.name for p in checks if p.kind != "always"]
    click.echo(
        f"{spec.name}{' ' + variant if variant else ''}: wrote {path} "
        f"({len(cfg.system.variables)} variables, {len(cfg.system.actions)} actions); "
        f"SPIN's states stored = tcpmodel's states + {result.extra_states}; "
        f"asserted: {', '.join(result.asserted) or 'none'}"
        + (f"; not exported: {', '.join(left)}" if left else "")
    )


@click.command(name="graph")
@click.argument("spec_path", metavar="SPEC")
@click.option("--variant", metavar="V", help="A variant of SPEC (default: the base).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("graphml", "gexf", "json")),
    default="graphml",
    show_default=True,
    help="json: networkx node-link data.",
)
@click.option(
    "--rfc",
    is_flag=True,
    help="The RFC 9293 state diagram the configuration takes (connection model), not its states.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Output file (default: <spec>[.<variant>].<states|rfc>.<format> here).",
)
@click.option(
    "--max-states",
    type=click.IntRange(min=1),
    default=100_000,
    show_default=True,
    help="Refuse configurations with more reachable states.",
)
def graph_(
    spec_path: str,
    variant: str | None,
    fmt: str,
    rfc: bool,
    output: str | None,
    max_states: int,
) -> None:
    """Export the state graph of SPEC's configuration (networkx): every reachable state and
    transition, or with --rfc the RFC 9293 state diagram its endpoints take."""
    from tcpmodel import graph as graphs

    spec = load_all([spec_path])[0]
    try:
        cfg = configuration(spec, variant)
        if rfc:
            g = graphs.rfc_graph(cfg.system, max_states)
            if not g.graph["complete"]:
                raise UsageError(
                    f"{spec.name}: more than {max_states:,} reachable states; raise --max-states"
                )
        else:
            where = spec.file + (f" (variant {variant})" if variant else "")
            g = graphs.state_graph(cfg.system, max_states, where=where)
        text = graphs.dumps(g, fmt)
    except TcpModelError as e:
        fail(e)
    stem = ".".join(x for x in (spec.name, variant, "rfc" if rfc else "states") if x)
    path = Path(output) if output else Path(f"{stem}.{fmt}")
    write(path, text)
    click.echo(
        f"{spec.name}{' ' + variant if variant else ''}: {g.number_of_nodes():,} nodes, "
        f"{g.number_of_edges():,} edges: wrote {path}"
    )
