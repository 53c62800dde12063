"""minigrad.autograd.grad: gradients as Tensors, of any order with create_graph=True."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import autograd
from testutils import custom_function


def f64(values, requires_grad=True):
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def test_returns_a_tuple_of_tensors_and_leaves_grad_alone():
    x, y = f64([1.0, 2.0]), f64([3.0, -1.0])
    gx, gy = autograd.grad((x * y).sum(), [x, y])
    assert isinstance(gx, mg.Tensor) and not gx.requires_grad
    np.testing.assert_array_equal(gx.data, [3.0, -1.0])
    np.testing.assert_array_equal(gy.data, [1.0, 2.0])
    assert x.grad is None and y.grad is None


def test_a_single_tensor_is_accepted_for_outputs_and_inputs():
    x = f64(2.0)
    (g,) = autograd.grad(x * x * x, x)
    assert g.item() == 12.0


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_derivatives_of_tanh_to_any_order_match_the_closed_form(order):
    x = f64(0.7)
    out = mg.tanh(x)
    for _ in range(order):
        (out,) = autograd.grad(out, x, create_graph=True)
    t = np.tanh(0.7)
    closed = {1: 1 - t**2, 2: -2 * t * (1 - t**2), 3: -2 * (1 - t**2) ** 2 + 4 * t**2 * (1 - t**2),
              4: 16 * t * (1 - t**2) ** 2 - 8 * t**3 * (1 - t**2)}
    assert out.item() == pytest.approx(closed[order], rel=1e-12)


def test_grad_outputs_weight_the_outputs():
    x = f64([1.0, 2.0, 3.0])
    (g,) = autograd.grad(x * x, x, grad_outputs=np.array([1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(g.data, [2.0, 0.0, 12.0])


def test_several_outputs_add_up():
    x = f64([1.0, 2.0])
    (g,) = autograd.grad([x.sum(), (x * x).sum()], [x])
    np.testing.assert_array_equal(g.data, [3.0, 5.0])


def test_a_non_leaf_input():
    x = f64([1.0, 2.0])
    h = x * 3
    (g,) = autograd.grad((h * h).sum(), h)
    np.testing.assert_array_equal(g.data, [6.0, 12.0])


def test_an_unused_input_is_an_error_unless_allowed():
    x, unused = f64([1.0]), f64([5.0])
    with pytest.raises(mg.BackwardError, match="input 1 .* is not used by the outputs; pass allow_unused=True"):
        autograd.grad((x * 2).sum(), [x, unused])
    gx, gu = autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gx.item() == 2.0 and gu is None


def test_the_graph_is_freed_unless_kept():
    x = f64([1.0, 2.0])
    y = (x * x).sum()
    autograd.grad(y, x)
    with pytest.raises(mg.BackwardError, match="a second time"):
        autograd.grad(y, x)
    z = (x * x).sum()
    autograd.grad(z, x, retain_graph=True)
    assert autograd.grad(z, x)[0].tolist() == [2.0, 4.0]


def test_create_graph_keeps_the_graph_by_default():
    x = f64([1.0, 2.0])
    y = (x * x * x).sum()
    (g,) = autograd.grad(y, x, create_graph=True)
    assert g.requires_grad
    (again,) = autograd.grad(y, x)  # retain_graph defaulted to create_graph
    np.testing.assert_array_equal(again.data, g.data)


def test_the_hessian_of_a_quadratic_form():
    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    x = f64([0.5, -1.0])
    f = x @ (mg.tensor(a) @ x) * 0.5
    (g,) = autograd.grad(f, x, create_graph=True)
    rows = [autograd.grad(g[i], x, retain_graph=True)[0].data for i in range(2)]
    np.testing.assert_allclose(np.stack(rows), a)


def test_a_grad_output_that_requires_grad_is_differentiated_too():
    x = f64([1.0, 2.0])
    v = f64([3.0, 4.0])
    (g,) = autograd.grad(x * x, x, grad_outputs=v, create_graph=True)  # g = 2 x v
    (dv,) = autograd.grad(g.sum(), v)
    np.testing.assert_array_equal(dv.data, [2.0, 4.0])


def test_backward_with_create_graph_points_to_autograd_grad():
    x = f64([1.0])
    with pytest.raises(mg.BackwardError, match=r"use minigrad.autograd.grad\(outputs, inputs, create_graph=True\)"):
        (x * x).sum().backward(create_graph=True)


def test_an_output_that_does_not_require_grad_is_an_error():
    with pytest.raises(mg.BackwardError, match="output 0 does not require grad"):
        autograd.grad(f64([1.0], requires_grad=False).sum(), f64([1.0]))


def test_gradgradcheck_catches_a_wrong_second_derivative():
    CubeWithWrongSecondDerivative = custom_function(  # the gradient is constant in x: d2 lost
        "CubeWithWrongSecondDerivative", lambda x: x ** 3,
        lambda grad, x: grad * 3 * (x.detach() if isinstance(x, mg.Tensor) else x) ** 2)

    x = f64([0.5, 1.5])
    assert mg.gradcheck(lambda t: CubeWithWrongSecondDerivative.apply(t), [x])
    with pytest.raises(mg.GradcheckError):
        mg.gradgradcheck(lambda t: CubeWithWrongSecondDerivative.apply(t), [x])
    assert mg.gradgradcheck(lambda t: t ** 3, [x])
