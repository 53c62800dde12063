"""The Transformer (Vaswani et al. 2017, "Attention Is All You Need"), and an encoder-only tagger.

Read top-down: positions, the feed-forward block, the encoder and decoder layers (each a
residual block of attention and feed-forward, pre-norm by default, post-norm as in the
paper with ``norm_first=False``), the stacks, then the two models:

- ``Transformer``: encoder-decoder for sequence-to-sequence tasks;
- ``TransformerEncoderModel`` (``models.build("encoder")``): the encoder stack alone, one
  output per input position (``forward(src, tgt_in=None)`` ignores ``tgt_in``).

Shapes: B batch, S source length, T target length, d = ``d_model``, H heads, V vocabulary::

    src (B, S) -> embed * sqrt(d) + positions -> encoder layers -> memory (B, S, d)
    tgt_in (B, T) -> embed * sqrt(d) + positions -> decoder layers (causal self-attention,
        cross-attention to memory) -> (B, T, d) -> out_proj (or the tied embedding) -> logits (B, T, V)

``EncoderLayer`` with a causal mask and a ``KVCache`` is a GPT block (the language model reuses it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from minigrad import Tensor, gelu, no_grad, relu
from minigrad.functional import linear
from minigrad.nn import Dropout, Embedding, LayerNorm, Linear, Module, ModuleList, init

from .attention import KVCache, MultiHeadAttention, causal_mask, padding_mask
from .base import (
    Seq2Seq, TokensLike, as_tokens, check_int, check_probability, eval_mode, linear_parameters, log_softmax_array,
    resolve_beam_size,
)

ACTIVATIONS = ("relu", "gelu")


@dataclass
class TransformerConfig:
    """Hyper-parameters of ``transformer`` and ``encoder``."""

    d_model: int = 64  # model width (embeddings, attention, residual stream)
    num_heads: int = 4  # attention heads; must divide d_model
    ff_dim: int = 256  # hidden width of the position-wise feed-forward block
    num_layers: int = 2  # layers in the encoder and (transformer) in the decoder
    dropout: float = 0.0  # after embeddings, on attention weights, in the feed-forward block, on residual branches
    activation: str = "relu"  # feed-forward non-linearity: "relu" or "gelu"
    norm_first: bool = True  # pre-norm (LayerNorm before each sub-layer, plus a final norm); False: post-norm as the paper
    tie_embeddings: bool = False  # output projection = target embedding matrix (needs equal vocabularies for "encoder")

    def validate(self) -> "TransformerConfig":
        """Raise ValueError naming the first inconsistent field; return self."""
        check_block_config(self, ints=("d_model", "num_heads", "ff_dim", "num_layers"),
                           flags=("norm_first", "tie_embeddings"))
        return self


def check_block_config(config: Any, ints: tuple[str, ...], flags: tuple[str, ...]) -> None:
    """The checks every Transformer-block config shares (``TransformerConfig``, ``LMConfig``):
    the ``ints`` positive integers, num_heads dividing d_model, dropout in [0, 1), a known
    activation, the ``flags`` booleans. ValueError naming the config class and the field."""
    owner = type(config).__name__
    for name in ints:
        check_int(owner, name, getattr(config, name))
    if config.d_model % config.num_heads != 0:
        raise ValueError(f"{owner}: num_heads ({config.num_heads}) must divide d_model ({config.d_model})")
    check_probability(owner, "dropout", config.dropout, upper_open=True)
    if config.activation not in ACTIVATIONS:
        raise ValueError(f"{owner}: activation must be one of {', '.join(ACTIVATIONS)}, got {config.activation!r}")
    for name in flags:
        if not isinstance(getattr(config, name), (bool, np.bool_)):
            raise ValueError(f"{owner}: {name} must be True or False, got {getattr(config, name)!r}")


def transformer_parameter_count(config: TransformerConfig, src_vocab_size: int, tgt_vocab_size: int,
                                decoder: bool = True) -> int:
    """How many parameters ``Transformer`` (``decoder=True``) or ``TransformerEncoderModel`` has for
    ``config`` and the vocabularies, counted from the sizes alone (nothing is allocated)."""
    d, L = config.d_model, config.num_layers
    final_norm = 2 * d if config.norm_first else 0
    count = src_vocab_size * d + L * block_parameters(d, config.ff_dim) + final_norm
    if decoder:
        count += tgt_vocab_size * d + L * block_parameters(d, config.ff_dim, cross_attention=True) + final_norm
    return count + (0 if config.tie_embeddings else linear_parameters(d, tgt_vocab_size))


def block_parameters(d_model: int, ff_dim: int, cross_attention: bool = False) -> int:
    """Parameters of an ``EncoderLayer`` (or, with ``cross_attention``, a ``DecoderLayer``): per
    attention four Linear(d, d), the feed-forward Linear(d, ff) and Linear(ff, d), per LayerNorm
    a weight and a bias of size d."""
    attentions = 2 if cross_attention else 1
    attention = 4 * linear_parameters(d_model, d_model)
    feed_forward = linear_parameters(d_model, ff_dim) + linear_parameters(ff_dim, d_model)
    return attentions * attention + feed_forward + (attentions + 1) * 2 * d_model


# =============================================================================== positions


def sinusoidal_positions(T: int, d_model: int, dtype: Any = np.float32) -> np.ndarray:
    """(T, d_model): PE[t, 2i] = sin(t / 10000^(2i/d)), PE[t, 2i+1] = cos(t / 10000^(2i/d))."""
    position = np.arange(T, dtype=np.float64)[:, None]  # (T, 1)
    rate = np.exp(-math.log(10000.0) * np.arange(0, d_model, 2, dtype=np.float64) / d_model)  # (ceil(d/2),)
    table = np.zeros((T, d_model))
    table[:, 0::2] = np.sin(position * rate)
    table[:, 1::2] = np.cos(position * rate[: d_model // 2])
    return table.astype(dtype)


class PositionalEncoding(Module):
    """Adds sinusoidal positions to (B, T, d) embeddings, starting at position ``offset``.

    The table is a constant, not a parameter (nothing in the state_dict); it grows on demand.
    """

    def __init__(self, d_model: int):
        super().__init__()
        self.d_model = d_model
        self._table = sinusoidal_positions(64, d_model)

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        T = x.shape[1]
        if offset + T > len(self._table):
            self._table = sinusoidal_positions(2 * (offset + T), self.d_model)
        return x + self._table[offset: offset + T].astype(x.dtype, copy=False)  # broadcasts over B

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}"


# =============================================================================== blocks


class FeedForward(Module):
    """Position-wise feed-forward: linear2(dropout(act(linear1(x)))), (..., d) -> (..., d)."""

    def __init__(self, d_model: int, ff_dim: int, dropout: float = 0.0, activation: str = "relu"):
        super().__init__()
        self.linear1 = Linear(d_model, ff_dim)
        self.linear2 = Linear(ff_dim, d_model)
        self.dropout = Dropout(dropout)
        self.activation = activation

    def forward(self, x: Tensor) -> Tensor:
        h = self.linear1(x)  # (..., ff_dim)
        h = gelu(h) if self.activation == "gelu" else relu(h)
        return self.linear2(self.dropout(h))  # (..., d_model)


class EncoderLayer(Module):
    """Self-attention then feed-forward, each a residual branch with LayerNorm and dropout.

    Pre-norm (``norm_first=True``): x + drop(attn(norm1(x))), then x + drop(ff(norm2(x))).
    Post-norm: norm1(x + drop(attn(x))), then norm2(x + drop(ff(x))).
    With ``mask=causal_mask(T)`` and a ``KVCache`` this is a decoder-only (GPT) block.
    ``self_attn.last_weights`` keeps the last attention weights (B, H, T, T).
    """

    def __init__(self, d_model: int, num_heads: int, ff_dim: int, dropout: float = 0.0,
                 activation: str = "relu", norm_first: bool = True):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout=dropout)
        self.ff = FeedForward(d_model, ff_dim, dropout, activation)
        self.norm1 = LayerNorm(d_model)
        self.norm2 = LayerNorm(d_model)
        self.dropout = Dropout(dropout)
        self.norm_first = norm_first

    def forward(self, x: Tensor, mask: Any = None, cache: KVCache | None = None) -> Tensor:
        """x (B, T, d), mask broadcastable to (B, H, T, T_keys) -> (B, T, d)."""
        if self.norm_first:
            h = self.norm1(x)
            x = x + self.dropout(self.self_attn(h, h, h, mask, cache)[0])
            return x + self.dropout(self.ff(self.norm2(x)))
        x = self.norm1(x + self.dropout(self.self_attn(x, x, x, mask, cache)[0]))
        return self.norm2(x + self.dropout(self.ff(x)))


class DecoderLayer(Module):
    """Causal self-attention, cross-attention to the encoder memory, feed-forward; residual
    branches with LayerNorm (pre- or post-norm as ``EncoderLayer``) and dropout.

    ``cache`` is None (training) or a pair (self-attention ``KVCache``, static cross-attention
    ``KVCache``) for incremental decoding. ``cross_attn.last_weights`` (B, H, T, S) are the
    alignments to plot.
    """

    def __init__(self, d_model: int, num_heads: int, ff_dim: int, dropout: float = 0.0,
                 activation: str = "relu", norm_first: bool = True):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout=dropout)
        self.cross_attn = MultiHeadAttention(d_model, num_heads, dropout=dropout)
        self.ff = FeedForward(d_model, ff_dim, dropout, activation)
        self.norm1 = LayerNorm(d_model)
        self.norm2 = LayerNorm(d_model)
        self.norm3 = LayerNorm(d_model)
        self.dropout = Dropout(dropout)
        self.norm_first = norm_first

    def forward(self, x: Tensor, memory: Tensor, self_mask: Any = None, memory_mask: Any = None,
                cache: tuple[KVCache, KVCache] | None = None) -> Tensor:
        """x (B, T, d), memory (B, S, d), self_mask (T, T), memory_mask (B, 1, 1, S) -> (B, T, d)."""
        self_cache, cross_cache = (None, None) if cache is None else cache
        if self.norm_first:
            h = self.norm1(x)
            x = x + self.dropout(self.self_attn(h, h, h, self_mask, self_cache)[0])
            h = self.norm2(x)
            x = x + self.dropout(self.cross_attn(h, memory, memory, memory_mask, cross_cache)[0])
            return x + self.dropout(self.ff(self.norm3(x)))
        x = self.norm1(x + self.dropout(self.self_attn(x, x, x, self_mask, self_cache)[0]))
        x = self.norm2(x + self.dropout(self.cross_attn(x, memory, memory, memory_mask, cross_cache)[0]))
        return self.norm3(x + self.dropout(self.ff(x)))


def _layers(cls: type, cfg: TransformerConfig) -> ModuleList:
    return ModuleList([cls(cfg.d_model, cfg.num_heads, cfg.ff_dim, cfg.dropout, cfg.activation, cfg.norm_first)
                       for _ in range(cfg.num_layers)])


class TransformerEncoder(Module):
    """``num_layers`` EncoderLayers, then a final LayerNorm ``norm`` when pre-norm."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.layers = _layers(EncoderLayer, cfg)
        self.norm = LayerNorm(cfg.d_model) if cfg.norm_first else None

    def forward(self, x: Tensor, mask: Any = None) -> Tensor:
        """x (B, S, d), mask (B, 1, 1, S) -> (B, S, d)."""
        for layer in self.layers:
            x = layer(x, mask)
        return x if self.norm is None else self.norm(x)


