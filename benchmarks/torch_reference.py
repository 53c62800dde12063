"""PyTorch versions of minigrad's models, for the benchmarks (never a runtime dependency).

Each class is the architecture of ``models.build(name, ...)`` written the way a PyTorch user
would write it, with the same layers, sizes, initialisation, attention formulation and the
same parameter names, so that ``model.load_state_dict(minigrad_state)`` maps one-to-one
(``load_minigrad_state``) and both compute the same logits (tested in
``tests/perf/test_torch_reference.py``):

- ``rnn``: GRU/LSTM encoder (packed sequences when lengths differ), its final state starts a
  GRU/LSTM decoder run over the whole target at once (teacher forcing).
- ``rnn-attn``: Bahdanau attention, ``v^T tanh(W_q s_{t-1} + W_k k_j + b)``; the decoder cell
  reads [embedding; context] and the output layer [s_t; c_t].
- ``rnn-luong``: Luong attention (``general`` by default, ``dot``, ``concat``), unscaled scores of
  s_t; h~_t = tanh(W_c [c_t; s_t]) feeds the output layer and the next step (input feeding).
- ``transformer``: pre-norm (or post-norm) encoder-decoder, embeddings scaled by sqrt(d) plus
  sinusoidal positions, multi-head attention through ``F.scaled_dot_product_attention`` with
  separate q/k/v/out projections, padding and causal masks, ReLU or GELU feed-forward.
- ``lm``: the decoder-only language model, token plus learned position embeddings, pre-norm
  blocks (the Transformer's ``EncoderLayer``) under a causal mask, a final LayerNorm and the
  tied token embedding (or ``lm_head``) as output layer; GPT-2 initialisation.

Supported hyper-parameters are those of ``models.config_for(name)`` except
``bidirectional=True`` and ``teacher_forcing_ratio < 1`` (ValueError). Token conventions:
PAD=0, BOS=1, EOS=2 (the seq2seq models; ``lm`` has no special ids). Inputs are int64 ndarrays
or tensors (B, T).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

PAD, BOS, EOS = 0, 1, 2

RNN_DEFAULTS = dict(embed_dim=64, hidden_dim=128, num_layers=1, cell="gru", bidirectional=False, dropout=0.0,
                    teacher_forcing_ratio=1.0, luong_score="general")
TRANSFORMER_DEFAULTS = dict(d_model=64, num_heads=4, ff_dim=256, num_layers=2, dropout=0.0, activation="relu",
                            norm_first=True, tie_embeddings=False)
LM_DEFAULTS = dict(d_model=64, num_heads=4, ff_dim=256, num_layers=2, block_size=64, dropout=0.0, activation="gelu",
                   tie_embeddings=True)
NAMES = ("rnn", "rnn-attn", "rnn-luong", "transformer", "lm")


def _tokens(x: Any) -> torch.Tensor:
    return x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x), dtype=torch.long)


def _lengths(src: torch.Tensor, src_lengths: Any) -> torch.Tensor:
    if src_lengths is None:
        return (src != PAD).sum(dim=1)
    return _tokens(src_lengths)


# =============================================================================== RNN family


class BahdanauAttention(nn.Module):
    """score(q, k_j) = v^T tanh(W_q q + W_k k_j + b); values = keys."""

    def __init__(self, query_dim: int, key_dim: int, hidden_dim: int):
        super().__init__()
        self.query_proj = nn.Linear(query_dim, hidden_dim, bias=False)
        self.key_proj = nn.Linear(key_dim, hidden_dim)
        self.v = nn.Linear(hidden_dim, 1, bias=False)

    def precompute(self, keys: torch.Tensor) -> torch.Tensor:
        return self.key_proj(keys)  # (B, S, A)

    def forward(self, query, keys, pre, mask):
        hidden = torch.tanh(pre + self.query_proj(query).unsqueeze(1))  # (B, S, A)
        scores = self.v(hidden).squeeze(-1).masked_fill(~mask, float("-inf"))  # (B, S)
        weights = torch.softmax(scores, dim=-1)
        return torch.bmm(weights.unsqueeze(1), keys).squeeze(1), weights  # (B, Dk)


class LuongAttention(nn.Module):
    """Unscaled dot/general scores of the new state, or additive ``concat``; values = keys."""

    def __init__(self, query_dim: int, key_dim: int, score: str, hidden_dim: int):
        super().__init__()
        self.score = score
        if score == "general":
            self.proj = nn.Linear(key_dim, query_dim, bias=False)
        elif score == "concat":
            self.query_proj = nn.Linear(query_dim, hidden_dim, bias=False)
            self.key_proj = nn.Linear(key_dim, hidden_dim)
            self.v = nn.Linear(hidden_dim, 1, bias=False)

    def precompute(self, keys: torch.Tensor) -> torch.Tensor:
        if self.score == "dot":
            return keys
        return self.proj(keys) if self.score == "general" else self.key_proj(keys)

    def forward(self, query, keys, pre, mask):
        if self.score == "concat":
            hidden = torch.tanh(pre + self.query_proj(query).unsqueeze(1))
            scores = self.v(hidden).squeeze(-1)
        else:
            scores = torch.bmm(pre, query.unsqueeze(2)).squeeze(2)  # (B, S)
        weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
        return torch.bmm(weights.unsqueeze(1), keys).squeeze(1), weights


class RNNSeq2Seq(nn.Module):
    """``models.rnn.RNNSeq2Seq`` in PyTorch (unidirectional encoder, full teacher forcing)."""

    def __init__(self, src_vocab: int, tgt_vocab: int, attention: str | None, **hyper: Any):
        super().__init__()
        cfg = {**RNN_DEFAULTS, **hyper}
        unknown = set(hyper) - set(RNN_DEFAULTS)
        if unknown:
            raise ValueError(f"torch_reference: unknown hyper-parameters {sorted(unknown)}")
        if cfg["bidirectional"] or cfg["teacher_forcing_ratio"] != 1.0:
            raise ValueError("torch_reference: bidirectional encoders and teacher_forcing_ratio < 1 are not supported")
        E, H, L = cfg["embed_dim"], cfg["hidden_dim"], cfg["num_layers"]
        self.attention_type, self.hidden_dim, self.num_layers = attention, H, L
        self.is_lstm = cfg["cell"] == "lstm"
        Recurrent = nn.LSTM if self.is_lstm else nn.GRU
        Cell = nn.LSTMCell if self.is_lstm else nn.GRUCell
        between = cfg["dropout"] if L > 1 else 0.0
        self.src_embed = nn.Embedding(src_vocab, E, padding_idx=PAD)
        self.tgt_embed = nn.Embedding(tgt_vocab, E, padding_idx=PAD)
        self.encoder = Recurrent(E, H, num_layers=L, dropout=between, batch_first=True)
        if attention is None:
            self.decoder = Recurrent(E, H, num_layers=L, dropout=between, batch_first=True)
            features = H
        else:
            self.decoder = nn.ModuleList([Cell(E + H if layer == 0 else H, H) for layer in range(L)])
            if attention == "bahdanau":
                self.attention = BahdanauAttention(H, H, H)
                features = 2 * H
            else:
                self.attention = LuongAttention(H, H, cfg["luong_score"], H)
                self.combine = nn.Linear(2 * H, H, bias=False)
                features = H
        self.dropout = nn.Dropout(cfg["dropout"])
        self.out_proj = nn.Linear(features, tgt_vocab)

    # --- encoder
    def _encode(self, src: torch.Tensor, lengths: torch.Tensor):
        lengths = lengths.clamp(min=1)
        emb = self.dropout(self.src_embed(src))  # (B, S, E)
        S = src.shape[1]
        if bool((lengths == S).all()):
            keys, final = self.encoder(emb)
        else:
            packed = nn.utils.rnn.pack_padded_sequence(emb, lengths, batch_first=True, enforce_sorted=False)
            keys, final = self.encoder(packed)
            keys, _ = nn.utils.rnn.pad_packed_sequence(keys, batch_first=True, total_length=S)
        mask = torch.arange(S)[None, :] < lengths[:, None]  # (B, S)
        return keys, final, mask

    def _init_state(self, src, lengths):
        keys, final, mask = self._encode(src, lengths)
        if self.attention_type is None:
            return {"final": final}
        if self.is_lstm:
            hidden = [(final[0][layer], final[1][layer]) for layer in range(self.num_layers)]
        else:
            hidden = [final[layer] for layer in range(self.num_layers)]
        state = {"hidden": hidden, "keys": keys, "pre": self.attention.precompute(keys), "mask": mask}
        if self.attention_type == "luong":
            state["feed"] = keys.new_zeros(src.shape[0], self.hidden_dim)
        return state

    # --- one decoder step (attention models)
    def _step(self, x: torch.Tensor, state: dict):
        hidden = state["hidden"]
        if self.attention_type == "bahdanau":
            query = hidden[-1][0] if self.is_lstm else hidden[-1]
            context, _ = self.attention(query, state["keys"], state["pre"], state["mask"])
            inp = torch.cat([x, context], dim=-1)
        else:
            inp = torch.cat([x, state["feed"]], dim=-1)
        new_hidden = []
        for layer, cell in enumerate(self.decoder):
            if layer > 0:
                inp = self.dropout(inp)
            s = cell(inp, hidden[layer])
            new_hidden.append(s)
            inp = s[0] if self.is_lstm else s
        new_state = dict(state, hidden=new_hidden)
        if self.attention_type == "bahdanau":
            return torch.cat([inp, context], dim=-1), new_state
        context, _ = self.attention(inp, state["keys"], state["pre"], state["mask"])
        feed = torch.tanh(self.combine(torch.cat([context, inp], dim=-1)))
        new_state["feed"] = feed
        return feed, new_state

    def forward(self, src, tgt_in, src_lengths=None) -> torch.Tensor:
        """src (B, S), tgt_in (B, T) -> logits (B, T, V)."""
        src, tgt = _tokens(src), _tokens(tgt_in)
        state = self._init_state(src, _lengths(src, src_lengths))
        emb = self.dropout(self.tgt_embed(tgt))  # (B, T, E)
        if self.attention_type is None:
            out, _ = self.decoder(emb, state["final"])  # the whole target at once
            return self.out_proj(self.dropout(out))
        features = []
        for t in range(tgt.shape[1]):
            f, state = self._step(emb[:, t], state)
            features.append(f)
        return self.out_proj(self.dropout(torch.stack(features, dim=1)))  # (B, T, V)

    def decode_step(self, tokens: torch.Tensor, state: dict):
        emb = self.tgt_embed(tokens)  # (N, E)
        if self.attention_type is None:
            out, final = self.decoder(emb.unsqueeze(1), state["final"])
            return self.out_proj(out[:, 0]), {"final": final}
        f, state = self._step(emb, state)
        return self.out_proj(f), state

    def encode(self, src: torch.Tensor, lengths: torch.Tensor) -> dict:
        return self._init_state(src, lengths)


# =============================================================================== Transformer


def sinusoidal_positions(T: int, d_model: int) -> torch.Tensor:
    """(T, d): PE[t, 2i] = sin(t / 10000^(2i/d)), PE[t, 2i+1] = cos(...), as minigrad's."""
    position = np.arange(T, dtype=np.float64)[:, None]
    rate = np.exp(-math.log(10000.0) * np.arange(0, d_model, 2, dtype=np.float64) / d_model)
    table = np.zeros((T, d_model))
    table[:, 0::2] = np.sin(position * rate)
    table[:, 1::2] = np.cos(position * rate[: d_model // 2])
    return torch.tensor(table, dtype=torch.float32)


class MultiHeadAttention(nn.Module):
    """Separate q/k/v/out projections; head h uses features h*Dh:(h+1)*Dh; fused SDPA."""

    def __init__(self, d: int, heads: int, dropout: float):
        super().__init__()
        self.heads, self.head_dim, self.p = heads, d // heads, dropout
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(d, d) for _ in range(4))

    def _split(self, x):
        B, T, _ = x.shape
        return x.view(B, T, self.heads, self.head_dim).transpose(1, 2)  # (B, H, T, Dh)

    def forward(self, query, key, value, mask=None):
        B, T, E = query.shape
        q, k, v = self._split(self.q_proj(query)), self._split(self.k_proj(key)), self._split(self.v_proj(value))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=self.p if self.training else 0.0)
        return self.out_proj(out.transpose(1, 2).reshape(B, T, E))


