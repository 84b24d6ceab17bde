"""The ``--out`` folder of ``tcpmodel check``: results.json and junit.xml (the ``json`` and
``junit`` entries of `tcpmodel.output.FORMATS`), each trace as .svg/.dot/.txt/.json with its
explorer page, and index.html."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tcpmodel import output, report
from tcpmodel.cli.common import fail
from tcpmodel.errors import UsageError
from tcpmodel.files import write_atomic
from tcpmodel.results import Result

if TYPE_CHECKING:
    from tcpmodel.kernel.compile import Compiled
    from tcpmodel.kernel.system import System


def write_out(
    folder: Path,
    results: Sequence[Result],
    interrupted: str = "",
    systems: Mapping[tuple[str, str | None], System] | None = None,
) -> None:
    """results.json, junit.xml, each trace as .svg/.dot/.txt/.json and its explorer page
    (.explore.html), and index.html, each written atomically (a killed run leaves complete
    files only).

    Without a working Graphviz the .svg files are skipped with one warning on stderr; the
    pages say so and link only the files written.  ``interrupted``: the signal that stopped
    the run, said in results.json and the page.  ``systems``: each (spec file, variant)'s
    transition system, from which the explorer pages compute the other enabled actions.
    """
    from tcpmodel.render import graphviz, html

    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / "results.json", output.json(results, interrupted))
        write_atomic(folder / "junit.xml", output.junit(results, interrupted))
        files: dict[str, list[str]] = {}
        svgs: dict[str, str] = {}
        svg_error = "" if graphviz.available() else graphviz.INSTALL.split(";")[0]
        compiled: dict[int, Compiled] = {}  # by id(system): each compiled once
        for r in results:
            if r.trace is None:
                continue
            stem = html.stem(r)
            texts = _trace_files(r)
            if not svg_error:
                try:
                    svgs[stem] = graphviz.render(texts["dot"], "svg").decode()
                    texts = {"svg": svgs[stem], **texts}
                except UsageError as e:
                    svg_error = str(e)
            if "svg" not in texts:  # an older run's diagram would not match this trace
                (folder / f"{stem}.svg").unlink(missing_ok=True)
            system = (systems or {}).get((r.file, r.variant))
            texts["explore.html"] = _explorer_page(
                r, svgs.get(stem), svg_error, system, compiled, interrupted
            )
            for ext, data in texts.items():
                write_atomic(folder / f"{stem}.{ext}", data)
            files[stem] = [f"{stem}.{ext}" for ext in texts]
        if svg_error and files:
            click.echo(
                f"tcpmodel: warning: no .svg diagrams in {folder}: {svg_error}; install "
                "Graphviz (`apt-get install graphviz`, `brew install graphviz`) to draw them",
                err=True,
            )
        page = html.report(
            results,
            files,
            svgs,
            downloads=("results.json", "junit.xml"),
            svg_missing=svg_error or html.NO_SVG,
            interrupted=interrupted,
        )
        write_atomic(folder / "index.html", page)
    except OSError as e:
        fail(UsageError(f"--out {folder}: cannot write results: {e.strerror}"))


def _trace_files(r: Result) -> dict[str, str]:
    """The dot, txt and json text of a result's trace: a ladder for ``connection`` traces, the
    queue ladder for ``listener`` traces, a chain of states for others."""
    from tcpmodel import render as rendering
    from tcpmodel.render import chain, itf, text

    assert r.trace is not None
    lines = rendering.caption(r)
    dot = rendering.diagram(r.trace, lines)
    if chain.is_connection(r.trace):
        txt = text.table(r.trace, lines)
    else:
        txt = output.trace_header(r) + report.trace_text(r.trace) + "\n"
    meta = {"source": r.file, "description": "\n".join(lines)}
    return {"dot": dot, "txt": txt, "json": itf.dumps(r.trace, meta)}


def _explorer_page(
    r: Result,
    svg: str | None,
    svg_error: str,
    system: System | None,
    compiled: dict[int, Compiled],
    interrupted: str = "",
) -> str:
    """A result's explorer page; the other enabled actions come from ``system`` (compiled
    once per system into ``compiled``); without it the page says they were not computed."""
    from tcpmodel import render as rendering
    from tcpmodel.render import explorer, html

    assert r.trace is not None
    choices = None
    if system is not None:
        from tcpmodel.kernel.compile import Compiled

        if id(system) not in compiled:
            compiled[id(system)] = Compiled(system)
        c = compiled[id(system)]
        choices = explorer.enabled(system, r.trace, c)
    return explorer.page(
        r.trace,
        f"{html.stem(r)}: trace explorer",
        rendering.caption(r),
        svg,
        choices,
        svg_missing=svg_error or html.NO_SVG,
        others_missing=f"the run was interrupted by {interrupted}"
        if interrupted
        else explorer.NO_MODEL,
    )
