"""minigrad.func: the torch.func transforms, checked against closed forms, against each other,
and composed (grad of grad, jacfwd of jacrev, jvp of grad)."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import func, nn

RNG = np.random.default_rng(3)


def f64(values, requires_grad=False):
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def cubic(x):  # f(x) = sum x^3 + x0 * x1
    return (x ** 3).sum() + x[0] * x[1]


X = f64([0.5, -1.5, 2.0])


def test_grad_and_value_and_grad():
    g = func.grad(cubic)(X)
    want = 3 * X.data ** 2 + np.array([X.data[1], X.data[0], 0.0])
    np.testing.assert_allclose(g.data, want)
    value, g2 = func.value_and_grad(cubic)(X)
    assert value.item() == pytest.approx(cubic(X).item()) and np.allclose(g2.data, want)
    assert not g.requires_grad and X.grad is None  # nothing leaks into the inputs


def test_grad_with_argnums_and_aux():
    def f(a, b):
        return (a * b).sum(), "aux"

    (ga, gb), aux = func.grad(f, argnums=(0, 1), has_aux=True)(f64([1.0, 2.0]), f64([3.0, 4.0]))
    assert ga.tolist() == [3.0, 4.0] and gb.tolist() == [1.0, 2.0] and aux == "aux"
    assert func.grad(lambda a, b: (a * b).sum(), argnums=1)(f64([1.0, 2.0]), f64([3.0, 4.0])).tolist() == [1.0, 2.0]


def test_grad_of_grad_is_the_second_derivative():
    x = f64(0.3)
    second = func.grad(func.grad(lambda t: mg.tanh(t)))(x)
    t = np.tanh(0.3)
    assert second.item() == pytest.approx(-2 * t * (1 - t * t), rel=1e-12)
    third = func.grad(func.grad(func.grad(lambda t: t ** 4)))(f64(2.0))
    assert third.item() == pytest.approx(48.0)


def test_vjp_gives_rows_of_the_jacobian_and_can_be_called_twice():
    out, vjp_fn = func.vjp(lambda x: x * x, X)
    np.testing.assert_allclose(out.data, X.data ** 2)
    (g,) = vjp_fn(f64([1.0, 0.0, 0.0]))
    np.testing.assert_allclose(g.data, [1.0, 0.0, 0.0])
    (g,) = vjp_fn(f64([0.0, 1.0, 1.0]))
    np.testing.assert_allclose(g.data, [0.0, -3.0, 4.0])


def test_jvp_gives_a_directional_derivative_in_one_forward_pass():
    u = f64([1.0, 0.0, -1.0])
    out, tangent = func.jvp(cubic, (X,), (u,))
    assert out.item() == pytest.approx(cubic(X).item())
    assert tangent.item() == pytest.approx(float(func.grad(cubic)(X).data @ u.data))


def test_jacrev_and_jacfwd_agree_and_have_torchs_shape():
    w = f64(RNG.standard_normal((4, 3)))

    def f(x):
        return mg.tanh(w @ x) * x.sum()

    rev, fwd = func.jacrev(f)(X), func.jacfwd(f)(X)
    assert rev.shape == fwd.shape == (4, 3)
    np.testing.assert_allclose(rev.data, fwd.data, rtol=1e-12, atol=1e-14)
    matrix = func.jacrev(lambda m: m * 2)(f64(np.ones((2, 2))))
    assert matrix.shape == (2, 2, 2, 2)


def test_hessian_is_jacfwd_of_jacrev_and_symmetric():
    h = func.hessian(cubic)(X)
    want = np.diag(6 * X.data)
    want[0, 1] = want[1, 0] = 1.0
    np.testing.assert_allclose(h.data, want)
    np.testing.assert_allclose(func.jacrev(func.jacrev(cubic))(X).data, want)
    np.testing.assert_allclose(func.jacfwd(func.jacfwd(cubic))(X).data, want)


def test_hvp_is_the_hessian_times_the_vector_without_forming_it():
    v = f64([1.0, 2.0, -1.0])
    value, (hv,) = func.hvp(cubic, (X,), (v,))  # one product per primal, as torch.autograd.functional.hvp
    assert value.item() == pytest.approx(cubic(X).item())
    np.testing.assert_allclose(hv.data, func.hessian(cubic)(X).data @ v.data)


def test_jvp_of_grad_and_grad_of_jvp_agree():
    v = f64([0.5, 1.0, 0.0])
    _, forward_over_reverse = func.jvp(func.grad(cubic), (X,), (v,))
    reverse_over_forward = func.grad(lambda x: func.jvp(cubic, (x,), (v,))[1])(X)
    np.testing.assert_allclose(forward_over_reverse.data, reverse_over_forward.data, rtol=1e-12)


def test_jvp_of_jvp_gives_a_mixed_second_derivative():
    u, w = f64([1.0, 0.0, 0.0]), f64([0.0, 1.0, 0.0])
    _, mixed = func.jvp(lambda x: func.jvp(cubic, (x,), (u,))[1], (X,), (w,))
    assert mixed.item() == pytest.approx(1.0)  # d2/dx0 dx1 of x0 x1


def test_functional_call_runs_a_module_with_given_parameters_and_restores_them():
    layer = nn.Linear(3, 2)
    layer.weight.data[...] = 1.0
    params = {"weight": f64(np.full((2, 3), 2.0)), "bias": f64([0.5, -0.5])}
    out = func.functional_call(layer, params, (f64([1.0, 1.0, 1.0]),))
    np.testing.assert_allclose(out.data, [6.5, 5.5])
    assert layer.weight.data[0, 0] == 1.0  # the module's own parameters are back


def test_grad_through_functional_call_with_respect_to_parameters():
    layer = nn.Linear(3, 1)
    x = f64(RNG.standard_normal((5, 3)))
    weight = f64(layer.weight.data)

    def loss(w):
        return (func.functional_call(layer, {"weight": w}, (x,)) ** 2).mean()

    g = func.grad(loss)(weight)
    expected = mg.autograd.grad(loss(layer.weight), layer.weight)[0]
    np.testing.assert_allclose(g.data, expected.data, rtol=1e-6)


def test_functional_call_names_an_unknown_key():
    with pytest.raises(KeyError, match="no parameter or buffer named 'weights'"):
        func.functional_call(nn.Linear(2, 2), {"weights": f64(np.zeros((2, 2)))}, (f64([1.0, 2.0]),))


@pytest.mark.parametrize("call,message", [
    (lambda: func.grad(lambda x: x * 2)(X), "one-element Tensor"),
    (lambda: func.jvp(cubic, X, X), "tuples of Tensors"),
    (lambda: func.jvp(cubic, (X,), (f64([1.0]),)), "tangent 0 has shape"),
    (lambda: func.grad(cubic, argnums=3)(X), "argnums 3 is out of range"),
    (lambda: func.grad(lambda x: x.sum(), has_aux=True)(X), "must return a pair"),
])
def test_mistakes_get_one_clear_error(call, message):
    with pytest.raises((TypeError, ValueError), match=message):
        call()
