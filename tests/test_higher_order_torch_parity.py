"""Higher-order and forward-mode autodiff against PyTorch on random compositions, float64, to 1e-8:
autograd.grad(create_graph=True) twice, torch.func.jvp/jacrev/jacfwd/hessian and the
Hessian-vector product (torch.autograd.functional.hvp)."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import autograd, func

torch = pytest.importorskip("torch", reason="PyTorch is an optional test oracle: pip install torch==2.13.0")
pytestmark = pytest.mark.torch


def _composition(lib):
    """The same function written for both libraries: x (4,), w (3, 4) -> a scalar and a vector."""
    def vector(x, w):
        h = lib["tanh"](w @ x) * lib["sigmoid"](x[:3])
        return lib["softmax"](h * 2.0) * lib["exp"](h * 0.3) + (h * h).sum() * 0.1

    def scalar(x, w):
        v = vector(x, w)
        return (v * v).sum() + lib["logsumexp"](w * x)

    return vector, scalar


MG = {"tanh": mg.tanh, "sigmoid": mg.sigmoid, "exp": mg.exp, "softmax": lambda t: mg.softmax(t, axis=-1),
      "logsumexp": lambda t: mg.logsumexp(t, axis=(0, 1))}
TORCH = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "exp": torch.exp, "softmax": lambda t: torch.softmax(t, -1),
         "logsumexp": lambda t: torch.logsumexp(t, dim=(0, 1))}
MG_VECTOR, MG_SCALAR = _composition(MG)
TORCH_VECTOR, TORCH_SCALAR = _composition(TORCH)


@pytest.fixture(params=[0, 1, 2])
def point(request):
    rng = np.random.default_rng(request.param)
    return rng.standard_normal(4), rng.standard_normal((3, 4)), rng.standard_normal(4)


def _mg(a):
    return mg.tensor(a, dtype=mg.float64)


def _torch(a, requires_grad=False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=requires_grad)


def close(ours, theirs):
    np.testing.assert_allclose(ours.data if isinstance(ours, mg.Tensor) else ours, theirs.detach().numpy(),
                               rtol=1e-8, atol=1e-10)


def test_double_backward_with_create_graph(point):
    x, w, v = point
    tx, tw = _torch(x, True), _torch(w, True)
    (tg,) = torch.autograd.grad(TORCH_SCALAR(tx, tw), tx, create_graph=True)
    th = torch.autograd.grad((tg * _torch(v)).sum(), [tx, tw])
    mx, mw = _mg(x).requires_grad_(), _mg(w).requires_grad_()
    (g,) = autograd.grad(MG_SCALAR(mx, mw), mx, create_graph=True)
    h = autograd.grad((g * _mg(v)).sum(), [mx, mw])
    close(g, tg)
    for ours, theirs in zip(h, th):
        close(ours, theirs)


def test_jvp(point):
    x, w, u = point
    out, tangent = func.jvp(lambda t: MG_VECTOR(t, _mg(w)), (_mg(x),), (_mg(u),))
    tout, ttangent = torch.func.jvp(lambda t: TORCH_VECTOR(t, _torch(w)), (_torch(x),), (_torch(u),))
    close(out, tout)
    close(tangent, ttangent)


@pytest.mark.parametrize("transform", ["jacrev", "jacfwd"])
def test_jacobians(point, transform):
    x, w, _ = point
    ours = getattr(func, transform)(MG_VECTOR, argnums=(0, 1))(_mg(x), _mg(w))
    theirs = getattr(torch.func, transform)(TORCH_VECTOR, argnums=(0, 1))(_torch(x), _torch(w))
    for a, b in zip(ours, theirs):
        assert a.shape == tuple(b.shape)
        close(a, b)


def test_hessian(point):
    x, w, _ = point
    close(func.hessian(lambda t: MG_SCALAR(t, _mg(w)))(_mg(x)),
          torch.func.hessian(lambda t: TORCH_SCALAR(t, _torch(w)))(_torch(x)))


def test_hessian_vector_product(point):
    x, w, v = point
    value, (hv,) = func.hvp(lambda t: MG_SCALAR(t, _mg(w)), (_mg(x),), (_mg(v),))
    tvalue, (thv,) = torch.autograd.functional.hvp(lambda t: TORCH_SCALAR(t, _torch(w)), (_torch(x),), (_torch(v),))
    close(value, tvalue)
    close(hv, thv)


def test_grad_of_grad_of_a_scalar_function():
    ours = func.grad(func.grad(lambda t: mg.tanh(t) * mg.exp(t * 0.5)))(_mg(0.4))
    theirs = torch.func.grad(torch.func.grad(lambda t: torch.tanh(t) * torch.exp(t * 0.5)))(_torch(0.4))
    close(ours, theirs)
