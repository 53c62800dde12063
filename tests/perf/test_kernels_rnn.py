"""GRU/LSTM pointwise kernels (minigrad.kernels.rnn): Numba == NumPy reference, float32 and
float64, any layout, special values; and the Numba tanh/sigmoid accuracy they rely on."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minigrad.kernels import rnn as K
from perf_testutils import assert_close, both_backends, dtypes, non_contiguous, random_array, seeds


def _inputs(rng, B, H, gates, dtype, scale):
    gi = random_array(rng, (B, gates * H), dtype, scale)
    gh = random_array(rng, (B, gates * H), dtype, scale)
    state = random_array(rng, (B, H), dtype)
    return gi, gh, state


@settings(max_examples=40, deadline=None)
@given(B=st.integers(1, 9), H=st.integers(1, 40), dtype=dtypes, seed=seeds, scale=st.sampled_from([0.1, 1.0, 6.0]),
       strided=st.booleans())
def test_gru_numba_matches_reference(B, H, dtype, seed, scale, strided):
    rng = np.random.default_rng(seed)
    gi, gh, h = _inputs(rng, B, H, 3, dtype, scale)
    if strided:
        gi, h = non_contiguous(gi), non_contiguous(h)
    fast, slow = both_backends(K.gru_forward, gi, gh, h)
    for f, s in zip(fast, slow):
        assert_close(f, s, dtype)
    dh = random_array(rng, (B, H), dtype)
    _, r, z, n = slow
    fast, slow = both_backends(K.gru_backward, dh, h, r, z, n, gh)
    for f, s in zip(fast, slow):
        assert_close(f, s, dtype, scale=1 + scale)


@settings(max_examples=40, deadline=None)
@given(B=st.integers(1, 9), H=st.integers(1, 40), dtype=dtypes, seed=seeds, scale=st.sampled_from([0.1, 1.0, 6.0]),
       strided=st.booleans())
def test_lstm_numba_matches_reference(B, H, dtype, seed, scale, strided):
    rng = np.random.default_rng(seed)
    gi, gh, c = _inputs(rng, B, H, 4, dtype, scale)
    if strided:
        gh, c = non_contiguous(gh), non_contiguous(c)
    fast, slow = both_backends(K.lstm_forward, gi, gh, c)
    for f, s in zip(fast, slow):
        assert_close(f, s, dtype, scale=1 + scale)
    dh, dc = random_array(rng, (B, H), dtype), random_array(rng, (B, H), dtype)
    _, _, act, tanh_c = slow
    fast, slow = both_backends(K.lstm_backward, dh, dc, c, act, tanh_c)
    for f, s in zip(fast, slow):
        assert_close(f, s, dtype)


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
    from perf_testutils import use_backend

    with use_backend("numba"):
        got = K.gru_forward(with_n, np.zeros_like(with_n), zeros)[3][0].astype(np.float64)
    exact = np.tanh(x.astype(np.float64))
    ulp = np.spacing(np.abs(exact).astype(dtype)).astype(np.float64)
    abs_err = np.abs(got - exact)
    assert np.max(abs_err) <= (3e-7 if dtype == np.float32 else 5e-16)
    if dtype == np.float32:
        assert np.max(abs_err / ulp) <= 5


def test_shape_and_dtype_errors():
    h = np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError, match="gru_forward: gi has shape"):
        K.gru_forward(np.zeros((2, 8), np.float32), np.zeros((2, 9), np.float32), h)
    with pytest.raises(TypeError, match="lstm_forward"):
        K.lstm_forward(np.zeros((2, 12), np.int64), np.zeros((2, 12), np.float32), h)


def test_mixed_dtypes_compute_in_the_result_type():
    rng = np.random.default_rng(0)
    gi = random_array(rng, (3, 12), np.float32)
    gh = random_array(rng, (3, 12), np.float64)
    h = random_array(rng, (3, 4), np.float32)
    fast, slow = both_backends(K.gru_forward, gi, gh, h)
    for f, s in zip(fast, slow):
        assert_close(f, s, np.float64, scale=1e6)  # the float32 inputs bound the agreement
