"""Attention: scaled dot-product, multi-head, additive (Bahdanau) and multiplicative (Luong).

- Bahdanau, Cho and Bengio (2015), "Neural Machine Translation by Jointly Learning to Align
  and Translate": additive scores ``v^T tanh(W_q q + W_k k)``.
- Luong, Pham and Manning (2015), "Effective Approaches to Attention-based Neural Machine
  Translation": ``dot``, ``general`` and ``concat`` scores, unscaled.
- Vaswani et al. (2017), "Attention Is All You Need": scaled dot-product attention
  ``softmax(q k^T / sqrt(d)) v`` and multi-head attention.

Every variant goes through one of two fused ops (one ``minigrad.Function`` each, forward and
backward side by side): ``ScaledDotProductAttention`` (Transformer heads, Luong ``dot`` and
``general``) and ``AdditiveAttention`` (Bahdanau and Luong ``concat``). Both are tested equal,
values and gradients, to the same computation written with primitive ops.

Masks are boolean, broadcastable to the scores (..., Tq, Tk), and **True means "may attend"**.
A query whose every key is masked gets all-zero weights, a zero output and a zero gradient
(never NaN).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad import Function, Tensor, concat, kernels
from minigrad.dtypes import check_kernel_float
from minigrad.errors import ShapeError
from minigrad.kernels.attention import additive_attention_backward, additive_attention_forward
from minigrad.nn import Linear, Module
from minigrad.rng import default_generator

ArrayLike = Any  # Tensor or ndarray


def _array(x: ArrayLike) -> np.ndarray:
    """The ndarray behind a Tensor (or the array itself)."""
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _as_mask(mask: ArrayLike | None, op: str) -> np.ndarray | None:
    if mask is None:
        return None
    mask = _array(mask)
    if mask.dtype != np.bool_:
        raise TypeError(f"{op}: mask must be a bool array (True = may attend), got dtype {mask.dtype}")
    return mask


def _swap(a: np.ndarray) -> np.ndarray:
    """Transpose the last two axes (a view)."""
    return np.swapaxes(a, -1, -2)


# =============================================================================== masks


def causal_mask(T: int) -> np.ndarray:
    """Bool (T, T), lower triangular: position t may attend to positions 0..t (True = may attend).

    Broadcasts against scores (B, H, T, T); combine with a padding mask by ``&``.
    """
    if T < 0:
        raise ValueError(f"causal_mask: T must be non-negative, got {T}")
    return np.tril(np.ones((T, T), dtype=np.bool_))


def padding_mask(lengths_or_tokens: ArrayLike, T: int | None = None, pad_id: int = 0) -> np.ndarray:
    """Bool (B, 1, 1, T) key mask, True at real positions and False at padding.

    ``lengths_or_tokens`` is either the lengths (B,) (positions ``>= length`` are padding;
    ``T`` defaults to the largest length) or a token array (B, T) (padding where the token is
    ``pad_id``; ``T``, if given, must equal its width). The shape (B, 1, 1, T) broadcasts
    against attention scores (B, H, Tq, T); ``mask[:, 0, 0]`` is the (B, T) form that
    ``BahdanauAttention``/``LuongAttention`` take (they accept both).
    """
    a = _array(lengths_or_tokens)
    if not np.issubdtype(a.dtype, np.integer):
        raise TypeError(f"padding_mask: expected integer lengths (B,) or tokens (B, T), got dtype {a.dtype}")
    if a.ndim == 1:
        if a.size and a.min() < 0:
            raise ValueError(f"padding_mask: lengths must be non-negative, got {a.tolist()}")
        width = int(a.max()) if T is None and a.size else (0 if T is None else int(T))
        keep = np.arange(width)[None, :] < a[:, None]  # (B, T)
    elif a.ndim == 2:
        if T is not None and T != a.shape[1]:
            raise ShapeError(f"padding_mask: tokens of shape {a.shape} do not have T={T} positions")
        keep = a != pad_id  # (B, T)
    else:
        raise ShapeError(f"padding_mask: expected lengths (B,) or tokens (B, T), got shape {a.shape}")
    return keep[:, None, None, :]  # (B, 1, 1, T)


# =============================================================================== scaled dot-product


def _bmm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Batched matrix product (..., n, k) @ (..., k, m) through the matmul kernel."""
    return kernels.matmul(a, b)


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


