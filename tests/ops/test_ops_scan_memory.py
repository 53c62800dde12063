"""cumprod and logcumsumexp: O(n) memory along the axis, exact gradients with zeros (cumprod) and
stable gradients at large magnitudes (logcumsumexp), against PyTorch where it is installed."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import minigrad as mg
from minigrad import forward_ad as fwAD


def _values_and_grad(op, a: np.ndarray, weights: np.ndarray, **kwargs):
    x = mg.tensor(a, requires_grad=True)
    y = op(x, **kwargs)
    (y * mg.tensor(weights)).sum().backward()
    return y.data, x.grad


def _torch():
    return pytest.importorskip("torch", reason="PyTorch is an optional test oracle: pip install torch==2.13.0")


def _torch_values_and_grad(op, a: np.ndarray, weights: np.ndarray, dim: int):
    torch = _torch()
    x = torch.tensor(a, requires_grad=True)
    y = op(x, dim)
    (y * torch.tensor(weights)).sum().backward()
    return y.detach().numpy(), x.grad.numpy()


def _product_of_others_gradient(a: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """dx_i = sum over k >= i of w_k * prod(a_j for j <= k, j != i), written out (1-D)."""
    n = len(a)
    return np.array([sum(weights[k] * np.prod(np.delete(a[:k + 1], i)) for k in range(i, n)) for i in range(n)])


ZERO_ROWS = {
    "one zero": [1.5, -2.0, 0.0, 0.5, 3.0, -1.25],
    "zero first": [0.0, 2.0, -0.5, 1.5, 0.75, 2.0],
    "zero last": [1.5, -2.0, 0.5, 1.25, 3.0, 0.0],
    "two zeros": [1.5, 0.0, -2.0, 0.0, 0.5, 3.0],
    "adjacent zeros": [2.0, 0.0, 0.0, 1.5, -0.5, 1.0],
    "all zeros": [0.0] * 6,
}


@pytest.mark.parametrize("row", ZERO_ROWS.values(), ids=ZERO_ROWS.keys())
def test_cumprod_gradient_with_zeros_is_the_product_of_the_others(row):
    a = np.array(row)
    weights = np.random.default_rng(0).standard_normal(a.shape)
    values, grad = _values_and_grad(mg.cumprod, a, weights, axis=0)
    np.testing.assert_array_equal(values, np.cumprod(a))
    np.testing.assert_allclose(grad, _product_of_others_gradient(a, weights), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_cumprod_with_zeros_matches_torch(axis):
    a = np.random.default_rng(1).uniform(-2, 2, (4, 6))
    a[0, 2] = 0.0  # one zero
    a[1, [1, 4]] = 0.0  # two zeros
    a[2, :3] = 0.0  # a run of zeros
    a[:, 5] = np.where(np.arange(4) == 3, 0.0, a[:, 5])
    weights = np.random.default_rng(2).standard_normal(a.shape)
    ours = _values_and_grad(mg.cumprod, a, weights, axis=axis)
    theirs = _torch_values_and_grad(_torch().cumprod, a, weights, axis)
    for got, want in zip(ours, theirs):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_cumprod_jvp_with_zeros_is_the_transpose_of_its_gradient():
    a = np.array([[1.5, 0.0, -2.0, 0.0, 0.5], [0.0, 0.0, 1.0, 2.0, -1.0]])
    rng = np.random.default_rng(3)
    u, v = rng.standard_normal(a.shape), rng.standard_normal(a.shape)
    with fwAD.dual_level():
        tangent = fwAD.unpack_dual(mg.cumprod(fwAD.make_dual(mg.tensor(a), u), axis=1)).tangent.data
    _, grad = _values_and_grad(mg.cumprod, a, v, axis=1)
    assert np.sum(v * tangent) == pytest.approx(np.sum(grad * u), rel=1e-12)


def _grad_and_hvp_with_torch(name: str, a: np.ndarray, axis: int, seed: int):
    """The gradient g of sum(op(x) * w) at ``a`` and the Hessian-vector product d<g, u>/dx (w, u
    standard normal from ``seed``), by minigrad and by PyTorch: ((g, hvp), (g_torch, hvp_torch))."""
    torch = _torch()
    rng = np.random.default_rng(seed)
    w, u = rng.standard_normal(a.shape), rng.standard_normal(a.shape)
    x = mg.tensor(a, requires_grad=True)
    (g,) = mg.autograd.grad((getattr(mg, name)(x, axis=axis) * mg.tensor(w)).sum(), [x], create_graph=True)
    (hvp,) = mg.autograd.grad((g * mg.tensor(u)).sum(), [x])
    xt = torch.tensor(a, requires_grad=True)
    (gt,) = torch.autograd.grad((getattr(torch, name)(xt, axis) * torch.tensor(w)).sum(), [xt], create_graph=True)
    (hvpt,) = torch.autograd.grad((gt * torch.tensor(u)).sum(), [xt])
    return (g.data, hvp.data), (gt.detach().numpy(), hvpt.numpy())


def test_cumprod_second_derivative_at_zeros_matches_torch():
    a = np.array([1.5, 0.0, -2.0, 0.0, 0.5, 3.0])
    (g, hvp), (g_torch, hvp_torch) = _grad_and_hvp_with_torch("cumprod", a, axis=0, seed=4)
    np.testing.assert_allclose(g, g_torch, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(hvp, hvp_torch, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("scale", [1.0, 1000.0])
@pytest.mark.parametrize("axis", [0, 1])
def test_logcumsumexp_matches_torch_at_large_magnitudes(scale, axis):
    a = np.random.default_rng(5).uniform(-1, 1, (5, 7)) * scale
    a[0, 0], a[1, 3], a[2, -1] = 1000.0, -1000.0, 999.0
    weights = np.random.default_rng(6).standard_normal(a.shape)
    ours = _values_and_grad(mg.logcumsumexp, a, weights, axis=axis)
    theirs = _torch_values_and_grad(_torch().logcumsumexp, a, weights, axis)
    for got, want in zip(ours, theirs):
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_logcumsumexp_gradient_at_plus_and_minus_1000_is_finite_and_exact():
    # y = [1000, 1000 + log(1 + e^-2000) = 1000, ...]: the late large element takes all the weight
    a = np.array([-1000.0, 1000.0, -1000.0, 1000.0])
    weights = np.array([1.0, -2.0, 0.5, -3.0])
    _, grad = _values_and_grad(mg.logcumsumexp, a, weights, axis=0)
    y = np.logaddexp.accumulate(a)
    want = [sum(weights[k] * np.exp(a[i] - y[k]) for k in range(i, 4)) for i in range(4)]
    np.testing.assert_allclose(grad, want, rtol=1e-12, atol=0)


def test_logcumsumexp_second_derivative_matches_torch():
    a = np.random.default_rng(7).uniform(-3, 3, (3, 5))
    (_, hvp), (_, hvp_torch) = _grad_and_hvp_with_torch("logcumsumexp", a, axis=1, seed=8)
    np.testing.assert_allclose(hvp, hvp_torch, rtol=1e-10, atol=1e-12)


N_LONG = 20_000  # a prefix matrix along this axis would be N_LONG**2 * 8 bytes = 3.2 GB


@pytest.mark.parametrize("op", [mg.cumprod, mg.logcumsumexp], ids=["cumprod", "logcumsumexp"])
def test_a_long_axis_takes_memory_linear_in_its_length(op):
    a = np.random.default_rng(9).uniform(0.9, 1.1, N_LONG)
    x = mg.tensor(a, requires_grad=True)
    tracemalloc.start()
    try:
        y = op(x, axis=0)
        (y * mg.tensor(np.linspace(-1, 1, N_LONG))).sum().backward()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 * N_LONG * 8, f"peak {peak} bytes for an axis of {N_LONG}"
    reference = np.cumprod(a) if op is mg.cumprod else np.logaddexp.accumulate(a)
    np.testing.assert_allclose(y.data, reference, rtol=1e-12)
    assert x.grad.shape == (N_LONG,) and np.all(np.isfinite(x.grad))


def _prefix_composition(a: mg.Tensor, reduce_row, fill: float) -> mg.Tensor:
    """Output k as ``reduce_row`` of a[0..k] (``fill`` after k): the n x n form, exact at every order."""
    n = a.shape[-1]
    rows = mg.where(np.tril(np.ones((n, n), dtype=bool)), mg.unsqueeze(a, -2), fill)  # (..., n, n)
    return reduce_row(rows)


def _third_derivative(f, a: np.ndarray, u: np.ndarray, w: np.ndarray) -> np.ndarray:
    """d/dx of <d/dx <d/dx <f(x), w>, u>, u>: three reverse passes, each recorded."""
    x = mg.tensor(a, requires_grad=True)
    (g,) = mg.autograd.grad((f(x) * mg.tensor(w)).sum(), [x], create_graph=True)
    (h,) = mg.autograd.grad((g * mg.tensor(u)).sum(), [x], create_graph=True)
    return mg.autograd.grad((h * mg.tensor(u)).sum(), [x])[0].data


@pytest.mark.parametrize("op,reduce_row,fill,row", [
    (mg.cumprod, lambda r: mg.prod(r, axis=-1), 1.0, [1.5, 0.0, -2.0, 0.0, 0.5, 1e-30]),
    (mg.cumprod, lambda r: mg.prod(r, axis=-1), 1.0, [0.0, 0.0, 0.0, 2.0]),
    (mg.logcumsumexp, lambda r: mg.logsumexp(r, axis=-1), -np.inf, [0.5, -1.0, 2.0, 1.5, -0.25]),
], ids=["cumprod-zeros-and-tiny", "cumprod-leading-zeros", "logcumsumexp"])
def test_third_derivatives_equal_the_prefix_composition(op, reduce_row, fill, row):
    a = np.array([row, row[::-1]])
    rng = np.random.default_rng(10)
    u, w = rng.standard_normal(a.shape), rng.standard_normal(a.shape)
    got = _third_derivative(lambda x: op(x, axis=1), a, u, w)
    want = _third_derivative(lambda x: _prefix_composition(x, reduce_row, fill), a, u, w)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
