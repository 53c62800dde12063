"""Additive (Bahdanau) attention kernels: one query per row against T keys, forward and backward.

With the query and key projections computed by the caller (through BLAS)::

    hidden  = tanh(keys_proj + q_proj)      (B, T, A)    keys_proj = W_k k + b, q_proj = W_q q
    scores  = hidden v                      (B, T)       masked positions -> -inf
    weights = softmax(scores) over T        (B, T)       a row with every position masked -> 0
    context = sum_t weights values          (B, Dv)

The Numba versions (``_attention_nb``) do each direction in one pass per row; the NumPy
references below are the same maths in array operations (``MINIGRAD_KERNELS=numpy``).
Inputs of one float dtype (float32 or float64; mixed inputs compute in their result type),
any layout; outputs are new C-contiguous arrays.
"""

from __future__ import annotations

import numpy as np

from . import _backend
from ._util import check_float
from .activations import softmax_ref

_nb = None


def _numba():
    """The Numba implementations, imported (and compiled) on first use."""
    global _nb
    if _nb is None:
        _nb = _backend.numba_module("_attention_nb")
    return _nb


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


def additive_attention_backward_ref(grad, hidden, weights, v, values, need_values=True):
    """NumPy reference of ``additive_attention_backward``."""
    dvalues = weights[:, :, None] * grad[:, None, :] if need_values else None  # (B, T, Dv)
    dweights = np.matmul(values, grad[:, :, None])[:, :, 0]  # (B, T)
    dscores = weights * (dweights - np.sum(dweights * weights, axis=-1, keepdims=True))
    dv = np.einsum("bt,bta->a", dscores, hidden)
    dkeys_proj = dscores[:, :, None] * v * (1.0 - hidden * hidden)  # (B, T, A)
    return dvalues, dv, dkeys_proj, dkeys_proj.sum(axis=1)


# ---------------------------------------------------------------------------------------
# Public kernels
# ---------------------------------------------------------------------------------------


def _c(a: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return a if a.flags.c_contiguous and a.dtype == dtype else np.ascontiguousarray(a, dtype=dtype)


def _check_shapes(kernel: str, keys_proj: np.ndarray, v: np.ndarray, values: np.ndarray, **rows) -> tuple:
    for name, a in (("keys_proj", keys_proj), ("v", v), ("values", values), *rows.items()):
        check_float(kernel, name, a)
    if keys_proj.ndim != 3 or values.ndim != 3 or keys_proj.shape[:2] != values.shape[:2]:
        raise ValueError(f"{kernel}: keys_proj {keys_proj.shape} and values {values.shape} must be (B, T, A) "
                         "and (B, T, Dv)")
    B, T, A = keys_proj.shape
    if v.shape != (A,):
        raise ValueError(f"{kernel}: v has shape {v.shape}, expected ({A},)")
    return B, T, A, values.shape[2]


def additive_attention_forward(keys_proj: np.ndarray, q_proj: np.ndarray, v: np.ndarray, values: np.ndarray,
                               mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """keys_proj (B, T, A), q_proj (B, A), v (A,), values (B, T, Dv), mask (B, T) bool or None
    (True = may attend) -> (context (B, Dv), weights (B, T), hidden (B, T, A)).

    ``hidden`` is what the backward needs; see the module docstring for the maths.
    """
    B, T, A, Dv = _check_shapes("additive_attention_forward", keys_proj, v, values, q_proj=q_proj)
    if q_proj.shape != (B, A):
        raise ValueError(f"additive_attention_forward: q_proj has shape {q_proj.shape}, expected {(B, A)}")
    if mask is not None and (mask.dtype != np.bool_ or mask.shape != (B, T)):
        raise ValueError(f"additive_attention_forward: mask must be bool of shape {(B, T)}, got {mask.dtype} {mask.shape}")
    if _backend._BACKEND == "numpy":
        return additive_attention_forward_ref(keys_proj, q_proj, v, values, mask)
    dtype = np.result_type(keys_proj.dtype, q_proj.dtype, v.dtype, values.dtype)
    hidden = np.empty((B, T, A), dtype)
    weights = np.empty((B, T), dtype)
    context = np.zeros((B, Dv), dtype)
    if B and T and A:
        m = np.empty((0, 0), np.bool_) if mask is None else np.ascontiguousarray(mask)
        (_nb or _numba()).additive_forward(_c(keys_proj, dtype), _c(q_proj, dtype), _c(v, dtype), _c(values, dtype),
                                           m, mask is not None, hidden, weights, context)
    elif B and T:  # A == 0: every score is 0
        weights = additive_attention_forward_ref(keys_proj, q_proj, v, values, mask)[1].astype(dtype)
        context = np.matmul(weights[:, None, :], values.astype(dtype))[:, 0]
    return context, weights, hidden


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
    B, T, A, Dv = _check_shapes("additive_attention_backward", hidden, v, values, grad=grad, weights=weights)
    if grad.shape != (B, Dv) or weights.shape != (B, T):
        raise ValueError(f"additive_attention_backward: grad {grad.shape} and weights {weights.shape} do not fit "
                         f"hidden {hidden.shape} and values {values.shape}")
    dtype = np.result_type(grad.dtype, hidden.dtype, weights.dtype, v.dtype, values.dtype)
    if out is not None:
        _check_out(out, need_values, (B, T, Dv), (A,), (B, T, A), dtype)
    if _backend._BACKEND == "numpy":
        grads = additive_attention_backward_ref(grad, hidden, weights, v, values, need_values)
        if out is None:
            return grads
        for acc, g in zip(out, grads[:3]):
            if acc is not None and g is not None:
                acc += g
        return out[0] if need_values else None, out[1], out[2], grads[3]
    if out is None:
        dvalues = np.zeros((B, T, Dv), dtype) if need_values else None
        dv, dkeys_proj = np.zeros(A, dtype), np.zeros((B, T, A), dtype)
    else:
        dvalues, dv, dkeys_proj = out
    dq_proj = np.zeros((B, A), dtype)
    if B and T and A and Dv:
        (_nb or _numba()).additive_backward(
            _c(grad, dtype), _c(hidden, dtype), _c(weights, dtype), _c(v, dtype), _c(values, dtype), need_values,
            dvalues if need_values else np.empty((0, 0, 0), dtype), dv, dkeys_proj, dq_proj, np.empty(T, dtype))
    elif need_values:
        dvalues += weights[:, :, None].astype(dtype) * grad[:, None, :]
    return (dvalues if need_values else None), dv, dkeys_proj, dq_proj


def _check_out(out: tuple, need_values: bool, values_shape: tuple, v_shape: tuple, keys_shape: tuple,
               dtype: np.dtype) -> None:
    if not isinstance(out, tuple) or len(out) != 3:
        raise TypeError("additive_attention_backward: out must be a tuple (dvalues, dv, dkeys_proj)")
    for name, acc, shape in zip(("dvalues", "dv", "dkeys_proj"), out, (values_shape, v_shape, keys_shape)):
        if acc is None and name == "dvalues" and not need_values:
            continue
        if not isinstance(acc, np.ndarray) or acc.shape != shape or acc.dtype != dtype or not acc.flags.c_contiguous:
            raise ValueError(f"additive_attention_backward: out {name} must be a C-contiguous {dtype} array of "
                             f"shape {shape}")