class TransformerDecoder(Module):
    """``num_layers`` DecoderLayers, then a final LayerNorm ``norm`` when pre-norm."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.layers = _layers(DecoderLayer, cfg)
        self.norm = LayerNorm(cfg.d_model) if cfg.norm_first else None

    def forward(self, x: Tensor, memory: Tensor, self_mask: Any = None, memory_mask: Any = None,
                caches: list | None = None) -> Tensor:
        """x (B, T, d), memory (B, S, d) -> (B, T, d); ``caches`` one pair per layer (decoding)."""
        for i, layer in enumerate(self.layers):
            x = layer(x, memory, self_mask, memory_mask, None if caches is None else caches[i])
        return x if self.norm is None else self.norm(x)


class _Embed(Module):
    """Token embedding scaled by sqrt(d_model), plus sinusoidal positions, then dropout.

    The table starts from N(0, 1/d_model) so that the scaled embeddings have unit scale.
    """

    def __init__(self, vocab_size: int, d_model: int, dropout: float, pad_id: int):
        super().__init__()
        self.embed = Embedding(vocab_size, d_model, padding_idx=pad_id)
        init.normal_(self.embed.weight, 0.0, d_model ** -0.5)
        self.embed.weight.data[pad_id] = 0
        self.pos = PositionalEncoding(d_model)
        self.dropout = Dropout(dropout)
        self.scale = math.sqrt(d_model)

    def forward(self, tokens: np.ndarray, offset: int = 0) -> Tensor:
        """tokens (B, T) -> (B, T, d), positions offset..offset+T-1."""
        return self.dropout(self.pos(self.embed(tokens) * self.scale, offset))


# =============================================================================== models


class Transformer(Seq2Seq):
    """Encoder-decoder Transformer.

    Submodules: ``src_embed`` and ``tgt_embed`` (each ``embed`` + positions), ``encoder``,
    ``decoder``, and ``out_proj`` Linear(d, V) unless ``tie_embeddings`` (then the logits are
    x @ tgt_embed.embed.weight^T). Masks: source padding (from ``src_lengths``) on encoder
    self-attention and cross-attention, causal on decoder self-attention (target padding
    sits after the real tokens, so the causal mask already keeps it out of real positions).
    Decoding caches keys and values per layer (``KVCache``), so each step costs one position.
    """

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, config: TransformerConfig | None = None,
                 pad_id: int = 0, bos_id: int = 1, eos_id: int = 2):
        super().__init__(pad_id, bos_id, eos_id)
        cfg = (config or TransformerConfig()).validate()
        check_int("Transformer", "src_vocab_size", src_vocab_size)
        check_int("Transformer", "tgt_vocab_size", tgt_vocab_size)
        self.config = cfg
        self.src_vocab_size, self.tgt_vocab_size = src_vocab_size, tgt_vocab_size
        self.src_embed = _Embed(src_vocab_size, cfg.d_model, cfg.dropout, pad_id)
        self.tgt_embed = _Embed(tgt_vocab_size, cfg.d_model, cfg.dropout, pad_id)
        self.encoder = TransformerEncoder(cfg)
        self.decoder = TransformerDecoder(cfg)
        self.out_proj = None if cfg.tie_embeddings else Linear(cfg.d_model, tgt_vocab_size)

    def _logits(self, x: Tensor) -> Tensor:
        """(..., d) -> (..., V) through out_proj or the tied target embedding."""
        if self.out_proj is None:
            return linear(x, self.tgt_embed.embed.weight)
        return self.out_proj(x)

    def _memory(self, src: np.ndarray, lengths: np.ndarray) -> tuple[Tensor, np.ndarray]:
        mask = padding_mask(lengths, T=src.shape[1])  # (B, 1, 1, S)
        return self.encoder(self.src_embed(src), mask), mask

    def forward(self, src: TokensLike, tgt_in: TokensLike, src_lengths: Any = None) -> Tensor:
        """src (B, S), tgt_in (B, T) -> logits (B, T, tgt_vocab_size)."""
        src = as_tokens(src, "Transformer: src")
        tgt = as_tokens(tgt_in, "Transformer: tgt_in")
        if src.shape[0] != tgt.shape[0]:
            raise ValueError(f"Transformer: src {src.shape} and tgt_in {tgt.shape} have different batch sizes")
        memory, mask = self._memory(src, self.source_lengths(src, src_lengths))
        x = self.decoder(self.tgt_embed(tgt), memory, causal_mask(tgt.shape[1]), mask)  # (B, T, d)
        return self._logits(x)

    def encode(self, src: np.ndarray, src_lengths: np.ndarray) -> dict:
        """State: ``memory`` (B, S, d), ``memory_mask`` (B, 1, 1, S), per layer a (self, cross)
        ``KVCache`` pair in ``caches``, and ``position`` (the next target position)."""
        memory, mask = self._memory(src, src_lengths)
        caches = [(KVCache(), KVCache(static=True)) for _ in self.decoder.layers]
        return {"memory": memory, "memory_mask": mask, "caches": caches, "position": 0}

    def decode_step(self, tokens: np.ndarray, state: dict) -> tuple[Tensor, dict, np.ndarray]:
        """tokens (N,) -> (logits (N, V), state, attention (N, S): the last layer's cross-attention
        weights averaged over heads)."""
        N = tokens.shape[0]
        position = state["position"]
        x = self.tgt_embed(tokens.reshape(N, 1), offset=position)  # (N, 1, d)
        x = self.decoder(x, state["memory"], None, state["memory_mask"], state["caches"])  # (N, 1, d)
        weights = self.decoder.layers[-1].cross_attn.last_weights.mean(axis=1)[:, 0]  # (N, S)
        logits = self._logits(x.reshape(N, self.config.d_model))  # (N, 1, d) -> (N, V)
        return logits, dict(state, position=position + 1), weights


class TransformerEncoderModel(Seq2Seq):
    """Self-attention encoder only: one output distribution per input position.

    Submodules: ``embed`` (token embedding + positions), ``encoder``, ``out_proj`` Linear(d, V)
    (or, with ``tie_embeddings`` and equal vocabularies, the embedding matrix).
    ``forward(src, tgt_in=None)`` ignores ``tgt_in``; ``greedy_decode`` is the per-position
    argmax and ``beam_search`` the exact k best sequences of independent positions.
    """

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int | None = None, config: TransformerConfig | None = None,
                 pad_id: int = 0, bos_id: int = 1, eos_id: int = 2):
        super().__init__(pad_id, bos_id, eos_id)
        cfg = (config or TransformerConfig()).validate()
        tgt_vocab_size = src_vocab_size if tgt_vocab_size is None else tgt_vocab_size
        check_int("TransformerEncoderModel", "src_vocab_size", src_vocab_size)
        check_int("TransformerEncoderModel", "tgt_vocab_size", tgt_vocab_size)
        if cfg.tie_embeddings and src_vocab_size != tgt_vocab_size:
            raise ValueError(
                f"encoder: tie_embeddings needs src_vocab_size == tgt_vocab_size, got {src_vocab_size} and {tgt_vocab_size}"
            )
        self.config = cfg
        self.src_vocab_size, self.tgt_vocab_size = src_vocab_size, tgt_vocab_size
        self.embed = _Embed(src_vocab_size, cfg.d_model, cfg.dropout, pad_id)
        self.encoder = TransformerEncoder(cfg)
        self.out_proj = None if cfg.tie_embeddings else Linear(cfg.d_model, tgt_vocab_size)

    def _run(self, src: np.ndarray, lengths: np.ndarray) -> Tensor:
        x = self.encoder(self.embed(src), padding_mask(lengths, T=src.shape[1]))  # (B, S, d)
        return linear(x, self.embed.embed.weight) if self.out_proj is None else self.out_proj(x)

    def forward(self, src: TokensLike, tgt_in: TokensLike = None, src_lengths: Any = None) -> Tensor:
        """src (B, S) -> logits (B, S, tgt_vocab_size); ``tgt_in`` is ignored."""
        src = as_tokens(src, "TransformerEncoderModel: src")
        return self._run(src, self.source_lengths(src, src_lengths))

    def _predict(self, src: TokensLike, src_lengths: Any, max_len: int | None) -> tuple:
        """Under no_grad and in eval mode: (src, lengths, logits (B, S, V), attention (B, L, S), L)."""
        src = as_tokens(src, "TransformerEncoderModel: src")
        lengths = self.source_lengths(src, src_lengths)
        S = src.shape[1]
        L = S if max_len is None else min(S, int(max_len))
        with no_grad(), eval_mode(self):
            logits = self._run(src, lengths).data  # (B, S, V)
            weights = self.encoder.layers[-1].self_attn.last_weights.mean(axis=1)  # (B, S, S): heads averaged
        real = np.arange(S)[None, :] < lengths[:, None]  # (B, S)
        attention = np.where(real[:, :, None], weights, 0.0)[:, :L]  # zero on padded rows
        return src, lengths, logits, attention, L

    def greedy_decode(self, src: TokensLike, max_len: int | None = None,
                      src_lengths: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Per-position argmax -> ``(tokens (B, L) int64, attention (B, L, S))``, L = min(S, max_len).

        Positions past a row's length are PAD; ``attention`` is the last layer's self-attention
        averaged over heads (zero on padded rows). Runs under ``no_grad`` in evaluation mode.
        """
        src, lengths, logits, attention, L = self._predict(src, src_lengths, max_len)
        real = np.arange(L)[None, :] < lengths[:, None]  # (B, L)
        tokens = np.where(real, logits[:, :L].argmax(axis=-1), self.pad_id).astype(np.int64)
        return tokens, attention

    def beam_search(self, src: TokensLike, beam_size: int | None = None, max_len: int | None = None,
                    length_penalty: float = 1.0, src_lengths: Any = None, *,
                    beam: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The ``beam_size`` most likely outputs (positions are independent, so the search keeps
        the exact k best). Returns ``(tokens (B, K, L), scores (B, K), attention (B, K, L, S))``,
        best first; scores are ``sum log p / length ** length_penalty`` (length = the source
        length); the attention is ``greedy_decode``'s, the same for every hypothesis."""
        beam_size = resolve_beam_size(beam_size, beam)
        if beam_size < 1:
            raise ValueError(f"beam_search: beam_size must be at least 1, got {beam_size}")
        src, lengths, logits, attention, L = self._predict(src, src_lengths, max_len)
        B = src.shape[0]
        logp = log_softmax_array(logits)  # (B, S, V) float64
        V = logp.shape[-1]
        scores = np.zeros((B, 1))
        seqs = np.zeros((B, 1, 0), dtype=np.int64)
        for t in range(L):
            step = np.where((lengths > t)[:, None], logp[:, t], -np.inf)  # (B, V)
            step[lengths <= t, self.pad_id] = 0.0
            cand = (scores[:, :, None] + step[:, None, :]).reshape(B, -1)  # (B, K_prev * V)
            k = min(beam_size, cand.shape[1])
            top = np.argsort(-cand, axis=1, kind="stable")[:, :k]  # (B, k)
            parent, token = top // V, top % V
            seqs = np.concatenate([np.take_along_axis(seqs, parent[:, :, None], axis=1), token[:, :, None]], axis=2)
            scores = np.take_along_axis(cand, top, axis=1)
        K = scores.shape[1]
        if K < beam_size:  # fewer distinct outputs than beams
            seqs = np.concatenate([seqs, np.full((B, beam_size - K, L), self.pad_id, dtype=np.int64)], axis=1)
            scores = np.concatenate([scores, np.full((B, beam_size - K), -np.inf)], axis=1)
        norm = np.maximum(np.minimum(lengths, L), 1).astype(np.float64)[:, None] ** length_penalty
        return seqs, scores / norm, np.repeat(attention[:, None], beam_size, axis=1)  # (B, K, L, S)
