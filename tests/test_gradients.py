"""The Hypothesis gradient suite: every op in the table is gradchecked in float64."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.ops
from gradcases import CASES, NON_DIFFERENTIABLE, Case, _values

SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def _draw(data, case: Case):
    if case.custom is not None:
        fn, arrays = data.draw(case.custom)
        return fn, arrays, {}
    shapes = data.draw(case.shapes)
    domains = case.domain if isinstance(case.domain, list) else [case.domain] * len(shapes)
    arrays = [_values(data.draw, s, lo, hi) for s, (lo, hi) in zip(shapes, domains)]
    kwargs = data.draw(case.kwargs(shapes))
    if case.exclude is not None:
        assume(not case.exclude(*arrays, **kwargs))
    return case.fn, arrays, kwargs


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_gradient_matches_central_differences(case: Case):
    @SETTINGS
    @given(data=st.data())
    def check(data):
        fn, arrays, kwargs = _draw(data, case)
        tensors = [mg.tensor(a, requires_grad=True) for a in arrays]
        assert mg.gradcheck(lambda *ts: fn(*ts, **kwargs), tensors, eps=case.eps, atol=case.atol, rtol=case.rtol)

    check()


def _public_ops() -> set[str]:
    return {name for name in dir(minigrad.ops) if not name.startswith("_") and callable(getattr(minigrad.ops, name))
            and not isinstance(getattr(minigrad.ops, name), type(minigrad))}


def test_every_public_op_has_a_gradient_case():
    covered = {c.name for c in CASES}
    missing = _public_ops() - covered - NON_DIFFERENTIABLE
    assert not missing, f"ops without an entry in tests/gradcases.py: {sorted(missing)}"


def test_a_wrong_backward_is_caught():
    class BadSquare(mg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved
            return 2.01 * x * grad  # 0.5% off

    x = mg.tensor(np.linspace(0.5, 2.0, 6), requires_grad=True)
    with pytest.raises(mg.GradcheckError, match=r"input 0 is wrong at index \(\d,\): analytic -?[\d.]+, numeric"):
        mg.gradcheck(lambda t: BadSquare.apply(t), [x])


def test_a_missing_gradient_contribution_is_caught():
    class HalfSum(mg.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, grad):
            return grad, None  # forgets b

    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0], requires_grad=True)
    with pytest.raises(mg.GradcheckError, match="input 1"):
        mg.gradcheck(lambda x, y: HalfSum.apply(x, y), [a, b])
