"""The command line: parse and validate, call one function, print, choose the exit code.

Exit codes: 0 every expectation met; 1 a definite verdict missed its expectation; 2 a usage or
spec error (one line on stderr, no traceback); 3 a verdict is ``unknown`` (a bound was reached,
an engine failed on a configuration) or the run was interrupted (`tcpmodel.interrupt`: what was
found is reported and written); 128 + the signal's number after a second SIGINT or SIGTERM.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click
from rich.table import Table

from tcpmodel import behaviours, interrupt, output, parallel, report
from tcpmodel import proofs as proof_files
from tcpmodel.check import Options, check_spec
from tcpmodel.engines import registry
from tcpmodel.engines.search import Bounds, default_jobs
from tcpmodel.errors import TcpModelError, UsageError
from tcpmodel.files import write_atomic
from tcpmodel.models import MODELS
from tcpmodel.progress import Display
from tcpmodel.results import Result
from tcpmodel.spec import Configuration, Spec, load, spec_files

if TYPE_CHECKING:
    from tcpmodel.diff import Diff
    from tcpmodel.kernel.compile import Compiled
    from tcpmodel.kernel.system import System


class RegistryChoice(click.Choice[str]):
    """A choice among a registry's names, read when the command line is parsed, so that an
    entry registered after this module was imported (a test's toy engine or format) is offered
    too."""

    def __init__(self, names: Callable[[], Sequence[str]]) -> None:
        self.names = names
        super().__init__(names())

    @property
    def choices(self) -> Sequence[str]:
        return self.names()

    @choices.setter
    def choices(self, value: Sequence[str]) -> None:
        del value  # always the registry's


def _default_memory_mb() -> int:
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return 4096
    return int(total * 0.75 / 2**20)


_F = TypeVar("_F", bound=Callable[..., Any])


def _bounds(states: str, seconds: str) -> Callable[[_F], _F]:
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
            default=_default_memory_mb,
            show_default="75% of RAM",
            help="Resident memory ceiling.",
        ),
    )

    def apply(command: _F) -> _F:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tcpmodel")
def main() -> None:
    """tcpmodel: a model checker for TCP connection management (RFC 9293)."""


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--property", "props", multiple=True, metavar="NAME", help="Check only NAME.")
@click.option(
    "--engine",
    type=RegistryChoice(registry.choices),
    default="auto",
    show_default=True,
    help="auto: native when gcc is installed, else explicit.",
)
@_bounds("Stop after this many states.", "Seconds per exploration.")
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
    proofs_dir: str | None,
    jobs: int,
    quiet: bool,
) -> None:
    """Check every property of the specs in PATHS (files or folders of *.toml)."""
    provers = (*registry.provers(), registry.AUTO)
    if proofs_dir is not None and engine not in provers:
        _fail(
            UsageError(
                f"--proofs needs --engine {registry.one_of(provers)} (they prove), not {engine}"
            )
        )
    progress = None if quiet else Display()
    results: list[Result] = []
    # From here on SIGINT and SIGTERM stop the run at its next safe point (specs interrupted
    # while loading are still loaded, so that their properties are reported unknown).
    with interrupt.handling(None if progress is None else progress.say) as stop:
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
        bounds = Bounds(max_depth, max_states, timeout, max_memory, stop)
        options = Options(engine, bounds, only)
        try:
            for s, got in parallel.check_all(specs, options, progress, jobs):
                results += got
                if progress is not None:
                    progress.done()
                if proofs_dir is not None:
                    _write_proofs(s, got, Path(proofs_dir), quiet)
        except TcpModelError as e:
            _fail(e)
        cause = stop.cause if stop.requested else ""
        # Interrupted, the user is waiting: the explorer pages go without the other enabled
        # actions rather than compile every model again.
        systems = (
            {}
            if cause
            else {(s.file, c.variant): c.system for s in specs for c in s.configurations}
        )
        _write_out(Path(out), results, cause, systems)
        click.echo(output.FORMATS[fmt](results, cause), nl=False)
    sys.exit(report.exit_code(results, bool(cause)))


@main.command(name="list")
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
    for s in _load_all(paths):
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

    spec = _load_all([spec_path])[0]
    try:
        cfg = _configuration(spec, variant)
    except UsageError as e:
        _fail(e)
    known = [c.prop.name for c in cfg.checks]
    if prop not in known:
        _fail(
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
            data = (
                text.table(r.trace, lines)
                if chain.is_connection(r.trace)
                else "\n".join(lines) + "\n\n" + report.trace_text(r.trace) + "\n"
            )
        else:
            data = rendering.diagram(r.trace, lines)
            if fmt != "dot":
                data = _image(data, fmt, path)
    except TcpModelError as e:
        _fail(e)
    _write(path, data)
    click.echo(f"{r.spec} {r.case_name}: {r.verdict}, {len(r.trace) - 1} steps: wrote {path}")


@main.command()
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
    type=click.Choice(["text", "json", "junit"]),
    default="text",
    show_default=True,
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="Folder for each connection's .svg/.dot/.txt/.json, results.json, junit.xml, index.html.",
)
def validate(
    captures: Sequence[str], profile: str, spec: str | None, fmt: str, out: str | None
) -> None:
    """Check packet captures (pcap, pcapng) against the connection model.

    One verdict per connection: conforms (exit 0), diverges (exit 1: the first segment no
    execution explains), unknown (exit 3: a bound or the abstraction stopped the search).
    An unreadable capture is exit 2.  Interrupted (SIGINT, SIGTERM), the connections not yet
    searched are unknown and the verdicts found are printed and written."""
    from tcpmodel import validate as checking
    from tcpmodel.validate import output as written

    try:
        with interrupt.handling() as stop:
            verdicts = checking.validate(captures, profile, spec, stop=stop)
        if out is not None:
            written.write_out(Path(out), verdicts)
    except TcpModelError as e:
        _fail(e)
    except OSError as e:
        _fail(UsageError(f"--out {out}: cannot write: {e.strerror}"))
    if fmt == "json":
        click.echo(written.to_json(verdicts))
    elif fmt == "junit":
        click.echo(written.to_junit(verdicts))
    else:
        click.echo(written.text(verdicts), nl=False)
    sys.exit(checking.exit_code(verdicts))


DIAGRAM_FORMATS = ("svg", "png", "dot")


@main.command()
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
            spec = _load_all([spec_path])[0]
            cfg = _configuration(spec, variant)
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
        _fail(e)
    out = Path(output) if output else Path(f"{stem}.{fmt}")
    _write(out, dot_text if fmt == "dot" else _image(dot_text, fmt, out))
    arcs = len({(t.src, t.dst) for t in found.transitions})
    click.echo(f"state diagram: {arcs} arcs, {len(found.transitions)} labels: wrote {out}")


@main.group(name="proofs")
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
            _fail(e)
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


@main.command()
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
    spec = _load_all([spec_path])[0]
    try:
        cfg = _configuration(spec, variant)
        checks = [] if no_properties else [c.prop for c in cfg.checks]
        invariants = [(p.name, p.predicate) for p in checks if p.kind == "always"]
        source = spec.file + (f", variant {variant}" if variant else "")
        result = promela_export.promela(cfg.system, invariants, source)
    except TcpModelError as e:
        _fail(e)
    stem = ".".join(x for x in (spec.name, variant) if x)
    path = Path(output) if output else Path(f"{stem}.pml")
    _write(path, result.text)
    left = [p.name for p in checks if p.kind != "always"]
    click.echo(
        f"{spec.name}{' ' + variant if variant else ''}: wrote {path} "
        f"({len(cfg.system.variables)} variables, {len(cfg.system.actions)} actions); "
        f"SPIN's states stored = tcpmodel's states + {result.extra_states}; "
        f"asserted: {', '.join(result.asserted) or 'none'}"
        + (f"; not exported: {', '.join(left)}" if left else "")
    )


def _write_proofs(spec: Spec, results: Sequence[Result], folder: Path, quiet: bool) -> None:
    """One artefact per proof in ``results`` (see `tcpmodel.proofs`)."""
    try:
        written = proof_files.artefacts(spec, results, folder)
        for a in written:
            proof_files.save(a)
    except OSError as e:
        _fail(UsageError(f"--proofs {folder}: cannot write proof artefacts: {e.strerror}"))
    if written and not quiet:
        click.echo(f"{spec.name}: {len(written)} proof artefacts in {folder / spec.name}", err=True)


def _configuration(spec: Spec, variant: str | None) -> Configuration:
    """The base configuration of ``spec`` (``variant`` None) or the named variant."""
    for cfg in spec.configurations:
        if cfg.variant == variant:
            return cfg
    names = ", ".join(c.variant for c in spec.configurations if c.variant) or "none"
    raise UsageError(f"--variant {variant}: {spec.file} has no such variant; known: {names}")


def _image(dot_text: str, fmt: str, path: Path) -> bytes:
    """``dot_text`` drawn by Graphviz as ``fmt``; without Graphviz the DOT is written next to
    ``path`` and the command fails, saying how to install it."""
    from tcpmodel.render import graphviz

    try:
        return graphviz.render(dot_text, fmt)
    except UsageError as e:
        kept = path.with_suffix(".dot")
        _write(kept, dot_text)
        _fail(UsageError(f"{e}; wrote {kept}"))


def _write(path: Path, data: str | bytes) -> None:
    try:
        write_atomic(path, data)
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


def _write_out(
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
        _fail(UsageError(f"--out {folder}: cannot write results: {e.strerror}"))


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


@main.command(name="diff")
@click.argument("design_a", metavar="SPEC_A[:VARIANT]")
@click.argument("design_b", metavar="SPEC_B[:VARIANT]")
@click.option(
    "--engine",
    type=RegistryChoice(behaviours.engines),
    default="auto",
    show_default=True,
    help="The explorer for the verdicts and the behaviours.",
)
@_bounds(
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
        _fail(e)
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
        _fail(UsageError(f"--out {folder}: cannot create: {e.strerror}"))
    svg = graphviz.available()
    for kind, items, where in (("added", d.added, d.b), ("removed", d.removed, d.a)):
        for x, t in items:
            dot = rendering.diagram(t, caption(d, x, where, kind))
            stem = f"{kind}.{x.slug}"
            _write(folder / f"{stem}.dot", dot)
            if svg:
                try:
                    _write(folder / f"{stem}.svg", graphviz.render(dot, "svg"))
                except UsageError as e:
                    _fail(e)
    if not svg and (d.added or d.removed) and not quiet:
        click.echo(f"tcpmodel: warning: no .svg in {folder}: {graphviz.INSTALL}", err=True)


@main.command(name="graph")
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

    spec = _load_all([spec_path])[0]
    try:
        cfg = _configuration(spec, variant)
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
        _fail(e)
    stem = ".".join(x for x in (spec.name, variant, "rfc" if rfc else "states") if x)
    path = Path(output) if output else Path(f"{stem}.{fmt}")
    _write(path, text)
    click.echo(
        f"{spec.name}{' ' + variant if variant else ''}: {g.number_of_nodes():,} nodes, "
        f"{g.number_of_edges():,} edges: wrote {path}"
    )
