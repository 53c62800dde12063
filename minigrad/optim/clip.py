"""Gradient clipping: ``clip_grad_norm_`` and ``clip_grad_value_`` (in place on ``.grad``).

``minigrad.nn.utils`` re-exports both.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Union

import numpy as np

from ..tensor import Tensor
from .optimizer import check_non_negative, check_number

TensorsT = Union[Tensor, Iterable[Tensor]]


def _grads(parameters: TensorsT, owner: str) -> list[tuple[Tensor, np.ndarray]]:
    """(tensor, grad array) for every tensor in ``parameters`` that has a gradient."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    pairs = []
    for i, p in enumerate(parameters):
        if not isinstance(p, Tensor):
            raise TypeError(f"{owner}: parameter {i} is a {type(p).__name__}, not a Tensor")
        if p.grad is None:
            continue
        if not isinstance(p.grad, np.ndarray) or not p.grad.flags.writeable:
            p.grad = np.array(p.grad, dtype=p.data.dtype)  # own a writeable copy before editing it
        pairs.append((p, p.grad))
    return pairs


def clip_grad_norm_(
    parameters: TensorsT,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> np.float64:
    """Scale the gradients of ``parameters`` in place so that their joint norm is at most ``max_norm``.

    The total norm is the ``norm_type``-norm of all gradients taken together as one vector
    (``float("inf")`` for the largest absolute value), computed in float64. When
    ``max_norm / (total + 1e-6) < 1`` every gradient is multiplied by that factor (PyTorch's
    rule); otherwise they are left unchanged. Parameters without a gradient are ignored.

    ``norm_type`` is a positive number, ``float("inf")`` or the string ``"inf"``.

    Returns the total norm *before* clipping as a ``numpy.float64`` (a Python ``float``
    subclass with ``.item()``; PyTorch returns a 0-d tensor). With no gradients it is 0.0.

    As in PyTorch, a non-finite total norm (a NaN or Inf in some gradient) scales the
    gradients anyway (a NaN norm makes every gradient NaN) and is returned; with
    ``error_if_nonfinite=True`` it raises ``RuntimeError`` naming it before any gradient is
    touched, which is what ``minigrad-train`` asks for so that a diverging run stops at the
    step where it diverged.
    """
    owner = "clip_grad_norm_"
    check_non_negative(owner, "max_norm", max_norm)
    if isinstance(norm_type, str) and norm_type.lower() == "inf":
        norm_type = math.inf
    check_number(owner, "norm_type", norm_type)
    norm_type = float(norm_type)
    if not norm_type > 0:
        raise ValueError(f"{owner}: norm_type must be positive or inf, got {norm_type}")
    pairs = _grads(parameters, owner)
    if not pairs:
        return np.float64(0.0)
    if math.isinf(norm_type):
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for _, g in pairs)
    elif norm_type == 2.0:  # the usual case: a float64 dot product per gradient (BLAS), no abs or power arrays
        total = math.sqrt(sum(float(flat @ flat) for flat in (g.astype(np.float64).ravel() for _, g in pairs)))
    else:
        powered = sum(float(np.sum(np.abs(g.astype(np.float64)) ** norm_type)) for _, g in pairs)
        total = powered ** (1.0 / norm_type)
    if not math.isfinite(total):
        if error_if_nonfinite:
            raise RuntimeError(
                f"{owner}: the total norm of order {norm_type} of the gradients is non-finite ({total}), "
                "so they cannot be clipped; pass error_if_nonfinite=False to clip anyway"
            )
    with np.errstate(invalid="ignore"):
        coef = max_norm / (total + 1e-6)
    if not coef >= 1.0:  # also true for a NaN coefficient, as in PyTorch's clamp
        with np.errstate(invalid="ignore"):
            for _, g in pairs:
                g *= coef
    return np.float64(total)


def clip_grad_value_(parameters: TensorsT, clip_value: float) -> None:
    """Clip every gradient element of ``parameters`` into [-clip_value, clip_value], in place."""
    owner = "clip_grad_value_"
    check_non_negative(owner, "clip_value", clip_value)
    for _, g in _grads(parameters, owner):
        np.clip(g, -clip_value, clip_value, out=g)
