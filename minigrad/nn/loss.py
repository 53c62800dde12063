"""Binary cross-entropy losses as modules, with PyTorch's arguments and state: ``weight`` and
``pos_weight`` are buffers (in ``state_dict`` when given, absent when None), never parameters.
"""

from __future__ import annotations

from typing import Any

from .. import functional as F
from ..tensor import Tensor
from .module import Module

_REDUCTIONS = ("mean", "sum", "none")


def _reduction(layer: str, reduction: Any) -> str:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{layer}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    return reduction


class BCELoss(Module):
    """``functional.binary_cross_entropy`` as a module: probabilities ``input`` in [0, 1] and
    ``target`` of the same shape (...); each log clamped at -100, as PyTorch. ``weight``
    (broadcast with the input) rescales each element's loss before the reduction."""

    def __init__(self, weight: Any = None, reduction: str = "mean"):
        super().__init__()
        self.reduction = _reduction("BCELoss", reduction)
        self.register_buffer("weight", weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002 (PyTorch's name)
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class BCEWithLogitsLoss(Module):
    """``functional.binary_cross_entropy_with_logits`` as a module: logits ``input`` and
    ``target`` of the same shape (...), computed stably from the logits. ``weight`` (broadcast with
    the input) rescales each element's loss; ``pos_weight`` (broadcast with the input, usually one
    per class on the last axis) weighs the positive term."""

    def __init__(self, weight: Any = None, reduction: str = "mean", pos_weight: Any = None):
        super().__init__()
        self.reduction = _reduction("BCEWithLogitsLoss", reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002 (PyTorch's name)
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"
