"""Inputs the kernels cannot take are refused by the op that was called, once, with a message
naming the op and the shapes or dtype; the kernels themselves check nothing."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad.errors import ShapeError


@pytest.mark.parametrize("dtype", [np.int64, np.float16])
@pytest.mark.parametrize("op, call", [
    ("softmax", lambda x: mg.softmax(x)),
    ("log_softmax", lambda x: F.log_softmax(x)),
    ("gelu", lambda x: F.gelu(x)),
    ("erf", lambda x: mg.ops.erf(x)),
    ("layer_norm", lambda x: F.layer_norm(x, 3)),
])
def test_non_kernel_dtypes_are_refused_by_the_op(op, call, dtype):
    x = mg.tensor(np.ones((2, 3), dtype))
    with pytest.raises(TypeError, match=rf"^{op}: x must be float32 or float64, got {np.dtype(dtype).name}$"):
        call(x)


def test_cross_entropy_refuses_integer_logits_and_logits_without_classes():
    with pytest.raises(TypeError, match="^cross_entropy: logits must be float32 or float64, got int64$"):
        F.cross_entropy(mg.tensor([[1, 2, 3]]), np.array([0]))
    with pytest.raises(ShapeError, match=r"^cross_entropy: logits must have C >= 1 classes .* shape \(2, 0\)$"):
        F.cross_entropy(mg.tensor(np.zeros((2, 0), np.float32)), np.array([0, 0]))


def test_cross_entropy_target_out_of_range_raises_index_error():
    logits = mg.tensor(np.zeros((4, 5), np.float32))
    with pytest.raises(IndexError, match=r"^cross_entropy: target 5 \(row 1\) is out of range for 5 classes"):
        F.cross_entropy(logits, np.array([0, 5, 1, 2]))
    with pytest.raises(IndexError, match=r"target -1 \(row 1\) .*5 classes; expected 0 <= target < 5$"):
        F.cross_entropy(logits, np.array([0, -1, 1, 2]))
    with pytest.raises(IndexError, match=r"target 7 \(row 4\) .*ignore_index=-100$"):
        F.cross_entropy(mg.tensor(np.zeros((2, 3, 5), np.float32)), np.array([[-100, 1, 2], [3, 7, 0]]),
                        ignore_index=-100)
    losses = F.cross_entropy(logits, np.array([-100, 4, 1, 2]), ignore_index=-100, reduction="none")
    assert losses.data[0] == 0 and losses.dtype == np.float32


def test_nll_loss_target_out_of_range_names_the_row():
    with pytest.raises(IndexError, match=r"^nll_loss: target 3 \(row 2\) is out of range for 3 classes"):
        F.nll_loss(mg.tensor(np.zeros((3, 3), np.float32)), np.array([0, 1, 3]))


def test_cross_entropy_argument_errors():
    logits = mg.tensor(np.zeros((4, 5), np.float32))
    with pytest.raises(ShapeError, match=r"need a target of shape \(4,\), got \(3,\)"):
        F.cross_entropy(logits, np.zeros(3, np.int64))
    with pytest.raises(TypeError, match="integer class indices"):
        F.cross_entropy(logits, np.zeros(4))
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        F.cross_entropy(logits, np.zeros(4, np.int64), label_smoothing=1.5)


def test_layer_norm_over_no_elements_is_refused():
    with pytest.raises(ShapeError, match=r"^layer_norm: normalized_shape \(0,\) has no elements"):
        F.layer_norm(mg.tensor(np.zeros((2, 0), np.float32)), 0)


def test_gelu_approximate_must_be_none_or_tanh():
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh', got 'fast'"):
        F.gelu(mg.zeros(3), "fast")


def test_embedding_refuses_a_trainable_table_the_backward_kernel_cannot_take():
    weight = mg.tensor(np.ones((5, 3), np.float16), requires_grad=True)
    with pytest.raises(TypeError, match="^embedding: weight must be float32 or float64, got float16$"):
        F.embedding(np.array([1, 2]), weight)
    assert F.embedding(np.array([1, 2]), mg.tensor(np.ones((5, 3), np.float16))).dtype == np.float16  # lookup only


@pytest.mark.parametrize("a, b, message", [
    ((4, 3), (4, 5), r"^matmul: shapes \(4, 3\) and \(4, 5\) are not aligned \(3 != 4\)$"),
    ((2, 3, 4), (3, 4, 5), r"^matmul: batch axes of shapes \(2, 3, 4\) and \(3, 4, 5\) cannot be broadcast"),
    ((), (3, 2), r"^matmul: shapes \(\) and \(3, 2\): matmul needs at least 1-D operands"),
])
def test_matmul_shape_errors_name_the_shapes(a, b, message):
    with pytest.raises(ShapeError, match=message):
        mg.matmul(mg.zeros(*a), mg.zeros(*b))
