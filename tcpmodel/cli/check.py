"""``tcpmodel check``: every property of the specs given, through the engine registry
(`tcpmodel.parallel.check_all`), printed in one of `tcpmodel.output.FORMATS` and written to
``--out`` (`tcpmodel.cli.out`); ``--proofs`` writes a proof artefact per proof."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from tcpmodel import interrupt, output, parallel, report
from tcpmodel import proofs as proof_files
from tcpmodel.check import Options, compact_engine
from tcpmodel.cli.common import RegistryChoice, bounds, fail, load_all
from tcpmodel.cli.out import write_out
from tcpmodel.engines import registry
from tcpmodel.engines.search import Bounds, default_jobs
from tcpmodel.errors import TcpModelError, UsageError
from tcpmodel.progress import Display
from tcpmodel.results import Result
from tcpmodel.spec import Spec


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--property", "props", multiple=True, metavar="NAME", help="Check only NAME.")
@click.option(
    "--engine",
    type=RegistryChoice(registry.choices),
    default="auto",
    show_default=True,
    help="auto: native when gcc is installed, else explicit.",
)
@bounds("Stop after this many states.", "Seconds per exploration.")
@click.option(
    "--por/--no-por",
    default=True,
    show_default=True,
    help="Partial-order reduction in the explicit explorer's state-property searches "
    "(verdicts unchanged; fewer states where actions are independent).",
)
@click.option(
    "--compact",
    is_flag=True,
    help="Hash compaction (native engine): 64-bit fingerprints instead of states; "
    "holds then comes with the probability that a state was omitted.",
)
@click.option(
    "--format",
    "fmt",
    type=RegistryChoice(output.choices),
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
@click.option(
    "--proofs",
    "proofs_dir",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Write a proof artefact to DIR for each property kind or chc proves.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=default_jobs,
    show_default="the number of cores",
    help="Configurations checked at once, in worker processes (1: in this process).",
)
@click.option(
    "--ray",
    metavar="ADDRESS",
    help="Check the configurations on the Ray cluster at ADDRESS (auto, HOST:6379 or "
    "ray://HOST:10001) instead of local processes; needs pip install 'tcpmodel[ray]'.",
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
    por: bool,
    compact: bool,
    fmt: str,
    out: str,
    proofs_dir: str | None,
    jobs: int,
    ray: str | None,
    quiet: bool,
) -> None:
    """Check every property of the specs in PATHS (files or folders of *.toml)."""
    provers = (*registry.provers(), registry.AUTO)
    if proofs_dir is not None and engine not in provers:
        fail(
            UsageError(
                f"--proofs needs --engine {registry.one_of(provers)} (they prove), not {engine}"
            )
        )
    if compact:
        try:
            compact_engine(engine)
        except TcpModelError as e:
            fail(e)
    progress = None if quiet else Display()
    results: list[Result] = []
    # From here on SIGINT and SIGTERM stop the run at its next safe point (specs interrupted
    # while loading are still loaded, so that their properties are reported unknown).
    with interrupt.handling(None if progress is None else progress.say) as stop:
        specs = load_all(paths)
        only = frozenset(props) if props else None
        if only is not None:
            known = {c.prop.name for s in specs for cfg in s.configurations for c in cfg.checks}
            missing = sorted(only - known)
            if missing:
                fail(
                    UsageError(
                        f"--property {missing[0]}: no spec here has this property; "
                        f"known: {', '.join(sorted(known))}"
                    )
                )
        bounds = Bounds(max_depth, max_states, timeout, max_memory, stop, por)
        options = Options(engine, bounds, only, compact)
        try:
            for s, got in parallel.check_all(specs, options, progress, jobs, ray=ray):
                results += got
                if progress is not None:
                    progress.done()
                if proofs_dir is not None:
                    _write_proofs(s, got, Path(proofs_dir), quiet)
        except TcpModelError as e:
            fail(e)
        cause = stop.cause if stop.requested else ""
        # Interrupted, the user is waiting: the explorer pages go without the other enabled
        # actions rather than compile every model again.
        systems = (
            {}
            if cause
            else {(s.file, c.variant): c.system for s in specs for c in s.configurations}
        )
        write_out(Path(out), results, cause, systems)
        click.echo(output.FORMATS[fmt](results, cause), nl=False)
    sys.exit(report.exit_code(results, bool(cause)))


def _write_proofs(spec: Spec, results: Sequence[Result], folder: Path, quiet: bool) -> None:
    """One artefact per proof in ``results`` (see `tcpmodel.proofs`)."""
    try:
        written = proof_files.artefacts(spec, results, folder)
        for a in written:
            proof_files.save(a)
    except OSError as e:
        fail(UsageError(f"--proofs {folder}: cannot write proof artefacts: {e.strerror}"))
    if written and not quiet:
        click.echo(f"{spec.name}: {len(written)} proof artefacts in {folder / spec.name}", err=True)
