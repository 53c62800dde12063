"""Neural-network ops with fused forward/backward: softmax, losses, linear, embedding,
layer norm and dropout.

Each calls a kernel from ``minigrad.kernels`` (Numba, or the NumPy reference with
``MINIGRAD_KERNELS=numpy``). A row that is entirely -inf (every position masked)
gives zeros from softmax and a zero gradient, never NaN.
"""

from __future__ import annotations

import numpy as np

from .._spelling import numpy_spelling
from .. import kernels
from ..autograd import Function
from ..forward_ad import is_zero
from ..dtypes import check_kernel_float
from ..kernels.embedding import embedding_backward
from ..errors import ShapeError
from ._util import Tensor, check_broadcast, data_of, float_array, normalize_axis, shape_of


class Softmax(Function):
    @staticmethod
    def forward(ctx, a, axis=-1):
        out = kernels.softmax(a, axis)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved
        return kernels.softmax_backward(out, grad, ctx.axis)  # out * (grad - sum(grad * out))

    @staticmethod
    def reference(a, axis=-1):
        peak = a.max(axis=axis, keepdims=True).detach()
        peak = peak.masked_fill(~peak.isfinite(), 0.0)  # a row of -inf (all masked) gives zeros
        e = (a - peak).exp()
        total = e.sum(axis=axis, keepdims=True)
        return e / total.masked_fill(total == 0, 1.0)

    @staticmethod
    def jvp(ctx, t):  # the softmax Jacobian is symmetric: backward's rule applied to t
        (out,) = ctx.saved
        return kernels.softmax_backward(out, t, ctx.axis)


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, a, axis=-1):
        out = kernels.log_softmax(a, axis)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved
        return kernels.log_softmax_backward(out, grad, ctx.axis)  # grad - exp(out) * sum(grad)

    @staticmethod
    def reference(a, axis=-1):
        return a - a.logsumexp(axis=axis, keepdims=True)

    @staticmethod
    def jvp(ctx, t):
        (out,) = ctx.saved
        return t - np.sum(np.exp(out) * t, axis=ctx.axis, keepdims=True)


def _along_axis(op, a, axis: int, name: str) -> Tensor:
    a = float_array(a)
    check_kernel_float(name, "x", a.dtype)
    axis = normalize_axis(axis, max(a.ndim, 1), name)
    if a.ndim == 0:  # PyTorch treats a 0-d tensor as one element along axis 0 (or -1)
        from .shape import reshape

        return reshape(op.apply(reshape(a, (1,)), axis=0), ())
    return op.apply(a, axis=axis)


@numpy_spelling
def softmax(a, axis: int = -1) -> Tensor:
    """exp(a) / sum(exp(a)) along ``axis``, shifted by the max for stability (1 for a 0-d tensor);
    a tuple of axes normalises over all of them together (``exp(a - logsumexp(a, axis))``)."""
    if isinstance(axis, tuple):
        return log_softmax(a, axis).exp()
    return _along_axis(Softmax, a, axis, "softmax")


@numpy_spelling
def log_softmax(a, axis: int = -1) -> Tensor:
    """a - logsumexp(a) along ``axis`` (0 for a 0-d tensor), or over a tuple of axes together."""
    if isinstance(axis, tuple):
        a = a if isinstance(a, Tensor) else Tensor(float_array(a))
        return a - a.logsumexp(axis=axis, keepdims=True)
    return _along_axis(LogSoftmax, a, axis, "log_softmax")


# ---------------------------------------------------------------- losses


