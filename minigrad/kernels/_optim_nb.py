"""Numba implementation behind ``minigrad.kernels.optim`` (imported on first use only).

``adam_update`` takes the arguments of the public kernel and turns the hyper-parameters into
the scalars of the compiled loop ``adam_update_flat``.
"""

from __future__ import annotations

import math

import numba
import numpy as np


def adam_update(param, grad, exp_avg, exp_avg_sq, *, step, lr, beta1, beta2, eps, weight_decay, decoupled):
    """Numba implementation of ``optim.adam_update``."""
    if param.size == 0:
        return
    dtype = param.dtype
    grad = np.ascontiguousarray(grad, dtype=dtype)
    scalar = dtype.type
    bias_correction1 = 1.0 - beta1**step
    bias_correction2 = 1.0 - beta2**step
    l2 = weight_decay if (weight_decay != 0 and not decoupled) else 0.0
    decay = 1.0 - lr * weight_decay if (weight_decay != 0 and decoupled) else 1.0
    adam_update_flat(
        param.reshape(-1), grad.reshape(-1), exp_avg.reshape(-1), exp_avg_sq.reshape(-1),
        scalar(beta1), scalar(1.0 - beta1), scalar(beta2), scalar(1.0 - beta2),
        scalar(lr / bias_correction1), scalar(math.sqrt(bias_correction2)), scalar(eps),
        scalar(l2), scalar(decay),
    )


# error_model="numpy": IEEE division (x/0 -> inf) instead of a Python ZeroDivisionError
# check, which also lets LLVM vectorize the loop.
@numba.njit(cache=True, error_model="numpy")
def adam_update_flat(param, grad, exp_avg, exp_avg_sq, beta1, one_minus_beta1, beta2,
                     one_minus_beta2, step_size, bias_correction2_sqrt, eps, l2, decay):
    """Fused Adam/AdamW step over flat arrays, in place.

    param, exp_avg, exp_avg_sq: (P,) float32/float64, C-contiguous, updated in place.
    grad: (P,) same dtype, read only. Scalars are of the arrays' dtype:
    step_size = lr / (1 - beta1**step), bias_correction2_sqrt = sqrt(1 - beta2**step),
    l2 = weight decay added to the gradient (0 for none or AdamW),
    decay = 1 - lr * weight_decay for AdamW (1 otherwise).
    """
    use_l2 = l2 != 0
    use_decay = decay != 1
    for i in range(param.shape[0]):
        p = param[i]
        g = grad[i]
        if use_l2:
            g = g + l2 * p
        if use_decay:
            p = p * decay
        m = beta1 * exp_avg[i] + one_minus_beta1 * g
        v = beta2 * exp_avg_sq[i] + one_minus_beta2 * g * g
        exp_avg[i] = m
        exp_avg_sq[i] = v
        param[i] = p - step_size * (m / (math.sqrt(v) / bias_correction2_sqrt + eps))
