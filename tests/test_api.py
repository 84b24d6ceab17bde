"""The Python API: the CLI's results as values, and how notebooks display them."""

from __future__ import annotations

import shutil

import graphviz as graphviz_package
import pytest

import tcpmodel
from tcpmodel import render
from tcpmodel.check import Options, check_spec
from tcpmodel.errors import SpecError, UsageError
from tcpmodel.spec import load
from tests.test_cli import SPECS

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz dot")


def test_check_returns_what_check_spec_returns() -> None:
    path = SPECS / "alternating-bit.toml"
    got = tcpmodel.check(path, engine="explicit")
    want = check_spec(load(path), Options("explicit"))
    assert isinstance(got, tcpmodel.Results)
    key = [(r.variant, r.prop, r.verdict, r.stats.states, r.trace) for r in want]
    assert [(r.variant, r.prop, r.verdict, r.stats.states, r.trace) for r in got] == key
    assert got.exit_code == 0
    assert got.get("delivers-in-order", "reordering").verdict == "violated"
    # a loaded spec, the base only, one property
    only = tcpmodel.check(tcpmodel.load(str(path)), variant=None, properties=["deadlock-free"])
    assert [(r.variant, r.prop) for r in only] == [(None, "deadlock-free")]


def test_results_table_html_has_a_row_per_result() -> None:
    rs = tcpmodel.check(SPECS / "mutex-naive.toml", engine="explicit")
    page = rs._repr_html_()
    assert page.count("<tr>") == len(rs) + 1
    assert "mutual-exclusion" in page and ">violated<" in page
    assert f"{len(rs)} results: {len(rs)} met, 0 unmet, 0 unknown" in page
    with pytest.raises(KeyError, match="no result for nope"):
        rs.get("nope")


@needs_dot
def test_result_trace_and_state_diagram_display_inline() -> None:
    (r,) = tcpmodel.check(
        SPECS / "fixed-isn.toml", variant=None, properties=["no-old-data"], engine="explicit"
    )
    assert r.trace is not None
    d = r.diagram()
    assert isinstance(d, graphviz_package.Source)
    assert d.source == render.diagram(r.trace, render.caption(r))
    assert "image/svg+xml" in d._repr_mimebundle_()
    assert isinstance(r.trace.ladder(), graphviz_package.Source)
    assert r.trace._repr_svg_().lstrip().startswith("<?xml")
    page = r._repr_html_()
    assert "verdict <b>violated</b>" in page and "<svg" in page
    s = tcpmodel.state_diagram(SPECS / "fixed-isn.toml", trace=r.trace, max_states=500)
    assert isinstance(s, graphviz_package.Source) and "digraph tcp_states" in s.source
    assert "(cut short)" in s.source  # the bound is said


def test_a_result_without_a_trace_has_no_diagram() -> None:
    (r,) = tcpmodel.check(SPECS / "mutex-peterson.toml", properties=["mutual-exclusion"])
    assert r.verdict == "holds" and r.trace is None
    with pytest.raises(ValueError, match="verdict holds, no trace to draw"):
        r.diagram()
    assert "<svg" not in r._repr_html_()


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(UsageError, match="no variant 'nope'; its variants: reordering"):
        tcpmodel.check(SPECS / "alternating-bit.toml", variant="nope")
    with pytest.raises(UsageError, match="no property 'nope'; known: "):
        tcpmodel.check(SPECS / "alternating-bit.toml", properties=["nope"])
    with pytest.raises(SpecError, match=r"no such file|cannot read"):
        tcpmodel.load("missing.toml")


def test_check_is_the_function_and_the_module_still_imports_by_name() -> None:
    import sys

    from tcpmodel.check import check_spec as by_name

    assert callable(tcpmodel.check) and tcpmodel.check.__module__ == "tcpmodel.api"
    assert by_name is check_spec is sys.modules["tcpmodel.check"].check_spec