class FeedForward(nn.Module):
    def __init__(self, d: int, ff: int, dropout: float, activation: str):
        super().__init__()
        self.linear1, self.linear2 = nn.Linear(d, ff), nn.Linear(ff, d)
        self.dropout = nn.Dropout(dropout)
        self.activation = activation

    def forward(self, x):
        h = self.linear1(x)
        h = F.gelu(h) if self.activation == "gelu" else F.relu(h)
        return self.linear2(self.dropout(h))


class EncoderLayer(nn.Module):
    def __init__(self, d, heads, ff, dropout, activation, norm_first):
        super().__init__()
        self.self_attn = MultiHeadAttention(d, heads, dropout)
        self.ff = FeedForward(d, ff, dropout, activation)
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.dropout = nn.Dropout(dropout)
        self.norm_first = norm_first

    def forward(self, x, mask):
        if self.norm_first:
            h = self.norm1(x)
            x = x + self.dropout(self.self_attn(h, h, h, mask))
            return x + self.dropout(self.ff(self.norm2(x)))
        x = self.norm1(x + self.dropout(self.self_attn(x, x, x, mask)))
        return self.norm2(x + self.dropout(self.ff(x)))


class DecoderLayer(nn.Module):
    def __init__(self, d, heads, ff, dropout, activation, norm_first):
        super().__init__()
        self.self_attn = MultiHeadAttention(d, heads, dropout)
        self.cross_attn = MultiHeadAttention(d, heads, dropout)
        self.ff = FeedForward(d, ff, dropout, activation)
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
        self.dropout = nn.Dropout(dropout)
        self.norm_first = norm_first

    def forward(self, x, memory, self_mask, memory_mask):
        if self.norm_first:
            h = self.norm1(x)
            x = x + self.dropout(self.self_attn(h, h, h, self_mask))
            h = self.norm2(x)
            x = x + self.dropout(self.cross_attn(h, memory, memory, memory_mask))
            return x + self.dropout(self.ff(self.norm3(x)))
        x = self.norm1(x + self.dropout(self.self_attn(x, x, x, self_mask)))
        x = self.norm2(x + self.dropout(self.cross_attn(x, memory, memory, memory_mask)))
        return self.norm3(x + self.dropout(self.ff(x)))


