"""Optimizer kernels: the fused Adam / AdamW update.

``adam_update`` updates a parameter and its two moment buffers in place in one pass over
memory (Numba), instead of the ~10 full-array NumPy temporaries of ``adam_update_ref``.
"""

from __future__ import annotations

import math

import numpy as np

from .dispatch import register


def adam_update_ref(
    param: np.ndarray,
    grad: np.ndarray,
    exp_avg: np.ndarray,
    exp_avg_sq: np.ndarray,
    *,
    step: int,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    decoupled: bool,
) -> None:
    """NumPy reference of ``adam_update`` (same arguments, same in-place effect)."""
    g = grad
    if weight_decay != 0 and not decoupled:
        g = grad + weight_decay * param
    if weight_decay != 0 and decoupled:
        param *= 1 - lr * weight_decay
    exp_avg *= beta1
    exp_avg += (1 - beta1) * g
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * g * g
    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    denom = np.sqrt(exp_avg_sq) / math.sqrt(bias_correction2) + eps
    param -= (lr / bias_correction1) * (exp_avg / denom)


_adam_update = register("adam_update", adam_update_ref, numba="_optim_nb.adam_update")


def adam_update(
    param: np.ndarray,
    grad: np.ndarray,
    exp_avg: np.ndarray,
    exp_avg_sq: np.ndarray,
    *,
    step: int,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    decoupled: bool,
) -> None:
    """One Adam (``decoupled=False``) or AdamW (``decoupled=True``) step, in place.

    Arrays (all of one shape S, any number of dimensions):
      param      S, float32 or float64, C-contiguous, writeable -- updated in place
      grad       S, float32 or float64, any layout -- read only (cast to param's dtype)
      exp_avg    S, param's dtype, C-contiguous -- first moment m, updated in place
      exp_avg_sq S, param's dtype, C-contiguous -- second moment v, updated in place

    ``step`` is the 1-based number of this update (the bias corrections use it). The rule is
    PyTorch's non-amsgrad Adam/AdamW::

        g = grad + weight_decay * param          if weight_decay and not decoupled
        param *= 1 - lr * weight_decay           if weight_decay and decoupled
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        param -= lr / (1 - beta1**step) * m / (sqrt(v) / sqrt(1 - beta2**step) + eps)

    Arithmetic is done in param's dtype (as PyTorch does); the scalar bias corrections are
    computed in double precision first. Returns None.
    """
    _adam_update.impl(
        param, grad, exp_avg, exp_avg_sq, step=step, lr=lr, beta1=beta1, beta2=beta2, eps=eps,
        weight_decay=weight_decay, decoupled=decoupled,
    )
