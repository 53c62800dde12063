"""Binary cross-entropy losses (PyTorch's names, arguments and clamping), as compositions of
the elementwise ops, so their gradients (in the input and in the target), forward-mode rules
and higher derivatives come from those."""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from . import elementwise, reduce
from ._util import Tensor, check_broadcast, float_array
from .activations import logsigmoid
from .nn import _check_reduction


def _reduced(losses: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return losses
    return reduce.mean(losses) if reduction == "mean" else reduce.sum(losses)


def _weighted(losses: Tensor, weight, op: str) -> Tensor:
    if weight is None:
        return losses
    check_broadcast(op, losses, weight)
    return losses * float_array(weight)


def binary_cross_entropy(input, target, weight=None, reduction: str = "mean") -> Tensor:  # noqa: A002
    """-(target * log(input) + (1 - target) * log(1 - input)) for probabilities ``input`` in [0, 1];
    each log is clamped at -100, as PyTorch, so a probability of exactly 0 or 1 gives a finite loss.
    ``weight`` (broadcast with the loss) rescales each element before the reduction."""
    _check_reduction("binary_cross_entropy", reduction)
    input, target = float_array(input), float_array(target)  # noqa: A001
    if input.shape != target.shape:
        raise ShapeError(f"binary_cross_entropy: input {input.shape} and target {target.shape} must have the same shape")
    data = input.data if isinstance(input, Tensor) else np.asarray(input)
    if data.size and not ((data >= 0) & (data <= 1)).all():
        raise ValueError("binary_cross_entropy: input must be probabilities in [0, 1] "
                         "(for logits use binary_cross_entropy_with_logits)")
    log_p = elementwise.maximum(elementwise.log(input), -100.0)
    log_q = elementwise.maximum(elementwise.log(1.0 - input), -100.0)
    losses = -(target * log_p + (1.0 - target) * log_q)
    return _reduced(_weighted(losses, weight, "binary_cross_entropy"), reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction: str = "mean",  # noqa: A002
                                     pos_weight=None) -> Tensor:
    """binary_cross_entropy(sigmoid(input), target) computed stably from logits:
    -(pos_weight * target * logsigmoid(input) + (1 - target) * logsigmoid(-input)).
    ``pos_weight`` (broadcast over the last axis, one per class) weighs the positive term."""
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    input, target = float_array(input), float_array(target)  # noqa: A001
    if input.shape != target.shape:
        raise ShapeError(f"binary_cross_entropy_with_logits: input {input.shape} and target {target.shape} "
                         "must have the same shape")
    positive = target * logsigmoid(input)
    if pos_weight is not None:
        check_broadcast("binary_cross_entropy_with_logits", input, pos_weight)
        positive = positive * float_array(pos_weight)
    losses = -(positive + (1.0 - target) * logsigmoid(-input))
    return _reduced(_weighted(losses, weight, "binary_cross_entropy_with_logits"), reduction)
