"""erf and GELU (exact and tanh) with backward: the definitions, accuracy bounds and PyTorch.
(Numba == NumPy reference: tests/kernels/test_kernel_table.py.)"""

from __future__ import annotations

import math

import numpy as np
import pytest

from testutils import assert_close
from minigrad import kernels as K
from minigrad.kernels import use_backend


def test_float32_erf_error_bound():
    x = np.linspace(-6, 6, 200_001).astype(np.float32)
    exact = np.array([math.erf(float(v)) for v in x])
    with use_backend("numba"):
        approx = K.erf(x)
    assert np.max(np.abs(approx - exact)) < 5e-7
    with use_backend("numba"):
        special = K.erf(np.array([np.nan, np.inf, -np.inf, 0.0, -0.0], np.float32))
    assert np.isnan(special[0]) and list(special[1:]) == [1, -1, 0, 0]


def test_float64_erf_is_exact():
    x = np.random.default_rng(0).standard_normal(1000) * 3
    with use_backend("numba"):
        np.testing.assert_array_equal(K.erf(x), [math.erf(v) for v in x])


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_definitions_and_finite_differences(backend, approximate):
    x = np.linspace(-6, 6, 41)
    with use_backend(backend):
        y = K.gelu(x, approximate)
        dx = K.gelu_backward(x, np.ones_like(x), approximate)
        plus, minus = K.gelu(x + 1e-6, approximate), K.gelu(x - 1e-6, approximate)
    if approximate == "none":
        want = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x])
    else:
        want = 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    np.testing.assert_allclose(y, want, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(dx, (plus - minus) / 2e-6, atol=1e-8)


@pytest.mark.torch
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_matches_torch(approximate):
    torch = pytest.importorskip("torch", reason="PyTorch not installed: parity check skipped")
    x = np.random.default_rng(3).standard_normal((50, 8)).astype(np.float32) * 3
    tx = torch.tensor(x, requires_grad=True)
    torch.nn.functional.gelu(tx, approximate=approximate).sum().backward()
    want = torch.nn.functional.gelu(tx, approximate=approximate).detach().numpy()
    assert_close(K.gelu(x, approximate), want, np.float32, scale=3)
    assert_close(K.gelu_backward(x, np.ones_like(x), approximate), tx.grad.numpy(), np.float32)
