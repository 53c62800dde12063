"""Layer norm forward/backward on both backends == finite differences == PyTorch; float32 accuracy.
(Numba == NumPy reference: tests/kernels/test_kernel_table.py.)"""

from __future__ import annotations

import numpy as np
import pytest

from testutils import assert_close, random_array
from minigrad import kernels as K
from minigrad.kernels import use_backend


def run(backend, x, w, b, grad, eps=1e-5):
    with use_backend(backend):
        y, mean, rstd = K.layer_norm_forward(x, w, b, eps)
        dx, dw, db = K.layer_norm_backward(grad, x, w, mean, rstd, has_bias=b is not None)
    return y, mean, rstd, dx, dw, db


@pytest.mark.parametrize("affine", ["both", "none"])
def test_float32_far_from_zero_is_as_accurate_as_the_reference(affine):
    """x + 100 in float32 is ill-conditioned for both implementations (the deviations lose ~7
    bits), so they may disagree with each other by more than float32 rounding; what must
    hold is that Numba is about as accurate as the reference, both judged against float64."""
    rng = np.random.default_rng(5)
    shape = (6, 37)
    x = random_array(rng, shape, np.float32) + np.float32(100.0)
    w = random_array(rng, 37, np.float32) if affine == "both" else None
    b = random_array(rng, 37, np.float32) if affine == "both" else None
    grad = random_array(rng, shape, np.float32)
    fast = run("numba", x, w, b, grad)
    slow = run("numpy", x, w, b, grad)
    as64 = (lambda a: None if a is None else a.astype(np.float64))
    truth = run("numpy", as64(x), as64(w), as64(b), as64(grad))
    for name, f, s, t in zip(("y", "mean", "rstd", "dx", "dweight", "dbias"), fast, slow, truth):
        if s is None:
            assert f is None, name
            continue
        err_fast, err_ref = np.max(np.abs(f - t), initial=0), np.max(np.abs(s - t), initial=0)
        assert err_fast <= 4 * err_ref + 1e-5 * (1 + np.max(np.abs(t), initial=0)), (name, err_fast, err_ref)


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_backward_matches_finite_differences(backend):
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((3, 5)), rng.standard_normal(5), rng.standard_normal(5)
    g = rng.standard_normal((3, 5))

    def loss(x_, w_, b_):
        with use_backend(backend):
            return float(np.sum(K.layer_norm_forward(x_, w_, b_, 1e-5)[0] * g))

    _, _, _, dx, dw, db = run(backend, x, w, b, g)
    for arg, analytic in ((0, dx), (1, dw), (2, db)):
        params = [x, w, b]
        numeric = np.zeros_like(params[arg])
        for idx in np.ndindex(numeric.shape):
            plus = [p.copy() for p in params]
            minus = [p.copy() for p in params]
            plus[arg][idx] += 1e-6
            minus[arg][idx] -= 1e-6
            numeric[idx] = (loss(*plus) - loss(*minus)) / 2e-6
        np.testing.assert_allclose(analytic, numeric, atol=1e-7)


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_statistics_are_biased_and_outputs_normalized(backend):
    x = np.random.default_rng(1).standard_normal((4, 16)).astype(np.float32) * 3 + 2
    with use_backend(backend):
        y, mean, rstd = K.layer_norm_forward(x, None, None, 1e-5)
    assert y.dtype == mean.dtype == rstd.dtype == np.float32
    np.testing.assert_allclose(mean, x.mean(1), rtol=1e-5)
    np.testing.assert_allclose(rstd, 1 / np.sqrt(x.var(1) + 1e-5), rtol=1e-5)
    np.testing.assert_allclose(y.mean(1), 0, atol=1e-6)
    np.testing.assert_allclose(y.var(1), 1, rtol=1e-3)
    with use_backend(backend):
        assert K.layer_norm_backward(x, x, None, mean, rstd)[1:] == (None, None)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_torch(dtype):
    torch = pytest.importorskip("torch", reason="PyTorch not installed: parity check skipped")
    rng = np.random.default_rng(2)
    x, g = random_array(rng, (30, 24), dtype, 2.0), random_array(rng, (30, 24), dtype)
    w, b = random_array(rng, 24, dtype), random_array(rng, 24, dtype)
    y, mean, rstd, dx, dw, db = run("numba", x, w, b, g)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ty = torch.nn.functional.layer_norm(tx, (24,), tw, tb, 1e-5)
    ty.backward(torch.tensor(g))
    for mine, theirs, scale in ((y, ty, 1), (dx, tx.grad, 1), (dw, tw.grad, 30), (db, tb.grad, 30)):
        assert_close(mine, theirs.detach().numpy(), dtype, scale=scale)
