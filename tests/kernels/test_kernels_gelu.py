"""erf and GELU (exact and tanh) with backward: Numba == NumPy reference == definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kernel_testutils import assert_close, both_backends, dtypes, non_contiguous, random_array, seeds, use_backend
from minigrad import kernels as K


@settings(max_examples=40, deadline=None)
@given(
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=20),
    dtype=dtypes,
    seed=seeds,
    scale=st.sampled_from([0.1, 1.0, 4.0, 30.0]),
    approximate=st.sampled_from(["none", "tanh"]),
    strided=st.booleans(),
)
def test_numba_matches_reference(shape, dtype, seed, scale, approximate, strided):
    rng = np.random.default_rng(seed)
    x = random_array(rng, shape, dtype, scale)
    grad = random_array(rng, shape, dtype)
    if strided and x.ndim:
        x = non_contiguous(x)
    fast, slow = both_backends(K.erf, x)
    # float32 erf is a rational approximation: <= 4.5e-7 absolute error (see erf's docstring)
    if dtype == np.float32:
        assert_close(fast, slow, dtype, rtol=0, scale=0.2)  # atol 6e-7
    else:
        assert_close(fast, slow, dtype)
    fast, slow = both_backends(K.gelu, x, approximate)
    assert_close(fast, slow, dtype, scale=scale)
    fast, slow = both_backends(K.gelu_backward, x, grad, approximate)
    assert_close(fast, slow, dtype, scale=scale)


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


def test_bad_approximate_raises():
    with pytest.raises(ValueError, match="'none' or 'tanh'"):
        K.gelu(np.zeros(3), "fast")
    with pytest.raises(ValueError, match="'none' or 'tanh'"):
        K.gelu_backward(np.zeros(3), np.zeros(3), "exact")