class _Stack(nn.Module):
    def __init__(self, layer_cls, cfg):
        super().__init__()
        self.layers = nn.ModuleList([
            layer_cls(cfg["d_model"], cfg["num_heads"], cfg["ff_dim"], cfg["dropout"], cfg["activation"],
                      cfg["norm_first"]) for _ in range(cfg["num_layers"])])
        self.norm = nn.LayerNorm(cfg["d_model"]) if cfg["norm_first"] else None

    def forward(self, x, *args):
        for layer in self.layers:
            x = layer(x, *args)
        return x if self.norm is None else self.norm(x)


class _Embed(nn.Module):
    def __init__(self, vocab: int, d: int, dropout: float):
        super().__init__()
        self.embed = nn.Embedding(vocab, d, padding_idx=PAD)
        with torch.no_grad():
            self.embed.weight.normal_(0.0, d ** -0.5)
            self.embed.weight[PAD] = 0
        self.register_buffer("pos", sinusoidal_positions(512, d), persistent=False)
        self.dropout = nn.Dropout(dropout)
        self.scale = math.sqrt(d)

    def forward(self, tokens):
        return self.dropout(self.embed(tokens) * self.scale + self.pos[: tokens.shape[1]])


class Transformer(nn.Module):
    """``models.transformer.Transformer`` in PyTorch."""

    def __init__(self, src_vocab: int, tgt_vocab: int, **hyper: Any):
        super().__init__()
        unknown = set(hyper) - set(TRANSFORMER_DEFAULTS)
        if unknown:
            raise ValueError(f"torch_reference: unknown hyper-parameters {sorted(unknown)}")
        cfg = {**TRANSFORMER_DEFAULTS, **hyper}
        d = cfg["d_model"]
        self.d_model = d
        self.src_embed = _Embed(src_vocab, d, cfg["dropout"])
        self.tgt_embed = _Embed(tgt_vocab, d, cfg["dropout"])
        self.encoder = _Stack(EncoderLayer, cfg)
        self.decoder = _Stack(DecoderLayer, cfg)
        self.out_proj = None if cfg["tie_embeddings"] else nn.Linear(d, tgt_vocab)

    def _logits(self, x):
        return x @ self.tgt_embed.embed.weight.T if self.out_proj is None else self.out_proj(x)

    def _memory(self, src, lengths):
        mask = (torch.arange(src.shape[1])[None, :] < lengths[:, None])[:, None, None, :]  # (B, 1, 1, S)
        return self.encoder(self.src_embed(src), mask), mask

    def forward(self, src, tgt_in, src_lengths=None):
        src, tgt = _tokens(src), _tokens(tgt_in)
        memory, mask = self._memory(src, _lengths(src, src_lengths))
        T = tgt.shape[1]
        causal = torch.ones(T, T, dtype=torch.bool).tril()
        return self._logits(self.decoder(self.tgt_embed(tgt), memory, causal, mask))

    def encode(self, src, lengths):
        memory, mask = self._memory(src, lengths)
        return {"memory": memory, "mask": mask, "prefix": torch.zeros((src.shape[0], 0), dtype=torch.long)}

    def decode_step(self, tokens, state):
        """Appends ``tokens`` to the prefix and re-runs the decoder over it (no key/value cache:
        decoding is not what the benchmarks time)."""
        prefix = torch.cat([state["prefix"], tokens[:, None]], dim=1)  # (B, t)
        T = prefix.shape[1]
        causal = torch.ones(T, T, dtype=torch.bool).tril()
        x = self.decoder(self.tgt_embed(prefix), state["memory"], causal, state["mask"])
        return self._logits(x[:, -1]), dict(state, prefix=prefix)


