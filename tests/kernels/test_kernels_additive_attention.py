"""Additive attention kernels (minigrad.kernels.attention): the reference's backward against
finite differences, masks and NaN on both backends, accumulation into ``out``.
(Numba == NumPy reference: tests/kernels/test_kernel_table.py.)"""

from __future__ import annotations

import numpy as np
import pytest

from testutils import both_backends
from minigrad.kernels import attention as K
from minigrad.kernels import use_backend


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


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_masked_positions_get_zero_weight_and_a_fully_masked_row_a_zero_context(backend):
    rng = np.random.default_rng(2)
    B, T, A, Dv = 3, 5, 4, 2
    mask = rng.random((B, T)) < 0.6
    mask[0] = False  # nothing to attend to
    mask[1, 0] = True
    with use_backend(backend):
        keys_proj, q_proj = rng.standard_normal((B, T, A)), rng.standard_normal((B, A))
        context, weights, _ = K.additive_attention_forward(keys_proj, q_proj, rng.standard_normal(A),
                                                           rng.standard_normal((B, T, Dv)), mask)
    assert np.all(weights[~mask] == 0) and np.all(context[0] == 0)
    np.testing.assert_allclose(weights[1:].sum(axis=1), 1, rtol=1e-12)


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


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("need_values", [True, False])
def test_backward_out_accumulates(backend, need_values):
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
