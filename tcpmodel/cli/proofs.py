"""``tcpmodel proofs verify``: the proof artefacts ``check --proofs`` wrote, checked against
their spec and model and proved again (`tcpmodel.proofs`)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click
from rich.table import Table

from tcpmodel import interrupt, output
from tcpmodel import proofs as proof_files
from tcpmodel.cli.common import fail
from tcpmodel.errors import TcpModelError


@click.group(name="proofs")
def proofs_group() -> None:
    """Proof artefacts that `check --proofs DIR` writes (proofs by kind or chc)."""


@proofs_group.command(name="verify")
@click.argument("paths", nargs=-1, metavar="[DIR|FILE]...")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="S",
    help="Seconds for each proof's re-run.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
def proofs_verify(paths: Sequence[str], timeout: float | None, quiet: bool) -> None:
    """Check that each artefact still matches its spec and model, and prove it again.

    Default DIR: proofs/.  Exit 0 when every artefact verifies, 1 when a spec or model
    changed or a proof fails again, 2 when an artefact file is malformed, 3 when SIGINT or
    SIGTERM stopped it first (the artefacts not yet proved again are reported unknown)."""
    with interrupt.handling() as stop:
        try:
            found = [proof_files.load(p) for p in proof_files.artefact_files(paths or ["proofs"])]
        except TcpModelError as e:
            fail(e)
        say = None if quiet else lambda line: click.echo(line, err=True)
        checked = proof_files.verify_all(found, timeout, stop, say)
    t = Table("artefact", "engine", "recorded", "now", "", "s")
    for v in checked:
        mark = {"ok": "ok", "interrupted": "UNKNOWN"}.get(v.status, "FAIL")
        t.add_row(
            str(v.artefact.path),
            v.artefact.engine,
            v.artefact.verdict,
            v.verdict or "-",
            mark,
            f"{v.seconds:.2f}",
        )
    console = output.console()
    console.print(t)
    bad = [v for v in checked if v.status in ("changed", "failed")]
    for v in bad:
        console.print(f"FAIL {v.artefact.path}: {v.why}", markup=False, soft_wrap=True)
    open_ = [v for v in checked if v.status == "interrupted"]
    for v in open_:
        console.print(f"UNKNOWN {v.artefact.path}: {v.why}", markup=False, soft_wrap=True)
    ok = len(checked) - len(bad) - len(open_)
    console.print(
        f"\n{len(checked)} artefacts: {ok} verified, {len(bad)} failed"
        + (f", {len(open_)} not verified (interrupted by {stop.cause})" if open_ else "")
    )
    sys.exit(1 if bad else 3 if stop.requested else 0)