# =============================================================================== language model


class LanguageModel(nn.Module):
    """``models.lm.LanguageModel`` in PyTorch: idx (B, T) -> logits (B, T, V), T <= block_size."""

    def __init__(self, vocab_size: int, **hyper: Any):
        super().__init__()
        unknown = set(hyper) - set(LM_DEFAULTS)
        if unknown:
            raise ValueError(f"torch_reference: unknown hyper-parameters {sorted(unknown)}")
        cfg = {**LM_DEFAULTS, **hyper}
        d, self.block_size = cfg["d_model"], cfg["block_size"]
        self.tok_emb = nn.Embedding(vocab_size, d)
        self.pos_emb = nn.Embedding(cfg["block_size"], d)
        self.drop = nn.Dropout(cfg["dropout"])
        self.blocks = nn.ModuleList([
            EncoderLayer(d, cfg["num_heads"], cfg["ff_dim"], cfg["dropout"], cfg["activation"], norm_first=True)
            for _ in range(cfg["num_layers"])])
        self.ln_f = nn.LayerNorm(d)
        self.lm_head = None if cfg["tie_embeddings"] else nn.Linear(d, vocab_size, bias=False)
        # GPT-2: weights N(0, 0.02), biases 0, the two projections into the residual stream scaled down
        residual_std = 0.02 / math.sqrt(2 * cfg["num_layers"])
        for name, module in self.named_modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                std = residual_std if name.endswith(("self_attn.out_proj", "ff.linear2")) else 0.02
                nn.init.normal_(module.weight, 0.0, std)
                if getattr(module, "bias", None) is not None:
                    nn.init.zeros_(module.bias)

    def forward(self, idx) -> torch.Tensor:
        idx = _tokens(idx)
        T = idx.shape[1]
        if T > self.block_size:
            raise ValueError(f"torch_reference.LanguageModel: {T} positions exceed block_size {self.block_size}")
        x = self.drop(self.tok_emb(idx) + self.pos_emb(torch.arange(T)))  # (B, T, d)
        causal = torch.ones(T, T, dtype=torch.bool).tril()
        for block in self.blocks:
            x = block(x, causal)
        x = self.ln_f(x)
        return x @ self.tok_emb.weight.T if self.lm_head is None else self.lm_head(x)  # (B, T, V)


