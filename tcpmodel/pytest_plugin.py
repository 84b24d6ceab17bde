"""Spec files as pytest tests: ``pytest specs/`` checks every (spec, variant, property).

Registered as the ``pytest11`` entry point ``tcpmodel``.  A ``*.toml`` file is collected when
it is a spec (it has a ``[spec]`` table naming a ``model``; other TOML files, such as
``pyproject.toml``, are left alone).  Each property of each configuration is one item, named
``<property>`` for the base and ``<property>[<variant>]`` for a variant, so ``-k`` selects
properties (``-k "no-old-data and not 32bit"``).

A configuration's selected properties are checked in one exploration, the first time one of
its items runs (after ``-k`` deselection, so deselected properties cost nothing); the other
items read the cached results.  An item passes when its verdict meets the expectation; an
unknown verdict (a bound reached) fails, as it does for ``tcpmodel check``.  A failure shows
the verdict, the reason, the trace as a step table and the path of its ladder diagram (SVG,
and DOT), written under ``--tcpmodel-out`` (default ``out/pytest`` under pytest's root).

Options: ``--tcpmodel-engine``, ``--tcpmodel-max-states``, ``--tcpmodel-timeout``,
``--tcpmodel-out``.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tcpmodel.check import Options, check_spec
from tcpmodel.engines import registry
from tcpmodel.engines.search import Bounds
from tcpmodel.errors import TcpModelError
from tcpmodel.results import Result
from tcpmodel.spec import Configuration, Spec, load

_CACHE = pytest.StashKey[dict[tuple[str, str | None], dict[str, Result]]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tcpmodel", "tcpmodel spec files")
    group.addoption(
        "--tcpmodel-engine",
        choices=registry.choices(),
        default="auto",
        help="engine for spec files (default: auto)",
    )
    group.addoption("--tcpmodel-max-states", type=int, default=None, help="state bound")
    group.addoption("--tcpmodel-timeout", type=float, default=None, help="seconds per exploration")
    group.addoption(
        "--tcpmodel-out",
        default=None,
        help="folder for the ladder diagrams of failures (default: out/pytest under the root)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_CACHE] = {}
    config.addinivalue_line(
        "markers", "tcpmodel: a (spec, variant, property) check collected from a spec file"
    )


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> SpecFile | None:
    if file_path.suffix != ".toml" or not _is_spec(file_path):
        return None
    found: SpecFile = SpecFile.from_parent(parent, path=file_path)
    return found


def _is_spec(path: Path) -> bool:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    head = doc.get("spec")
    return isinstance(head, dict) and "model" in head


class SpecError(Exception):
    """A spec file that does not load: reported as the file's collection error."""


class SpecFile(pytest.File):
    def collect(self) -> Iterator[SpecItem]:
        try:
            spec = load(self.path)
        except TcpModelError as e:
            raise SpecError(str(e)) from None
        for cfg in spec.configurations:
            for c in cfg.checks:
                name = c.prop.name if cfg.variant is None else f"{c.prop.name}[{cfg.variant}]"
                item: SpecItem = SpecItem.from_parent(
                    self, name=name, spec=spec, configuration=cfg, prop=c.prop.name
                )
                yield item

    def repr_failure(  # type: ignore[override]
        self, excinfo: pytest.ExceptionInfo[BaseException]
    ) -> str:
        if isinstance(excinfo.value, SpecError):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))


class Unmet(Exception):
    """An expectation the engine's verdict does not meet."""


class SpecItem(pytest.Item):
    def __init__(
        self, *, spec: Spec, configuration: Configuration, prop: str, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.configuration = configuration
        self.prop = prop
        self.add_marker(pytest.mark.tcpmodel)

    def runtest(self) -> None:
        r = self._result()
        if not r.met:
            raise Unmet(self._message(r))

    def _result(self) -> Result:
        cache = self.config.stash[_CACHE]
        key = (str(self.path), self.configuration.variant)
        if key not in cache or self.prop not in cache[key]:
            # every selected property of this configuration, in one exploration
            wanted = {
                i.prop
                for i in self.session.items
                if isinstance(i, SpecItem)
                and i.path == self.path
                and i.configuration.variant == self.configuration.variant
            } | {self.prop}
            opt = self.config.getoption
            options = Options(
                opt("tcpmodel_engine"),
                Bounds(max_states=opt("tcpmodel_max_states"), timeout=opt("tcpmodel_timeout")),
                frozenset(wanted),
            )
            one = dataclasses.replace(self.spec, configurations=(self.configuration,))
            cache[key] = {r.prop: r for r in check_spec(one, options)}
        return cache[key][self.prop]

    def _message(self, r: Result) -> str:
        from tcpmodel import report

        where = r.spec if r.variant is None else f"{r.spec} (variant {r.variant})"
        lines = [
            f"{where}: {r.prop} = {r.formula}",
            f"expected {r.expect}, got {r.verdict} ({r.engine}, {r.stats.states:,} states)",
        ]
        if r.reason:
            lines.append(f"reason: {r.reason}")
        if r.trace is not None:
            lines += ["", report.trace_text(r.trace), ""]
            lines.append(f"ladder diagram: {self._draw(r)}")
        return "\n".join(lines)

    def _draw(self, r: Result) -> str:
        """Write the trace's diagram (SVG when Graphviz is installed, and DOT); its path."""
        from tcpmodel import render
        from tcpmodel.files import write_atomic
        from tcpmodel.render import graphviz, html

        assert r.trace is not None
        given = self.config.getoption("tcpmodel_out")
        folder = Path(given) if given else self.config.rootpath / "out" / "pytest"
        folder.mkdir(parents=True, exist_ok=True)
        stem = folder / html.stem(r)
        dot = render.diagram(r.trace, render.caption(r))
        write_atomic(Path(f"{stem}.dot"), dot)
        if not graphviz.available():
            return f"{stem}.dot (no SVG: {graphviz.INSTALL})"
        write_atomic(Path(f"{stem}.svg"), graphviz.render(dot, "svg"))
        return f"{stem}.svg"

    def repr_failure(  # type: ignore[override]
        self, excinfo: pytest.ExceptionInfo[BaseException]
    ) -> str:
        if isinstance(excinfo.value, Unmet | TcpModelError):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        variant = f" [{self.configuration.variant}]" if self.configuration.variant else ""
        return self.path, None, f"{self.spec.name}{variant}: {self.prop}"
