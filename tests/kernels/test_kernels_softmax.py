"""softmax / log_softmax and their backwards, on both backends: the definitions, masked rows,
NaN/inf and dtypes. (Numba == NumPy reference: tests/kernels/test_kernel_table.py.)"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis.extra import numpy as hnp

from testutils import dtypes, random_array, seeds
from minigrad import kernels as K
from minigrad.kernels import use_backend


def padded(x, width):
    """x (R, 3) widened to (R, width) with -inf columns, which change no softmax value: width
    100 runs the Numba kernels' one-row-at-a-time path (n >= 96), width 3 their short-row path."""
    pad = np.full((x.shape[0], width - x.shape[1]), -np.inf, x.dtype)
    return np.concatenate([x, pad], axis=1)


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("width", [3, 100])
def test_fully_masked_rows_and_large_logits(backend, dtype, width):
    x = padded(np.array([[-np.inf, -np.inf, -np.inf], [1e4, -1e4, 1e4], [-1e4, -1e4, -1e4], [0.0, -np.inf, 1.0]],
                        dtype), width)
    grad = np.arange(4 * width, dtype=dtype).reshape(4, width)
    with use_backend(backend):
        y = K.softmax(x)
        dx = K.softmax_backward(y, grad)
        logy = K.log_softmax(x)
        dlog = K.log_softmax_backward(logy, grad)
    assert y.dtype == dtype and dx.dtype == dtype
    np.testing.assert_array_equal(y[:, 3:], 0)
    np.testing.assert_array_equal(dx[:, 3:], 0)
    assert np.all(logy[:, 3:] == -np.inf)
    np.testing.assert_array_equal(dlog[1:, 3:], grad[1:, 3:])  # exp(-inf) = 0: the gradient passes
    y, dx, logy = y[:, :3], dx[:, :3], logy[:, :3]
    np.testing.assert_array_equal(y[0], 0)
    np.testing.assert_array_equal(dx[0], 0)
    np.testing.assert_allclose(y[1], [0.5, 0, 0.5])
    np.testing.assert_allclose(y[2], [1 / 3] * 3, rtol=1e-6)
    e = np.exp(1.0)
    np.testing.assert_allclose(y[3], [1 / (1 + e), 0, e / (1 + e)], rtol=1e-6)
    assert np.all(logy[0] == -np.inf)
    np.testing.assert_allclose(logy[1], [-np.log(2), -2e4 - np.log(2), -np.log(2)], rtol=1e-6)


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("width", [3, 100])
def test_nan_and_inf_make_the_row_nan(backend, width):
    x = padded(np.array([[0.0, np.nan, 1.0], [np.inf, 0.0, 1.0], [0.0, 1.0, 2.0]]), width)
    with use_backend(backend), np.errstate(invalid="ignore"):
        y = K.softmax(x)
        logy = K.log_softmax(x)
    for out in (y, logy):
        assert np.isnan(out[0]).all() and np.isnan(out[1]).all()
    assert np.isfinite(y[2]).all() and np.isfinite(logy[2, :3]).all()


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


def test_mixed_dtypes_compute_in_the_result_type():
    y = K.softmax(np.zeros((2, 3), np.float32))
    assert K.softmax_backward(y, np.ones((2, 3))).dtype == np.float64  # like NumPy
    assert K.softmax(np.zeros((0, 3), np.float32)).shape == (0, 3)
