"""Loss kernels: fused log-softmax + label-smoothed cross-entropy over rows.

``saved`` (returned by the forward, consumed by the backward) is the tuple
``(probs, target, ignore_index, label_smoothing)``: softmax(logits) (N, C), computed by the
forward anyway, and the targets. Keeping the probabilities rather than the logits plus a
per-row logsumexp saves the backward its exponentials and holds the same memory, because
the op no longer needs the logits once the forward has run. Both backends produce and
accept the same ``saved``.
"""

from __future__ import annotations

import numpy as np

from .dispatch import register


def cross_entropy_forward_ref(
    logits: np.ndarray, target: np.ndarray, ignore_index: int | None = None, label_smoothing: float = 0.0
) -> tuple[np.ndarray, tuple]:
    """NumPy reference of ``cross_entropy_forward``."""
    n, c = logits.shape
    m = np.max(logits, axis=1, keepdims=True)
    m = np.where(m == -np.inf, 0, m)  # an all -inf row: probabilities 0, log-probs -inf
    shifted = logits - m
    s = np.sum(np.exp(shifted), axis=1, keepdims=True)
    logp = shifted - np.log(np.where(s == 0, 1, s))
    probs = np.exp(shifted) / np.where(s == 0, 1, s)
    valid = np.ones(n, dtype=bool) if ignore_index is None else target != ignore_index
    safe_target = np.where(valid, target, 0)
    nll = -np.take_along_axis(logp, safe_target[:, None], axis=1)[:, 0]
    if label_smoothing != 0:
        losses = (1 - label_smoothing) * nll - (label_smoothing / c) * np.sum(logp, axis=1)
    else:
        losses = nll
    losses = np.where(valid, losses, 0).astype(logits.dtype, copy=False)
    return losses, (probs, target, ignore_index, label_smoothing)


def cross_entropy_backward_ref(saved: tuple, grad_rows: np.ndarray) -> np.ndarray:
    """NumPy reference of ``cross_entropy_backward``."""
    probs, target, ignore_index, label_smoothing = saved
    n, c = probs.shape
    valid = np.ones(n, dtype=bool) if ignore_index is None else target != ignore_index
    dlogits = probs.copy()
    if label_smoothing != 0:
        dlogits -= label_smoothing / c
    rows = np.nonzero(valid)[0]
    dlogits[rows, target[rows]] -= 1 - label_smoothing
    dlogits *= grad_rows.astype(probs.dtype, copy=False)[:, None]
    dlogits[~valid] = 0
    return dlogits


_forward = register("cross_entropy_forward", cross_entropy_forward_ref, numba="_losses_nb.cross_entropy_forward")
_backward = register("cross_entropy_backward", cross_entropy_backward_ref, numba="_losses_nb.cross_entropy_backward")


def cross_entropy_forward(
    logits: np.ndarray, target: np.ndarray, ignore_index: int | None = None, label_smoothing: float = 0.0
) -> tuple[np.ndarray, tuple]:
    """Per-row cross-entropy with optional label smoothing (PyTorch's definition).

    logits (N, C), C >= 1, any layout; target (N,) integers in [0, C) or equal to the int
    ``ignore_index``; ``label_smoothing`` in [0, 1]. Returns ``(losses, saved)``: losses (N,)
    of logits' dtype with

        losses[i] = -(1 - eps) * logp[i, t_i] - (eps / C) * sum_c logp[i, c]

    (eps = ``label_smoothing``, logp = log_softmax(logits)), and 0 where t_i ==
    ``ignore_index``. ``saved`` is opaque; pass it to ``cross_entropy_backward``.
    """
    return _forward.impl(logits, target, ignore_index, label_smoothing)


def cross_entropy_backward(saved: tuple, grad_rows: np.ndarray) -> np.ndarray:
    """Gradient of ``cross_entropy_forward`` with respect to the logits.

    saved: the forward's ``saved``; grad_rows (N,): dL/dlosses. Returns dlogits (N, C) of the
    logits' dtype = (softmax - ((1 - eps) onehot(t) + eps / C)) * grad_rows[:, None], with zero
    rows where the target was ``ignore_index``.
    """
    return _backward.impl(saved, grad_rows)
