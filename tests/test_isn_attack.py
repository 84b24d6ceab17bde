"""The off-path ISN attacker (RFC 1948) and ``exists_forall``: specs/isn-attack.toml.

An attack is one attacker strategy that wins for every value of the secret; a strategy that
wins for some secrets only is a lucky guess and must never be reported as an attack.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import pytest
from click.testing import CliRunner

from tcpmodel.check import Options, check_exists_forall, check_spec
from tcpmodel.cli import main
from tcpmodel.engines import native
from tcpmodel.engines.explicit import explore
from tcpmodel.engines.search import Bounds
from tcpmodel.errors import FormulaError, SpecError
from tcpmodel.formula import parse_property
from tcpmodel.kernel.expr import Const, Expr, Op, Var, and_, enum_const, not_, or_
from tcpmodel.kernel.system import Builder, System, Updates
from tcpmodel.kernel.types import BOOL, EnumType, IntType
from tcpmodel.models import ParamValue
from tcpmodel.results import Outcome, Stats
from tcpmodel.semantics import replay
from tcpmodel.spec import load
from tcpmodel.tcp.connection import MODEL
from tests.specfile import write_spec

SPEC = Path(__file__).resolve().parent.parent / "specs" / "isn-attack.toml"
GAME = "exists_forall(att.delta, isn.secret, b.injected)"
ATTACK: dict[str, ParamValue] = dict(
    attacker="offpath",
    a_down=True,
    isn_secret="any",
    seq_bits=4,
    incarnations=1,
    loss=0,
    duplicate=0,
    b_close_first="never",
    horizon=4,
)


def system(**over: ParamValue) -> System:
    return MODEL.build({**MODEL.defaults(), **ATTACK, **over})


def game(
    s: System, formula: str = GAME, engine: str = "explicit", bounds: Bounds | None = None
) -> tuple[Outcome, Stats]:
    prop = parse_property("attack", formula, s)
    return check_exists_forall(s, prop, engine, bounds)


def test_spec_verdicts_and_reasons() -> None:
    results = {(r.variant, r.prop): r for r in check_spec(load(SPEC), Options("explicit"))}
    assert all(r.met for r in results.values()), [r for r in results.values() if not r.met]
    clock = results[(None, "spoofed-injection")]
    assert clock.verdict == "reachable"
    assert "att.delta=8 succeeds for all 16 values of isn.secret" in clock.reason
    keyed = results[("keyed", "spoofed-injection")]
    assert keyed.verdict == "unreachable" and keyed.trace is None
    assert "succeeds for 1 of the 16 values of isn.secret (a lucky guess" in keyed.reason
    # Plain reachability finds the lucky guess under the keyed ISN too: that is why the
    # attack is an exists-forall question.
    assert results[("keyed", "lucky-injection")].verdict == "reachable"
    assert results[("fixed", "spoofed-injection")].verdict == "reachable"


def test_counterexample_is_rfc_1948s_attack() -> None:
    s = system()
    outcome, _ = game(s)
    assert outcome.verdict == "reachable"
    trace = outcome.trace
    assert trace is not None
    replay(s, trace)
    assert [step.action for step in trace.steps[1:]] == [
        "att.syn",  # X: SYN with a's address
        "b.listen_syn(slot=0)",  # b: ISS from the clock, SYN,ACK to the silent a
        "att.inject",  # X: ACK of the predicted ISS + 1, with data
        "b.ack_syn_received(slot=0)",  # b: ESTABLISHED, takes the forged data
    ]
    last = trace.steps[-1].state
    assert last["b.injected"] is True and last["b.state"] == "ESTABLISHED"
    assert trace.steps[0].state["att.delta"] == 8
    assert trace.steps[2].state["b.iss"] == trace.steps[1].state["att.guess"]


def test_keyed_isn_every_strategy_wins_one_secret_only() -> None:
    s = system(isn="keyed")
    outcome, stats = game(s)
    assert outcome.verdict == "unreachable" and stats.complete
    assert "16 strategies explored" in outcome.reason


def test_a_lucky_guess_is_not_an_attack_but_one_secret_is_no_secret() -> None:
    s = system(isn="keyed")
    # Only secret 3 counts as a win: the best strategy wins 1 of 16 secrets: unreachable.
    prop = parse_property("attack", GAME, s)
    only_3 = dataclasses.replace(prop, predicate=and_(prop.predicate, s.ref("isn.secret").eq(3)))
    outcome, _ = check_exists_forall(s, only_3, "explicit")
    assert outcome.verdict == "unreachable"
    assert "succeeds for 1 of the 16 values" in outcome.reason
    # A secret with one possible value is known: the guess that matches it is an attack.
    k = s.index["isn.secret"]
    one = dataclasses.replace(s, init=tuple(x for x in s.init if x[k] == 3))
    outcome, _ = game(one)
    assert outcome.verdict == "reachable"
    assert "att.delta=11 succeeds for all 1 values" in outcome.reason
    assert outcome.trace is not None
    replay(one, outcome.trace)
    # Two possible secrets: every strategy wins one of them.
    two = dataclasses.replace(s, init=tuple(x for x in s.init if x[k] in (3, 4)))
    outcome, _ = game(two)
    assert outcome.verdict == "unreachable"
    assert "succeeds for 1 of the 2 values" in outcome.reason


def _without_secret(e: Expr) -> Expr:
    """``e`` with the secret replaced by the constant 3: a keyed ISN that ignores its key."""
    if isinstance(e, Var) and e.name == "isn.secret":
        return Const(3, e.sort)
    if isinstance(e, Op):
        return Op(e.op, tuple(_without_secret(a) for a in e.args), e.op_sort)
    return e


def test_mutant_keyed_isn_ignoring_the_secret_is_caught() -> None:
    s = system(isn="keyed")
    actions = tuple(
        dataclasses.replace(
            a,
            guard=_without_secret(a.guard),
            updates=tuple((v, _without_secret(x)) for v, x in a.updates),
        )
        for a in s.actions
    )
    mutant = dataclasses.replace(s, actions=actions)
    assert mutant.actions != s.actions
    outcome, _ = game(mutant)
    assert outcome.verdict == "reachable"
    assert "att.delta=11 succeeds for all 16 values" in outcome.reason


@pytest.mark.skipif(not native.compiler_available(), reason="gcc is not installed")
@pytest.mark.parametrize("isn", ["clock", "keyed"])
def test_native_and_explicit_agree(isn: str) -> None:
    s = system(isn=isn)
    want, want_stats = game(s)
    got, got_stats = game(s, engine="native")
    assert (got.verdict, got.reason, got.trace) == (want.verdict, want.reason, want.trace)
    assert (got_stats.states, got_stats.transitions) == (want_stats.states, want_stats.transitions)


def test_symbolic_engines_say_they_do_not_decide_it() -> None:
    results = check_spec(load(SPEC), Options("bmc", Bounds(max_depth=2)))
    games = [r for r in results if r.prop == "spoofed-injection"]
    assert len(games) == len(load(SPEC).configurations)
    for r in games:
        assert r.game and r.verdict == "unknown"
        assert "decided by the explorers only" in r.reason and "--engine bmc" in r.reason


def test_a_bound_gives_unknown_never_unreachable() -> None:
    s = system(isn="keyed")
    outcome, stats = game(s, bounds=Bounds(max_states=1000))
    assert outcome.verdict == "unknown" and not stats.complete
    assert "state bound" in outcome.reason or "bound" in outcome.reason
    outcome, _ = game(s, bounds=Bounds(max_depth=3))
    assert outcome.verdict == "unknown" and "depth bound 3" in outcome.reason


# A small keyed configuration, and its (states, transitions, variables, actions) measured
# before the attacker and isn_secret = "any" existed; since then the ghosts a.old_rst and
# b.old_rst (no-old-rst) and b's return to LISTEN on a SYN in a passive SYN-RECEIVED
# (RFC 9293 3.10.7.4 fourth) added two variables and one action, and no state.
BASELINE_PARAMS: dict[str, ParamValue] = dict(
    isn="keyed",
    isn_secret=5,
    seq_bits=4,
    incarnations=1,
    loss=0,
    duplicate=0,
    capacity=1,
    horizon=3,
)
BASELINE = (34696, 72283, 62, 90)


def test_defaults_leave_the_model_unchanged() -> None:
    s = MODEL.build({**MODEL.defaults(), **BASELINE_PARAMS})
    names = [v.name for v in s.variables]
    assert not any(n.startswith(("att.", "isn.secret", "b.injected")) for n in names)
    assert not any(n.endswith(".spoofed") for n in names)
    assert not any(a.name.startswith("att.") or a.name.endswith("down_drop") for a in s.actions)
    _, stats = explore(s, [])
    assert (stats.states, stats.transitions, len(s.variables), len(s.actions)) == BASELINE


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ("exists_forall(att.delta, isn.secret)", "takes three arguments"),
        ("exists_forall(att.dlta, isn.secret, b.injected)", "did you mean att.delta?"),
        ("exists_forall(att.phase, isn.secret, b.injected)", "is changed by action att.syn"),
        ("exists_forall(att.delta, att.delta, b.injected)", "named twice"),
        ("exists_forall(att.delta + 1, isn.secret, b.injected)", "must be state variables"),
        ("exists_forall(att.delta, isn.secret, reachable(b.injected))", "cannot be nested"),
        ("always(exists_forall(att.delta, isn.secret, b.injected))", "top of a formula"),
    ],
)
def test_bad_exists_forall_formulas(formula: str, message: str) -> None:
    with pytest.raises(FormulaError, match="column") as e:
        parse_property("p", formula, system())
    assert message in str(e.value)


def test_exists_forall_expects_reachable_or_unreachable(tmp_path: Path) -> None:
    path = write_spec(
        tmp_path / "bad.toml", "bad", ATTACK, [{"name": "p", "formula": GAME, "expect": "holds"}]
    )
    with pytest.raises(SpecError, match="expected reachable or unreachable"):
        load(path)


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"seq_bits": 9}, "set seq_bits <= 8"),
        ({"data": 0}, "set data >= 1"),
    ],
)
def test_bad_attack_parameters(tmp_path: Path, over: dict[str, ParamValue], message: str) -> None:
    path = write_spec(
        tmp_path / "bad.toml",
        "bad",
        {**ATTACK, **over},
        [{"name": "handshake", "expect": "reachable"}],
    )
    with pytest.raises(SpecError, match="rejects these parameters") as e:
        load(path)
    assert message in str(e.value)


def toy(guesses: int) -> System:
    """A game with ``guesses`` guess variables g0.. (0..2) against a secret key (an enum of
    three values): the guesser wins if some guess names the key."""
    key_t = EnumType("key", ("K0", "K1", "K2"))
    b = Builder("toy")
    gs = [b.var(f"g{i}", IntType(0, 2)) for i in range(guesses)]
    key = b.var("key", key_t)
    won = b.var("won", BOOL)
    u = Updates()
    u.set(won, True)
    hit = or_(*(and_(g.eq(v), key.eq(enum_const(key_t, f"K{v}"))) for g in gs for v in range(3)))
    b.action("guess", and_(not_(won), hit), u, "a guess names the key")
    for values in itertools.product(range(3), repeat=guesses + 1):
        b.initial(**{f"g{i}": x for i, x in enumerate(values[:-1])}, key=values[-1])
    return b.build()


def test_tuple_strategies_and_enum_secrets() -> None:
    two = toy(2)
    formula = "exists_forall((g0, g1), key, won)"
    outcome, stats = game(two, formula)
    assert outcome.verdict == "unreachable" and stats.complete
    assert "the best, g0=0, g1=1, succeeds for 2 of the 3 values of key" in outcome.reason
    three = toy(3)
    outcome, _ = game(three, "exists_forall((g0, g1, g2), key, won)")
    assert outcome.verdict == "reachable"
    assert "g0=0, g1=1, g2=2 succeeds for all 3 values of key" in outcome.reason
    assert "6 of the 27 strategies win" in outcome.reason
    assert outcome.trace is not None
    replay(three, outcome.trace)
    # The explicit and native engines agree here too.
    if native.compiler_available():
        assert game(three, "exists_forall((g0, g1, g2), key, won)", "native")[0] == outcome


def test_cli_prints_the_strategy_reason(tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = CliRunner().invoke(
        main, ["check", str(SPEC), "--engine", "explicit", "--quiet", "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    assert "keyed/spoofed-injection: unreachable: no strategy succeeds for every secret" in text
    assert "att.delta=8 succeeds for all 16 values of isn.secret" in text
    assert (out / "isn-attack.spoofed-injection.json").exists()
    assert not (out / "isn-attack.keyed.spoofed-injection.json").exists()
