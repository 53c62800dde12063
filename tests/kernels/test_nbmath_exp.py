"""The kernels' vectorizable exponentials (minigrad/kernels/_nbmath.py) against NumPy's exp:
within 1 ulp, with exp's special values; exp_nonpositive flushes subnormal results to 0."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from minigrad.kernels._nbmath import EXP_FASTMATH, exp, exp_nonpositive


@numba.njit(fastmath=EXP_FASTMATH)
def _exp_loop(x, out):
    for i in range(x.shape[0]):
        out[i] = exp(x[i])


@numba.njit(fastmath=EXP_FASTMATH)
def _exp_nonpositive_loop(x, out):
    for i in range(x.shape[0]):
        out[i] = exp_nonpositive(x[i])


def _inputs(dtype, low):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(low, 0, 20_000), rng.uniform(-1, 0, 2000), np.linspace(low, 0, 5001),
                        [0.0, -0.0, -1e-30, -np.inf]]).astype(dtype)
    return x


def _within_one_ulp(got, x):
    exact = np.exp(x.astype(np.float64) if x.dtype == np.float32 else x.astype(np.longdouble))
    expected = exact.astype(x.dtype)
    tolerance = np.spacing(np.abs(expected))
    return np.abs(got.astype(exact.dtype) - exact) <= tolerance


@pytest.mark.parametrize("dtype, low", [(np.float32, -103.0), (np.float64, -744.0)])
def test_exp_is_within_one_ulp_subnormals_included(dtype, low):
    x = _inputs(dtype, low)
    out = np.empty_like(x)
    _exp_loop(x, out)
    assert _within_one_ulp(out, x).all()
    specials = np.array([np.inf, -np.inf, np.nan, 0.0], dtype)
    _exp_loop(specials, out[:4])
    assert out[0] == np.inf and out[1] == 0 and np.isnan(out[2]) and out[3] == 1


@pytest.mark.parametrize("dtype, low", [(np.float32, -103.0), (np.float64, -744.0)])
def test_exp_nonpositive_flushes_subnormal_results_to_zero(dtype, low):
    x = _inputs(dtype, low)
    out = np.empty_like(x)
    _exp_nonpositive_loop(x, out)
    normal = np.exp(x.astype(np.float64)) >= np.finfo(dtype).tiny
    assert (out[~normal] == 0).all() and (~normal).sum() > 100  # the subnormal range is exercised
    assert _within_one_ulp(out[normal], x[normal]).all()
    specials = np.array([-np.inf, np.nan, 0.0, -0.0], dtype)
    _exp_nonpositive_loop(specials, out[:4])
    assert out[0] == 0 and np.isnan(out[1]) and out[2] == 1 and out[3] == 1
