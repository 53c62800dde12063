"""``minigrad.optable`` and ``minigrad.gradcheck.gradient_errors``: the numbers behind
``minigrad gradcheck``, checked against hand-computed errors."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import optable
from minigrad.gradcheck import gradient_errors
from testutils import custom_function


class ScaledSquare(mg.Function):
    """x^2 with a backward of ``factor * 2x`` (factor 1 is right)."""

    @staticmethod
    def forward(ctx, x, factor=1.0):
        ctx.save_for_backward(x)
        ctx.factor = factor
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return ctx.factor * 2 * x * grad


def test_gradient_errors_measure_a_known_relative_error():
    x = mg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    result = gradient_errors(lambda t: ScaledSquare.apply(t, factor=1.01), [x])
    (only,) = result.inputs
    assert only.index == 0
    # the projected output sum(P * x^2) has numeric gradient 2 x P and analytic 1.01 * 2 x P
    np.testing.assert_allclose(only.analytic, 1.01 * only.numeric, rtol=1e-8)
    assert result.max_rel == pytest.approx(0.01, rel=1e-6)
    assert result.max_abs == pytest.approx(0.01 * np.abs(only.numeric).max(), rel=1e-6)
    assert not result.passed
    assert only.worst() == (int(np.argmax(np.abs(only.numeric))),)


def test_gradient_errors_of_a_right_gradient_are_tiny_and_pass():
    x = mg.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    y = mg.tensor([1.5, -0.5], requires_grad=True)
    result = gradient_errors(lambda a, b: (mg.tanh(a) * b).sum(), [x, y])
    assert [e.index for e in result.inputs] == [0, 1]
    assert result.passed and result.max_abs < 1e-8 and result.max_rel < 1e-7
    # d/db sum(tanh(x) * b) = column sums of tanh(x): a scalar output is checked unprojected
    np.testing.assert_allclose(result.inputs[1].analytic, np.tanh(x.data.astype(np.float64)).sum(axis=0), rtol=1e-12)
    assert not result.projected


def test_gradcheck_message_is_unchanged_and_names_the_worst_element():
    x = mg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    expected = (r"^gradcheck: gradient of input 0 is wrong at index \(2,\): analytic 4.04, numeric 4, "
                r"error [\d.e-]+ > atol 1e-05 \+ rtol 0.001 \* \|numeric\|$")
    with pytest.raises(mg.GradcheckError, match=expected):
        mg.gradcheck(lambda t: ScaledSquare.apply(t, factor=1.01).sum(), [x])


def test_check_function_reports_a_row_for_a_user_function():
    good = optable.check_function(lambda t: (t * t).sum(), [(2, 3)], name="square")
    assert (good.op, good.shapes, good.passed, good.failure) == ("square", ["(2, 3)"], True, None)
    bad = optable.check_function(lambda t: ScaledSquare.apply(t, factor=0.98), [(4,)], name="bad")
    assert not bad.passed and bad.max_rel == pytest.approx(0.02, rel=1e-6)
    assert bad.failure.startswith("(4,): input 0 at (")


def test_check_ops_rows_follow_the_requested_names_and_fail_on_errors():
    rows = optable.check_ops(["softmax", "add"])
    assert [r.op for r in rows] == ["softmax", "add"]
    assert rows[1].shapes == ["(2, 3), (2, 3)", "(2, 3), (3,)", "(), (2, 1)", "(3, 1), (1, 4)"]
    assert all(r.passed for r in rows)
    with pytest.raises(KeyError, match="no op named 'nope'.*valid names: abs, add"):
        optable.check_ops(["nope"])


def test_an_op_that_raises_is_a_failed_row_not_a_crash():
    def raising(a):
        raise ValueError("shapes do not fit")

    row = optable.check_function(raising, [(2,)], name="raising")
    assert not row.passed and row.failure == "(2,): ValueError: shapes do not fit"


def test_example_description_and_sampling_respect_domain_and_exclusions():
    assert optable.ex((2, 3), (3,), axis=0, keepdims=True).describe() == "(2, 3), (3,) axis=0 keepdims=True"
    assert optable.ex((4, 3), index=(slice(None, None, -1), Ellipsis)).describe() == "(4, 3) index=(::-1,...)"
    assert optable.ex((3,), target=np.array([1, 2])).describe() == "(3,) target=<int64 (2,)>"
    log = optable.get("log")
    rng = np.random.default_rng(0)
    (a,) = log.sample(optable.ex((50,)), rng)
    assert a.dtype == np.float64 and a.min() >= 0.5 and a.max() <= 3
    relu = optable.get("relu")
    for _ in range(20):
        (a,) = relu.sample(optable.ex((30,)), rng)
        assert np.abs(a).min() >= 1e-3  # kink at 0 excluded
    div = optable.get("div")
    assert div.domains(2) == [(-2, 2), (0.5, 2)]


def test_dropout_entry_leaves_the_library_random_state_alone():
    mg.manual_seed(123)
    expected = mg.randn(3).data
    mg.manual_seed(123)
    optable.check_ops(["dropout"])
    np.testing.assert_array_equal(mg.randn(3).data, expected)


def test_a_nan_gradient_is_wrong_not_silently_accepted():
    NaNGrad = custom_function("NaNGrad", lambda x: 2 * x, lambda grad, x: grad * np.nan)

    x = mg.tensor([1.0, 2.0], requires_grad=True)
    assert not gradient_errors(NaNGrad.apply, [x]).passed
    with pytest.raises(mg.GradcheckError, match="analytic nan"):
        mg.gradcheck(NaNGrad.apply, [x])
