"""Attention: scaled dot-product, multi-head, additive (Bahdanau) and multiplicative (Luong).

- Bahdanau, Cho and Bengio (2015), "Neural Machine Translation by Jointly Learning to Align
  and Translate": additive scores ``v^T tanh(W_q q + W_k k)``.
- Luong, Pham and Manning (2015), "Effective Approaches to Attention-based Neural Machine
  Translation": ``dot``, ``general`` and ``concat`` scores, unscaled.
- Vaswani et al. (2017), "Attention Is All You Need": scaled dot-product attention
  ``softmax(q k^T / sqrt(d)) v`` and multi-head attention.

Every variant goes through one of two fused functional ops, ``F.scaled_dot_product_attention``
(Transformer heads, Luong ``dot`` and ``general``) and ``F.additive_attention`` (Bahdanau and
Luong ``concat``); their maths and backward live in ``minigrad.ops.attention``.

Masks are boolean, broadcastable to the scores (..., Tq, Tk), and **True means "may attend"**.
A query whose every key is masked gets all-zero weights, a zero output and a zero gradient
(never NaN).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import Tensor, concat
from minigrad import functional as F
from minigrad.errors import ShapeError
from minigrad.nn import Linear, Module

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


def scaled_dot_product_attention(
    q: Tensor, k: Tensor, v: Tensor, mask: ArrayLike | None = None, dropout_p: float = 0.0, scale: float | None = None
) -> tuple[Tensor, Tensor]:
    """softmax(q k^T * scale, masked) v: ``minigrad.functional.scaled_dot_product_attention``.

    q (..., Tq, d), k (..., Tk, d), v (..., Tk, dv) -> ``(out (..., Tq, dv), weights (..., Tq, Tk))``;
    ``mask`` bool (True = may attend) or float (added to the scores), broadcastable to
    (..., Tq, Tk). The weights are the pre-dropout weights and carry no gradient.
    """
    return F.scaled_dot_product_attention(q, k, v, mask=mask, dropout_p=dropout_p, scale=scale)


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
            out, weights = F.scaled_dot_product_attention(q, k, v, mask=mask, dropout_p=p,
                                                          num_heads=self.num_heads)  # (B, Tq, E)
            self.last_weights = weights.data
            return self.out_proj(out), weights
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
    """``F.additive_attention`` -> (context (B, Dk), weights (B, T) ndarray)."""
    B, T, _ = keys.shape
    A = w_q.shape[0]
    if keys_proj.shape != (B, T, A):
        raise ShapeError(f"AdditiveAttention: precomputed keys {keys_proj.shape} do not fit keys {keys.shape} and the "
                         f"attention size {A}: expected {(B, T, A)} (pass precompute(keys))")
    context, weights = F.additive_attention(query, w_q, keys_proj, v_weight, keys, mask=mask)
    return context, weights.data


class BahdanauAttention(_StepAttention):
    """Additive attention (Bahdanau et al. 2015): score(q, k_j) = v^T tanh(W_q q + W_k k_j + b).

    Submodules ``query_proj`` Linear(query_dim, hidden_dim, bias=False), ``key_proj``
    Linear(key_dim, hidden_dim) (the one bias: it is added once per sequence in ``precompute``)
    and ``v`` Linear(hidden_dim, 1, bias=False). Each step is one ``F.additive_attention`` call.
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
    through ``F.additive_attention``.
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
