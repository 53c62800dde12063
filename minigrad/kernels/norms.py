"""Normalization kernels: layer norm forward and backward over the last axis.

Shapes are written for x (N, D); any leading shape (..., D) works the same, with mean and
rstd of shape (...).
"""

from __future__ import annotations

import numpy as np

from . import _backend
from ._util import check_float

_nb = None


def _numba():
    """The Numba implementations, imported (and compiled) on first use."""
    global _nb
    if _nb is None:
        _nb = _backend.numba_module("_norms_nb")
    return _nb


def layer_norm_forward_ref(
    x: np.ndarray, weight: np.ndarray | None, bias: np.ndarray | None, eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """NumPy reference of ``layer_norm_forward``."""
    mean = np.mean(x, axis=-1)
    var = np.var(x, axis=-1)
    rstd = 1 / np.sqrt(var + eps)
    y = (x - mean[..., None]) * rstd[..., None]
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y, mean, rstd


def layer_norm_backward_ref(
    grad: np.ndarray,
    x: np.ndarray,
    weight: np.ndarray | None,
    mean: np.ndarray,
    rstd: np.ndarray,
    *,
    has_bias: bool | None = None,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """NumPy reference of ``layer_norm_backward``."""
    if has_bias is None:
        has_bias = weight is not None
    xhat = (x - mean[..., None]) * rstd[..., None]
    gw = grad * weight if weight is not None else grad
    dx = rstd[..., None] * (
        gw - np.mean(gw, axis=-1, keepdims=True) - xhat * np.mean(gw * xhat, axis=-1, keepdims=True)
    )
    lead = tuple(range(x.ndim - 1))
    dweight = np.sum(grad * xhat, axis=lead) if weight is not None else None
    dbias = np.sum(grad, axis=lead) if has_bias else None
    return dx, dweight, dbias


def _check_param(kernel: str, name: str, p: np.ndarray | None, d: int, dtype) -> np.ndarray | None:
    if p is None:
        return None
    check_float(kernel, name, p)
    if p.shape != (d,):
        raise ValueError(f"{kernel}: {name} shape {p.shape} does not match the normalized size ({d},)")
    return np.ascontiguousarray(p, dtype=dtype)


def layer_norm_forward(
    x: np.ndarray, weight: np.ndarray | None, bias: np.ndarray | None, eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Layer norm over the last axis (PyTorch's: biased variance, eps inside the sqrt).

    x (N, D) float32/float64, any layout; weight (D,) or None; bias (D,) or None.
    Returns y (N, D) = (x - mean) * rstd * weight + bias, mean (N,) and
    rstd (N,) = 1 / sqrt(var + eps), all of x's dtype (weight and bias are cast to it).
    """
    kernel = "layer_norm"
    check_float(kernel, "x", x)
    if x.ndim < 1 or x.shape[-1] == 0:
        raise ValueError(f"{kernel}: x must have a non-empty last axis, got shape {x.shape}")
    d = x.shape[-1]
    weight = _check_param(kernel, "weight", weight, d, x.dtype)
    bias = _check_param(kernel, "bias", bias, d, x.dtype)
    if _backend._BACKEND == "numpy":
        return layer_norm_forward_ref(x, weight, bias, eps)
    rows = np.ascontiguousarray(x).reshape(-1, d)
    n = rows.shape[0]
    y = np.empty_like(rows)
    mean = np.empty(n, x.dtype)
    rstd = np.empty(n, x.dtype)
    if n:
        empty = np.empty(0, x.dtype)
        _numba().layer_norm_forward(
            rows, empty if weight is None else weight, empty if bias is None else bias,
            weight is not None, bias is not None, x.dtype.type(eps), y, mean, rstd,
        )
    return y.reshape(x.shape), mean.reshape(x.shape[:-1]), rstd.reshape(x.shape[:-1])


def layer_norm_backward(
    grad: np.ndarray,
    x: np.ndarray,
    weight: np.ndarray | None,
    mean: np.ndarray,
    rstd: np.ndarray,
    *,
    has_bias: bool | None = None,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Backward of ``layer_norm_forward``.

    grad (N, D): dL/dy; x (N, D): the forward input; weight (D,) or None; mean, rstd (N,):
    from the forward. Returns (dx (N, D), dweight (D,) or None, dbias (D,) or None), of x's
    dtype. dweight is None when weight is None. dbias is returned when ``has_bias`` is true;
    by default (``has_bias=None``) when weight is not None (an affine layer norm has both).
    """
    kernel = "layer_norm_backward"
    check_float(kernel, "x", x)
    check_float(kernel, "grad", grad)
    if grad.shape != x.shape:
        raise ValueError(f"{kernel}: grad shape {grad.shape} does not match x shape {x.shape}")
    if mean.shape != x.shape[:-1] or rstd.shape != x.shape[:-1]:
        raise ValueError(
            f"{kernel}: mean {mean.shape} and rstd {rstd.shape} must have shape {x.shape[:-1]}"
        )
    d = x.shape[-1]
    weight = _check_param(kernel, "weight", weight, d, x.dtype)
    if has_bias is None:
        has_bias = weight is not None
    if _backend._BACKEND == "numpy":
        return layer_norm_backward_ref(grad, x, weight, mean, rstd, has_bias=has_bias)
    dtype = x.dtype
    xr = np.ascontiguousarray(x).reshape(-1, d)
    gr = np.ascontiguousarray(grad, dtype=dtype).reshape(-1, d)
    dx = np.empty_like(xr)
    dweight = np.zeros(d, dtype)
    dbias = np.zeros(d, dtype)
    if xr.shape[0]:
        _numba().layer_norm_backward(
            gr, xr, np.empty(0, dtype) if weight is None else weight, weight is not None,
            np.ascontiguousarray(mean, dtype=dtype).reshape(-1),
            np.ascontiguousarray(rstd, dtype=dtype).reshape(-1), dx, dweight, dbias,
        )
    return dx.reshape(x.shape), (dweight if weight is not None else None), (dbias if has_bias else None)
