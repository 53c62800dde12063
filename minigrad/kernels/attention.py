"""Additive (Bahdanau) attention kernels: one query per row against T keys, forward and backward.

With the query and key projections computed by the caller (through BLAS)::

    hidden  = tanh(keys_proj + q_proj)      (B, T, A)    keys_proj = W_k k + b, q_proj = W_q q
    scores  = hidden v                      (B, T)       masked positions -> -inf
    weights = softmax(scores) over T        (B, T)       a row with every position masked -> 0
    context = sum_t weights values          (B, Dv)

The Numba implementations (``_attention_nb``) do each direction in one pass per row; the
NumPy references below are the same maths in array operations. Inputs float32 or float64
(mixed inputs compute in their result type), any layout; outputs are new C-contiguous arrays.
"""

from __future__ import annotations

import numpy as np

from .activations import softmax_ref
from .dispatch import register


# ---------------------------------------------------------------------------------------
# NumPy references
# ---------------------------------------------------------------------------------------


def additive_attention_forward_ref(keys_proj, q_proj, v, values, mask=None):
    """NumPy reference of ``additive_attention_forward``."""
    hidden = np.tanh(keys_proj + q_proj[:, None, :])  # (B, T, A)
    scores = hidden @ v  # (B, T)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    weights = softmax_ref(scores, -1)  # a fully masked row gives zeros
    context = np.matmul(weights[:, None, :], values)[:, 0]  # (B, Dv)
    return context, weights, hidden


def additive_attention_backward_ref(grad, hidden, weights, v, values, need_values=True, out=None):
    """NumPy reference of ``additive_attention_backward``."""
    dvalues = weights[:, :, None] * grad[:, None, :] if need_values else None  # (B, T, Dv)
    dweights = np.matmul(values, grad[:, :, None])[:, :, 0]  # (B, T)
    dscores = weights * (dweights - np.sum(dweights * weights, axis=-1, keepdims=True))
    dv = np.einsum("bt,bta->a", dscores, hidden)
    dkeys_proj = dscores[:, :, None] * v * (1.0 - hidden * hidden)  # (B, T, A)
    dq_proj = dkeys_proj.sum(axis=1)
    if out is None:
        return dvalues, dv, dkeys_proj, dq_proj
    for acc, g in zip(out, (dvalues, dv, dkeys_proj)):
        if acc is not None and g is not None:
            acc += g
    return out[0] if need_values else None, out[1], out[2], dq_proj


# ---------------------------------------------------------------------------------------
# Public kernels
# ---------------------------------------------------------------------------------------

_forward = register("additive_attention_forward", additive_attention_forward_ref,
                    numba="_attention_nb.additive_attention_forward")
_backward = register("additive_attention_backward", additive_attention_backward_ref,
                     numba="_attention_nb.additive_attention_backward")


def additive_attention_forward(keys_proj: np.ndarray, q_proj: np.ndarray, v: np.ndarray, values: np.ndarray,
                               mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """keys_proj (B, T, A), q_proj (B, A), v (A,), values (B, T, Dv), mask (B, T) bool or None
    (True = may attend) -> (context (B, Dv), weights (B, T), hidden (B, T, A)).

    ``hidden`` is what the backward needs; see the module docstring for the maths.
    """
    return _forward.impl(keys_proj, q_proj, v, values, mask)


def additive_attention_backward(grad: np.ndarray, hidden: np.ndarray, weights: np.ndarray, v: np.ndarray,
                                values: np.ndarray, need_values: bool = True, out: tuple | None = None):
    """Backward of ``additive_attention_forward``: grad (B, Dv) = dL/dcontext and the forward's
    hidden (B, T, A), weights (B, T), v (A,), values (B, T, Dv) ->
    (dvalues (B, T, Dv) or None unless ``need_values``, dv (A,), dkeys_proj (B, T, A),
    dq_proj (B, A)). dkeys_proj is the gradient of the pre-tanh sum; dq_proj its sum over T.

    ``out=(dvalues, dv, dkeys_proj)``: C-contiguous arrays of the result dtype that this
    call's gradients are ADDED into and that are returned (dvalues may be None when not
    ``need_values``), so a loop over decoder steps accumulates without temporaries.
    """
    return _backward.impl(grad, hidden, weights, v, values, need_values, out)
