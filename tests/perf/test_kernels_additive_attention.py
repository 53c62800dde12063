"""Additive attention kernels (minigrad.kernels.attention): Numba == NumPy reference, masks
(including rows with every position masked), float32 and float64, any layout."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minigrad.kernels import attention as K
from perf_testutils import assert_close, both_backends, dtypes, non_contiguous, random_array, seeds


@settings(max_examples=50, deadline=None)
@given(B=st.integers(1, 6), T=st.integers(1, 12), A=st.integers(1, 20), Dv=st.integers(1, 20), dtype=dtypes,
       seed=seeds, masking=st.sampled_from(["none", "some", "rows"]), strided=st.booleans(),
       need_values=st.booleans())
def test_numba_matches_reference(B, T, A, Dv, dtype, seed, masking, strided, need_values):
    rng = np.random.default_rng(seed)
    keys_proj = random_array(rng, (B, T, A), dtype, 2.0)
    q_proj = random_array(rng, (B, A), dtype, 2.0)
    v = random_array(rng, A, dtype)
    values = random_array(rng, (B, T, Dv), dtype)
    mask = None
    if masking != "none":
        mask = rng.random((B, T)) < 0.7
        if masking == "rows":
            mask[0] = False  # a row with nothing to attend to: zero weights, zero context
    if strided:
        keys_proj, values = non_contiguous(keys_proj), non_contiguous(values)
    fast, slow = both_backends(K.additive_attention_forward, keys_proj, q_proj, v, values, mask)
    for f, s in zip(fast, slow):
        assert_close(f, s, dtype)
    context, weights, hidden = slow
    if mask is not None:
        assert np.all(weights[~mask] == 0)
    if masking == "rows":
        assert np.all(fast[1][0] == 0) and np.all(fast[0][0] == 0)
    grad = random_array(rng, (B, Dv), dtype)
    fast, slow = both_backends(K.additive_attention_backward, grad, hidden, weights, v, values, need_values)
    for name, f, s in zip(("dvalues", "dv", "dkeys_proj", "dq_proj"), fast, slow):
        if s is None:
            assert f is None and not need_values
            continue
        assert_close(f, s, dtype, scale={"dv": B * T, "dq_proj": T}.get(name, 1.0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backward_matches_finite_differences(dtype):
    """The reference backward itself, checked numerically in float64."""
    rng = np.random.default_rng(1)
    B, T, A, Dv = 2, 4, 3, 5
    kp, qp = rng.standard_normal((B, T, A)), rng.standard_normal((B, A))
    v, values = rng.standard_normal(A), rng.standard_normal((B, T, Dv))
    mask = np.array([[True, True, False, True], [True, False, True, True]])
    g = rng.standard_normal((B, Dv))

    def loss(kp_, qp_, v_, values_):
        return float(np.sum(K.additive_attention_forward_ref(kp_, qp_, v_, values_, mask)[0] * g))

    context, weights, hidden = K.additive_attention_forward(kp.astype(dtype), qp.astype(dtype), v.astype(dtype),
                                                            values.astype(dtype), mask)
    dvalues, dv, dkp, dqp = K.additive_attention_backward(g.astype(dtype), hidden, weights, v.astype(dtype),
                                                          values.astype(dtype))
    eps = 1e-6
    for arg, analytic in ((0, dkp), (1, dqp), (2, dv), (3, dvalues)):
        args = [kp, qp, v, values]
        x = args[arg]
        numeric = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            plus, minus = x.copy(), x.copy()
            plus[i] += eps
            minus[i] -= eps
            numeric[i] = (loss(*[plus if j == arg else a for j, a in enumerate(args)])
                          - loss(*[minus if j == arg else a for j, a in enumerate(args)])) / (2 * eps)
        tol = 1e-4 if dtype == np.float32 else 1e-7
        np.testing.assert_allclose(analytic, numeric, atol=tol, rtol=tol)


def test_nan_score_makes_the_row_nan_and_masks_hide_it():
    kp = np.zeros((2, 3, 2), np.float32)
    kp[:, 1, 0] = np.nan
    qp, v = np.zeros((2, 2), np.float32), np.ones(2, np.float32)
    values = np.ones((2, 3, 2), np.float32)
    mask = np.array([[True, True, True], [True, False, True]])
    fast, slow = both_backends(K.additive_attention_forward, kp, qp, v, values, mask)
    for f, s in zip(fast[:2], slow[:2]):
        np.testing.assert_array_equal(np.isnan(f), np.isnan(s))
    assert np.isnan(fast[1][0]).all() and not np.isnan(fast[1][1]).any()


def test_shape_errors():
    with pytest.raises(ValueError, match="additive_attention_forward: q_proj"):
        K.additive_attention_forward(np.zeros((2, 3, 4)), np.zeros((2, 5)), np.zeros(4), np.zeros((2, 3, 1)))
    with pytest.raises(ValueError, match="mask"):
        K.additive_attention_forward(np.zeros((2, 3, 4)), np.zeros((2, 4)), np.zeros(4), np.zeros((2, 3, 1)),
                                     np.ones((3, 2), bool))


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("need_values", [True, False])
def test_backward_out_accumulates(backend, need_values):
    from perf_testutils import use_backend

    rng = np.random.default_rng(4)
    B, T, A, Dv = 3, 4, 5, 6
    kp, qp, v = rng.standard_normal((B, T, A)), rng.standard_normal((B, A)), rng.standard_normal(A)
    values = rng.standard_normal((B, T, Dv))
    with use_backend(backend):
        _, weights, hidden = K.additive_attention_forward(kp, qp, v, values)
        grads = [K.additive_attention_backward(rng.standard_normal((B, Dv)), hidden, weights, v, values, need_values)
                 for _ in range(2)]
    start = (rng.standard_normal((B, T, Dv)) if need_values else None, rng.standard_normal(A),
             rng.standard_normal((B, T, A)))
    out = tuple(None if a is None else a.copy() for a in start)
    rng = np.random.default_rng(4)
    rng.standard_normal((B, T, A)), rng.standard_normal((B, A)), rng.standard_normal(A), rng.standard_normal((B, T, Dv))
    with use_backend(backend):
        for g in grads:
            grad = rng.standard_normal((B, Dv))
            result = K.additive_attention_backward(grad, hidden, weights, v, values, need_values, out=out)
            np.testing.assert_allclose(result[3], g[3], rtol=1e-12, atol=1e-12)
    assert result[1] is out[1] and result[2] is out[2]
    for i, acc in enumerate(out):
        if acc is None:
            assert not need_values
            continue
        np.testing.assert_allclose(acc, start[i] + grads[0][i] + grads[1][i], rtol=1e-12, atol=1e-12)


def test_backward_out_is_checked():
    hidden, weights = np.zeros((2, 3, 4)), np.full((2, 3), 1 / 3)
    with pytest.raises(ValueError, match="out dkeys_proj"):
        K.additive_attention_backward(np.zeros((2, 5)), hidden, weights, np.zeros(4), np.zeros((2, 3, 5)),
                                      out=(np.zeros((2, 3, 5)), np.zeros(4), np.zeros((2, 3, 4), np.float32)))
