"""The command line: parse and validate, call one function, print, choose the exit code.

Exit codes: 0 every expectation met; 1 a definite verdict missed its expectation; 2 a usage or
spec error (one line on stderr, no traceback); 3 a verdict is ``unknown`` (a bound was reached,
an engine failed on a configuration) or the run was interrupted (`tcpmodel.interrupt`: what was
found is reported and written); 128 + the signal's number after a second SIGINT or SIGTERM.

One module per command or family of commands (`check`, `validate`, `diff`, `proofs`, `draw`:
render and diagram, `describe`: list, graph and export); what they share (`RegistryChoice`,
the `bounds` option group, `fail`, spec loading, writing) is in `tcpmodel.cli.common`, the
``check --out`` folder in `tcpmodel.cli.out`.  This module is the click group `main`, the
console script's entry point.
"""

from __future__ import annotations

import click

from tcpmodel.cli import check, describe, diff, draw, proofs, validate
from tcpmodel.cli.common import RegistryChoice

__all__ = ["RegistryChoice", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tcpmodel")
def main() -> None:
    """tcpmodel: a model checker for TCP connection management (RFC 9293)."""


for _command in (
    check.check,
    describe.list_,
    draw.render,
    validate.validate,
    draw.diagram,
    proofs.proofs_group,
    describe.export,
    diff.diff_,
    describe.graph_,
):
    main.add_command(_command)
