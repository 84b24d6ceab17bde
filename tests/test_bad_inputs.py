"""A corpus of bad inputs, driven through the real command line.

Every bad spec, formula or option must end with exit status 2 and exactly one line on stderr,
``tcpmodel: error: FILE: KEY: what is wrong; expected ...`` (for formulas the key is followed
by ``column N:``, 1-based, pointing into the user's own text), and never with a traceback.
Most cases run in-process through click's `CliRunner`; a few run ``python -m tcpmodel`` in a
subprocess to cover the real entry point.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import pytest
from click.testing import CliRunner, Result

import tcpmodel.spec
from tcpmodel.cli import main
from tcpmodel.kernel.system import System
from tcpmodel.models import MODELS, Model, Param, mutex

PREFIX = "tcpmodel: error: "

MUTEX = """\
[spec]
name = "t"
model = "mutex"
"""
ABP = """\
[spec]
name = "t"
model = "alternating-bit"
"""
PROP = """
[[property]]
name = "mutual-exclusion"
expect = "holds"
"""
CONNECTION = """\
[spec]
name = "t"
model = "connection"
"""
ABP_PROP = """
[[property]]
name = "delivers-in-order"
expect = "holds"
"""


# --------------------------------------------------------------------------------------------
# helpers


def write(tmp_path: Path, text: str | bytes, name: str = "spec.toml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def cli(tmp_path: Path, *args: str) -> Result:
    """``tcpmodel check`` (or another command when args start with one) in-process."""
    argv = list(args)
    if not argv or argv[0] not in ("check", "list"):
        argv = ["check", "-q", "--out", str(tmp_path / "out"), *argv]
    return CliRunner().invoke(main, argv)


def error_line(code: int, stdout: str, stderr: str, exception: BaseException | None) -> str:
    """Check the shape of a usage/spec error and return its message after the prefix."""
    assert exception is None or isinstance(exception, SystemExit), repr(exception)
    assert "Traceback" not in stderr and "Traceback" not in stdout
    assert code == 2, (code, stdout, stderr)
    assert stdout == ""
    assert stderr.endswith("\n") and stderr.count("\n") == 1, stderr
    assert stderr.startswith(PREFIX), stderr
    return stderr[len(PREFIX) : -1]


def expect_error(result: Result, *fragments: str) -> str:
    msg = error_line(result.exit_code, result.stdout, result.stderr, result.exception)
    for f in fragments:
        assert f in msg, f"{f!r} not in {msg!r}"
    return msg


def expect_spec_error(result: Result, path: Path, key: str, *fragments: str) -> str:
    """``FILE: KEY: ...; expected ...``."""
    msg = expect_error(result, f"{path}: {key}: ", *fragments)
    assert msg.startswith(f"{path}: {key}: "), msg
    assert "expected" in msg.split(f"{key}: ", 1)[1], msg
    return msg


def column(text: str, token: str, nth: int = 0) -> int:
    """1-based column of the ``nth`` occurrence of ``token`` in ``text``."""
    at = -1
    for _ in range(nth + 1):
        at = text.index(token, at + 1)
    return at + 1


def run_module(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tcpmodel", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


# --------------------------------------------------------------------------------------------
# files and paths


def test_nonexistent_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    expect_error(cli(tmp_path, str(missing)), f"{missing}: ", "no such file", "expected")


def test_dangling_symlink(tmp_path: Path) -> None:
    link = tmp_path / "x.toml"
    link.symlink_to(tmp_path / "gone.toml")
    expect_error(cli(tmp_path, str(link)), f"{link}: ", "no such file", "expected")


def test_empty_directory(tmp_path: Path) -> None:
    d = tmp_path / "empty"
    d.mkdir()
    expect_error(cli(tmp_path, str(d)), f"{d}: ", "no *.toml", "expected")


def test_directory_named_like_a_spec(tmp_path: Path) -> None:
    # A folder `x.toml` inside a folder of specs: globbed as a spec, unreadable as a file.
    d = tmp_path / "specs"
    (d / "x.toml").mkdir(parents=True)
    expect_error(cli(tmp_path, str(d)), f"{d / 'x.toml'}: ", "cannot read", "expected")


def test_not_utf8(tmp_path: Path) -> None:
    path = write(tmp_path, b'[spec]\nname = "caf\xe9"\nmodel = "mutex"\n')
    expect_error(cli(tmp_path, str(path)), f"{path}: ", "UTF-8", "line 2", "expected")


def test_invalid_toml(tmp_path: Path) -> None:
    path = write(tmp_path, MUTEX + "[[property]\nname = 1\n")
    expect_error(cli(tmp_path, str(path)), f"{path}: ", "invalid TOML", "line 4", "expected")


def test_list_reports_spec_errors_too(tmp_path: Path) -> None:
    path = write(tmp_path, MUTEX.replace('"mutex"', '"mutx"') + PROP)
    expect_spec_error(cli(tmp_path, "list", str(path)), path, "spec.model", "mutx")


# --------------------------------------------------------------------------------------------
# spec structure, parameters, properties, variants: (id, toml, key, fragments)


@dataclass(frozen=True)
class Case:
    id: str
    toml: str
    key: str
    fragments: tuple[str, ...] = ()


CONN = '[spec]\nname = "t"\nmodel = "connection"\n\n'
CONN_PROP = '\n[[property]]\nname = "handshake"\nexpect = "reachable"\n'

SPEC_CASES = [
    Case("missing-spec-table", PROP, "[spec]", ("missing",)),
    Case("spec-not-a-table", "spec = 3\n" + PROP, "spec", ("an integer",)),
    Case("missing-name", '[spec]\nmodel = "mutex"\n' + PROP, "spec.name", ("missing",)),
    Case("name-not-string", '[spec]\nname = 3\nmodel = "mutex"\n' + PROP, "spec.name", ("3",)),
    Case("empty-name", '[spec]\nname = ""\nmodel = "mutex"\n' + PROP, "spec.name", ("name",)),
    Case("name-with-slash", '[spec]\nname = "../x"\nmodel = "mutex"\n' + PROP, "spec.name", ("/",)),
    Case("missing-model", '[spec]\nname = "t"\n' + PROP, "spec.model", ("missing",)),
    Case("unknown-top-level-key", "colour = 1\n" + MUTEX + PROP, "colour", ("unknown key", "spec")),
    Case(
        "unknown-spec-key", MUTEX + 'modle = "x"\n' + PROP, "spec.modle", ("unknown key", "model")
    ),
    Case(
        "unknown-model",
        MUTEX.replace('"mutex"', '"tcp-3way"') + PROP,
        "spec.model",
        ("'tcp-3way'", "alternating-bit", "mutex"),
    ),
    Case("params-not-a-table", "params = 3\n" + MUTEX + PROP, "params", ("an integer",)),
    Case(
        "unknown-parameter",
        MUTEX + '[params]\nalgo = "naive"\n' + PROP,
        "params.algo",
        ("'algo'", "algorithm"),
    ),
    Case(
        "string-for-int",
        ABP + '[params]\ncapacity = "2"\n' + ABP_PROP,
        "params.capacity",
        ("a string", "integer 1..6"),
    ),
    Case(
        "float-for-int",
        ABP + "[params]\ncapacity = 2.0\n" + ABP_PROP,
        "params.capacity",
        ("a float", "integer 1..6"),
    ),
    Case(
        "bool-for-int",
        ABP + "[params]\ncapacity = true\n" + ABP_PROP,
        "params.capacity",
        ("a boolean true", "integer 1..6"),
    ),
    Case(
        "date-for-int",
        ABP + "[params]\ncapacity = 1979-05-27\n" + ABP_PROP,
        "params.capacity",
        ("a date 1979-05-27", "integer 1..6"),
    ),
    Case(
        "int-above-range",
        ABP + "[params]\ncapacity = 7\n" + ABP_PROP,
        "params.capacity",
        ("7 is out of range", "1..6"),
    ),
    Case(
        "int-below-range",
        ABP + "[params]\nmessages = 0\n" + ABP_PROP,
        "params.messages",
        ("0 is out of range", "1..20"),
    ),
    Case(
        "int-for-choice",
        MUTEX + "[params]\nalgorithm = 1\n" + PROP,
        "params.algorithm",
        ("an integer", '"peterson"'),
    ),
    Case(
        "choice-not-in-choices",
        MUTEX + '[params]\nalgorithm = "bakery"\n' + PROP,
        "params.algorithm",
        ("'bakery'", '"peterson" | "naive"'),
    ),
    Case("no-properties", MUTEX, "[[property]]", ("no properties",)),
    Case("property-not-an-array", "property = 3\n" + MUTEX, "property", ("[[property]]",)),
    Case(
        "property-missing-name",
        MUTEX + '[[property]]\nexpect = "holds"\n',
        "property[0].name",
        ("missing",),
    ),
    Case(
        "unknown-property-key",
        MUTEX + PROP + 'formla = "always(True)"\n',
        "property[0].formla",
        ("unknown key", "formula"),
    ),
    Case(
        "unknown-library-property",
        MUTEX + '[[property]]\nname = "mutual-exclusio"\nexpect = "holds"\n',
        "property 'mutual-exclusio'",
        ("no library property", "formula", "mutual-exclusion"),
    ),
    Case(
        "duplicate-property",
        MUTEX + PROP + PROP,
        "property 'mutual-exclusion'.name",
        ("two properties",),
    ),
    Case(
        "formula-not-a-string",
        MUTEX + '[[property]]\nname = "x"\nformula = 3\nexpect = "holds"\n',
        "property 'x'.formula",
        ("an integer",),
    ),
    Case(
        "missing-expect",
        MUTEX + '[[property]]\nname = "mutual-exclusion"\n',
        "property 'mutual-exclusion'.expect",
        ("missing", "holds, violated"),
    ),
    Case(
        "bad-expect",
        MUTEX + '[[property]]\nname = "mutual-exclusion"\nexpect = "hold"\n',
        "property 'mutual-exclusion'.expect",
        ("'hold'", "holds, violated, reachable, unreachable"),
    ),
    Case(
        "expect-not-a-string",
        MUTEX + '[[property]]\nname = "mutual-exclusion"\nexpect = true\n',
        "property 'mutual-exclusion'.expect",
        ("got true", "holds"),
    ),
    Case(
        "expect-holds-for-reachable",
        MUTEX + '[[property]]\nname = "r"\nformula = "reachable(p0.pc == CRIT)"\n'
        'expect = "holds"\n',
        "property 'r'.expect",
        ("'holds'", "reachable(...)", "reachable or unreachable"),
    ),
    Case(
        "expect-reachable-for-always-library",
        MUTEX + '[[property]]\nname = "mutual-exclusion"\nexpect = "reachable"\n',
        "property 'mutual-exclusion'.expect",
        ("'reachable'", "always(...)", "holds or violated"),
    ),
    # variants
    Case("variant-not-array", "variant = 3\n" + ABP + ABP_PROP, "variant", ("[[variant]]",)),
    Case(
        "variant-missing-name",
        ABP + ABP_PROP + '[[variant]]\nparams = { channel = "reordering" }\n',
        "variant[0].name",
        ("missing",),
    ),
    Case(
        "variant-unknown-key",
        ABP + ABP_PROP + '[[variant]]\nname = "v"\nparms = {}\n',
        "variant[0].parms",
        ("unknown key", "params"),
    ),
    Case(
        "duplicate-variant",
        ABP + ABP_PROP + '[[variant]]\nname = "v"\n[[variant]]\nname = "v"\n',
        "variant 'v'.name",
        ("two variants",),
    ),
    Case(
        "variant-unknown-parameter",
        ABP + ABP_PROP + '[[variant]]\nname = "v"\nparams = { chanel = "reordering" }\n',
        "variant 'v'.params.chanel",
        ("'chanel'", "channel"),
    ),
    Case(
        "variant-bad-choice",
        ABP + ABP_PROP + '[[variant]]\nname = "v"\nparams = { channel = "lifo" }\n',
        "variant 'v'.params.channel",
        ("'lifo'", '"fifo" | "reordering"'),
    ),
    Case(
        "variant-params-not-a-table",
        ABP + ABP_PROP + '[[variant]]\nname = "v"\nparams = 3\n',
        "variant 'v'.params",
        ("an integer",),
    ),
    Case(
        "variant-expect-unknown-property",
        ABP + ABP_PROP + '[[variant]]\nname = "v"\nexpect = { delivers = "violated" }\n',
        "variant 'v'.expect.delivers",
        ("'delivers'", "delivers-in-order"),
    ),
    Case(
        "variant-expect-bad-value",
        ABP + ABP_PROP + '[[variant]]\nname = "v"\nexpect = { delivers-in-order = "broken" }\n',
        "variant 'v'.expect.delivers-in-order",
        ("'broken'", "holds, violated"),
    ),
    Case(
        # The override's own key, not the inherited property's.
        "variant-expect-wrong-kind",
        ABP + ABP_PROP + '[[variant]]\nname = "v"\nexpect = { delivers-in-order = "reachable" }\n',
        "variant 'v'.expect.delivers-in-order",
        ("'reachable'", "holds or violated"),
    ),
    Case(
        "variant-expect-names-replaced-property",
        ABP
        + ABP_PROP
        + '[[variant]]\nname = "v"\nexpect = { delivers-in-order = "violated" }\n'
        + '[[variant.property]]\nname = "q"\nformula = "always(receiver.got >= 0)"\n'
        + 'expect = "holds"\n',
        "variant 'v'.expect.delivers-in-order",
        ("no property", "q"),
    ),
    Case(
        "bounds-not-positive",
        ABP + "[bounds]\nmax_states = 0\n" + ABP_PROP,
        "bounds.max_states",
        ("positive integer", "0"),
    ),
    Case(
        "bounds-unknown-key",
        ABP + "[bounds]\nmax_state = 5\n" + ABP_PROP,
        "bounds.max_state",
        ("unknown key", "max_states"),
    ),
    Case(
        "bounds-timeout-string",
        ABP + '[bounds]\ntimeout = "1h"\n' + ABP_PROP,
        "bounds.timeout",
        ("positive number", "a string"),
    ),
    Case(
        "unknown-profile",
        MUTEX + 'profile = "linux"\n' + PROP,
        "spec.profile",
        ("no profile 'linux'", "none"),
    ),
    Case(
        "unknown-connection-profile",
        CONN.replace('model = "connection"', 'model = "connection"\nprofile = "bsd"') + CONN_PROP,
        "spec.profile",
        ("no profile 'bsd'", "'linux'"),
    ),
    Case(
        "linux-time-without-tick",
        CONN + '[params]\ntime_wait = "linux"\n' + CONN_PROP,
        "params",
        ("60 s", "tick_seconds", "divisor of 60"),
    ),
    Case(
        "tw-recycle-without-timestamps",
        CONN + "[params]\ntw_recycle = true\ntick_seconds = 15\n" + CONN_PROP,
        "params",
        ("timestamps = true",),
    ),
    Case(
        "variant-own-property-formula",
        ABP
        + ABP_PROP
        + '[[variant]]\nname = "v"\n[[variant.property]]\nname = "q"\n'
        + 'formula = "always(receiver.gott == 0)"\nexpect = "holds"\n',
        "variant 'v'.property 'q'.formula",
        ("column 8:", "receiver.gott", "did you mean receiver.got"),
    ),
]


@pytest.mark.parametrize("case", SPEC_CASES, ids=[c.id for c in SPEC_CASES])
def test_spec_error(tmp_path: Path, case: Case) -> None:
    path = write(tmp_path, case.toml)
    expect_spec_error(cli(tmp_path, str(path)), path, case.key, *case.fragments)


def _flag_model() -> Model:
    """A model with a Bool parameter (no registered model has one yet)."""

    def build(params: object) -> System:
        return mutex.MODEL.build({"algorithm": "peterson"})

    params: tuple[Param, ...] = (Param("strict", "bool", False, "a flag"),)
    return Model("flagged", "test model", params, build, mutex.MODEL.properties)


@pytest.mark.parametrize(
    ("value", "got"), [("1", "an integer 1"), ('"yes"', "a string 'yes'"), ("0.5", "a float")]
)
def test_wrong_type_for_bool_parameter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, got: str
) -> None:
    m = _flag_model()
    monkeypatch.setattr(tcpmodel.spec, "MODELS", MappingProxyType({**MODELS, m.name: m}))
    good = MUTEX.replace('"mutex"', '"flagged"') + "[params]\nstrict = true\n" + PROP
    assert cli(tmp_path, str(write(tmp_path, good, "good.toml"))).exit_code == 0
    path = write(tmp_path, good.replace("strict = true", f"strict = {value}"))
    expect_spec_error(cli(tmp_path, str(path)), path, "params.strict", got, "true or false")


def test_first_error_names_the_right_file(tmp_path: Path) -> None:
    good = write(tmp_path, MUTEX + PROP, "a.toml")
    bad = write(tmp_path, MUTEX + "[params]\nalgorithm = 3\n" + PROP, "b.toml")
    msg = expect_spec_error(cli(tmp_path, str(tmp_path)), bad, "params.algorithm")
    assert str(good) not in msg


# --------------------------------------------------------------------------------------------
# formulas: (id, model header, formula, token the column points at, its occurrence, fragments)


@dataclass(frozen=True)
class FCase:
    id: str
    formula: str
    token: str
    fragments: tuple[str, ...] = ()
    nth: int = 0
    header: str = MUTEX
    col: int | None = None  # when the column is past the end of the text


FORMULA_CASES = [
    FCase("syntax-error", "always(p0.flag and and p1.flag)", "and", ("syntax error",), 1),
    FCase("syntax-error-after-implies", "always(p0.flag implies or p1.flag)", "or"),
    FCase("missing-operand", "always(p0.flag == )", ")", ("syntax error at ')'",)),
    FCase("ends-too-early", "always(p0.flag) and", "", ("ends too early",), col=20),
    FCase("unclosed-paren", "always(p0.flag and (p1.flag)", "(", ("never closed", "')'")),
    FCase("unmatched-paren", "always(p0.flag))", ")", ("unmatched",), 1),
    FCase("mismatched-bracket", "always(p0.flag]", "]", ("does not match",)),
    FCase("empty", "", "", ("empty formula",)),
    FCase("blank", "   ", "", ("empty formula",)),
    FCase(
        "unknown-variable",
        "always(p0.pc == CRIT implies p0.flg)",
        "p0.flg",
        ("unknown name 'p0.flg'", "did you mean p0.flag", "p1.flag"),
    ),
    FCase("unknown-bare-name", "always(ready)", "ready", ("unknown name 'ready'", "deadlock")),
    FCase("lowercase-true", "always(true)", "true", ("did you mean True",)),
    FCase("unknown-indexed-name", "always(turn[0] == 1)", "turn", ("unknown name 'turn[0]'",)),
    FCase(
        "unknown-array-variable",
        "always(msg[9].bit)",
        "msg",
        ("msg[9].bit", "msg[0..1].bit"),
        header=ABP,
    ),
    FCase("unknown-function", "always(foo(p0.flag))", "foo", ("unknown function 'foo'", "ite")),
    FCase("method-call", "always(p0.flag.get())", "p0", ("formula functions",)),
    FCase("wrong-arity", "always(implies(p0.flag))", "implies", ("2 arguments", "implies(p, q)")),
    FCase(
        "unknown-enum-value",
        "always(p0.pc == CRITICAL)",
        "CRITICAL",
        ("CRITICAL is not a value of enum pc", "IDLE"),
    ),
    FCase(
        "unknown-enum-value-left",
        "always(CRTI == p1.pc)",
        "CRTI",
        ("CRTI is not a value of enum pc",),
    ),
    FCase(
        "enum-ordered",
        "always(p0.pc < CRIT)",
        "<",
        ("cannot order", "with <", "== or !="),
    ),
    FCase(
        "enum-ordered-after-implies",
        "always(p0.pc == CRIT implies p1.pc >= WAIT)",
        ">=",
        ("cannot order", "with >="),
    ),
    FCase("int-ordered-with-enum", "always(turn <= p0.pc)", "<=", ("Int and Enum pc",)),
    FCase("bool-ordered", "always(p0.flag > p1.flag)", ">", ("Bool", "and, or, not, implies")),
    FCase("enum-equals-int", "always(p0.pc == 1)", "==", ("cannot compare", "IDLE")),
    FCase("bool-equals-enum", "always(p0.flag != CRIT)", "!=", ("cannot compare",)),
    FCase("bool-arithmetic", "always(p0.flag + 1 == 2)", "+", ("cannot apply +", "integers")),
    FCase("power-operator", "always(turn ** 2 == 1)", "**", ("operator not allowed",)),
    FCase("identity-comparison", "always(p0.pc is CRIT)", "is", ("comparison not allowed",)),
    FCase("not-a-predicate", "always(turn)", "turn", ("Bool predicate", "Int")),
    FCase("branches-differ", "always(ite(p0.flag, turn, p1.flag))", "ite", ("branches",)),
    FCase("seq-function-on-ints", "always(seq_lt(turn, 1))", "seq_lt", ("sequence numbers",)),
    FCase(
        "ltl-reachable-inside",
        "eventually(reachable(p0.flag))",
        "reachable",
        ("reachable(...) cannot be combined", "eventually(p)"),
    ),
    FCase("ltl-wrong-arity", "always(p0.flag) and until(p0.flag)", "until", ("takes 2",)),
    FCase(
        "nested-temporal",
        "always(p0.flag or reachable(p1.flag))",
        "reachable",
        ("cannot be combined",),
    ),
    FCase(
        "nested-temporal-after-non-ascii",
        "always(p0.flag or (1 == 1 and reachable(p1.flag)) or é)",
        "reachable",
        ("cannot be combined",),
    ),
    FCase(
        "bare-predicate",
        "p0.pc == CRIT",
        "p0.pc",
        ("expected always(p0.pc == CRIT) or reachable(p0.pc == CRIT)",),
    ),
    FCase("bare-implication", "p0.flag implies p1.flag", "p0.flag", ("always(",)),
    FCase(
        "ltl-operator-in-a-value",
        "always(turn + ite(eventually(p0.flag), 1, 0) == 1)",
        "eventually",
        ("cannot be used inside a value",),
    ),
    FCase("always-two-arguments", "always(p0.flag, p1.flag)", "p1.flag", ("exactly one",)),
    FCase("implies-missing-right", "always(p0.flag implies)", "implies", ("each side",)),
    FCase("implies-missing-left", "always(implies p0.flag)", "implies", ("each side",)),
    FCase(
        "implies-missing-right-in-parens",
        "always(p0.flag and (p1.flag implies) )",
        "implies",
        ("each side",),
    ),
    FCase(
        "implies-chain-error-on-right",
        "always(p0.flag implies p1.flag implies nope)",
        "nope",
        ("unknown name 'nope'",),
    ),
    FCase(
        "implies-parenthesised-right",
        "always(p0.flag implies (p1.flag implies nope))",
        "nope",
        ("unknown name 'nope'",),
    ),
    FCase(
        "implies-parenthesised-left",
        "always((p0.flag implies p1.flag) and nope)",
        "nope",
        ("unknown name 'nope'",),
    ),
    FCase(
        "implies-call-form",
        "always(implies(p0.flag, nope))",
        "nope",
        ("unknown name 'nope'",),
    ),
    FCase(
        "implies-ill-typed-operand",
        "always(p0.flag implies turn)",
        "turn",
        ("Bool predicate",),
    ),
    FCase(
        "implies-after-enum-compare",
        "always(p0.pc == CRIT implies p1.pc == FOO)",
        "FOO",
        ("FOO is not a value of enum pc",),
    ),
    FCase(
        "string-constant",
        'always(p0.pc == "CRIT")',
        '"CRIT"',
        ("string 'CRIT' is not allowed", "written bare"),
    ),
    FCase("string-after-implies", 'always(p0.flag implies "x")', '"x"', ("string 'x'",)),
    FCase(
        "forall-over-a-variable",
        "always(forall(seg in a.state, seg.seq == 0))",
        "a.state",
        ("a.state is not an array", "net.ab, net.ba"),
        header=CONNECTION,
    ),
    FCase(
        "forall-without-binder",
        "always(forall(net.ab, True))",
        "net.ab",
        ("expected `name in ARRAY`",),
        header=CONNECTION,
    ),
    FCase(
        "forall-segment-without-field",
        "always(exists(seg in net.ab, seg == 0))",
        "seg",
        ("seg is a segment", "seg.seq"),
        1,
        header=CONNECTION,
    ),
    FCase(
        "forall-name-taken",
        "always(forall(time in net.ab, True))",
        "time",
        ("'time' is already a name",),
        header=CONNECTION + "[params]\nhorizon = 3\n",
    ),
    FCase(
        "seq-to-int-of-an-integer",
        "always(seq_to_int(a.inc) == 0)",
        "seq_to_int",
        ("seq_to_int of Int", "expected a sequence number"),
        header=CONNECTION,
    ),
    FCase("float-constant", "always(turn == 0.5)", "0.5", ("constant 0.5",)),
    FCase("lambda", "always(lambda: True)", "lambda", ("Lambda is not allowed",)),
    FCase("reserved-name", "always(__implies__(p0.flag, p1.flag))", "__implies__", ("reserved",)),
    FCase(
        "multi-line",
        "always(p0.flag\n    implies nope)",
        "nope",
        ("unknown name 'nope'",),
    ),
]


def _formula_spec(case: FCase) -> str:
    # a TOML multi-line literal string: the formula is taken verbatim
    return (
        case.header
        + f"\n[[property]]\nname = \"x\"\nformula = '''{case.formula}'''\n"
        + ('expect = "holds"\n')
    )


@pytest.mark.parametrize("case", FORMULA_CASES, ids=[c.id for c in FORMULA_CASES])
def test_formula_error(tmp_path: Path, case: FCase) -> None:
    path = write(tmp_path, _formula_spec(case))
    col = case.col or (column(case.formula, case.token, case.nth) if case.token else 1)
    msg = expect_spec_error(
        cli(tmp_path, str(path)), path, "property 'x'.formula", f"column {col}: ", *case.fragments
    )
    assert msg.startswith(f"{path}: property 'x'.formula: column {col}: "), msg


def test_seq_ordering_needs_seq_functions(tmp_path: Path) -> None:
    formula = "always(a.snd_una < a.snd_nxt)"
    path = write(
        tmp_path,
        '[spec]\nname = "s"\nmodel = "connection"\n'
        f'[[property]]\nname = "x"\nformula = "{formula}"\nexpect = "holds"\n',
    )
    col = column(formula, "<")
    msg = expect_spec_error(
        cli(tmp_path, str(path)), path, "property 'x'.formula", f"column {col}: ", "seq_lt"
    )
    assert "modulo" in msg, msg


# --------------------------------------------------------------------------------------------
# command-line options


def test_property_option_names_no_property(tmp_path: Path) -> None:
    path = write(tmp_path, MUTEX + PROP)
    expect_error(
        cli(tmp_path, "--property", "mutex-exclusion", str(path)),
        "--property mutex-exclusion",
        "mutual-exclusion",
    )


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--max-depth", "-1"], "--max-depth"),
        (["--max-depth", "many"], "--max-depth"),
        (["--max-states", "0"], "--max-states"),
        (["--timeout", "0"], "--timeout"),
        (["--engine", "bdd"], "--engine"),
        (["--format", "yaml"], "--format"),
        (["--no-such-option"], "--no-such-option"),
    ],
)
def test_bad_option_value(tmp_path: Path, args: list[str], option: str) -> None:
    path = write(tmp_path, MUTEX + PROP)
    r = CliRunner().invoke(main, ["check", "-q", "--out", str(tmp_path / "out"), *args, str(path)])
    assert r.exit_code == 2
    assert r.exception is None or isinstance(r.exception, SystemExit)
    assert "Traceback" not in r.output
    assert option in r.stderr
    assert not (tmp_path / "out").exists()


def test_check_without_paths(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["check"])
    assert r.exit_code == 2 and "Traceback" not in r.output and "PATHS" in r.stderr


# --------------------------------------------------------------------------------------------
# the real entry point, in a subprocess


def test_subprocess_nonexistent_path(tmp_path: Path) -> None:
    p = run_module(tmp_path, "check", "-q", "missing.toml")
    msg = error_line(p.returncode, p.stdout, p.stderr, None)
    assert msg.startswith("missing.toml: ") and "expected" in msg


def test_subprocess_not_utf8(tmp_path: Path) -> None:
    write(tmp_path, b'[spec]\nname = "\xff\xfe"\n')
    p = run_module(tmp_path, "check", "-q", "spec.toml")
    assert error_line(p.returncode, p.stdout, p.stderr, None).startswith("spec.toml: not UTF-8")


def test_subprocess_formula_column_through_implies(tmp_path: Path) -> None:
    formula = "always(p0.pc == CRIT implies (p1.flag implies p1.pc < WAIT))"
    write(
        tmp_path, MUTEX + f'[[property]]\nname = "x"\nformula = \'{formula}\'\nexpect = "holds"\n'
    )
    p = run_module(tmp_path, "check", "-q", "--out", "out", "spec.toml")
    msg = error_line(p.returncode, p.stdout, p.stderr, None)
    assert msg.startswith(f"spec.toml: property 'x'.formula: column {column(formula, '<')}: ")


def test_subprocess_bad_engine(tmp_path: Path) -> None:
    write(tmp_path, MUTEX + PROP)
    p = run_module(tmp_path, "check", "--engine", "bdd", "spec.toml")
    assert p.returncode == 2 and "Traceback" not in p.stderr and "--engine" in p.stderr


# --------------------------------------------------------------------------------------------
# good paths: the infix `implies` means what the call form means


GOOD_PAIRS = [
    (
        "always(p0.pc == CRIT and p1.pc == WAIT implies p1.flag)",
        "always(implies(p0.pc == CRIT and p1.pc == WAIT, p1.flag))",
    ),
    (
        "always(p0.pc == CRIT implies (p1.pc == WAIT implies (p1.flag and p1.pc != IDLE)))",
        "always(implies(p0.pc == CRIT, implies(p1.pc == WAIT, p1.flag and p1.pc != IDLE)))",
    ),
    (
        "always(((p0.flag)) implies (not (p0.pc == IDLE)) or p1.flag implies p0.flag)",
        "always(implies(p0.flag, implies(not (p0.pc == IDLE) or p1.flag, p0.flag)))",
    ),
    (
        "reachable(not (p0.pc == CRIT implies p1.pc == CRIT))",
        "reachable(not implies(p0.pc == CRIT, p1.pc == CRIT))",
    ),
    (
        "always(p0.flag implies implies(p1.flag, p0.flag))",
        "always(implies(p0.flag, implies(p1.flag, p0.flag)))",
    ),
    (" always(p0.flag\n  implies p1.flag ) ", "always(implies(p0.flag, p1.flag))"),
]


def _verdicts(tmp_path: Path, formulas: list[str], algorithm: str) -> list[str]:
    props = "".join(
        f"\n[[property]]\nname = \"f{k}\"\nformula = '''{f}'''\n"
        f'expect = "{"reachable" if f.strip().startswith("reachable") else "holds"}"\n'
        for k, f in enumerate(formulas)
    )
    path = write(tmp_path, MUTEX + f'[params]\nalgorithm = "{algorithm}"\n' + props)
    r = cli(tmp_path, "--format", "json", str(path))
    assert r.exit_code in (0, 1), r.output
    doc = json.loads(r.stdout)
    return [res["verdict"] for s in doc["specs"] for res in s["results"]]


@pytest.mark.parametrize("algorithm", ["peterson", "naive"])
def test_infix_implies_matches_call_form(tmp_path: Path, algorithm: str) -> None:
    infix = [a for a, _ in GOOD_PAIRS]
    call = [b for _, b in GOOD_PAIRS]
    got_infix = _verdicts(tmp_path, infix, algorithm)
    got_call = _verdicts(tmp_path, call, algorithm)
    assert len(got_infix) == len(GOOD_PAIRS)
    assert got_infix == got_call


def test_infix_implies_verdicts(tmp_path: Path) -> None:
    # Mutual exclusion as an implication: holds for Peterson, violated for the naive protocol.
    f = "always(p0.pc == CRIT implies (p1.pc != CRIT))"
    assert _verdicts(tmp_path, [f], "peterson") == ["holds"]
    assert _verdicts(tmp_path, [f], "naive") == ["violated"]
