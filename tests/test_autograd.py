"""Semantics of the autodiff engine: accumulation, grad mode, detach, retain_graph, deep graphs."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


def test_gradients_accumulate_across_backward_calls_until_reset():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, [3 + 2, 3 + 4])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad, [3, 3])


def test_a_value_used_twice_gets_both_contributions():
    x = mg.tensor(3.0, requires_grad=True)
    y = x * x + x  # dy/dx = 2x + 1
    y.backward()
    assert x.grad == pytest.approx(7.0)


def test_grad_is_an_ndarray_with_the_leaf_shape_and_dtype():
    x = mg.tensor(np.ones((2, 3)), requires_grad=True)  # float64 kept
    (x * mg.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert isinstance(x.grad, np.ndarray) and x.grad.shape == (2, 3) and x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad, [[1, 2, 3], [1, 2, 3]])


@pytest.mark.parametrize("dtype", [mg.float32, mg.float64])
@pytest.mark.parametrize("build", [lambda x: x * x, lambda x: x + x, lambda x: (x * 3) * x])
def test_a_0d_leaf_used_twice_keeps_an_ndarray_grad(dtype, build):
    x = mg.tensor(2.0, dtype=dtype, requires_grad=True)
    build(x).backward()
    build(x).backward()  # accumulation keeps the type too
    assert type(x.grad) is np.ndarray and x.grad.shape == () and x.grad.dtype == dtype
    x.grad[...] = 0  # writable, as for every other shape


def test_broadcast_inputs_get_summed_gradients():
    a = mg.tensor(np.ones((2, 1, 3)), requires_grad=True)
    b = mg.tensor(np.ones((4, 1)), requires_grad=True)
    (a * b).sum().backward()
    np.testing.assert_allclose(a.grad, np.full((2, 1, 3), 4.0))
    np.testing.assert_allclose(b.grad, np.full((4, 1), 6.0))


def test_leaf_grads_do_not_alias_each_other():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([1.0, 2.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad *= 10  # an optimizer may scale in place
    np.testing.assert_allclose(b.grad, [1, 1])


def test_no_grad_records_nothing_and_works_as_decorator():
    x = mg.tensor([1.0], requires_grad=True)
    with mg.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None

    @mg.no_grad()
    def double(t):
        return t * 2

    assert double(x).grad_fn is None
    assert (x * 2).grad_fn is not None  # restored after the decorated call

    @mg.no_grad
    def triple(t):
        return t * 3

    assert triple(x).grad_fn is None and triple.__name__ == "triple"

    with mg.no_grad():
        with mg.enable_grad():
            z = x * 2
        w = x * 2
    assert z.requires_grad and not w.requires_grad


def test_detach_cuts_the_graph_and_shares_data():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert d.grad_fn is None and not d.requires_grad
    assert np.shares_memory(d.data, y.data)
    (d * x).sum().backward()
    np.testing.assert_allclose(x.grad, [2, 4])  # d is a constant


def test_requires_grad_is_an_attribute_and_requires_grad_returns_self():
    x = mg.zeros(3)
    assert x.requires_grad is False
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad = False
    assert not x.requires_grad
    with pytest.raises(TypeError, match="floating"):
        mg.tensor([1, 2]).requires_grad_()


def test_backward_of_non_scalar_needs_grad_naming_the_shape():
    x = mg.tensor(np.ones((2, 3)), requires_grad=True)
    y = x * 2
    with pytest.raises(mg.BackwardError, match=r"\(2, 3\)"):
        y.backward()
    y.backward(np.ones((2, 3)))
    np.testing.assert_allclose(x.grad, 2.0)
    x.grad = None
    (x * 2).backward(mg.ones(2, 3))  # a Tensor works too
    np.testing.assert_allclose(x.grad, 2.0)
    with pytest.raises(ValueError, match="does not match"):
        (x * 2).backward(np.ones(3))


def test_second_backward_through_freed_graph_raises_unless_retained():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(mg.BackwardError, match="retain_graph"):
        y.backward()

    x.grad = None
    z = (x * x).sum()
    z.backward(retain_graph=True)
    z.backward()
    np.testing.assert_allclose(x.grad, [4, 8])


def test_saved_arrays_are_released_after_backward():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    node = y.grad_fn
    assert node.saved
    y.sum().backward()
    assert node.saved is None


def test_deep_chain_of_100k_nodes_backpropagates_without_recursion():
    x = mg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 1e-6
    y.backward()
    assert x.grad == pytest.approx(1.0)
    del y  # dropping a deep graph must not overflow the C stack either


def test_unrolled_recurrence_of_1000_steps():
    rng = np.random.default_rng(0)
    w = mg.tensor(rng.standard_normal((4, 4)) * 0.3, requires_grad=True)
    h = mg.zeros(1, 4, dtype=np.float64)
    x = mg.tensor(rng.standard_normal((1000, 1, 4)))
    for t in range(1000):
        h = mg.tanh(h @ w + x[t])
    h.sum().backward()
    assert w.grad.shape == (4, 4) and np.all(np.isfinite(w.grad))


def test_retain_grad_keeps_non_leaf_gradient():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad, [6, 12])


def test_custom_function_with_needs_input_grad():
    seen = {}

    class ScaleBy(mg.Function):
        @staticmethod
        def forward(ctx, x, s):
            ctx.save_for_backward(x, s)
            return x * s

        @staticmethod
        def backward(ctx, grad):
            x, s = ctx.saved
            seen["needs"] = ctx.needs_input_grad
            return grad * s, (grad * x).sum() if ctx.needs_input_grad[1] else None

    x = mg.tensor([1.0, 2.0], requires_grad=True)
    s = mg.tensor(3.0)
    ScaleBy.apply(x, s).sum().backward()
    assert seen["needs"] == (True, False)
    np.testing.assert_allclose(x.grad, [3, 3])


def test_detect_anomaly_names_the_op_and_the_user_line():
    x = mg.tensor([-1.0, 1.0], requires_grad=True)
    with mg.detect_anomaly(), np.errstate(all="ignore"):
        with pytest.raises(mg.AnomalyError, match=r"Log forward produced NaN.*test_autograd.py:\d+"):
            mg.log(x)
    y = mg.sqrt(mg.tensor([0.0, 1.0], requires_grad=True))  # forward fine, backward infinite
    with mg.detect_anomaly(), np.errstate(all="ignore"):
        z = mg.sqrt(x * x)
        with pytest.raises(mg.AnomalyError, match="Mul|Sqrt"):
            (z * mg.tensor([np.inf, 1.0])).sum().backward()
    with np.errstate(all="ignore"):
        y.sum().backward()  # outside the context nothing is checked


def test_integer_and_bool_tensors_never_require_grad():
    i = mg.tensor([1, 2, 3])
    assert i.dtype == np.int64
    assert (i * 2).requires_grad is False
    m = i > 1
    assert m.dtype == np.bool_ and not m.requires_grad


def test_argmax_has_no_gradient_and_gives_indices():
    x = mg.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 1.0]], requires_grad=True)
    np.testing.assert_array_equal(x.argmax(axis=1).data, [1, 0])
    assert x.argmax().item() == 3
    assert not x.argmax(axis=0).requires_grad


def test_set_grad_enabled_as_call_context_and_decorator():
    """As torch.set_grad_enabled: a plain call switches at once; with/decorator restore the mode."""
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    try:
        mg.set_grad_enabled(False)
        assert not mg.is_grad_enabled() and not (x * 2).requires_grad
        mg.set_grad_enabled(True)
        assert mg.is_grad_enabled()
        with mg.set_grad_enabled(False):
            assert not (x * 2).requires_grad
        assert mg.is_grad_enabled()

        @mg.set_grad_enabled(False)
        def double(t):
            return t * 2

        assert mg.is_grad_enabled()  # decorating does not switch the mode
        assert not double(x).requires_grad and mg.is_grad_enabled()
        with mg.no_grad():
            with mg.set_grad_enabled(True):
                assert (x * 2).requires_grad
            assert not mg.is_grad_enabled()
    finally:
        mg.set_grad_enabled(True)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the NaN/Inf the anomaly checks are for
def test_anomaly_outside_the_forward_says_so_and_reentry_restores_the_mode():
    z = mg.tensor([0.0, 1.0], requires_grad=True)
    y = mg.sqrt(z).sum()  # built outside detect_anomaly: no creation site recorded
    with pytest.raises(mg.AnomalyError, match="created outside detect_anomaly"):
        with mg.detect_anomaly():
            y.backward()
    cm = mg.detect_anomaly()
    with cm:
        with cm:
            pass
        with pytest.raises(mg.AnomalyError):
            mg.log(mg.tensor([-1.0]))
    mg.log(mg.tensor([-1.0]))  # anomaly mode is off again: no error
