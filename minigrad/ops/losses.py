"""Binary cross-entropy losses (PyTorch's names, arguments, clamping and gradients).

``binary_cross_entropy`` is one op, ``BinaryCrossEntropy``, because PyTorch's gradients are not
those of its clamped forward: each log is clamped at -100 but the input's gradient is
(p - t) / max(p (1 - p), 1e-12) everywhere (finite at p = 0 and 1) and the target's is the
unclamped log(1 - p) - log(p). Its backward is written with NumPy calls the interop maps, so it
runs on Tensors too (higher derivatives). ``binary_cross_entropy_with_logits`` is a composition
of elementwise ops (logsigmoid is exact at every logit), so its rules come from those.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..errors import ShapeError
from . import reduce
from ._util import Tensor, check_broadcast, data_of, float_array
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


EPSILON = float(np.float32(1e-12))  # PyTorch's floor under p (1 - p) in the input's gradient (a C float)


class BinaryCrossEntropy(Function):
    """Elementwise -(t * max(log p, -100) + (1 - t) * max(log(1 - p), -100)) of probabilities
    p and targets t of one shape; d/dp = (p - t) / max(p (1 - p), 1e-12) and
    d/dt = log(1 - p) - log(p) (+inf at p = 0, -inf at p = 1), as PyTorch."""

    @staticmethod
    def forward(ctx, p, t):
        ctx.save_for_backward(p, t)
        with np.errstate(divide="ignore"):  # log(0) = -inf, then clamped
            log_p, log_q = np.maximum(np.log(p), -100.0), np.maximum(np.log1p(-p), -100.0)
        return (t - 1) * log_q - t * log_p

    @staticmethod
    def backward(ctx, grad):
        p, t = ctx.saved
        needs_p, needs_t = ctx.needs_input_grad
        return (grad * BinaryCrossEntropy._slope_p(p, t) if needs_p else None,
                grad * BinaryCrossEntropy._slope_t(p) if needs_t else None)

    @staticmethod
    def jvp(ctx, tp, tt):
        p, t = ctx.saved
        out = tp * BinaryCrossEntropy._slope_p(p, t)
        if isinstance(tt, (int, float)) and tt == 0:  # a constant target: skip its term (inf * 0 at p = 0, 1)
            return out
        return out + tt * BinaryCrossEntropy._slope_t(p)

    @staticmethod
    def _slope_p(p, t):
        return (p - t) / np.maximum(p * (1 - p), EPSILON)

    @staticmethod
    def _slope_t(p):
        with np.errstate(divide="ignore"):  # -logit(p), written as PyTorch does: +-inf at p = 0 and 1
            return -np.log(p / (1 - p))


def binary_cross_entropy(input, target, weight=None, reduction: str = "mean") -> Tensor:  # noqa: A002
    """-(target * log(input) + (1 - target) * log(1 - input)) for probabilities ``input`` in [0, 1];
    each log is clamped at -100, as PyTorch, so a probability of exactly 0 or 1 gives a finite loss
    (and no warning). The gradients are PyTorch's (see ``BinaryCrossEntropy``): in the input
    (input - target) / max(input (1 - input), 1e-12), in the target log(1 - input) - log(input).
    ``weight`` (broadcast with the loss) rescales each element before the reduction."""
    _check_reduction("binary_cross_entropy", reduction)
    input, target = float_array(input), float_array(target)  # noqa: A001
    if input.shape != target.shape:
        raise ShapeError(f"binary_cross_entropy: input {input.shape} and target {target.shape} must have the same shape")
    data = data_of(input)
    if data.size and not ((data >= 0) & (data <= 1)).all():
        raise ValueError("binary_cross_entropy: input must be probabilities in [0, 1] "
                         "(for logits use binary_cross_entropy_with_logits)")
    losses = BinaryCrossEntropy.apply(input, target)
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
