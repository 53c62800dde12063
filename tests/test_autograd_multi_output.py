"""Functions with several outputs: one gradient per output, zeros (or None) for an unused one,
constants through mark_non_differentiable, and integer outputs that never require grad."""

from __future__ import annotations

import inspect
import textwrap

import numpy as np
import pytest

import minigrad as mg


def documented_example(name: str) -> type[mg.Function]:
    """The class ``name`` of the ``Function`` docstring's examples, run as written there, so the
    tests below check the documented example itself rather than a copy of it."""
    lines = inspect.cleandoc(mg.Function.__doc__).splitlines()
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith(f"class {name}(")), None)
    if start is None:
        raise LookupError(f"the Function docstring has no example class {name}")
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > indent):
        end += 1
    namespace = {"Function": mg.Function}
    exec(textwrap.dedent("\n".join(lines[start:end])), namespace)
    return namespace[name]


MinMax = documented_example("MinMax")  # (x) -> (x.min(), x.max()); the gradient goes to where each is attained


class SplitHalves(mg.Function):
    """x (2n,) -> (x[:n], x[n:]), recording which gradients arrived."""

    seen: list = []

    @staticmethod
    def forward(ctx, x, materialize=True):
        ctx.set_materialize_grads(materialize)
        n = x.shape[0] // 2
        return x[:n].copy(), x[n:].copy()

    @staticmethod
    def backward(ctx, g1, g2):
        SplitHalves.seen.append((g1, g2))
        n = (g1 if g1 is not None else g2).shape[0]
        z = np.zeros(n)
        return np.concatenate([z if g1 is None else g1, z if g2 is None else g2])


class SortWithIndices(mg.Function):
    @staticmethod
    def forward(ctx, x):
        order = np.argsort(x, kind="stable")
        ctx.save_for_backward(order)
        return x[order], order

    @staticmethod
    def backward(ctx, grad_values, grad_order):
        (order,) = ctx.saved
        assert grad_order is None or not grad_order.any()
        out = np.empty_like(grad_values)
        out[order] = grad_values
        return out


class ValueAndMask(mg.Function):
    @staticmethod
    def forward(ctx, x):
        mask = (x > 0).astype(x.dtype)
        ctx.mark_non_differentiable(mask)
        return x * 2, mask

    @staticmethod
    def backward(ctx, grad, grad_mask):
        return 2 * grad


def test_apply_returns_one_tensor_per_output_and_backward_gets_one_gradient_each():
    x = mg.tensor([3.0, -1.0, 2.0], dtype=mg.float64, requires_grad=True)
    low, high = MinMax.apply(x)
    assert isinstance(low, mg.Tensor) and low.item() == -1.0 and high.item() == 3.0
    (2 * low + 5 * high).backward()
    np.testing.assert_array_equal(x.grad, [5.0, 2.0, 0.0])


def test_both_outputs_pass_gradcheck():
    x = mg.tensor([0.3, -1.2, 2.5, 0.7], dtype=mg.float64, requires_grad=True)
    assert mg.gradcheck(lambda t: MinMax.apply(t), [x])
    assert mg.gradcheck(lambda t: SplitHalves.apply(t), [x])


def test_an_unused_output_arrives_as_zeros_by_default():
    SplitHalves.seen.clear()
    x = mg.tensor([1.0, 2.0, 3.0, 4.0], dtype=mg.float64, requires_grad=True)
    first, _ = SplitHalves.apply(x)
    (first * 3).sum().backward()
    g1, g2 = SplitHalves.seen[-1]
    np.testing.assert_array_equal(g1, [3.0, 3.0])
    assert isinstance(g2, np.ndarray) and g2.shape == (2,) and not g2.any()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0, 0.0, 0.0])


def test_set_materialize_grads_false_gives_none_for_an_unused_output():
    SplitHalves.seen.clear()
    x = mg.tensor([1.0, 2.0, 3.0, 4.0], dtype=mg.float64, requires_grad=True)
    _, second = SplitHalves.apply(x, materialize=False)
    second.sum().backward()
    g1, g2 = SplitHalves.seen[-1]
    assert g1 is None and g2.tolist() == [1.0, 1.0]
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 1.0, 1.0])


def test_gradients_into_both_outputs_of_one_node_are_summed_per_output():
    x = mg.tensor([1.0, 2.0, 3.0, 4.0], dtype=mg.float64, requires_grad=True)
    a, b = SplitHalves.apply(x)
    loss = (a * 2).sum() + (a * 3).sum() + (b * b).sum()
    loss.backward()
    np.testing.assert_array_equal(x.grad, [5.0, 5.0, 6.0, 8.0])


def test_integer_outputs_are_constants():
    x = mg.tensor([3.0, 1.0, 2.0], dtype=mg.float64, requires_grad=True)
    values, order = SortWithIndices.apply(x)
    assert values.requires_grad and not order.requires_grad and order.grad_fn is None
    assert order.dtype == np.int64 and order.tolist() == [1, 2, 0]
    (values * mg.tensor([1.0, 10.0, 100.0], dtype=mg.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad, [100.0, 1.0, 10.0])


def test_mark_non_differentiable_makes_an_output_a_constant():
    x = mg.tensor([-1.0, 2.0], requires_grad=True)
    doubled, mask = ValueAndMask.apply(x)
    assert doubled.requires_grad and not mask.requires_grad and mask.tolist() == [0.0, 1.0]
    (doubled * mask).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 2.0])


def test_without_grad_the_outputs_are_plain_tensors():
    x = mg.tensor([3.0, -1.0], requires_grad=True)
    with mg.no_grad():
        low, high = MinMax.apply(x)
    assert not low.requires_grad and low.grad_fn is None and high.item() == 3.0


def test_a_wrong_number_of_input_gradients_names_the_op():
    class Bad(mg.Function):
        @staticmethod
        def forward(ctx, x):
            return x, x * 2

        @staticmethod
        def backward(ctx, g1, g2):
            return g1, g2

    a, _ = Bad.apply(mg.tensor([1.0], requires_grad=True))
    with pytest.raises(mg.BackwardError, match="Bad.backward returned 2 gradients for 1 inputs"):
        a.sum().backward()
