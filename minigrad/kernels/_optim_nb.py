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
    args = (param.reshape(-1), grad.reshape(-1), exp_avg.reshape(-1), exp_avg_sq.reshape(-1),
            scalar(beta1), scalar(1.0 - beta1), scalar(beta2), scalar(1.0 - beta2),
            scalar(lr / bias_correction1), scalar(1.0 / math.sqrt(bias_correction2)), scalar(eps))
    if l2 == 0 and decay == 1:
        adam_update_flat(*args)
    else:
        adam_update_decay_flat(*args, scalar(l2), scalar(decay))


# error_model="numpy": IEEE division (x/0 -> inf) instead of a Python ZeroDivisionError
# check, which also lets LLVM vectorize the loops. "contract": fused multiply-adds.
@numba.njit(cache=True, error_model="numpy", fastmath={"contract"}, inline="always")
def _adam_element(p, g, m, v, beta1, one_minus_beta1, beta2, one_minus_beta2, step_size,
                  inv_bias_correction2_sqrt, eps):
    """One element of the Adam step: the new (param, exp_avg, exp_avg_sq)."""
    m = beta1 * m + one_minus_beta1 * g
    v = beta2 * v + one_minus_beta2 * g * g
    return p - step_size * (m / (math.sqrt(v) * inv_bias_correction2_sqrt + eps)), m, v


@numba.njit(cache=True, error_model="numpy", fastmath={"contract"})
def adam_update_flat(param, grad, exp_avg, exp_avg_sq, beta1, one_minus_beta1, beta2,
                     one_minus_beta2, step_size, inv_bias_correction2_sqrt, eps):
    """Fused Adam step over flat arrays, in place (no weight decay).

    param, exp_avg, exp_avg_sq: (P,) float32/float64, C-contiguous, updated in place.
    grad: (P,) same dtype, read only. Scalars are of the arrays' dtype:
    step_size = lr / (1 - beta1**step), inv_bias_correction2_sqrt = 1 / sqrt(1 - beta2**step).
    The loop has no branch, so LLVM vectorizes it (a decay test inside the loop keeps it scalar).
    """
    for i in range(param.shape[0]):
        param[i], exp_avg[i], exp_avg_sq[i] = _adam_element(
            param[i], grad[i], exp_avg[i], exp_avg_sq[i], beta1, one_minus_beta1, beta2,
            one_minus_beta2, step_size, inv_bias_correction2_sqrt, eps)


@numba.njit(cache=True, error_model="numpy", fastmath={"contract"})
def adam_update_decay_flat(param, grad, exp_avg, exp_avg_sq, beta1, one_minus_beta1, beta2,
                           one_minus_beta2, step_size, inv_bias_correction2_sqrt, eps, l2, decay):
    """``adam_update_flat`` with weight decay: l2 is added to the gradient as ``l2 * param``
    (Adam; 0 for AdamW) and decay = 1 - lr * weight_decay multiplies the parameter first
    (AdamW; 1 for Adam)."""
    use_l2 = l2 != 0
    use_decay = decay != 1
    for i in range(param.shape[0]):
        p = param[i]
        g = grad[i]
        if use_l2:  # tested, not multiplied by 0: 0 * inf would turn an inf parameter's moments NaN
            g = g + l2 * p
        if use_decay:
            p = p * decay
        param[i], exp_avg[i], exp_avg_sq[i] = _adam_element(
            p, g, exp_avg[i], exp_avg_sq[i], beta1, one_minus_beta1, beta2,
            one_minus_beta2, step_size, inv_bias_correction2_sqrt, eps)
