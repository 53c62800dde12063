"""softmax / log_softmax and their backwards: Numba == NumPy reference == definitions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kernel_testutils import assert_close, both_backends, dtypes, non_contiguous, random_array, seeds, use_backend
from minigrad import kernels as K


@st.composite
def logits_cases(draw):
    """(x, axis) with optional -inf masks, fully masked slices, big scales, odd layouts."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=9))
    dtype = draw(dtypes)
    rng = np.random.default_rng(draw(seeds))
    scale = draw(st.sampled_from([1.0, 5.0, 1e4]))
    x = random_array(rng, shape, dtype, scale)
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    if draw(st.booleans()):  # mask some entries
        x[rng.random(shape) < 0.3] = -np.inf
    if draw(st.booleans()):  # mask every entry of the first slice along the axis
        index = [0] * len(shape)
        index[axis] = slice(None)
        x[tuple(index)] = -np.inf
    if draw(st.booleans()) and shape[-1] > 1:
        x = non_contiguous(x)
    return x, axis


@settings(max_examples=60, deadline=None)
@given(case=logits_cases(), seed=seeds)
def test_softmax_and_backward_match_reference(case, seed):
    x, axis = case
    fast, slow = both_backends(K.softmax, x, axis)
    assert_close(fast, slow, x.dtype)
    assert not np.isnan(fast).any()  # masked rows give 0, big logits never overflow
    grad = random_array(np.random.default_rng(seed), x.shape, x.dtype)
    fast_dx, slow_dx = both_backends(K.softmax_backward, slow, grad, axis)
    assert_close(fast_dx, slow_dx, x.dtype)
    assert not np.isnan(fast_dx).any()


@settings(max_examples=60, deadline=None)
@given(case=logits_cases(), seed=seeds)
def test_log_softmax_and_backward_match_reference(case, seed):
    x, axis = case
    fast, slow = both_backends(K.log_softmax, x, axis)
    scale = max(1.0, float(np.max(np.abs(x[np.isfinite(x)]), initial=1.0)))
    assert_close(fast, slow, x.dtype, scale=scale)
    grad = random_array(np.random.default_rng(seed), x.shape, x.dtype)
    fast_dx, slow_dx = both_backends(K.log_softmax_backward, slow, grad, axis)
    assert_close(fast_dx, slow_dx, x.dtype, scale=x.shape[axis])


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fully_masked_rows_and_large_logits(backend, dtype):
    x = np.array([[-np.inf, -np.inf, -np.inf], [1e4, -1e4, 1e4], [-1e4, -1e4, -1e4], [0.0, -np.inf, 1.0]], dtype)
    grad = np.arange(12, dtype=dtype).reshape(4, 3)
    with use_backend(backend):
        y = K.softmax(x)
        dx = K.softmax_backward(y, grad)
        logy = K.log_softmax(x)
    assert y.dtype == dtype and dx.dtype == dtype
    np.testing.assert_array_equal(y[0], 0)
    np.testing.assert_array_equal(dx[0], 0)
    np.testing.assert_allclose(y[1], [0.5, 0, 0.5])
    np.testing.assert_allclose(y[2], [1 / 3] * 3, rtol=1e-6)
    e = np.exp(1.0)
    np.testing.assert_allclose(y[3], [1 / (1 + e), 0, e / (1 + e)], rtol=1e-6)
    assert np.all(logy[0] == -np.inf)
    np.testing.assert_allclose(logy[1], [-np.log(2), -2e4 - np.log(2), -np.log(2)], rtol=1e-6)


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_nan_and_inf_make_the_row_nan(backend):
    x = np.array([[0.0, np.nan, 1.0], [np.inf, 0.0, 1.0], [0.0, 1.0, 2.0]])
    with use_backend(backend), np.errstate(invalid="ignore"):
        y = K.softmax(x)
    assert np.isnan(y[0]).all() and np.isnan(y[1]).all()
    assert np.isfinite(y[2]).all()


def jacobian_fd(f, x, eps=1e-6):
    """Central-difference Jacobian of f: R^n -> R^n at x (float64, 1-D)."""
    cols = []
    for i in range(x.size):
        d = np.zeros_like(x)
        d[i] = eps
        cols.append((f(x + d) - f(x - d)) / (2 * eps))
    return np.stack(cols, axis=1)


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_backwards_are_vector_jacobian_products(backend):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(5)
    g = rng.standard_normal(5)
    with use_backend(backend):
        y = K.softmax(x)
        # explicit softmax Jacobian: diag(y) - y y^T
        np.testing.assert_allclose(K.softmax_backward(y, g), (np.diag(y) - np.outer(y, y)) @ g, atol=1e-14)
        np.testing.assert_allclose(K.softmax_backward(y, g), jacobian_fd(K.softmax, x).T @ g, atol=1e-8)
        ly = K.log_softmax(x)
        np.testing.assert_allclose(K.log_softmax_backward(ly, g), jacobian_fd(K.log_softmax, x).T @ g, atol=1e-8)
        np.testing.assert_allclose(np.exp(ly), y, rtol=1e-14)
        np.testing.assert_allclose(y, np.exp(x) / np.exp(x).sum(), rtol=1e-14)


@settings(max_examples=20, deadline=None)
@given(shape=hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=12), dtype=dtypes, seed=seeds)
def test_rows_sum_to_one(shape, dtype, seed):
    x = random_array(np.random.default_rng(seed), shape, dtype, 3.0)
    y = K.softmax(x, axis=1)
    np.testing.assert_allclose(y.sum(axis=1), 1, rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_mixed_dtypes_and_errors():
    y = K.softmax(np.zeros((2, 3), np.float32))
    assert K.softmax_backward(y, np.ones((2, 3))).dtype == np.float64  # like NumPy
    with pytest.raises(ValueError, match="axis 2 is out of bounds"):
        K.softmax(np.zeros((2, 3)), axis=2)
    with pytest.raises(TypeError, match="float32 or float64"):
        K.softmax(np.zeros((2, 3), np.int64))
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        K.softmax_backward(np.zeros((2, 3)), np.zeros((3, 2)))
    assert K.softmax(np.zeros((0, 3), np.float32)).shape == (0, 3)