class CrossEntropy(Function):
    """Per-position loss -(1-eps) log p[target] - eps/C sum_c log p[c]; 0 where ignored."""

    @staticmethod
    def forward(ctx, logits, target, ignore_index=None, label_smoothing=0.0):
        rows = logits.reshape(-1, logits.shape[-1])
        losses, saved = kernels.cross_entropy_forward(rows, target.reshape(-1), ignore_index, label_smoothing)
        ctx.save_for_backward(saved)
        ctx.logits_shape = logits.shape
        return losses.reshape(target.shape)

    @staticmethod
    def backward(ctx, grad):
        (saved,) = ctx.saved
        grad_rows = np.ascontiguousarray(grad).reshape(-1)
        return kernels.cross_entropy_backward(saved, grad_rows).reshape(ctx.logits_shape), None

    @staticmethod
    def reference(logits, target, ignore_index=None, label_smoothing=0.0):
        from .shape import take_along_axis

        keep, safe = _kept_targets(target, ignore_index)
        log_p = log_softmax(logits, axis=-1)
        picked = take_along_axis(log_p, safe[..., None], axis=-1)[..., 0]
        losses = -(1 - label_smoothing) * picked - label_smoothing * log_p.mean(axis=-1)
        return losses * keep.astype(logits.dtype)


def _kept_targets(target: np.ndarray, ignore_index) -> tuple[np.ndarray, np.ndarray]:
    """(keep, safe): True where the target is not ``ignore_index``, and the targets with the
    ignored ones replaced by class 0, so that they index the classes without error."""
    keep = np.ones(target.shape, bool) if ignore_index is None else target != ignore_index
    return keep, np.where(keep, target, 0)