# =============================================================================== API


def build(name: str, src_vocab_size: int, tgt_vocab_size: int | None = None, **hyper: Any) -> nn.Module:
    """The PyTorch twin of ``models.build(name, ...)`` (float32, training mode); ``lm`` takes one
    vocabulary (``build("lm", vocab_size, **hyper)``)."""
    tgt_vocab_size = src_vocab_size if tgt_vocab_size is None else tgt_vocab_size
    if name == "lm":
        if tgt_vocab_size != src_vocab_size:
            raise ValueError(f"torch_reference: model 'lm' has one vocabulary, got {src_vocab_size} and {tgt_vocab_size}")
        return LanguageModel(src_vocab_size, **hyper)
    if name == "transformer":
        return Transformer(src_vocab_size, tgt_vocab_size, **hyper)
    attention = {"rnn": None, "rnn-attn": "bahdanau", "rnn-luong": "luong"}.get(name, "?")
    if attention == "?":
        raise ValueError(f"torch_reference: unknown model {name!r}; valid: {', '.join(NAMES)}")
    return RNNSeq2Seq(src_vocab_size, tgt_vocab_size, attention, **hyper)


def load_minigrad_state(model: nn.Module, state: dict) -> None:
    """Copy a minigrad ``state_dict()`` (name -> ndarray) into ``model`` (same names)."""
    tensors = {k: torch.as_tensor(np.ascontiguousarray(v)) for k, v in state.items()}
    model.load_state_dict(tensors, strict=True)


@torch.no_grad()
def greedy_decode(model: nn.Module, src: Any, max_len: int, src_lengths: Any = None) -> np.ndarray:
    """Most likely token per step, stopping when every row has emitted EOS (PAD after it).

    Same contract as ``models.base.Seq2Seq.greedy_decode`` (without the attention): int64 (B, L).
    """
    was_training = model.training
    model.eval()
    try:
        src = _tokens(src)
        state = model.encode(src, _lengths(src, src_lengths).clamp(min=1))
        B = src.shape[0]
        tokens = torch.full((B,), BOS, dtype=torch.long)
        done = torch.zeros(B, dtype=torch.bool)
        outputs = []
        for _ in range(max_len):
            logits, state = model.decode_step(tokens, state)
            tokens = torch.where(done, torch.full_like(tokens, PAD), logits.argmax(dim=-1))
            outputs.append(tokens)
            done |= tokens == EOS
            if bool(done.all()):
                break
        return torch.stack(outputs, dim=1).numpy()
    finally:
        model.train(was_training)
