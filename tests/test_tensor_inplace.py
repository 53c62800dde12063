"""In-place operators (``+= -= *= /= **=`` and friends) and ``__setitem__``.

Outside the graph they write into ``x.data`` itself; on a leaf that requires grad they
raise unless inside ``no_grad``; inside the graph they rebind the name to the
out-of-place result so gradients stay right (PyTorch gives the same numbers).
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

# ------------------------------------------------------------------ outside the graph: truly in place


@pytest.mark.parametrize(
    "apply, expected",
    [
        (lambda t: t.__iadd__(2), [3, 4, 5]),
        (lambda t: t.__isub__(2), [-1, 0, 1]),
        (lambda t: t.__imul__(2), [2, 4, 6]),
        (lambda t: t.__itruediv__(2), [0.5, 1, 1.5]),
        (lambda t: t.__ipow__(2), [1, 4, 9]),
    ],
    ids=["+=", "-=", "*=", "/=", "**="],
)
def test_inplace_writes_into_the_same_array(apply, expected):
    t = mg.tensor([1.0, 2.0, 3.0])
    array = t.data
    assert apply(t) is t
    assert t.data is array and t.dtype == np.float32
    np.testing.assert_array_equal(array, expected)


def test_inplace_on_a_view_changes_the_base():
    a = mg.zeros(4)
    b = a[:2]
    b += 1
    np.testing.assert_array_equal(a.data, [1, 1, 0, 0])


def test_inplace_on_detach_changes_the_original():
    w = mg.zeros(3, requires_grad=True)
    d = w.detach()
    d += 1
    np.testing.assert_array_equal(w.data, [1, 1, 1])
    assert w.requires_grad and w.is_leaf


def test_manual_sgd_update_under_no_grad_keeps_the_array():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    array = w.data
    with mg.no_grad():
        w -= 0.1 * w.grad
    assert w.data is array and w.requires_grad and w.is_leaf and w.grad_fn is None
    np.testing.assert_allclose(w.data, [0.8, 1.6])


def test_inplace_under_no_grad_with_an_operand_requiring_grad_records_nothing():
    a = mg.zeros(2)
    array = a.data
    x = mg.ones(2, requires_grad=True)
    with mg.no_grad():
        a += x
    assert a.data is array and not a.requires_grad and a.grad_fn is None
    np.testing.assert_array_equal(a.data, [1, 1])


def test_inplace_takes_tensors_arrays_lists_and_broadcasts_into_self():
    t = mg.zeros(2, 3)
    array = t.data
    t += mg.ones(3)
    t += np.ones((2, 1), dtype=np.float32)
    t *= [1.0, 2.0, 3.0]
    assert t.data is array
    np.testing.assert_array_equal(array, [[2, 4, 6], [2, 4, 6]])


def test_float32_keeps_its_dtype_when_the_operand_is_float64():
    t = mg.ones(2)
    array = t.data
    t += np.ones(2, dtype=np.float64)
    assert t.data is array and t.dtype == np.float32


def test_integer_dtype_that_cannot_hold_the_result_raises():
    i = mg.tensor([1, 2])
    with pytest.raises(TypeError) as info:
        i /= 2
    assert all(w in str(info.value) for w in ("/=", "int64", "Python int"))
    with pytest.raises(TypeError, match=r"\+=.*int64.*float32"):
        i += mg.ones(2)
    np.testing.assert_array_equal(i.data, [1, 2])  # untouched
    i *= 3
    np.testing.assert_array_equal(i.data, [3, 6])


def test_broadcasting_that_would_change_the_shape_raises():
    a = mg.zeros(3)
    with pytest.raises(ValueError) as info:
        a += mg.ones(2, 3)
    assert "+=" in str(info.value) and "(3,)" in str(info.value) and "(2, 3)" in str(info.value)
    with pytest.raises(ValueError, match=r"\(3,\) and \(4,\)"):
        a -= mg.ones(4)


def test_inplace_on_a_read_only_array_names_the_problem():
    e = mg.zeros(2, 1).expand(2, 3)
    with pytest.raises(ValueError, match="read-only"):
        e += 1


def test_floordiv_mod_and_bitwise_in_place():
    i = mg.tensor([7, 9])
    array = i.data
    i //= 2
    i %= 3
    assert i.data is array
    np.testing.assert_array_equal(array, [0, 1])
    m = mg.tensor([True, False])
    m |= mg.tensor([False, True])
    m &= mg.tensor([True, False])
    np.testing.assert_array_equal(m.data, [True, False])
    with pytest.raises(TypeError, match="&="):
        f = mg.ones(2)
        f &= 1


# ------------------------------------------------------------------ leaf that requires grad, grad mode on


@pytest.mark.parametrize("op", ["__iadd__", "__isub__", "__imul__", "__itruediv__", "__ipow__"])
def test_inplace_on_a_leaf_requiring_grad_raises_outside_no_grad(op):
    w = mg.ones(3, requires_grad=True)
    array = w.data
    with pytest.raises(mg.BackwardError) as info:
        getattr(w, op)(2.0)
    message = str(info.value)
    assert "leaf tensor that requires grad" in message and "in-place" in message and "no_grad" in message
    assert isinstance(info.value, RuntimeError)
    np.testing.assert_array_equal(array, 1)


# ------------------------------------------------------------------ inside the graph: rebinds the name


def test_accumulating_a_loss_with_plus_equals_backpropagates():
    x = mg.ones(3, requires_grad=True)
    loss = 0.0
    for i in range(3):
        loss += (x * i).sum()
    loss.backward()
    np.testing.assert_array_equal(x.grad, [3, 3, 3])


def test_times_equals_on_a_non_leaf_rebinds_and_keeps_the_graph():
    x = mg.ones(3, requires_grad=True)
    h = x * 2
    old = h
    h *= 3
    assert h is not old
    np.testing.assert_array_equal(old.data, 2)  # other references keep the old value
    h.sum().backward()
    np.testing.assert_array_equal(x.grad, [6, 6, 6])


def test_plain_tensor_plus_equals_a_tensor_requiring_grad_joins_the_graph():
    acc = mg.zeros(2)
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    acc += x * x
    assert acc.requires_grad
    acc.sum().backward()
    np.testing.assert_array_equal(x.grad, [2, 4])


def test_graph_path_keeps_shape_and_dtype_rules():
    x = mg.ones(3, requires_grad=True)
    h = x * 1
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 3\)"):
        h += mg.ones(2, 3)
    h += mg.ones(3, dtype=mg.float64, requires_grad=True)
    assert h.dtype == np.float32
    with pytest.raises(TypeError, match="int64"):
        i = mg.tensor([1, 2, 3])
        i += x
    with pytest.raises(mg.BackwardError, match="not differentiable"):
        h //= 2


@pytest.mark.torch
def test_inplace_gradients_match_torch():
    torch = pytest.importorskip("torch", reason="PyTorch not installed: parity tests skipped")
    data = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    grads = []
    for lib, make in ((mg, lambda: mg.tensor(data, requires_grad=True)),
                      (torch, lambda: torch.tensor(data, requires_grad=True))):
        x = make()
        h = x * 2
        h *= x
        h -= 3 * x
        h /= 2
        h.sum().backward()
        grads.append(np.asarray(x.grad))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)


# ------------------------------------------------------------------ __setitem__


def test_setitem_on_a_leaf_requiring_grad_only_inside_no_grad():
    w = mg.zeros(4, requires_grad=True)
    array = w.data
    with pytest.raises(mg.BackwardError, match="where/masked_fill/concat"):
        w[0] = 1.0
    with mg.no_grad():
        w[0] = 1.0
        w[1:3] = mg.ones(2, requires_grad=True)
        view = w.detach()[2:]
        view[mg.tensor([1])] = 5.0  # through a view of the same array
    assert w.data is array and w.requires_grad and w.is_leaf
    np.testing.assert_array_equal(array, [1, 1, 1, 5])


def test_setitem_in_the_graph_raises_naming_alternatives():
    x = mg.ones(3, requires_grad=True)
    h = x * 2
    with pytest.raises(mg.BackwardError, match="where/masked_fill/concat"):
        h[0] = 0.0
    plain = mg.zeros(3)
    with pytest.raises(mg.BackwardError, match="where/masked_fill/concat"):
        plain[0] = x[0]
