"""The bit-vector theory of the symbolic engines agrees with the Python evaluator.

`tcpmodel.kernel.smt.BitVectors` represents Int and Enum values as signed bit-vectors of the
width `smt.int_width` computes by interval analysis, so that BMC formulas are bit-blasted.  On
the random well-typed expressions of `tests.test_smt_agrees` (every operator, every variable
type, sequence-number boundaries, 2**64-sized constants), Z3's value of the bit-vector term
with every variable replaced by a literal equals `tcpmodel.kernel.pyexpr.evaluate`'s.
"""

from __future__ import annotations

import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tcpmodel.kernel import smt
from tcpmodel.kernel.expr import Expr
from tcpmodel.kernel.pyexpr import evaluate
from tcpmodel.kernel.system import Value
from tcpmodel.kernel.types import sort_of
from tests.test_smt_agrees import VARS, any_expr, is_z3_value, states


def by_bitvectors(e: Expr, values: dict[str, Value]) -> Value:
    w = smt.int_width([e], [v.vtype for v in VARS])
    assert w is not None, "every kernel Int expression has bounds"
    th = smt.BitVectors(w)
    lits = {v.name: th.value(values[v.name], sort_of(v.vtype)) for v in VARS}
    t = z3.simplify(th.term(e, lits))
    assert is_z3_value(t), f"simplify left {t}"
    return th.from_model(t, e.sort)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(e=any_expr, states=st.lists(states, min_size=1, max_size=4))
def test_bitvector_terms_agree_with_python(e: Expr, states: list[dict[str, Value]]) -> None:
    for values in states:
        assert by_bitvectors(e, values) == evaluate(e, dict(values)), values
