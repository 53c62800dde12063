"""GRU/LSTM pointwise kernels (minigrad.kernels.rnn): special values, mixed dtypes, and the
accuracy of the Numba tanh and sigmoid they rely on. (Numba == NumPy reference:
tests/kernels/test_kernel_table.py.)"""

from __future__ import annotations

import numpy as np
import pytest

from testutils import assert_close, both_backends, random_array
from minigrad.kernels import rnn as K
from minigrad.kernels import use_backend


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_special_values_saturate_and_propagate(dtype):
    values = np.array([-np.inf, np.inf, np.nan, 0.0, 1e-8, -1e-8, 30.0, -30.0, 100.0, -100.0], dtype=dtype)
    B, H = 1, values.size
    zeros = np.zeros((B, H), dtype)
    gi = np.concatenate([zeros, zeros, values[None]], axis=1)  # n = tanh(values)
    fast, slow = both_backends(K.gru_forward, gi, np.zeros_like(gi), zeros)
    np.testing.assert_allclose(fast[3], slow[3], rtol=1e-6, atol=1e-7, equal_nan=True)
    r_in = np.concatenate([values[None], zeros, zeros], axis=1)  # r = sigmoid(values)
    fast, slow = both_backends(K.gru_forward, r_in, np.zeros_like(r_in), zeros)
    np.testing.assert_allclose(fast[1], slow[1], rtol=1e-6, atol=1e-7, equal_nan=True)
    assert fast[1][0, 0] == 0 and fast[1][0, 1] == 1 and np.isnan(fast[1][0, 2])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numba_tanh_is_within_a_few_ulp(dtype):
    x = np.concatenate([np.linspace(-12, 12, 200_001), np.geomspace(1e-7, 12, 20_001)]).astype(dtype)
    zeros = np.zeros((1, x.size), dtype)
    with_n = np.concatenate([zeros, zeros, x[None]], axis=1)
    with use_backend("numba"):
        got = K.gru_forward(with_n, np.zeros_like(with_n), zeros)[3][0].astype(np.float64)
    exact = np.tanh(x.astype(np.float64))
    ulp = np.spacing(np.abs(exact).astype(dtype)).astype(np.float64)
    abs_err = np.abs(got - exact)
    assert np.max(abs_err) <= (3e-7 if dtype == np.float32 else 5e-16)
    if dtype == np.float32:
        assert np.max(abs_err / ulp) <= 5


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numba_sigmoid_is_within_a_few_ulp(dtype):
    """1 / (1 + exp(-x)) keeps its relative accuracy where sigmoid(x) is tiny (x << 0), where
    0.5 + 0.5 tanh(x / 2) cancels."""
    x = np.linspace(-80 if dtype == np.float32 else -700, 30, 400_001).astype(dtype)
    zeros = np.zeros((1, x.size), dtype)
    r_in = np.concatenate([x[None], zeros, zeros], axis=1)  # r = sigmoid(x)
    with use_backend("numba"):
        got = K.gru_forward(r_in, np.zeros_like(r_in), zeros)[1][0].astype(np.float64)
    exact = 1 / (1 + np.exp(-x.astype(np.float64)))
    ulp = np.spacing(exact.astype(dtype)).astype(np.float64)
    assert np.max(np.abs(got - exact) / ulp) <= (3 if dtype == np.float32 else 4)


def test_mixed_dtypes_compute_in_the_result_type():
    rng = np.random.default_rng(0)
    gi = random_array(rng, (3, 12), np.float32)
    gh = random_array(rng, (3, 12), np.float64)
    h = random_array(rng, (3, 4), np.float32)
    fast, slow = both_backends(K.gru_forward, gi, gh, h)
    for f, s in zip(fast, slow):
        assert_close(f, s, np.float64, scale=1e6)  # the float32 inputs bound the agreement
