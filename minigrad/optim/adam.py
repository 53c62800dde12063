"""``Adam`` and ``AdamW``: the update runs in the fused kernel ``minigrad.kernels.adam_update``.

The rule is written out once in plain NumPy, as that kernel's reference
``minigrad.kernels.optim.adam_update_ref``; ``Adam._reference_step`` (or
``MINIGRAD_KERNELS=numpy``) runs the optimizer through it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..dtypes import check_kernel_float
from ..kernels import adam_update, use_backend
from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, check_non_negative, check_number


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015) with PyTorch's rule; ``weight_decay`` is an L2 term in the gradient.

    For every parameter ``p`` with gradient ``g``, step ``t = 1, 2, ...`` does::

        g = g + weight_decay * p                  # if weight_decay != 0 (Adam: L2 in the gradient)
        m = beta1 * m + (1 - beta1) * g           # state "exp_avg", starts at 0
        v = beta2 * v + (1 - beta2) * g * g       # state "exp_avg_sq", starts at 0
        m_hat = m / (1 - beta1**t)                # bias corrections
        v_hat = v / (1 - beta2**t)
        p = p - lr * m_hat / (sqrt(v_hat) + eps)

    ``t`` is the state slot ``"step"`` (an int). Arithmetic is in the parameter's dtype.

    Args:
        params: iterable of Tensors or of parameter-group dicts.
        lr: learning rate (>= 0).
        betas: decay rates (beta1, beta2) of the two moment averages, each in [0, 1).
        eps: added to the denominator for numerical stability (>= 0).
        weight_decay: L2 penalty coefficient (>= 0).
    """

    decoupled_weight_decay = False  # AdamW sets True

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    def _validate_group(self, group: dict[str, Any]) -> None:
        super()._validate_group(group)
        name = type(self).__name__
        betas = group["betas"]
        if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        for i, beta in enumerate(betas):
            check_number(name, f"beta parameter at index {i}", beta)
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{name}: Invalid beta parameter at index {i}: {beta}")
        group["betas"] = (float(betas[0]), float(betas[1]))
        check_non_negative(name, "epsilon value", group["eps"])
        check_non_negative(name, "weight_decay value", group["weight_decay"])

    def _update(self, param: Tensor, grad: np.ndarray, group: dict[str, Any], state: dict[str, Any]) -> None:
        p = param.data
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros(p.shape, dtype=p.dtype)
            state["exp_avg_sq"] = np.zeros(p.shape, dtype=p.dtype)
        state["step"] += 1
        beta1, beta2 = group["betas"]
        check_kernel_float(f"{type(self).__name__}.step", "the parameter", p.dtype)
        # The kernel needs a C-contiguous parameter; a strided one is updated through a copy.
        target = p if p.flags.c_contiguous else np.ascontiguousarray(p)
        adam_update(
            target, grad, state["exp_avg"], state["exp_avg_sq"],
            step=state["step"], lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
            weight_decay=group["weight_decay"], decoupled=self.decoupled_weight_decay,
        )
        if target is not p:
            p[...] = target

    def _reference_step(self) -> None:
        """``step()`` through the NumPy reference of the kernel (``kernels.optim.adam_update_ref``).

        Same state slots and same effect as ``step()`` (up to float rounding); slow, for
        reading and for the test that the fused kernel computes the same thing.
        """
        with use_backend("numpy"):
            self.step()


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019), PyTorch's rule.

    Identical to ``Adam`` except for how ``weight_decay`` acts: instead of adding
    ``weight_decay * p`` to the gradient, each step first shrinks the weights::

        p = p * (1 - lr * weight_decay)

    and then makes Adam's update of ``m``, ``v`` and ``p`` with the gradient as it is.

    Args: as ``Adam``; ``weight_decay`` defaults to 1e-2.
    """

    decoupled_weight_decay = True

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
