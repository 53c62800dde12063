"""adam_update on both backends == Adam/AdamW written from the paper == PyTorch's optimizers.
(Numba == NumPy reference: tests/kernels/test_kernel_table.py.)"""

from __future__ import annotations

import math

import numpy as np
import pytest

from testutils import assert_close, random_array
from minigrad.kernels import adam_update, adam_update_ref, use_backend

HYPER = dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8)


def run_steps(backend, param, grads, weight_decay, decoupled, **hyper):
    """Apply len(grads) updates from zero moments; return (param, exp_avg, exp_avg_sq)."""
    param = param.copy()
    exp_avg = np.zeros_like(param)
    exp_avg_sq = np.zeros_like(param)
    with use_backend(backend):
        for step, grad in enumerate(grads, start=1):
            adam_update(param, grad, exp_avg, exp_avg_sq, step=step,
                        weight_decay=weight_decay, decoupled=decoupled, **{**HYPER, **hyper})
    return param, exp_avg, exp_avg_sq


def adam_scalar(p, grads, lr, beta1, beta2, eps, weight_decay, decoupled):
    """Adam on one float, written from the paper / torch.optim.Adam docs, in Python floats."""
    m = v = 0.0
    for t, g in enumerate(grads, start=1):
        if weight_decay and not decoupled:
            g = g + weight_decay * p
        if weight_decay and decoupled:
            p = p - lr * weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        p = p - lr * m_hat / (math.sqrt(v_hat) + eps)
    return p, m, v


@pytest.mark.parametrize("weight_decay,decoupled", [(0.0, False), (0.2, False), (0.2, True)])
@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_matches_scalar_definition(backend, weight_decay, decoupled):
    rng = np.random.default_rng(0)
    param = rng.standard_normal(7)
    grads = [rng.standard_normal(7) for _ in range(5)]
    got = run_steps(backend, param, grads, weight_decay, decoupled)
    for i in range(7):
        want = adam_scalar(param[i], [g[i] for g in grads], weight_decay=weight_decay,
                           decoupled=decoupled, **HYPER)
        for a, b in zip(got, want):
            assert a[i] == pytest.approx(b, rel=1e-12, abs=1e-15)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weight_decay,decoupled", [(0.0, False), (0.1, False), (0.01, True)])
def test_matches_torch(dtype, weight_decay, decoupled):
    torch = pytest.importorskip("torch", reason="PyTorch not installed: parity check skipped")
    rng = np.random.default_rng(1)
    param = random_array(rng, (5, 6), dtype)
    grads = [random_array(rng, (5, 6), dtype) for _ in range(4)]
    got, _, _ = run_steps("numba", param, grads, weight_decay, decoupled)
    tparam = torch.nn.Parameter(torch.tensor(param.copy()))
    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    opt = cls([tparam], lr=HYPER["lr"], betas=(HYPER["beta1"], HYPER["beta2"]),
              eps=HYPER["eps"], weight_decay=weight_decay)
    for g in grads:
        tparam.grad = torch.tensor(g)
        opt.step()
    assert_close(got, tparam.detach().numpy(), dtype)


def test_reference_is_in_place():
    p = np.ones(4)
    m, v = np.zeros(4), np.zeros(4)
    ids = [id(p), id(m), id(v)]
    adam_update_ref(p, np.ones(4), m, v, step=1, weight_decay=0.0, decoupled=False, **HYPER)
    assert [id(p), id(m), id(v)] == ids
    np.testing.assert_allclose(p, 1 - HYPER["lr"], rtol=1e-6)