class ScaledDotProductAttention(Function):
    """out = dropout(softmax(mask(scale * q k^T))) v as one node.

    q (..., Tq, d), k (..., Tk, d), v (..., Tk, dv); batch axes broadcast. ``mask`` (bool,
    broadcastable to (..., Tq, Tk)) and ``keep`` (the dropout multiplier, 0 or 1/(1-p), of
    the scores' shape, or None) are constants. Saved: q, k, v and the pre-dropout weights;
    backward is written with the weights W and the dropped weights P = W * keep::

        dv = P^T dout     dP = dout v^T     dS = W * (dP*keep - sum(dP*keep * W)) * scale
        dq = dS k         dk = dS^T q

    With ``heads=H`` the inputs are the projections with their heads side by side, q
    (B, Tq, H*d), k (B, Tk, H*d), v (B, Tk, H*dv), and so is the output (B, Tq, H*dv): head h
    is columns h*d:(h+1)*d. The heads are split as strided views and merged with one copy
    inside the node, instead of four reshape/transpose nodes around it (and their copies in
    backward) per attention call.

    ``weights_out`` (a list) receives the pre-dropout weights, since a Function has one output.
    """

    @staticmethod
    def forward(ctx, q, k, v, mask=None, scale=1.0, keep=None, weights_out=None, heads=None):
        qh, kh, vh = (q, k, v) if heads is None else (_split_heads_view(x, heads) for x in (q, k, v))  # (B, H, T, d)
        scores = _bmm(qh, _swap(kh))  # (..., Tq, Tk)
        scores *= scale
        if mask is not None:
            np.copyto(scores, -np.inf, where=~mask)  # the softmax kernel maps an all -inf row to zeros
        weights = kernels.softmax(scores, -1)
        probs = weights if keep is None else weights * keep
        ctx.save_for_backward(q, k, v, weights, keep)
        ctx.scale, ctx.heads = scale, heads
        if weights_out is not None:
            weights_out.append(weights)
        out = _bmm(probs, vh)  # (..., Tq, dv)
        return out if heads is None else _merge_heads(out)

    @staticmethod
    def backward(ctx, grad):
        q, k, v, weights, keep = ctx.saved
        heads = ctx.heads
        if heads is not None:
            q, k, v = _split_heads_view(q, heads), _split_heads_view(k, heads), _split_heads_view(v, heads)
            grad = _split_heads_view(grad, heads)
        need_q, need_k, need_v = ctx.needs_input_grad
        probs = weights if keep is None else weights * keep
        dv = _bmm(_swap(probs), grad) if need_v else None  # (..., Tk, dv)
        dq = dk = None
        if need_q or need_k:
            dprobs = _bmm(grad, _swap(v))  # (..., Tq, Tk)
            if keep is not None:
                dprobs *= keep
            dscores = kernels.softmax_backward(weights, dprobs, -1)  # zero where masked (weights 0 there)
            dscores *= ctx.scale
            dq = _bmm(dscores, k) if need_q else None  # (..., Tq, d)
            dk = _bmm(_swap(dscores), q) if need_k else None  # (..., Tk, d)
        if heads is not None:
            dq, dk, dv = (None if g is None else _merge_heads(g) for g in (dq, dk, dv))
        return dq, dk, dv


