"""``SGD``: stochastic gradient descent with optional momentum, dampening, Nesterov and L2."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, check_non_negative, check_number


class SGD(Optimizer):
    r"""Stochastic gradient descent, with PyTorch's update rule.

    For every parameter ``p`` with gradient ``g``, each ``step()`` does::

        g = g + weight_decay * p                       # if weight_decay != 0 (L2 penalty)
        if momentum != 0:
            b = g                                      # first step: the buffer starts as g
            b = momentum * b + (1 - dampening) * g     # later steps
            g = g + momentum * b  if nesterov  else  b
        p = p - lr * g

    The buffer ``b`` is the state slot ``"momentum_buffer"``. ``nesterov=True`` requires
    ``momentum > 0`` and ``dampening == 0``.

    Args:
        params: iterable of Tensors or of parameter-group dicts.
        lr: learning rate (>= 0).
        momentum: momentum factor (>= 0).
        dampening: dampening of the gradient's contribution to the momentum buffer.
        weight_decay: L2 penalty added to the gradient (>= 0).
        nesterov: use Nesterov momentum.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        super()._validate_group(group)
        check_non_negative("SGD", "momentum value", group["momentum"])
        check_number("SGD", "dampening", group["dampening"])
        check_non_negative("SGD", "weight_decay value", group["weight_decay"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"SGD: Nesterov momentum requires a momentum > 0 and zero dampening, "
                f"got momentum={group['momentum']} and dampening={group['dampening']}"
            )

    def _update(self, param: Tensor, grad: np.ndarray, group: dict[str, Any], state: dict[str, Any]) -> None:
        p = param.data
        momentum, dampening = group["momentum"], group["dampening"]
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * p
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(grad, dtype=p.dtype, order="C", copy=True)
            else:
                buf *= momentum
                buf += (1 - dampening) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        p -= group["lr"] * grad
