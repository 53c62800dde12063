"""clip_grad_norm_ and clip_grad_value_: returned norm, in-place scaling, non-finite norms."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad.optim import clip_grad_norm_, clip_grad_value_


def with_grad(grad, dtype=np.float32) -> mg.Tensor:
    t = mg.tensor(np.zeros(np.shape(grad), dtype=dtype), requires_grad=True)
    t.grad = np.array(grad, dtype=dtype)
    return t


def test_norm_returned_and_grads_scaled_in_place():
    a, b = with_grad([3.0, 0.0]), with_grad([[4.0]])
    grad_a = a.grad
    total = clip_grad_norm_([a, b], max_norm=1.0)
    assert isinstance(total, float) and total.item() == total  # a float with .item(), like torch's 0-d result
    assert isinstance(total, float) and total == pytest.approx(5.0)
    assert a.grad is grad_a  # in place
    coef = 1.0 / (5.0 + 1e-6)
    np.testing.assert_allclose(a.grad, [3.0 * coef, 0.0], rtol=1e-6)
    np.testing.assert_allclose(b.grad, [[4.0 * coef]], rtol=1e-6)
    assert a.grad.dtype == np.float32


def test_small_norm_is_left_alone_and_missing_grads_are_skipped():
    a = with_grad([0.3, 0.4])
    none = mg.tensor(np.zeros(2), requires_grad=True)
    assert clip_grad_norm_((t for t in [a, none]), max_norm=1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(a.grad, np.array([0.3, 0.4], dtype=np.float32))
    assert none.grad is None
    assert clip_grad_norm_([none], 1.0) == 0.0
    assert clip_grad_norm_(a, 10.0) == pytest.approx(0.5)  # a single tensor works too


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, math.inf, "inf"])
def test_norm_types(norm_type, dtype):
    """The total norm is accumulated in float64 whatever the gradients' dtype."""
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=s).astype(dtype) for s in [(300, 400), (5,), ()]]
    flat = np.concatenate([g.ravel() for g in grads]).astype(np.float64)
    p = float(norm_type)
    expected = np.max(np.abs(flat)) if math.isinf(p) else np.sum(np.abs(flat) ** p) ** (1 / p)
    params = [with_grad(g, dtype) for g in grads]
    assert clip_grad_norm_(params, 0.1, norm_type=norm_type) == pytest.approx(expected, rel=1e-12)
    clipped = np.concatenate([p.grad.ravel() for p in params])
    np.testing.assert_allclose(clipped, flat * 0.1 / (expected + 1e-6), rtol=1e-12 if dtype == np.float64 else 1e-6)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nonfinite_norm(bad):
    a = with_grad([1.0, bad])
    with pytest.raises(RuntimeError, match=r"total norm of order 2.0 .* non-finite \((nan|inf)\)"):
        clip_grad_norm_([a], 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(a.grad[:1], [1.0])  # not touched on error
    total = clip_grad_norm_([a], 1.0)  # PyTorch's default: scale anyway and return the norm
    assert not math.isfinite(total)
    expected = [np.nan, np.nan] if np.isnan(bad) else [0.0, np.nan]  # what torch gives: 1 * 1/(inf) = 0, inf * 0 = nan
    np.testing.assert_array_equal(a.grad, expected)


def test_clip_arguments_validated():
    with pytest.raises(ValueError, match="Invalid max_norm: -1"):
        clip_grad_norm_([with_grad([1.0])], -1)
    with pytest.raises(ValueError, match="norm_type must be positive"):
        clip_grad_norm_([with_grad([1.0])], 1.0, norm_type=0)
    with pytest.raises(TypeError, match="parameter 0 is a ndarray"):
        clip_grad_norm_([np.ones(2)], 1.0)


def test_clip_grad_value():
    a = with_grad([-3.0, 0.5, 2.0])
    grad = a.grad
    assert clip_grad_value_([a], 1.0) is None
    assert a.grad is grad
    np.testing.assert_array_equal(a.grad, [-1.0, 0.5, 1.0])
