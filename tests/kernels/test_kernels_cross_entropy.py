"""Fused cross-entropy: Numba == NumPy reference == -log softmax[target] == PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel_testutils import assert_close, dtypes, non_contiguous, random_array, seeds, use_backend
from minigrad import kernels as K


def forward_backward(backend, logits, target, ignore_index, smoothing, grad_rows):
    with use_backend(backend):
        losses, saved = K.cross_entropy_forward(logits, target, ignore_index, smoothing)
        dlogits = K.cross_entropy_backward(saved, grad_rows)
    return losses, dlogits


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 40),
    c=st.integers(1, 30),
    dtype=dtypes,
    seed=seeds,
    scale=st.sampled_from([1.0, 10.0, 1e4]),
    ignore=st.sampled_from([None, 0, -100]),
    smoothing=st.sampled_from([0.0, 0.1, 1.0]),
    strided=st.booleans(),
)
def test_numba_matches_reference(n, c, dtype, seed, scale, ignore, smoothing, strided):
    rng = np.random.default_rng(seed)
    logits = random_array(rng, (n, c), dtype, scale)
    target = rng.integers(0, c, n)
    if ignore is not None:
        target[rng.random(n) < 0.3] = ignore
    if strided:
        logits = non_contiguous(logits)
    grad_rows = random_array(rng, n, dtype)
    fast = forward_backward("numba", logits, target, ignore, smoothing, grad_rows)
    slow = forward_backward("numpy", logits, target, ignore, smoothing, grad_rows)
    assert_close(fast[0], slow[0], dtype, scale=scale * c)
    assert_close(fast[1], slow[1], dtype)
    if ignore is not None:
        ignored = target == ignore
        assert np.all(fast[0][ignored] == 0) and np.all(fast[1][ignored] == 0)


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_equals_negative_log_softmax_at_target(backend):
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((6, 5))
    target = np.array([0, 4, 2, 2, 1, 3])
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    with use_backend(backend):
        losses, saved = K.cross_entropy_forward(logits, target, None, 0.0)
        dlogits = K.cross_entropy_backward(saved, np.ones(6))
        smooth, _ = K.cross_entropy_forward(logits, target, None, 0.2)
    np.testing.assert_allclose(losses, -np.log(p[np.arange(6), target]), rtol=1e-13)
    np.testing.assert_allclose(dlogits, p - np.eye(5)[target], atol=1e-14)
    # label smoothing = cross-entropy against the target distribution 0.8 onehot + 0.2 / C
    q = 0.8 * np.eye(5)[target] + 0.2 / 5
    np.testing.assert_allclose(smooth, -(q * np.log(p)).sum(1), rtol=1e-13)


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_backward_matches_finite_differences(backend):
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((3, 4))
    target = np.array([1, 0, 3])
    w = rng.standard_normal(3)

    def loss(z):
        with use_backend(backend):
            return float(K.cross_entropy_forward(z, target, 3, 0.1)[0] @ w)

    with use_backend(backend):
        _, saved = K.cross_entropy_forward(logits, target, 3, 0.1)
        analytic = K.cross_entropy_backward(saved, w)
    numeric = np.zeros_like(logits)
    for idx in np.ndindex(logits.shape):
        d = np.zeros_like(logits)
        d[idx] = 1e-6
        numeric[idx] = (loss(logits + d) - loss(logits - d)) / 2e-6
    np.testing.assert_allclose(analytic, numeric, atol=1e-8)
    assert np.all(analytic[2] == 0)  # target 3 == ignore_index


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ignore,smoothing", [(None, 0.0), (2, 0.0), (0, 0.15)])
def test_matches_torch(dtype, ignore, smoothing):
    torch = pytest.importorskip("torch", reason="PyTorch not installed: parity check skipped")
    rng = np.random.default_rng(2)
    logits = random_array(rng, (50, 7), dtype, 3.0)
    target = rng.integers(0, 7, 50)
    grad = random_array(rng, 50, dtype)
    losses, dlogits = forward_backward("numba", logits, target, ignore, smoothing, grad)
    tl = torch.tensor(logits, requires_grad=True)
    tloss = torch.nn.functional.cross_entropy(
        tl, torch.tensor(target), ignore_index=-100 if ignore is None else ignore,
        label_smoothing=smoothing, reduction="none",
    )
    tloss.backward(torch.tensor(grad))
    assert_close(losses, tloss.detach().numpy(), dtype)
    assert_close(dlogits, tl.grad.numpy(), dtype)


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_out_of_range_target_raises_index_error(backend):
    logits = np.zeros((4, 5), np.float32)
    with use_backend(backend):
        with pytest.raises(IndexError, match=r"target 5 .*5 classes"):
            K.cross_entropy_forward(logits, np.array([0, 5, 1, 2]), None, 0.0)
        with pytest.raises(IndexError, match=r"target -1 .*5 classes"):
            K.cross_entropy_forward(logits, np.array([0, -1, 1, 2]), None, 0.0)
        with pytest.raises(IndexError, match=r"target 7 .*ignore_index=-100"):
            K.cross_entropy_forward(logits, np.array([-100, 7, 1, 2]), -100, 0.0)
        losses, _ = K.cross_entropy_forward(logits, np.array([-100, 4, 1, 2]), -100, 0.0)
    assert losses[0] == 0 and losses.dtype == np.float32


def test_argument_errors():
    logits = np.zeros((4, 5))
    with pytest.raises(ValueError, match=r"target shape \(3,\)"):
        K.cross_entropy_forward(logits, np.zeros(3, np.int64), None, 0.0)
    with pytest.raises(TypeError, match="integer"):
        K.cross_entropy_forward(logits, np.zeros(4), None, 0.0)
    with pytest.raises(ValueError, match="label_smoothing"):
        K.cross_entropy_forward(logits, np.zeros(4, np.int64), None, 1.5)
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        K.cross_entropy_forward(np.zeros((2, 3, 4)), np.zeros(2, np.int64), None, 0.0)
    _, saved = K.cross_entropy_forward(logits, np.zeros(4, np.int32), None, 0.0)
    with pytest.raises(ValueError, match="grad_rows"):
        K.cross_entropy_backward(saved, np.ones(3))
