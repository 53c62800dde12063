"""Loss kernels: fused log-softmax + label-smoothed cross-entropy over rows.

``saved`` (returned by the forward, consumed by the backward) is the tuple
``(probs, target, ignore_index, label_smoothing)``: softmax(logits) (N, C), computed by the
forward anyway, and the int64 targets. Keeping the probabilities instead of the logits plus
a per-row logsumexp (and recomputing exp in the backward) measured 10-30% faster for
forward + backward (704x14 float32: 15.6 vs 17.5 us; 1280x100: 136 vs 160 us;
1024x1024: 672 vs 897 us; float64 up to 1.45x) and holds the same memory, because the op
no longer needs the logits once the forward has run. Both backends produce and accept the
same ``saved``.
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
        _nb = _backend.numba_module("_losses_nb")
    return _nb


def cross_entropy_forward_ref(
    logits: np.ndarray, target: np.ndarray, ignore_index: int | None = None, label_smoothing: float = 0.0
) -> tuple[np.ndarray, tuple]:
    """NumPy reference of ``cross_entropy_forward`` (arguments already validated)."""
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


def _check_target(target: np.ndarray, n: int, c: int, ignore_index: int | None) -> np.ndarray:
    if not isinstance(target, np.ndarray) or target.dtype.kind not in "iu":
        got = target.dtype if isinstance(target, np.ndarray) else type(target).__name__
        raise TypeError(f"cross_entropy: target must be an integer ndarray, got {got}")
    if target.shape != (n,):
        raise ValueError(f"cross_entropy: target shape {target.shape} does not match logits rows ({n},)")
    target = np.ascontiguousarray(target, dtype=np.int64)
    if n and (target.min() < 0 or target.max() >= c):  # cheap check; details only on failure
        bad = (target < 0) | (target >= c)
        if ignore_index is not None:
            bad &= target != ignore_index
        if bad.any():
            row = int(np.argmax(bad))
            ignored = "" if ignore_index is None else f" or ignore_index={ignore_index}"
            raise IndexError(
                f"cross_entropy: target {int(target[row])} (row {row}) is out of range "
                f"for {c} classes; expected 0 <= target < {c}{ignored}"
            )
    return target


def cross_entropy_forward(
    logits: np.ndarray, target: np.ndarray, ignore_index: int | None = None, label_smoothing: float = 0.0
) -> tuple[np.ndarray, tuple]:
    """Per-row cross-entropy with optional label smoothing (PyTorch's definition).

    logits (N, C) float32/float64, any layout; target (N,) integers in [0, C), or equal to
    ``ignore_index``. Returns ``(losses, saved)``: losses (N,) of logits' dtype with

        losses[i] = -(1 - eps) * logp[i, t_i] - (eps / C) * sum_c logp[i, c]

    (eps = ``label_smoothing``, logp = log_softmax(logits)), and 0 where t_i ==
    ``ignore_index``. ``saved`` is opaque; pass it to ``cross_entropy_backward``.
    A target outside [0, C) other than ``ignore_index`` raises IndexError.
    """
    check_float("cross_entropy", "logits", logits)
    if logits.ndim != 2 or logits.shape[1] == 0:
        raise ValueError(f"cross_entropy: logits must be (N, C) with C >= 1, got shape {logits.shape}")
    n, c = logits.shape
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing!r}")
    if ignore_index is not None:
        ignore_index = int(ignore_index)
    target = _check_target(target, n, c, ignore_index)
    if _backend._BACKEND == "numpy":
        return cross_entropy_forward_ref(logits, target, ignore_index, label_smoothing)
    logits = np.ascontiguousarray(logits)
    losses = np.empty(n, logits.dtype)
    probs = np.empty_like(logits)
    if n:
        scalar = logits.dtype.type
        _numba().cross_entropy_forward(
            logits, target, -1 if ignore_index is None else ignore_index,
            scalar(1.0 - label_smoothing), scalar(label_smoothing / c), losses, probs,
        )
    return losses, (probs, target, ignore_index, label_smoothing)


def cross_entropy_backward(saved: tuple, grad_rows: np.ndarray) -> np.ndarray:
    """Gradient of ``cross_entropy_forward`` with respect to the logits.

    saved: the forward's ``saved``; grad_rows (N,): dL/dlosses (float). Returns dlogits
    (N, C) of the logits' dtype = (softmax - ((1 - eps) onehot(t) + eps / C)) * grad_rows[:, None],
    with zero rows where the target was ``ignore_index``.
    """
    probs, target, ignore_index, label_smoothing = saved
    n, c = probs.shape
    if not isinstance(grad_rows, np.ndarray):
        grad_rows = np.asarray(grad_rows)
    if grad_rows.shape != (n,):
        raise ValueError(f"cross_entropy_backward: grad_rows shape {grad_rows.shape} does not match ({n},)")
    if _backend._BACKEND == "numpy":
        return cross_entropy_backward_ref(saved, grad_rows)
    out = np.empty((n, c), probs.dtype)
    if n:
        scalar = probs.dtype.type
        _numba().cross_entropy_backward(
            np.ascontiguousarray(probs), target, -1 if ignore_index is None else ignore_index,
            scalar(1.0 - label_smoothing), scalar(label_smoothing / c),
            np.ascontiguousarray(grad_rows, dtype=probs.dtype), out,
        )
    return out
