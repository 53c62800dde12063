"""Normalization kernels: layer norm forward and backward over the last axis.

Shapes are written for x (N, D); any leading shape (..., D) works the same, with mean and
rstd of shape (...).
"""

from __future__ import annotations

import numpy as np

from .dispatch import register


def _like(p: np.ndarray | None, x: np.ndarray) -> np.ndarray | None:
    """A weight or bias in x's dtype (the kernels compute in x's dtype)."""
    return None if p is None else p.astype(x.dtype, copy=False)


def layer_norm_forward_ref(
    x: np.ndarray, weight: np.ndarray | None, bias: np.ndarray | None, eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """NumPy reference of ``layer_norm_forward``."""
    weight, bias = _like(weight, x), _like(bias, x)
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
    weight = _like(weight, x)
    xhat = (x - mean[..., None]) * rstd[..., None]
    gw = grad * weight if weight is not None else grad
    dx = rstd[..., None] * (
        gw - np.mean(gw, axis=-1, keepdims=True) - xhat * np.mean(gw * xhat, axis=-1, keepdims=True)
    )
    lead = tuple(range(x.ndim - 1))
    dweight = np.sum(grad * xhat, axis=lead) if weight is not None else None
    dbias = np.sum(grad, axis=lead) if has_bias else None
    return dx, dweight, dbias


_forward = register("layer_norm_forward", layer_norm_forward_ref, numba="_norms_nb.layer_norm_forward")
_backward = register("layer_norm_backward", layer_norm_backward_ref, numba="_norms_nb.layer_norm_backward")


def layer_norm_forward(
    x: np.ndarray, weight: np.ndarray | None, bias: np.ndarray | None, eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Layer norm over the last axis (PyTorch's: biased variance, eps inside the sqrt).

    x (N, D), D >= 1, any layout; weight (D,) or None; bias (D,) or None.
    Returns y (N, D) = (x - mean) * rstd * weight + bias, mean (N,) and
    rstd (N,) = 1 / sqrt(var + eps), all of x's dtype (weight and bias are cast to it).
    """
    return _forward.impl(x, weight, bias, eps)


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
    return _backward.impl(grad, x, weight, mean, rstd, has_bias=has_bias)