def scaled_dot_product_attention(
    q: Tensor, k: Tensor, v: Tensor, mask: ArrayLike | None = None, dropout_p: float = 0.0, scale: float | None = None
) -> tuple[Tensor, Tensor]:
    """softmax(q k^T * scale, masked) v, with ``scale = 1/sqrt(d)`` unless given (PyTorch's ``scale``).

    q (..., Tq, d), k (..., Tk, d), v (..., Tk, dv) -> ``(out (..., Tq, dv), weights (..., Tq, Tk))``.
    ``mask``: bool, broadcastable to (..., Tq, Tk), True = may attend; a fully masked query row
    gets zero weights and a zero output. ``dropout_p > 0`` drops weights (inverted dropout, drawn
    from the library generator) before they multiply v, whatever the caller's training mode:
    pass 0 in evaluation (``MultiHeadAttention`` does). The returned ``weights`` are the
    pre-dropout weights, for plotting, and carry no gradient (a detached Tensor).
    """
    qa, ka, va = _array(q), _array(k), _array(v)
    if qa.ndim < 2 or ka.ndim < 2 or va.ndim < 2:
        raise ShapeError(
            f"scaled_dot_product_attention: q, k, v need at least 2 axes, got {qa.shape}, {ka.shape}, {va.shape}"
        )
    if qa.shape[-1] != ka.shape[-1] or ka.shape[-2] != va.shape[-2]:
        raise ShapeError(
            f"scaled_dot_product_attention: q {qa.shape}, k {ka.shape}, v {va.shape} do not fit "
            "(expected q (..., Tq, d), k (..., Tk, d), v (..., Tk, dv))"
        )
    try:
        batch = np.broadcast_shapes(qa.shape[:-2], ka.shape[:-2], va.shape[:-2])
    except ValueError:
        raise ShapeError(
            f"scaled_dot_product_attention: batch axes of q {qa.shape}, k {ka.shape}, v {va.shape} do not broadcast"
        ) from None
    score_shape = batch + (qa.shape[-2], ka.shape[-2])
    m, keep = _mask_and_keep("scaled_dot_product_attention", mask, dropout_p, score_shape,
                             np.result_type(qa.dtype, ka.dtype))
    scale = 1.0 / math.sqrt(qa.shape[-1]) if scale is None else float(scale)
    box: list = []
    out = ScaledDotProductAttention.apply(q, k, v, mask=m, scale=scale, keep=keep, weights_out=box)
    return out, Tensor(box[0])


