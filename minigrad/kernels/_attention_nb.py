"""Numba implementations behind ``minigrad.kernels.attention`` (imported on first use only).

``additive_attention_forward``/``_backward`` take the arguments of the public kernels, make
them C-contiguous arrays of their common float dtype and allocate the outputs; the compiled
loops ``additive_forward``/``additive_backward`` take arrays of one dtype. B batch, T key
positions, A attention size, Dv value size.

Loops keep to few arrays each so that LLVM vectorizes the inner (A or Dv) loop; the dot
products are separate functions compiled with reassociation (``REDUCE_FASTMATH``) so that
their sums vectorize too. Never compile a loop calling ``exp``/``tanh`` with ``reassoc``:
LLVM then folds the (v + 1.5 * 2**23) - 1.5 * 2**23 rounding step of the exp range
reduction away and the results are wrong.
"""

from __future__ import annotations

import numba
import numpy as np

from ._nbmath import REDUCE_FASTMATH, exp, tanh
from ._util import c_array, common_dtype
from .attention import additive_attention_forward_ref

_FASTMATH = {"contract"}
_NEG_INF = -np.inf


def additive_attention_forward(keys_proj, q_proj, v, values, mask=None):
    """Numba implementation of ``attention.additive_attention_forward``."""
    B, T, A = keys_proj.shape
    Dv = values.shape[2]
    dtype = common_dtype(keys_proj, q_proj, v, values)
    hidden = np.empty((B, T, A), dtype)
    weights = np.empty((B, T), dtype)
    context = np.zeros((B, Dv), dtype)
    if B and T and A:
        m = np.empty((0, 0), np.bool_) if mask is None else np.ascontiguousarray(mask)
        additive_forward(c_array(keys_proj, dtype), c_array(q_proj, dtype), c_array(v, dtype),
                         c_array(values, dtype), m, mask is not None, hidden, weights, context)
    elif B and T:  # A == 0: every score is 0
        weights = additive_attention_forward_ref(keys_proj, q_proj, v, values, mask)[1].astype(dtype)
        context = np.matmul(weights[:, None, :], values.astype(dtype))[:, 0]
    return context, weights, hidden


def additive_attention_backward(grad, hidden, weights, v, values, need_values=True, out=None):
    """Numba implementation of ``attention.additive_attention_backward``."""
    B, T, A = hidden.shape
    Dv = values.shape[2]
    dtype = common_dtype(grad, hidden, weights, v, values)
    if out is None:
        dvalues = np.zeros((B, T, Dv), dtype) if need_values else None
        dv, dkeys_proj = np.zeros(A, dtype), np.zeros((B, T, A), dtype)
    else:
        dvalues, dv, dkeys_proj = out
    dq_proj = np.zeros((B, A), dtype)
    if B and T and A and Dv:
        additive_backward(c_array(grad, dtype), c_array(hidden, dtype), c_array(weights, dtype), c_array(v, dtype),
                          c_array(values, dtype), need_values, dvalues if need_values else np.empty((0, 0, 0), dtype),
                          dv, dkeys_proj, dq_proj, np.empty(T, dtype))
    elif need_values:
        dvalues += weights[:, :, None].astype(dtype) * grad[:, None, :]
    return (dvalues if need_values else None), dv, dkeys_proj, dq_proj


@numba.njit(cache=True, error_model="numpy", fastmath=REDUCE_FASTMATH)
def _dot(x, y):
    """sum(x * y) of two 1-D arrays of one length >= 1."""
    s = x[0] * y[0]
    for i in range(1, x.shape[0]):
        s += x[i] * y[i]
    return s


@numba.njit(cache=True, error_model="numpy", fastmath=REDUCE_FASTMATH)
def _scores(hidden, v, weights):
    """weights[b, t] = hidden[b, t] . v for hidden (B, T, A), v (A,), weights (B, T)."""
    B, T, A = hidden.shape
    for b in range(B):
        for t in range(T):
            s = hidden[b, t, 0] * v[0]
            for a in range(1, A):
                s += hidden[b, t, a] * v[a]
            weights[b, t] = s


@numba.njit(cache=True, error_model="numpy", fastmath=_FASTMATH)
def additive_forward(keys_proj, q_proj, v, values, mask, has_mask, hidden, weights, context):
    """Additive attention of one query per row.

    keys_proj (B, T, A), q_proj (B, A), v (A,), values (B, T, Dv); mask (B, T) bool (ignored
    unless has_mask; True = may attend). Writes hidden (B, T, A) = tanh(keys_proj + q_proj),
    weights (B, T) = softmax over T of hidden . v (masked positions -inf first; a row with
    no position left gets zeros) and context (B, Dv) = sum_t weights values.
    """
    B, T, A = keys_proj.shape
    Dv = values.shape[2]
    zero = keys_proj.dtype.type(0)
    for b in range(B):
        for t in range(T):
            for a in range(A):
                hidden[b, t, a] = tanh(keys_proj[b, t, a] + q_proj[b, a])
    _scores(hidden, v, weights)
    for b in range(B):
        m = _NEG_INF
        for t in range(T):
            s = weights[b, t]
            if has_mask and not mask[b, t]:
                weights[b, t] = _NEG_INF
            elif s > m or s != s:
                m = s
        for d in range(Dv):
            context[b, d] = zero
        if m == _NEG_INF:  # every position masked (or every score -inf): zero weights
            for t in range(T):
                weights[b, t] = zero
            continue
        total = zero
        for t in range(T):
            e = exp(weights[b, t] - m)
            weights[b, t] = e
            total += e
        for t in range(T):
            w = weights[b, t] / total
            weights[b, t] = w
            for d in range(Dv):
                context[b, d] += w * values[b, t, d]


@numba.njit(cache=True, error_model="numpy", fastmath=_FASTMATH)
def additive_backward(grad, hidden, weights, v, values, need_values, dvalues, dv, dkeys_proj, dq_proj, scratch):
    """Backward of ``additive_forward`` given grad (B, Dv) = dL/dcontext.

    ADDS into dvalues (B, T, Dv) (weights grad, when need_values), dv (A,) and dkeys_proj
    (B, T, A) (the gradient of the pre-tanh sum, so also of q_proj broadcast over T), so a
    decoder loop can accumulate over its steps in place; WRITES dq_proj (B, A) = the sum of
    this call's dkeys_proj over T. scratch: (T,) work space.
    """
    B, T, A = hidden.shape
    Dv = values.shape[2]
    one = hidden.dtype.type(1)
    zero = hidden.dtype.type(0)
    for b in range(B):
        total = zero
        for t in range(T):
            dw = _dot(values[b, t], grad[b])  # dL/dweights[b, t]
            scratch[t] = dw
            total += dw * weights[b, t]
        if need_values:
            for t in range(T):
                w = weights[b, t]
                for d in range(Dv):
                    dvalues[b, t, d] += w * grad[b, d]
        for a in range(A):
            dq_proj[b, a] = zero
        for t in range(T):
            c = weights[b, t] * (scratch[t] - total)  # dL/dscore (0 where the weight is 0)
            for a in range(A):
                h = hidden[b, t, a]
                g = c * v[a] * (one - h * h)
                dkeys_proj[b, t, a] += g
                dq_proj[b, a] += g
            for a in range(A):
                dv[a] += c * hidden[b, t, a]
