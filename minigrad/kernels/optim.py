"""Optimizer kernels: the fused Adam / AdamW update.

``adam_update`` updates a parameter and its two moment buffers in place in one pass over
memory (Numba), instead of the ~10 full-array NumPy temporaries of ``adam_update_ref``.
"""

from __future__ import annotations

import math

import numpy as np

from . import _backend
from ._util import check_float

_nb = None


def _numba():
    """The Numba implementations, imported (and compiled) on first use."""
    global _nb
    if _nb is None:
        _nb = _backend.numba_module("_optim_nb")
    return _nb


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
    kernel = "adam_update"
    check_float(kernel, "param", param)
    check_float(kernel, "grad", grad)
    dtype = param.dtype
    shape = param.shape
    for name, buf in (("exp_avg", exp_avg), ("exp_avg_sq", exp_avg_sq)):
        check_float(kernel, name, buf)
        if buf.dtype != dtype or buf.shape != shape:
            raise ValueError(
                f"{kernel}: {name} must match param (shape {shape}, {dtype}), "
                f"got shape {buf.shape}, {buf.dtype}"
            )
    if grad.shape != shape:
        raise ValueError(f"{kernel}: grad shape {grad.shape} does not match param shape {shape}")
    for name, buf in (("param", param), ("exp_avg", exp_avg), ("exp_avg_sq", exp_avg_sq)):
        if not buf.flags.c_contiguous or not buf.flags.writeable:
            raise ValueError(f"{kernel}: {name} must be a writeable C-contiguous array (it is updated in place)")
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 1:
        raise ValueError(f"{kernel}: step must be an integer >= 1, got {step!r}")

    if _backend._BACKEND == "numpy":
        adam_update_ref(
            param, grad, exp_avg, exp_avg_sq, step=step, lr=lr, beta1=beta1, beta2=beta2,
            eps=eps, weight_decay=weight_decay, decoupled=decoupled,
        )
        return
    if param.size == 0:
        return
    grad = np.ascontiguousarray(grad, dtype=dtype)
    scalar = dtype.type
    bias_correction1 = 1.0 - beta1**step
    bias_correction2 = 1.0 - beta2**step
    l2 = weight_decay if (weight_decay != 0 and not decoupled) else 0.0
    decay = 1.0 - lr * weight_decay if (weight_decay != 0 and decoupled) else 1.0
    _numba().adam_update(
        param.reshape(-1), grad.reshape(-1), exp_avg.reshape(-1), exp_avg_sq.reshape(-1),
        scalar(beta1), scalar(1.0 - beta1), scalar(beta2), scalar(1.0 - beta2),
        scalar(lr / bias_correction1), scalar(math.sqrt(bias_correction2)), scalar(eps),
        scalar(l2), scalar(decay),
    )
