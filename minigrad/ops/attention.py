"""Fused attention ops: scaled dot-product attention and one step of additive attention.

Each is one graph node with two outputs, ``(out, weights)``. The weights are a constant
output (for plotting; they carry no gradient). Masks are either boolean, **True meaning
"may attend"**, or floating and added to the scores (PyTorch's two kinds of ``attn_mask``).
A query whose every key is masked gets all-zero weights, a zero output and a zero gradient
(never NaN). ``reference`` on each class is the same computation written with primitive ops:
tests hold the fused op equal to it, and higher derivatives and forward mode differentiate it.
"""

from __future__ import annotations

import math

import numpy as np

from .. import kernels
from ..autograd import Function
from ..dtypes import check_kernel_float
from ..errors import ShapeError
from ..kernels.attention import additive_attention_backward, additive_attention_forward
from ..rng import default_generator
from ._util import Tensor, data_of, float_array
from .elementwise import masked_fill, tanh
from .linalg import matmul
from .nn import softmax
from .shape import reshape, swapaxes, transpose


def _swap(a: np.ndarray) -> np.ndarray:
    """Transpose the last two axes (a view)."""
    return np.swapaxes(a, -1, -2)


def _split_heads_view(x: np.ndarray, heads: int) -> np.ndarray:
    """(B, T, H*D) -> (B, H, T, D), a view: head h is columns h*D:(h+1)*D."""
    B, T, F = x.shape
    return x.reshape(B, T, heads, F // heads).transpose(0, 2, 1, 3)


def _merge_heads(x: np.ndarray) -> np.ndarray:
    """(B, H, T, D) -> (B, T, H*D), heads side by side again (one contiguous copy)."""
    B, H, T, D = x.shape
    out = np.empty((B, T, H, D), dtype=x.dtype)
    out[...] = x.transpose(0, 2, 1, 3)
    return out.reshape(B, T, H * D)


def _split_heads(x: Tensor, heads: int) -> Tensor:
    B, T, F = x.shape
    return transpose(reshape(x, (B, T, heads, F // heads)), (0, 2, 1, 3))  # (B, H, T, D)


def _merge_heads_tensor(x: Tensor) -> Tensor:
    B, H, T, D = x.shape
    return reshape(transpose(x, (0, 2, 1, 3)), (B, T, H * D))  # (B, T, H*D)


class ScaledDotProductAttention(Function):
    """(out, weights) with weights = softmax(mask(scale * q k^T)) and out = (weights * keep) v.

    q (..., Tq, d), k (..., Tk, d), v (..., Tk, dv); batch axes broadcast. ``mask`` (bool,
    True = may attend, or float, added to the scores; broadcastable to (..., Tq, Tk)) and
    ``keep`` (the dropout multiplier, 0 or 1/(1-p), of the scores' shape, or None) are
    constants. Backward, with W the weights and P = W * keep::

        dv = P^T dout     dP = dout v^T     dS = W * (dP*keep - sum(dP*keep * W)) * scale
        dq = dS k         dk = dS^T q

    With ``heads=H`` the inputs are the projections with their heads side by side, q
    (B, Tq, H*d), k (B, Tk, H*d), v (B, Tk, H*dv), and so is ``out`` (B, Tq, H*dv): head h
    is columns h*d:(h+1)*d; ``weights`` are (B, H, Tq, Tk). The heads are split as strided
    views and merged with one copy inside the node.
    """

    @staticmethod
    def forward(ctx, q, k, v, mask=None, scale=1.0, keep=None, heads=None):
        qh, kh, vh = (q, k, v) if heads is None else (_split_heads_view(x, heads) for x in (q, k, v))  # (B, H, T, d)
        scores = kernels.matmul(qh, _swap(kh))  # (..., Tq, Tk)
        scores *= scale
        if mask is not None and np.broadcast_shapes(scores.shape, mask.shape) != scores.shape:
            scores = np.broadcast_to(scores, np.broadcast_shapes(scores.shape, mask.shape)).copy()  # v's batch axes
        if mask is not None and mask.dtype == np.bool_:
            np.copyto(scores, -np.inf, where=~mask)  # the softmax kernel maps an all -inf row to zeros
        elif mask is not None:
            scores = scores + mask  # may broadcast the scores up to the mask's batch axes
        weights = kernels.softmax(scores, -1)
        probs = weights if keep is None else weights * keep
        ctx.save_for_backward(q, k, v, weights, keep)
        ctx.scale, ctx.heads = scale, heads
        ctx.mark_non_differentiable(weights)
        ctx.set_materialize_grads(False)  # the weights' gradient is never used: no zeros for it
        out = kernels.matmul(probs, vh)  # (..., Tq, dv)
        return (out if heads is None else _merge_heads(out)), weights

    @staticmethod
    def backward(ctx, grad, grad_weights=None):
        q, k, v, weights, keep = ctx.saved
        heads = ctx.heads
        if heads is not None:
            q, k, v = _split_heads_view(q, heads), _split_heads_view(k, heads), _split_heads_view(v, heads)
            grad = _split_heads_view(grad, heads)
        need_q, need_k, need_v = ctx.needs_input_grad[:3]
        probs = weights if keep is None else weights * keep
        dv = kernels.matmul(_swap(probs), grad) if need_v else None  # (..., Tk, dv)
        dq = dk = None
        if need_q or need_k:
            dprobs = kernels.matmul(grad, _swap(v))  # (..., Tq, Tk)
            if keep is not None:
                dprobs *= keep
            if weights.shape != dprobs.shape:  # v had more batch axes than the scores
                weights = np.ascontiguousarray(np.broadcast_to(weights, dprobs.shape))
            dscores = kernels.softmax_backward(weights, dprobs, -1)  # zero where masked (weights 0 there)
            dscores *= ctx.scale
            dq = kernels.matmul(dscores, k) if need_q else None  # (..., Tq, d)
            dk = kernels.matmul(_swap(dscores), q) if need_k else None  # (..., Tk, d)
        if heads is not None:
            dq, dk, dv = (None if g is None else _merge_heads(g) for g in (dq, dk, dv))
        return dq, dk, dv

    @staticmethod
    def reference(q, k, v, mask=None, scale=1.0, keep=None, heads=None):
        if heads is not None:
            q, k, v = _split_heads(q, heads), _split_heads(k, heads), _split_heads(v, heads)  # (B, H, T, d)
        scores = matmul(q, swapaxes(k, -1, -2)) * scale  # (..., Tq, Tk)
        if mask is not None and mask.dtype == np.bool_:
            scores = masked_fill(scores, ~mask, -np.inf)
        elif mask is not None:
            scores = scores + mask
        weights = softmax(scores, axis=-1)
        out = matmul(weights if keep is None else weights * keep, v)  # (..., Tq, dv)
        return (out if heads is None else _merge_heads_tensor(out)), weights.detach()


def _attention_mask(mask, op: str) -> np.ndarray | None:
    """The mask as an ndarray: bool (True = may attend) or float (added to the scores)."""
    if mask is None:
        return None
    m = data_of(mask)
    if m.dtype != np.bool_ and m.dtype.kind != "f":
        raise TypeError(f"{op}: mask must be bool (True = may attend) or float (added to the scores), "
                        f"got dtype {m.dtype}")
    return m


def check_mask_and_draw_keep(op: str, mask, dropout_p: float, score_shape: tuple,
                             dtype: np.dtype) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The checked mask (broadcastable to ``score_shape``) and the dropout multipliers
    (0 or 1/(1-p), drawn from the library generator; None when ``dropout_p`` is 0)."""
    m = _attention_mask(mask, op)
    if m is not None:
        try:
            fits = np.broadcast_shapes(m.shape, score_shape) == score_shape
        except ValueError:
            fits = False
        if not fits:
            raise ShapeError(f"{op}: mask {m.shape} does not broadcast to the scores {score_shape}")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{op}: dropout_p must be in [0, 1], got {dropout_p}")
    keep = None
    if dropout_p > 0.0:
        keep = (default_generator().random(score_shape) >= dropout_p).astype(dtype)
        keep *= 0.0 if dropout_p == 1.0 else 1.0 / (1.0 - dropout_p)
    return m, keep


def _attention_shapes(q, k, v, num_heads: int | None) -> tuple[tuple, int]:
    """(the scores' shape, the per-head feature size d) of q, k, v, or ShapeError naming them."""
    op = "scaled_dot_product_attention"
    qs, ks, vs = q.shape, k.shape, v.shape
    if num_heads is not None:
        fits = (len(qs) == len(ks) == len(vs) == 3 and qs[0] == ks[0] == vs[0] and ks[1] == vs[1]
                and qs[2] == ks[2] and qs[2] % num_heads == 0 and vs[2] % num_heads == 0)
        if not fits:
            raise ShapeError(f"{op}: q {qs}, k {ks}, v {vs} do not fit num_heads={num_heads} "
                             "(expected q (B, Tq, H*d), k (B, Tk, H*d), v (B, Tk, H*dv))")
        return (qs[0], num_heads, qs[1], ks[1]), qs[2] // num_heads
    if len(qs) < 2 or len(ks) < 2 or len(vs) < 2:
        raise ShapeError(f"{op}: q, k, v need at least 2 axes, got {qs}, {ks}, {vs}")
    if qs[-1] != ks[-1] or ks[-2] != vs[-2]:
        raise ShapeError(f"{op}: q {qs}, k {ks}, v {vs} do not fit "
                         "(expected q (..., Tq, d), k (..., Tk, d), v (..., Tk, dv))")
    try:
        batch = np.broadcast_shapes(qs[:-2], ks[:-2], vs[:-2])
    except ValueError:
        raise ShapeError(f"{op}: batch axes of q {qs}, k {ks}, v {vs} do not broadcast") from None
    return batch + (qs[-2], ks[-2]), qs[-1]


def scaled_dot_product_attention(q, k, v, mask=None, dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None, num_heads: int | None = None) -> tuple[Tensor, Tensor]:
    """softmax(q k^T * scale + mask) v, with ``scale = 1/sqrt(d)`` unless given (PyTorch's ``scale``).

    q (..., Tq, d), k (..., Tk, d), v (..., Tk, dv) -> ``(out (..., Tq, dv), weights (..., Tq, Tk))``.
    ``mask`` (PyTorch's ``attn_mask``), broadcastable to (..., Tq, Tk): bool with True = may
    attend, or float, added to the scores. ``is_causal=True`` lets query i attend to keys
    0..i (instead of a mask). A fully masked query row gets zero weights and a zero output.
    ``dropout_p > 0`` drops weights (inverted dropout, from the library generator) before they
    multiply v, whatever the training mode: pass 0 in evaluation. ``weights`` are the
    pre-dropout weights, for plotting, and carry no gradient.
    ``num_heads=H`` (minigrad's extension): q (B, Tq, H*d), k (B, Tk, H*d), v (B, Tk, H*dv)
    hold H heads side by side (head h is columns h*d:(h+1)*d); ``out`` is (B, Tq, H*dv),
    ``weights`` (B, H, Tq, Tk).
    """
    op = "scaled_dot_product_attention"
    q, k, v = float_array(q), float_array(k), float_array(v)
    score_shape, d = _attention_shapes(q, k, v, num_heads)
    if is_causal:
        if mask is not None:
            raise ValueError(f"{op}: pass either mask or is_causal=True, not both")
        Tq, Tk = score_shape[-2:]
        mask = np.tril(np.ones((Tq, Tk), dtype=np.bool_))  # query i attends to keys 0..i
    m, keep = check_mask_and_draw_keep(op, mask, dropout_p, score_shape, np.result_type(q.dtype, k.dtype))
    scale = 1.0 / math.sqrt(d) if scale is None else float(scale)
    return ScaledDotProductAttention.apply(q, k, v, mask=m, scale=scale, keep=keep, heads=num_heads)


# =============================================================================== additive (Bahdanau)


class AdditiveAttention(Function):
    """One decoder step of additive attention as one node, with two outputs::

        hidden  = tanh(query W_q^T + keys_proj)       (B, T, A)
        scores  = hidden v                             (B, T), masked
        weights = softmax(scores)                      (B, T)     (output 2, no gradient)
        context = weights @ values                     (B, Dv)    (output 1)

    Inputs: query (B, Dq), w_q (A, Dq), keys_proj (B, T, A) (``W_k k + b``, computed once per
    sequence), v (1, A) (the weight of a Linear(A, 1)), values (B, T, Dv). ``mask`` (B, T) bool
    or None is a constant. Everything between the two products with W_q runs in
    ``minigrad.kernels.attention`` (one Numba pass per direction).
    """

    @staticmethod
    def forward(ctx, query, w_q, keys_proj, v, values, mask=None):
        q_proj = kernels.matmul(query, w_q.T)  # (B, A)
        # tanh, scores, masked softmax and the weighted sum in one kernel pass
        context, weights, hidden = additive_attention_forward(keys_proj, q_proj, v[0], values, mask)
        ctx.save_for_backward(query, w_q, v, values, hidden, weights)
        ctx.mark_non_differentiable(weights)
        ctx.set_materialize_grads(False)
        return context, weights  # (B, Dv), (B, T)

    @staticmethod
    def backward(ctx, grad, grad_weights=None):
        query, w_q, v, values, hidden, weights = ctx.saved
        need = ctx.needs_input_grad
        dvalues, dv, dpre, dq_proj = additive_attention_backward(grad, hidden, weights, v[0], values, need[4])
        dquery = kernels.matmul(dq_proj, w_q) if need[0] else None  # (B, Dq)
        dw_q = kernels.matmul(dq_proj.T, query) if need[1] else None  # (A, Dq)
        return dquery, dw_q, dpre if need[2] else None, dv[None, :] if need[3] else None, dvalues

    @staticmethod
    def reference(query, w_q, keys_proj, v, values, mask=None):
        B, T, A = keys_proj.shape
        q_proj = reshape(matmul(query, transpose(w_q)), (B, 1, A))  # (B, 1, A): one query per sequence
        hidden = tanh(keys_proj + q_proj)  # (B, T, A)
        scores = reshape(matmul(hidden, transpose(v)), (B, T))  # (B, T)
        if mask is not None:
            scores = masked_fill(scores, ~mask, -np.inf)
        weights = softmax(scores, axis=-1)  # (B, T)
        context = reshape(matmul(reshape(weights, (B, 1, T)), values), (B, values.shape[-1]))  # (B, Dv)
        return context, weights.detach()


def additive_attention(query, w_q, keys_proj, v, values, mask=None) -> tuple[Tensor, Tensor]:
    """One step of additive (Bahdanau) attention -> ``(context (B, Dv), weights (B, T))``.

    ``weights = softmax(tanh(query W_q^T + keys_proj) v^T)`` over the T keys, ``context =
    weights @ values``. query (B, Dq), w_q (A, Dq), keys_proj (B, T, A) (the key projection
    ``W_k k + b``, computed once per sequence), v (1, A), values (B, T, Dv); ``mask`` (B, T)
    bool, True = may attend. ``weights`` carry no gradient.
    """
    op = "additive_attention"
    query, w_q, keys_proj, v, values = (float_array(x) for x in (query, w_q, keys_proj, v, values))
    if query.ndim != 2 or values.ndim != 3 or w_q.ndim != 2 or v.ndim != 2:
        raise ShapeError(f"{op}: expected query (B, Dq), w_q (A, Dq), v (1, A), values (B, T, Dv), got "
                         f"{query.shape}, {w_q.shape}, {v.shape}, {values.shape}")
    B, T, _ = values.shape
    A = w_q.shape[0]
    if keys_proj.shape != (B, T, A):
        raise ShapeError(f"{op}: precomputed keys {keys_proj.shape} do not fit keys {values.shape} and the "
                         f"attention size {A}: expected {(B, T, A)}")
    if query.shape[0] != B or w_q.shape[1] != query.shape[1] or v.shape != (1, A):
        raise ShapeError(f"{op}: query {query.shape}, w_q {w_q.shape} and v {v.shape} do not fit values "
                         f"{values.shape} (expected ({B}, Dq), ({A}, Dq) and (1, {A}))")
    check_kernel_float("AdditiveAttention", "query, keys and weights",
                       np.result_type(query.dtype, w_q.dtype, keys_proj.dtype, values.dtype))
    m = _attention_mask(mask, op)
    if m is not None and (m.dtype != np.bool_ or m.shape != (B, T)):
        raise ShapeError(f"{op}: mask must be bool (B, T) = ({B}, {T}), got {m.dtype} {m.shape}")
    return AdditiveAttention.apply(query, w_q, keys_proj, v, values, mask=m)
