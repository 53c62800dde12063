"""Fused cross-entropy on both backends == -log softmax[target] == finite differences == PyTorch.
(Numba == NumPy reference: tests/kernels/test_kernel_table.py.)"""

from __future__ import annotations

import numpy as np
import pytest

from testutils import assert_close, random_array
from minigrad import kernels as K
from minigrad.kernels import use_backend


def forward_backward(backend, logits, target, ignore_index, smoothing, grad_rows):
    with use_backend(backend):
        losses, saved = K.cross_entropy_forward(logits, target, ignore_index, smoothing)
        dlogits = K.cross_entropy_backward(saved, grad_rows)
    return losses, dlogits


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
