"""Shape, indexing, contraction and convolution ops without an oracle: NumPy's values where
NumPy has the op, and one clear error line for bad input."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F

X = np.arange(12.0).reshape(3, 4)


@pytest.mark.parametrize("subscripts,shapes", [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ii", [(3, 3)]), ("ii->i", [(3, 3)]), ("...ij,...jk", [(2, 1, 2, 3), (3, 3, 2)]),
    ("ba", [(2, 3)]), ("i,i,i", [(3,), (3,), (3,)]), ("iij,jk->ik", [(2, 2, 3), (3, 4)]), ("", [()]),
    ("...", [(2, 3)]), ("i...->...", [(2, 3, 1)]),
])
def test_einsum_gives_numpys_values(subscripts, shapes):
    arrays = [np.random.default_rng(0).standard_normal(s) for s in shapes]
    np.testing.assert_allclose(mg.einsum(subscripts, *[mg.tensor(a) for a in arrays]).data,
                               np.einsum(subscripts, *arrays), rtol=1e-6)


def test_scatter_keeps_the_last_write_of_a_repeated_position_and_only_its_gradient():
    a = mg.tensor(np.zeros((2, 2)), requires_grad=True)
    src = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    out = mg.scatter(a, 0, np.array([[0, 0], [0, 1]]), src)
    expected = np.zeros((2, 2))
    expected[np.array([[0, 0], [0, 1]]), np.array([[0, 1], [0, 1]])] = src.data  # NumPy's assignment
    np.testing.assert_array_equal(out.data, expected)
    out.sum().backward()
    np.testing.assert_array_equal(src.grad, [[0, 1], [1, 1]])
    np.testing.assert_array_equal(a.grad, [[0, 0], [1, 0]])


def test_put_along_axis_equals_numpys_in_place_version():
    indices, values = np.array([[1], [0], [3]]), np.array([[9.0], [8.0], [7.0]])
    expected = X.copy()
    np.put_along_axis(expected, indices, values, 1)
    np.testing.assert_array_equal(mg.put_along_axis(mg.tensor(X), indices, mg.tensor(values), 1).data, expected)


@pytest.mark.parametrize("ord_,axis", [(None, None), ("fro", None), (1, None), (-1, None), (np.inf, None),
                                       (-np.inf, None), (2, 0), (0, 1), (3, -1), (1, (1, 0))])
def test_norm_gives_numpys_values(ord_, axis):
    np.testing.assert_allclose(mg.linalg.norm(mg.tensor(X - 5), ord_, axis).data, np.linalg.norm(X - 5, ord_, axis),
                               rtol=1e-6)


@pytest.mark.parametrize("call,error,message", [
    (lambda: mg.einsum("ij,jk", mg.tensor(X)), ValueError, r"einsum: subscripts 'ij,jk' name 2 operands, 1 were given"),
    (lambda: mg.einsum("ijk", mg.tensor(X)), mg.ShapeError, r"einsum: subscripts 'ijk' name 3 axes of an operand with 2"),
    (lambda: mg.einsum("ij,ij", mg.tensor(X), mg.tensor(X.T)), mg.ShapeError, r"label 'i' has sizes 3 and 4"),
    (lambda: mg.gather(mg.tensor(X), 1, np.array([[4]])), IndexError, r"gather: index values must lie in \[-4, 4\)"),
    (lambda: mg.gather(mg.tensor(X), 0, np.array([0])), mg.ShapeError, r"gather: index of shape \(1,\) must have"),
    (lambda: mg.pad(mg.tensor(X), 1, mode="symmetric"), ValueError, r"pad: mode must be 'constant' or one of"),
    (lambda: mg.linalg.norm(mg.tensor(X), 3), ValueError, r"norm: matrix ord=3 is not supported; use one of None, 'fro', 'nuc'"),
    (lambda: F.conv2d(mg.zeros((1, 3, 5, 5)), mg.zeros((4, 2, 3, 3))), mg.ShapeError,
     r"conv2d: weight \(4, 2, 3, 3\) with groups=1 expects 2 input channels, the input \(1, 3, 5, 5\) has 3"),
    (lambda: F.conv1d(mg.zeros((1, 2, 2)), mg.zeros((1, 2, 3))), mg.ShapeError,
     r"conv1d: the \(padded\) input's spatial size \(2,\) is smaller than the kernel's span \(3,\)"),
    (lambda: F.max_pool2d(mg.zeros((1, 1, 4, 4)), 2, padding=2), ValueError, r"max_pool2d: padding \(2, 2\) must be"),
    (lambda: mg.nn.Conv2d(3, 4, 3, groups=2), ValueError, r"Conv2d: groups=2 must divide in_channels=3"),
    (lambda: F.binary_cross_entropy(mg.tensor([1.5]), mg.tensor([1.0])), ValueError,
     r"binary_cross_entropy: input must be probabilities in \[0, 1\]"),
    (lambda: F.cross_entropy(mg.zeros((2, 3)), np.full((2, 3), 1 / 3), ignore_index=0), ValueError,
     r"cross_entropy: ignore_index applies to class indices"),
    (lambda: F.cross_entropy(mg.zeros((2, 3)), np.array([0, 1]), weight=np.ones(2)), mg.ShapeError,
     r"cross_entropy: weight must have one entry per class, shape \(3,\), got \(2,\)"),
    (lambda: F.cross_entropy(mg.zeros((2, 3)), np.full((2, 2), 0.5)), TypeError,
     r"cross_entropy: target must hold integer class indices"),
])
def test_bad_input_is_one_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()