def _mask_and_keep(op: str, mask: ArrayLike | None, dropout_p: float, score_shape: tuple,
                   dtype: np.dtype) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The checked bool mask (broadcastable to ``score_shape``) and the dropout multipliers."""
    m = _as_mask(mask, op)
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


# =============================================================================== multi-head


class KVCache:
    """Keys and values of one attention layer, kept between calls for incremental decoding.

    Self-attention (``static=False``): each ``MultiHeadAttention.forward(x_new, x_new, x_new,
    cache=c)`` projects only the new positions and appends them, so the query attends to every
    position seen so far (no causal mask is needed for one new position at a time).
    Cross-attention (``static=True``): the first call projects ``key``/``value`` (the encoder
    memory) and stores them; later calls reuse them and ignore ``key``/``value``.
    ``k`` and ``v`` are (B, H, T, Dh) Tensors, or None before the first call.
    """

    def __init__(self, static: bool = False):
        self.static = static
        self.k: Tensor | None = None
        self.v: Tensor | None = None

    def __len__(self) -> int:
        """Number of cached positions."""
        return 0 if self.k is None else self.k.shape[2]

    def select(self, indices: np.ndarray) -> "KVCache":
        """A cache whose batch rows are ``indices`` of this one (beam search reorders rows)."""
        new = KVCache(self.static)
        if self.k is not None:
            new.k, new.v = self.k[indices], self.v[indices]
        return new


class MultiHeadAttention(Module):
    """Multi-head attention (Vaswani et al. 2017) with separate ``q_proj, k_proj, v_proj, out_proj``.

    ``embed_dim`` E is split into ``num_heads`` H heads of Dh = E / H: head h uses the contiguous
    slice ``h*Dh:(h+1)*Dh`` of each projection (PyTorch's layout, so weights map one-to-one onto
    ``torch.nn.MultiheadAttention``'s split ``in_proj_weight``). ``kdim``/``vdim`` (default E) are
    the feature sizes of key and value for cross-attention. ``dropout`` applies to the attention
    weights in training mode.

    After each call ``last_weights`` holds the (B, H, Tq, Tk) weights as an ndarray, for plotting.
    """

    def __init__(self, embed_dim: int, num_heads: int, kdim: int | None = None, vdim: int | None = None,
                 dropout: float = 0.0, bias: bool = True):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiHeadAttention: embed_dim ({embed_dim}) and num_heads ({num_heads}) must be positive")
        if embed_dim % num_heads != 0:
            raise ValueError(
                f"MultiHeadAttention: embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})"
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MultiHeadAttention: dropout must be in [0, 1), got {dropout}")
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self.dropout = dropout
        self.q_proj = Linear(embed_dim, embed_dim, bias=bias)
        self.k_proj = Linear(self.kdim, embed_dim, bias=bias)
        self.v_proj = Linear(self.vdim, embed_dim, bias=bias)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias)
        self.last_weights: np.ndarray | None = None

    def _split_heads(self, x: Tensor) -> Tensor:
        B, T, _ = x.shape
        return x.reshape(B, T, self.num_heads, self.head_dim).transpose(0, 2, 1, 3)  # (B, H, T, Dh)

    def forward(self, query: Tensor, key: Tensor, value: Tensor, mask: ArrayLike | None = None,
                cache: KVCache | None = None) -> tuple[Tensor, Tensor]:
        """query (B, Tq, E), key (B, Tk, kdim), value (B, Tk, vdim) -> (out (B, Tq, E), weights (B, H, Tq, Tk)).

        ``mask``: bool, broadcastable to (B, H, Tq, Tk), True = may attend (``causal_mask(T)``
        (T, T), ``padding_mask(...)`` (B, 1, 1, Tk), or their ``&``). ``cache``: see ``KVCache``;
        with a cache, Tk counts the cached positions too. ``weights`` carry no gradient.
        """
        if query.ndim != 3 or query.shape[-1] != self.embed_dim:
            raise ShapeError(f"MultiHeadAttention: expected query (B, Tq, {self.embed_dim}), got {query.shape}")
        B, Tq, E = query.shape
        p = self.dropout if self.training else 0.0
        if cache is None:  # heads stay side by side: the SDPA node splits and merges them itself
            q, k, v = self.q_proj(query), self.k_proj(key), self.v_proj(value)  # (B, T, E)
            if k.ndim != 3 or v.ndim != 3 or k.shape[:2] != v.shape[:2] or k.shape[0] not in (1, B):
                raise ShapeError(f"MultiHeadAttention: query {query.shape}, key {_array(key).shape} and value "
                                 f"{_array(value).shape} do not fit (expected (B, Tq, E), (B, Tk, kdim), (B, Tk, vdim))")
            Tk = k.shape[1]
            m, keep = _mask_and_keep("MultiHeadAttention", mask, p, (B, self.num_heads, Tq, Tk),
                                     np.result_type(q.dtype, k.dtype))
            box: list = []
            out = ScaledDotProductAttention.apply(q, k, v, mask=m, scale=1.0 / math.sqrt(self.head_dim), keep=keep,
                                                  weights_out=box, heads=self.num_heads)  # (B, Tq, E)
            self.last_weights = box[0]
            return self.out_proj(out), Tensor(box[0])
        q = self._split_heads(self.q_proj(query))  # (B, H, Tq, Dh)
        if cache.static and cache.k is not None:
            k, v = cache.k, cache.v
        else:
            k = self._split_heads(self.k_proj(key))  # (B, H, Tk, Dh)
            v = self._split_heads(self.v_proj(value))  # (B, H, Tk, Dh)
            if not cache.static and cache.k is not None:
                k = _concat_time(cache.k, k)
                v = _concat_time(cache.v, v)
            cache.k, cache.v = k, v
        out, weights = scaled_dot_product_attention(q, k, v, mask=mask, dropout_p=p)  # (B, H, Tq, Dh)
        out = out.transpose(0, 2, 1, 3).reshape(B, Tq, E)  # (B, Tq, E): heads side by side again
        self.last_weights = weights.data
        return self.out_proj(out), weights

    def extra_repr(self) -> str:
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, kdim={self.kdim}, vdim={self.vdim}, "
                f"dropout={self.dropout}")


def _concat_time(past: Tensor, new: Tensor) -> Tensor:
    return concat([past, new], axis=2)  # (B, H, T_past + T_new, Dh)


# =============================================================================== additive (Bahdanau)


class AdditiveAttention(Function):
    """One decoder step of additive attention as one node::

        hidden  = tanh(query W_q^T + keys_proj)       (B, T, A)
        scores  = hidden v                             (B, T), masked
        weights = softmax(scores)                      (B, T)
        context = weights @ values                     (B, Dv)

    Inputs: query (B, Dq), w_q (A, Dq), keys_proj (B, T, A) (``W_k k + b``, computed once per
    sequence), v (1, A) (the weight of a Linear(A, 1)), values (B, T, Dv). ``mask`` (B, T) bool or None is a constant;
    ``weights_out`` (a list) receives the weights. Saved: query, w_q, v, values, hidden, weights.
    Everything between the two products with W_q runs in ``minigrad.kernels.attention``
    (one Numba pass per direction).
    """

    @staticmethod
    def forward(ctx, query, w_q, keys_proj, v, values, mask=None, weights_out=None):
        q_proj = kernels.matmul(query, w_q.T)  # (B, A)
        # tanh, scores, masked softmax and the weighted sum in one kernel pass
        context, weights, hidden = additive_attention_forward(keys_proj, q_proj, v[0], values, mask)
        ctx.save_for_backward(query, w_q, v, values, hidden, weights)
        if weights_out is not None:
            weights_out.append(weights)
        return context  # (B, Dv)

    @staticmethod
    def backward(ctx, grad):
        query, w_q, v, values, hidden, weights = ctx.saved
        need = ctx.needs_input_grad
        dvalues, dv, dpre, dq_proj = additive_attention_backward(grad, hidden, weights, v[0], values, need[4])
        dquery = kernels.matmul(dq_proj, w_q) if need[0] else None  # (B, Dq)
        dw_q = kernels.matmul(dq_proj.T, query) if need[1] else None  # (A, Dq)
        return dquery, dw_q, dpre if need[2] else None, dv[None, :] if need[3] else None, dvalues


def _step_mask(mask: ArrayLike | None, B: int, T: int, op: str) -> np.ndarray | None:
    """A (B, T) key mask from (B, T) or anything of B*T elements such as (B, 1, 1, T)."""
    m = _as_mask(mask, op)
    if m is None:
        return None
    if m.shape != (B, T):
        if m.size != B * T or m.shape[0] != B or m.shape[-1] != T:
            raise ShapeError(f"{op}: mask {m.shape} does not fit keys of (B, T) = ({B}, {T})")
        m = m.reshape(B, T)  # (B, 1, 1, T) -> (B, T)
    return m


class _StepAttention(Module):
    """The interface shared by Bahdanau and Luong attention: a per-sequence ``precompute`` and a
    per-step ``forward``. Subclasses set ``query_dim`` and ``key_dim`` and implement
    ``precompute`` and ``_attend``."""

    query_dim: int
    key_dim: int

    def precompute(self, keys: Tensor) -> Tensor:
        """What the scores need from ``keys`` (B, T, Dk), computed once per source sequence."""
        raise NotImplementedError(f"{type(self).__name__} does not define precompute()")

    def _attend(self, query: Tensor, keys: Tensor, pre: Tensor, mask: np.ndarray | None) -> tuple[Tensor, np.ndarray]:
        """-> (context (B, Dk), weights (B, T) ndarray) from the precomputed key terms ``pre``."""
        raise NotImplementedError(f"{type(self).__name__} does not define _attend()")

    def forward(self, query: Tensor, keys: Tensor, mask: ArrayLike | None = None,
                precomputed: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """query (B, Dq), keys (B, T, Dk) -> (context (B, Dk), weights (B, T)).

        The context is the weighted sum of the keys (values = keys). ``mask`` (B, T) bool (or
        (B, 1, 1, T)), True at real positions. Decoders call this every step: pass
        ``precomputed=self.precompute(keys)`` (computed once per sequence) to skip the key
        projection. ``weights`` carry no gradient.
        """
        name = type(self).__name__
        fits = (query.ndim == 2 and keys.ndim == 3 and query.shape[1] == self.query_dim
                and keys.shape[2] == self.key_dim and keys.shape[0] == query.shape[0])
        if not fits:
            raise ShapeError(
                f"{name}: query {query.shape} and keys {keys.shape} do not fit query_dim={self.query_dim}, "
                f"key_dim={self.key_dim} (expected (B, {self.query_dim}) and (B, T, {self.key_dim}))"
            )
        B, T, _ = keys.shape
        pre = self.precompute(keys) if precomputed is None else precomputed
        context, weights = self._attend(query, keys, pre, _step_mask(mask, B, T, name))
        return context, Tensor(weights)


def _additive(query: Tensor, w_q: Tensor, keys_proj: Tensor, v_weight: Tensor, keys: Tensor,
              mask: np.ndarray | None) -> tuple[Tensor, np.ndarray]:
    """One ``AdditiveAttention`` node -> (context (B, Dk), weights (B, T) ndarray)."""
    B, T, _ = keys.shape
    A = w_q.shape[0]
    if keys_proj.shape != (B, T, A):
        raise ShapeError(f"AdditiveAttention: precomputed keys {keys_proj.shape} do not fit keys {keys.shape} and the "
                         f"attention size {A}: expected {(B, T, A)} (pass precompute(keys))")
    check_kernel_float("AdditiveAttention", "query, keys and weights",
                       np.result_type(query.dtype, w_q.dtype, keys_proj.dtype, keys.dtype))
    box: list = []
    context = AdditiveAttention.apply(query, w_q, keys_proj, v_weight, keys, mask=mask, weights_out=box)
    return context, box[0]


class BahdanauAttention(_StepAttention):
    """Additive attention (Bahdanau et al. 2015): score(q, k_j) = v^T tanh(W_q q + W_k k_j + b).

    Submodules ``query_proj`` Linear(query_dim, hidden_dim, bias=False), ``key_proj``
    Linear(key_dim, hidden_dim) (the one bias: it is added once per sequence in ``precompute``)
    and ``v`` Linear(hidden_dim, 1, bias=False). Each step is one fused ``AdditiveAttention`` node.
    """

    def __init__(self, query_dim: int, key_dim: int, hidden_dim: int):
        super().__init__()
        for n, d in (("query_dim", query_dim), ("key_dim", key_dim), ("hidden_dim", hidden_dim)):
            if d <= 0:
                raise ValueError(f"BahdanauAttention: {n} must be positive, got {d}")
        self.query_dim, self.key_dim, self.hidden_dim = query_dim, key_dim, hidden_dim
        self.query_proj = Linear(query_dim, hidden_dim, bias=False)
        self.key_proj = Linear(key_dim, hidden_dim)
        self.v = Linear(hidden_dim, 1, bias=False)

    def precompute(self, keys: Tensor) -> Tensor:
        """W_k keys + b: (B, T, Dk) -> (B, T, hidden_dim)."""
        return self.key_proj(keys)

    def _attend(self, query: Tensor, keys: Tensor, pre: Tensor, mask: np.ndarray | None) -> tuple[Tensor, np.ndarray]:
        return _additive(query, self.query_proj.weight, pre, self.v.weight, keys, mask)

    def extra_repr(self) -> str:
        return f"query_dim={self.query_dim}, key_dim={self.key_dim}, hidden_dim={self.hidden_dim}"


LUONG_SCORES = ("dot", "general", "concat")


class LuongAttention(_StepAttention):
    """Multiplicative attention (Luong et al. 2015), unscaled scores:

    - ``dot``: q^T k_j (needs query_dim == key_dim);
    - ``general``: q^T W_a k_j, submodule ``proj`` Linear(key_dim, query_dim, bias=False);
      ``precompute`` gives W_a k for all positions once per sequence;
    - ``concat``: v^T tanh(W_a [q; k_j]), written as ``query_proj`` Linear(query_dim, hidden,
      bias=False), ``key_proj`` Linear(key_dim, hidden) and ``v`` Linear(hidden, 1, bias=False)
      (the column blocks of W_a); ``hidden_dim`` defaults to key_dim.

    ``dot``/``general`` run through ``scaled_dot_product_attention`` with scale 1, ``concat``
    through the fused ``AdditiveAttention``.
    """

    def __init__(self, query_dim: int, key_dim: int, score: str = "general", hidden_dim: int | None = None):
        super().__init__()
        if score not in LUONG_SCORES:
            raise ValueError(f"LuongAttention: score must be one of {', '.join(LUONG_SCORES)}, got {score!r}")
        if query_dim <= 0 or key_dim <= 0:
            raise ValueError(f"LuongAttention: query_dim ({query_dim}) and key_dim ({key_dim}) must be positive")
        if score == "dot" and query_dim != key_dim:
            raise ValueError(
                f"LuongAttention: score='dot' needs query_dim == key_dim, got query_dim={query_dim}, key_dim={key_dim}; "
                "use score='general'"
            )
        self.query_dim, self.key_dim, self.score = query_dim, key_dim, score
        if score == "general":
            self.proj = Linear(key_dim, query_dim, bias=False)
        elif score == "concat":
            self.hidden_dim = key_dim if hidden_dim is None else hidden_dim
            self.query_proj = Linear(query_dim, self.hidden_dim, bias=False)
            self.key_proj = Linear(key_dim, self.hidden_dim)
            self.v = Linear(self.hidden_dim, 1, bias=False)

    def precompute(self, keys: Tensor) -> Tensor:
        """dot: the keys; general: W_a keys (B, T, query_dim); concat: W_k keys + b (B, T, hidden)."""
        if self.score == "dot":
            return keys
        if self.score == "general":
            return self.proj(keys)
        return self.key_proj(keys)

    def _attend(self, query: Tensor, keys: Tensor, pre: Tensor, mask: np.ndarray | None) -> tuple[Tensor, np.ndarray]:
        if self.score == "concat":
            return _additive(query, self.query_proj.weight, pre, self.v.weight, keys, mask)
        B, Dq = query.shape
        q = query.reshape(B, 1, Dq)  # (B, 1, Dq): one query per sequence
        m = None if mask is None else mask[:, None, :]  # (B, 1, T)
        context, weights = scaled_dot_product_attention(q, pre, keys, mask=m, scale=1.0)
        return context.reshape(B, self.key_dim), weights.data[:, 0]  # (B, Dk), (B, T)

    def extra_repr(self) -> str:
        return f"query_dim={self.query_dim}, key_dim={self.key_dim}, score={self.score!r}"