_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(op: str, reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _target_array(op: str, logits, target) -> np.ndarray:
    target = data_of(target)
    if not np.issubdtype(target.dtype, np.integer):
        raise TypeError(f"{op}: target must hold integer class indices, got dtype {target.dtype}")
    if target.shape != logits.shape[:-1]:
        raise ShapeError(
            f"{op}: logits {logits.shape} (classes on the last axis) need a target of shape {logits.shape[:-1]}, "
            f"got {target.shape}"
        )
    return target.astype(np.int64, copy=False)


def _check_class_range(op: str, target: np.ndarray, classes: int, ignore_index: int | None) -> None:
    """IndexError unless every target is a class in [0, classes) or equals ``ignore_index``;
    the message gives the first bad target and its row (its index in ``target.reshape(-1)``)."""
    if not target.size or (target.min() >= 0 and target.max() < classes):  # cheap; details only on failure
        return
    flat = target.reshape(-1)
    bad = (flat < 0) | (flat >= classes)
    if ignore_index is not None:
        bad &= flat != ignore_index
    if bad.any():
        row = int(np.argmax(bad))
        ignored = "" if ignore_index is None else f" or ignore_index={ignore_index}"
        raise IndexError(f"{op}: target {int(flat[row])} (row {row}) is out of range for {classes} classes; "
                         f"expected 0 <= target < {classes}{ignored}")


def _reduce_losses(losses: Tensor, target: np.ndarray, ignore_index, reduction: str) -> Tensor:
    if reduction == "none":
        return losses
    total = losses.sum()
    if reduction == "sum":
        return total
    count = target.size if ignore_index is None else int(np.count_nonzero(target != ignore_index))
    return total * (1.0 / count if count else 0.0)  # all ignored: loss 0 and zero gradient, not NaN


def cross_entropy(logits, target, ignore_index: int | None = None, label_smoothing: float = 0.0,
                  reduction: str = "mean", weight=None) -> Tensor:
    """Softmax cross-entropy with classes on the LAST axis.

    logits (..., C) float; target (...) int class indices, or (..., C) float class
    probabilities (soft labels). ``reduction="mean"`` averages over targets that are not
    ``ignore_index`` (probabilities: over all rows); ``label_smoothing`` follows PyTorch (the
    target distribution is (1-eps) target + eps/C uniform). ``weight`` (C,) weighs each class
    as PyTorch: with class indices the mean divides by the summed weights of the targets.
    """
    _check_reduction("cross_entropy", reduction)
    logits = float_array(logits)
    check_kernel_float("cross_entropy", "logits", logits.dtype)
    if logits.ndim == 0:
        raise ShapeError("cross_entropy: logits must have a class axis, got a 0-d tensor")
    if logits.shape[-1] == 0:
        raise ShapeError(f"cross_entropy: logits must have C >= 1 classes on the last axis, got shape {logits.shape}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    if weight is not None and shape_of(weight) != logits.shape[-1:]:
        raise ShapeError(f"cross_entropy: weight must have one entry per class, shape {logits.shape[-1:]}, "
                         f"got {shape_of(weight)}")
    if _is_probabilities(target, logits):
        if ignore_index is not None:
            raise ValueError("cross_entropy: ignore_index applies to class indices, not to probability targets")
        return _soft_cross_entropy(logits, target, weight, float(label_smoothing), reduction)
    if weight is not None:
        target = _target_array("cross_entropy", logits, target)
        _check_class_range("cross_entropy", target, logits.shape[-1], ignore_index)
        return _weighted_cross_entropy(logits, target, float_array(weight), ignore_index, float(label_smoothing),
                                       reduction)
    target = _target_array("cross_entropy", logits, target)
    ignore_index = None if ignore_index is None else int(ignore_index)
    _check_class_range("cross_entropy", target, logits.shape[-1], ignore_index)
    losses = CrossEntropy.apply(logits, target, ignore_index=ignore_index, label_smoothing=float(label_smoothing))
    return _reduce_losses(losses, target, ignore_index, reduction)


def _is_probabilities(target, logits) -> bool:
    """A float target of the logits' shape holds class probabilities; other float targets are
    refused as class indices (by ``_target_array``)."""
    data = data_of(target)
    return np.issubdtype(data.dtype, np.floating) and data.shape == logits.shape


def _soft_cross_entropy(logits, target, weight, label_smoothing: float, reduction: str) -> Tensor:
    """-sum_c weight_c * p_c * log_softmax(logits)_c per row, p the (smoothed) target probabilities."""
    target = float_array(target)
    if target.shape != logits.shape:
        raise ShapeError(f"cross_entropy: probability targets must have the logits' shape {logits.shape}, "
                         f"got {target.shape}")
    classes = logits.shape[-1]
    if label_smoothing:
        target = target * (1.0 - label_smoothing) + label_smoothing / classes
    per_class = log_softmax(logits, axis=-1) * target
    if weight is not None:
        per_class = per_class * float_array(weight)
    losses = -per_class.sum(axis=-1)
    if reduction == "none":
        return losses
    total = losses.sum()
    return total if reduction == "sum" else total * (1.0 / max(losses.size, 1))


def _weighted_cross_entropy(logits, target: np.ndarray, weight, ignore_index, label_smoothing: float,
                            reduction: str) -> Tensor:
    """PyTorch's class-weighted loss: -weight[y] * log p[y] per row (smoothing adds
    -eps/C * sum_c weight_c log p_c); the mean divides by the summed weight[y] of kept rows."""
    from .shape import getitem, take_along_axis

    keep, safe = _kept_targets(target, ignore_index)
    log_p = log_softmax(logits, axis=-1)
    row_weight = getitem(weight, safe) * keep.astype(logits.dtype)
    losses = -take_along_axis(log_p, safe[..., None], axis=-1)[..., 0] * row_weight
    if label_smoothing:
        smooth = -(log_p * weight).sum(axis=-1) * keep.astype(logits.dtype)
        losses = (1.0 - label_smoothing) * losses + (label_smoothing / logits.shape[-1]) * smooth
    if reduction == "none":
        return losses
    total = losses.sum()
    if reduction == "sum":
        return total
    summed = row_weight.sum()
    return total * 0.0 if not float(summed.data) else total / summed  # all ignored: 0, as without weights


def nll_loss(log_probs, target, ignore_index: int | None = None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of ``target`` under ``log_probs`` (..., C) (classes last)."""
    from .shape import take_along_axis

    _check_reduction("nll_loss", reduction)
    log_probs = float_array(log_probs)
    target = _target_array("nll_loss", log_probs, target)
    keep, safe = _kept_targets(target, ignore_index)
    _check_class_range("nll_loss", target, log_probs.shape[-1], ignore_index)
    picked = take_along_axis(log_probs, safe[..., None], axis=-1)[..., 0]
    losses = -picked * keep.astype(log_probs.dtype)
    return _reduce_losses(losses, target, ignore_index, reduction)


def mse_loss(input, target, reduction: str = "mean") -> Tensor:  # noqa: A002 (PyTorch's name)
    """Mean squared error ``(input - target)**2``, reduced by mean, sum or none."""
    _check_reduction("mse_loss", reduction)
    check_broadcast("mse_loss", input, target)
    diff = input - target
    squared = diff * diff
    if reduction == "none":
        return squared
    return squared.mean() if reduction == "mean" else squared.sum()


# ---------------------------------------------------------------- layers as functions


def _matmul(a, b):
    """``a @ b``: through the kernel dispatch point on arrays, as the recorded op on Tensors."""
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return kernels.matmul(a, b)
    return a @ b


class Linear(Function):
    """x (..., in) @ weight.T (in, out) + bias (out,), as one node."""

    backward_on_tensors = True  # its backward is three 2-D products and a sum, on arrays or Tensors

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        rows = x.reshape(-1, x.shape[-1])
        out = kernels.matmul(rows, weight.T)
        if bias is not None:
            out += bias
        ctx.save_for_backward(x, weight)  # x itself, not rows: on Tensors it must be the input
        ctx.x_shape = x.shape
        return out.reshape(x.shape[:-1] + (weight.shape[0],))

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved
        rows = x.reshape(-1, x.shape[-1])  # (N, in)
        g = grad.reshape(-1, grad.shape[-1])  # (N, out)
        gx = _matmul(g, weight).reshape(ctx.x_shape) if ctx.needs_input_grad[0] else None  # (..., in)
        gw = _matmul(g.T, rows) if ctx.needs_input_grad[1] else None  # (out, in)
        if len(ctx.needs_input_grad) == 2:  # called without bias
            return gx, gw
        return gx, gw, (g.sum(axis=0) if ctx.needs_input_grad[2] else None)

    @staticmethod
    def reference(x, weight, bias=None):
        out = x @ weight.T
        return out if bias is None else out + bias

    @staticmethod
    def jvp(ctx, tx, tw, tb=None):
        x, weight = ctx.saved
        rows = x.reshape(-1, x.shape[-1])
        out = kernels.matmul(tx.reshape(rows.shape), weight.T) if not is_zero(tx) else 0
        if not is_zero(tw):
            out = out + kernels.matmul(rows, tw.T)
        if tb is not None and not is_zero(tb):
            out = out + tb
        return np.broadcast_to(out, (rows.shape[0], weight.shape[0])).reshape(ctx.x_shape[:-1] + (weight.shape[0],))


def linear(x, weight, bias=None) -> Tensor:
    """``x @ weight.T + bias``: x (..., in), weight (out, in), bias (out,) -> (..., out)."""
    x, weight = float_array(x), float_array(weight)
    if x.ndim == 0 or weight.ndim != 2 or x.shape[-1] != weight.shape[1]:
        raise ShapeError(f"linear: input {x.shape} does not fit weight {weight.shape} (expected (..., {weight.shape[-1] if weight.ndim else '?'}))")
    if bias is not None and shape_of(bias) != (weight.shape[0],):
        raise ShapeError(f"linear: bias {shape_of(bias)} does not fit weight {weight.shape}")
    if bias is None:
        return Linear.apply(x, weight)
    return Linear.apply(x, weight, bias)


class Embedding(Function):
    @staticmethod
    def forward(ctx, weight, idx, padding_idx=None):
        ctx.save_for_backward(idx)
        ctx.meta = (weight.shape, padding_idx)
        return weight[idx]

    @staticmethod
    def backward(ctx, grad):
        (idx,) = ctx.saved
        shape, padding_idx = ctx.meta
        # a scatter-add of grad's rows into the table (repeated tokens accumulate)
        return embedding_backward(idx, grad, shape[0], padding_idx), None

    @staticmethod
    def reference(weight, idx, padding_idx=None):
        from .elementwise import where
        from .shape import getitem

        rows = getitem(weight, idx)
        if padding_idx is None:
            return rows
        return where((idx == padding_idx)[..., None], rows.detach(), rows)  # the padding row gets no gradient

    @staticmethod
    def jvp(ctx, tw, _):
        (idx,) = ctx.saved
        shape, padding_idx = ctx.meta
        rows = tw[idx]
        return rows if padding_idx is None else np.where((idx == padding_idx)[..., None], 0, rows)


def embedding(idx, weight, padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight`` (num, dim) picked by integer ``idx`` (...) -> (..., dim).

    The ``padding_idx`` row receives no gradient.
    """
    weight = float_array(weight)
    if isinstance(weight, Tensor) and weight.requires_grad:  # its gradient is a kernel's
        check_kernel_float("embedding", "weight", weight.dtype)
    idx = data_of(idx)
    if not np.issubdtype(idx.dtype, np.integer):
        raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}")
    num = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        bad = idx[(idx < 0) | (idx >= num)].reshape(-1)[0]
        raise IndexError(f"embedding: index {bad} is out of range for {num} embeddings")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += num
    return Embedding.apply(weight, idx, padding_idx=padding_idx)


class LayerNorm(Function):
    @staticmethod
    def forward(ctx, x, weight=None, bias=None, size=1, eps=1e-5):
        rows = x.reshape(-1, size)
        y, mean, rstd = kernels.layer_norm_forward(
            rows, None if weight is None else weight.reshape(-1), None if bias is None else bias.reshape(-1), eps
        )
        ctx.save_for_backward(rows, weight, mean, rstd)
        ctx.has_bias = bias is not None
        ctx.shapes = (x.shape, x.shape[x.ndim - len(np.shape(weight if weight is not None else bias)):] if
                      weight is not None or bias is not None else None)
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        rows, weight, mean, rstd = ctx.saved
        g = np.ascontiguousarray(grad).reshape(rows.shape)
        dx, dw, db = kernels.layer_norm_backward(g, rows, None if weight is None else weight.reshape(-1), mean, rstd,
                                                 has_bias=ctx.has_bias)
        x_shape, norm_shape = ctx.shapes
        dw = None if dw is None else dw.reshape(norm_shape)
        db = None if db is None else db.reshape(norm_shape)
        return dx.reshape(x_shape), dw, db

    @staticmethod
    def reference(x, weight=None, bias=None, size=1, eps=1e-5):
        rows = x.reshape(-1, size)
        normed = (rows - rows.mean(axis=-1, keepdims=True)) / (rows.var(axis=-1, keepdims=True) + eps).sqrt()
        y = normed.reshape(x.shape)
        if weight is not None:
            y = y * weight
        return y if bias is None else y + bias


def layer_norm(x, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` axes (biased variance), then scale and shift."""
    x = float_array(x)
    check_kernel_float("layer_norm", "x", x.dtype)
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
    if x.shape[x.ndim - len(shape):] != shape:
        raise ShapeError(f"layer_norm: input {x.shape} does not end with normalized_shape {shape}")
    if 0 in shape:
        raise ShapeError(f"layer_norm: normalized_shape {shape} has no elements to normalise (input {x.shape})")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and shape_of(p) != shape:
            raise ShapeError(f"layer_norm: {name} {shape_of(p)} != normalized_shape {shape}")
    size = int(np.prod(shape))
    return LayerNorm.apply(x, weight, bias, size=size, eps=eps)


class Dropout(Function):
    @staticmethod
    def forward(ctx, x, keep_scaled):
        ctx.save_for_backward(keep_scaled)
        return x * keep_scaled

    @staticmethod
    def backward(ctx, grad):
        (keep_scaled,) = ctx.saved
        return grad * keep_scaled, None

    @staticmethod
    def jvp(ctx, t, _):
        (keep_scaled,) = ctx.saved
        return t * keep_scaled


def dropout(x, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (inverted
    dropout); the identity when ``training`` is False or ``p`` is 0."""
    from ..rng import default_generator

    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    x = float_array(x)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        keep_scaled = np.zeros(x.shape, dtype=x.dtype)
    else:
        keep_scaled = (default_generator().random(x.shape, dtype=np.float64 if x.dtype == np.float64 else np.float32) >= p)
        keep_scaled = keep_scaled.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - p))
    return Dropout.apply(x, keep_scaled)
