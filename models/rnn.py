"""RNN encoder-decoder models, with or without attention.

- Sutskever, Vinyals and Le (2014), "Sequence to Sequence Learning with Neural Networks":
  a recurrent encoder whose final state starts a recurrent decoder (``attention=None``).
- Bahdanau, Cho and Bengio (2015), "Neural Machine Translation by Jointly Learning to Align
  and Translate": at step t the previous decoder state s_{t-1} scores every encoder state
  (additive attention); the context c_t is fed to the cell with the previous token, and the
  output layer reads [s_t; c_t] (``attention="bahdanau"``).
- Luong, Pham and Manning (2015), "Effective Approaches to Attention-based Neural Machine
  Translation": the new state s_t scores the encoder states (``dot``/``general``/``concat``),
  the attentional state h~_t = tanh(W_c [c_t; s_t]) feeds the output layer and, as "input
  feeding", the next step's cell (``attention="luong"``).

One model class, ``RNNSeq2Seq``, covers the three; ``models.build("rnn" | "rnn-attn" |
"rnn-luong", ...)`` picks the attention. Example, one training step's shapes::

    src (B, S) --src_embed--> (B, S, E) --encoder (GRU/LSTM, lengths)--> keys (B, S, D*H), h_n (L*D, B, H)
    h_n --bridge (bidirectional only)--> decoder state (L, B, H)
    tgt_in (B, T) --tgt_embed--> (B, T, E) --T decoder steps--> features (B, T, F) --out_proj--> logits (B, T, V)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from minigrad import Tensor, concat, stack, tanh, zeros
from minigrad import functional as F
from minigrad.nn import GRU, LSTM, Dropout, Embedding, GRUCell, Linear, LSTMCell, ModuleList
from minigrad.rng import default_generator

from .attention import LUONG_SCORES, BahdanauAttention, LuongAttention
from .base import Seq2Seq, TokensLike, as_tokens, check_int, check_probability, linear_parameters

CELLS = ("gru", "lstm")
GATES = {"gru": 3, "lstm": 4}  # G: the rows of W_ih and W_hh are G * hidden_dim
ATTENTIONS = (None, "bahdanau", "luong")


@dataclass
class RNNConfig:
    """Hyper-parameters of the RNN family (``rnn``, ``rnn-attn``, ``rnn-luong``)."""

    embed_dim: int = 64  # token embedding size, source and target
    hidden_dim: int = 128  # RNN state size (per direction in the encoder); also the attention size
    num_layers: int = 1  # stacked layers, in the encoder and in the decoder
    cell: str = "gru"  # "gru" or "lstm"
    bidirectional: bool = False  # bidirectional encoder; its final states are bridged to hidden_dim
    dropout: float = 0.0  # on embeddings, between stacked layers and before the output projection
    teacher_forcing_ratio: float = 1.0  # training: probability of feeding the gold previous token (else the model's argmax)
    luong_score: str = "general"  # rnn-luong only: "dot", "general" or "concat"

    def validate(self) -> "RNNConfig":
        """Raise ValueError naming the first inconsistent field; return self."""
        owner = "RNNConfig"
        for name in ("embed_dim", "hidden_dim", "num_layers"):
            check_int(owner, name, getattr(self, name))
        if self.cell not in CELLS:
            raise ValueError(f"{owner}: cell must be one of {', '.join(CELLS)}, got {self.cell!r}")
        if not isinstance(self.bidirectional, (bool, np.bool_)):
            raise ValueError(f"{owner}: bidirectional must be True or False, got {self.bidirectional!r}")
        check_probability(owner, "dropout", self.dropout, upper_open=True)
        check_probability(owner, "teacher_forcing_ratio", self.teacher_forcing_ratio)
        if self.luong_score not in LUONG_SCORES:
            raise ValueError(f"{owner}: luong_score must be one of {', '.join(LUONG_SCORES)}, got {self.luong_score!r}")
        return self


def rnn_parameter_count(config: RNNConfig, src_vocab_size: int, tgt_vocab_size: int,
                        attention: str | None = None) -> int:
    """How many parameters ``RNNSeq2Seq(src_vocab_size, tgt_vocab_size, config, attention)`` has,
    counted from the sizes alone (nothing is allocated), submodule by submodule as it builds them."""
    E, H, L = config.embed_dim, config.hidden_dim, config.num_layers
    D = 2 if config.bidirectional else 1
    enc_dim = D * H
    gates = GATES[config.cell]
    count = (src_vocab_size + tgt_vocab_size) * E + _recurrent_parameters(gates, E, H, L, D)
    if config.bidirectional:
        count += linear_parameters(enc_dim, H) * (2 if config.cell == "lstm" else 1)  # bridge_h (and bridge_c)
    if attention is None:
        return count + _recurrent_parameters(gates, E, H, L, 1) + linear_parameters(H, tgt_vocab_size)
    extra = enc_dim if attention == "bahdanau" else H
    count += _cell_parameters(gates, E + extra, H) + (L - 1) * _cell_parameters(gates, H, H)
    if attention == "bahdanau":
        attend = linear_parameters(H, H, bias=False) + linear_parameters(enc_dim, H) + linear_parameters(H, 1, bias=False)
        return count + attend + linear_parameters(H + enc_dim, tgt_vocab_size)
    score = {"dot": 0, "general": linear_parameters(enc_dim, H, bias=False),
             "concat": linear_parameters(H, H, bias=False) + linear_parameters(enc_dim, H) + linear_parameters(H, 1, bias=False)}
    combine = linear_parameters(enc_dim + H, H, bias=False)
    return count + score[config.luong_score] + combine + linear_parameters(H, tgt_vocab_size)


def _cell_parameters(gates: int, input_size: int, hidden_size: int) -> int:
    """weight_ih (G*H, in), weight_hh (G*H, H) and the two (G*H,) biases of one cell."""
    rows = gates * hidden_size
    return rows * (input_size + hidden_size) + 2 * rows


def _recurrent_parameters(gates: int, input_size: int, hidden_size: int, num_layers: int, directions: int) -> int:
    """A GRU/LSTM stack: one cell per layer and direction; layers past the first read directions * H."""
    first = _cell_parameters(gates, input_size, hidden_size)
    rest = _cell_parameters(gates, directions * hidden_size, hidden_size)
    return directions * (first + (num_layers - 1) * rest)


class RNNSeq2Seq(Seq2Seq):
    """GRU/LSTM encoder-decoder with optional attention (``None``, ``"bahdanau"``, ``"luong"``).

    Submodules: ``src_embed``, ``tgt_embed`` (Embedding, PAD row zero), ``encoder`` (GRU or
    LSTM, ``batch_first``), ``bridge_h`` (and ``bridge_c`` for the LSTM) Linear(2H, H) with a
    bidirectional encoder, ``decoder`` (a GRU/LSTM without attention, else a ModuleList of
    cells, layer 0 reading [embedding; context] (Bahdanau) or [embedding; h~_{t-1}] (Luong)),
    ``attention``, ``combine`` (Luong's W_c, Linear(D*H + H, H, bias=False)), ``dropout`` and
    ``out_proj`` Linear(F, V) with F = H + D*H (Bahdanau: [s_t; c_t]) or H.

    Without attention and with full teacher forcing the decoder runs over the whole target
    at once; otherwise it steps one token at a time. Training with
    ``teacher_forcing_ratio < 1`` feeds, per sequence and step, the model's own previous
    argmax with probability 1 - ratio (drawn from the library generator).
    """

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, config: RNNConfig | None = None,
                 attention: str | None = None, pad_id: int = 0, bos_id: int = 1, eos_id: int = 2):
        super().__init__(pad_id, bos_id, eos_id)
        cfg = (config or RNNConfig()).validate()
        check_int("RNNSeq2Seq", "src_vocab_size", src_vocab_size)
        check_int("RNNSeq2Seq", "tgt_vocab_size", tgt_vocab_size)
        if attention not in ATTENTIONS:
            raise ValueError(f"RNNSeq2Seq: attention must be one of None, 'bahdanau', 'luong', got {attention!r}")
        E, H, L = cfg.embed_dim, cfg.hidden_dim, cfg.num_layers
        D = 2 if cfg.bidirectional else 1
        enc_dim = D * H
        if attention == "luong" and cfg.luong_score == "dot" and enc_dim != H:
            raise ValueError(
                f"rnn-luong: luong_score='dot' needs the encoder output size ({enc_dim} = 2 * hidden_dim with "
                f"bidirectional=True) to equal hidden_dim ({H}); use luong_score='general' or 'concat'"
            )
        self.config = cfg
        self.attention_type = attention
        self.src_vocab_size, self.tgt_vocab_size = src_vocab_size, tgt_vocab_size
        self.hidden_dim, self.num_layers, self.enc_dim = H, L, enc_dim
        self.is_lstm = cfg.cell == "lstm"
        Recurrent = LSTM if self.is_lstm else GRU
        Cell = LSTMCell if self.is_lstm else GRUCell
        between = cfg.dropout if L > 1 else 0.0

        self.src_embed = Embedding(src_vocab_size, E, padding_idx=pad_id)
        self.tgt_embed = Embedding(tgt_vocab_size, E, padding_idx=pad_id)
        self.encoder = Recurrent(E, H, num_layers=L, dropout=between, bidirectional=cfg.bidirectional)
        if cfg.bidirectional:
            self.bridge_h = Linear(enc_dim, H)
            if self.is_lstm:
                self.bridge_c = Linear(enc_dim, H)
        if attention is None:
            self.decoder = Recurrent(E, H, num_layers=L, dropout=between)
            features = H
        else:
            extra = enc_dim if attention == "bahdanau" else H
            self.decoder = ModuleList([Cell(E + extra if layer == 0 else H, H) for layer in range(L)])
            if attention == "bahdanau":
                self.attention = BahdanauAttention(H, enc_dim, H)
                features = H + enc_dim
            else:
                self.attention = LuongAttention(H, enc_dim, cfg.luong_score, hidden_dim=H)
                self.combine = Linear(enc_dim + H, H, bias=False)
                features = H
        self.dropout = Dropout(cfg.dropout)
        self.out_proj = Linear(features, tgt_vocab_size)

    # ------------------------------------------------------------------ encoder
    def _bridge(self, finals: Tensor, bridge: Linear | None, squash: bool) -> Tensor:
        """(L*D, B, H) final encoder states -> (L, B, H) initial decoder states."""
        if bridge is None:
            return finals
        LD, B, H = finals.shape
        both = finals.reshape(LD // 2, 2, B, H).transpose(0, 2, 1, 3).reshape(LD // 2, B, 2 * H)  # (L, B, 2H): [fwd; bwd]
        out = bridge(both)  # (L, B, H)
        return tanh(out) if squash else out

    def _encode(self, src: np.ndarray, src_lengths: np.ndarray) -> tuple[Tensor, Tensor, Tensor | None, np.ndarray]:
        """-> (keys (B, S, D*H), h0 (L, B, H), c0 (L, B, H) or None, the lengths the encoder ran with).

        An empty source (length 0) is read as its first (PAD) position.
        """
        lengths = np.maximum(src_lengths, 1)
        emb = self.dropout(self.src_embed(src))  # (B, S, E)
        if self.is_lstm:
            keys, (h_n, c_n) = self.encoder(emb, lengths=lengths)
        else:
            (keys, h_n), c_n = self.encoder(emb, lengths=lengths), None
        bidir = self.config.bidirectional
        h0 = self._bridge(h_n, self.bridge_h if bidir else None, squash=True)  # (L, B, H)
        c0 = None if c_n is None else self._bridge(c_n, self.bridge_c if bidir else None, squash=False)
        return keys, h0, c0, lengths

    def encode(self, src: np.ndarray, src_lengths: np.ndarray) -> dict:
        """The decoder state before the first step: a dict whose leaves have the batch first.

        ``hidden``: per decoder layer s (B, H), or (h, c) for the LSTM; with attention also
        ``keys`` (B, S, D*H), their ``precomputed`` projection, ``mask`` (B, S) and, for Luong,
        ``feed`` h~_0 = 0 (B, H).
        """
        keys, h0, c0, lengths = self._encode(src, src_lengths)
        B, S = src.shape
        state: dict = {"hidden": [h0[layer] if c0 is None else (h0[layer], c0[layer]) for layer in range(self.num_layers)]}
        if self.attention_type is None:
            return state
        state["keys"] = keys
        state["precomputed"] = self.attention.precompute(keys)  # once per sequence, not per step
        state["mask"] = np.arange(S)[None, :] < lengths[:, None]  # (B, S), True at real positions
        if self.attention_type == "luong":
            state["feed"] = zeros(B, self.hidden_dim, dtype=self.out_proj.weight.dtype)
        return state

    # ------------------------------------------------------------------ one decoder step
    def _step(self, x: Tensor, state: dict) -> tuple[list[Tensor], dict, np.ndarray | None]:
        """x (B, E) embedded previous tokens -> (output features, new state, attention (B, S) or None).

        The features are the pieces the output layer reads ([s_t, c_t] for Bahdanau, [h~_t]
        for Luong, [s_t] without attention), concatenated by the caller.
        """
        kind = self.attention_type
        if kind is None:
            B, E = x.shape
            layers = state["hidden"]
            if self.is_lstm:
                hc = (stack([h for h, _ in layers]), stack([c for _, c in layers]))  # each (L, B, H)
                out, (h, c) = self.decoder(x.reshape(B, 1, E), hc)  # out (B, 1, H)
                layers = [(h[layer], c[layer]) for layer in range(self.num_layers)]
            else:
                out, h = self.decoder(x.reshape(B, 1, E), stack(layers))  # x as a length-1 sequence (B, 1, E)
                layers = [h[layer] for layer in range(self.num_layers)]
            return [out.reshape(B, self.hidden_dim)], {"hidden": layers}, None  # (B, 1, H) -> (B, H)
        hidden = state["hidden"]
        weights = None
        if kind == "bahdanau":
            query = hidden[-1][0] if self.is_lstm else hidden[-1]  # s_{t-1} of the top layer
            context, weights = self.attention(query, state["keys"], state["mask"], precomputed=state["precomputed"])
            inp = concat([x, context], axis=-1)  # (B, E + D*H)
        else:
            inp = concat([x, state["feed"]], axis=-1)  # (B, E + H): input feeding
        new_hidden = []
        for layer, cell in enumerate(self.decoder):
            if layer > 0:
                inp = self.dropout(inp)
            s = cell(inp, hidden[layer])
            new_hidden.append(s)
            inp = s[0] if self.is_lstm else s
        top = inp  # s_t (B, H)
        new_state = dict(state, hidden=new_hidden)
        if kind == "bahdanau":
            return [top, context], new_state, weights.data
        context, weights = self.attention(top, state["keys"], state["mask"], precomputed=state["precomputed"])
        feed = tanh(self.combine(concat([context, top], axis=-1)))  # h~_t (B, H)
        new_state["feed"] = feed
        return [feed], new_state, weights.data

    @staticmethod
    def _join(features: list[Tensor]) -> Tensor:
        return features[0] if len(features) == 1 else concat(features, axis=-1)

    def decode_step(self, tokens: np.ndarray, state: dict) -> tuple[Tensor, dict, np.ndarray | None]:
        """tokens (N,) -> (logits (N, V), state, attention (N, S) or None)."""
        features, state, weights = self._step(self.tgt_embed(tokens), state)
        return self.out_proj(self._join(features)), state, weights

    # ------------------------------------------------------------------ training
    def forward(self, src: TokensLike, tgt_in: TokensLike, src_lengths: Any = None) -> Tensor:
        """src (B, S), tgt_in (B, T) -> logits (B, T, tgt_vocab_size)."""
        src = as_tokens(src, "RNNSeq2Seq: src")
        tgt = as_tokens(tgt_in, "RNNSeq2Seq: tgt_in")
        if src.shape[0] != tgt.shape[0]:
            raise ValueError(f"RNNSeq2Seq: src {src.shape} and tgt_in {tgt.shape} have different batch sizes")
        lengths = self.source_lengths(src, src_lengths)
        B, T = tgt.shape
        ratio = self.config.teacher_forcing_ratio
        sampled = self.training and ratio < 1.0
        if self.attention_type is None and not sampled:
            _, h0, c0, _ = self._encode(src, lengths)
            emb = self.dropout(self.tgt_embed(tgt))  # (B, T, E)
            out, _ = self.decoder(emb, h0 if c0 is None else (h0, c0))  # (B, T, H): the whole target at once
            return self.out_proj(self.dropout(out))
        state = self.encode(src, lengths)
        if sampled:
            return self._forward_sampled(tgt, state, ratio)
        emb = self.dropout(self.tgt_embed(tgt))  # (B, T, E): one lookup for every step
        if self.attention_type == "bahdanau" and self.num_layers == 1:
            return self.out_proj(self.dropout(self._decode_bahdanau(emb, state)))  # (B, T, V)
        steps = []
        for t in range(T):
            features, state, _ = self._step(emb[:, t], state)
            steps.append(features)
        # stack each feature over time, then one concat and one projection for all steps
        columns = [stack([f[i] for f in steps], axis=1) for i in range(len(steps[0]))]  # each (B, T, F_i)
        return self.out_proj(self.dropout(self._join(columns)))  # (B, T, V)

    def _decode_bahdanau(self, emb: Tensor, state: dict) -> Tensor:
        """All T steps of the one-layer Bahdanau decoder, the [s_t; c_t] that ``_step`` gives per step,
        as one fused ``F.bahdanau_decoder`` call: emb (B, T, E) -> features (B, T, H + D*H).

        Per step: c_t = attention(s_{t-1}, keys); s_t = cell([emb_t; c_t], s_{t-1}).
        """
        cell = self.decoder[0]
        h0, c0 = state["hidden"][0] if self.is_lstm else (state["hidden"][0], None)
        att = self.attention
        features, _ = F.bahdanau_decoder(
            emb, h0, c0, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh, att.query_proj.weight,
            state["precomputed"], att.v.weight, state["keys"], mask=state["mask"], cell=self.config.cell)
        return features

    def _forward_sampled(self, tgt: np.ndarray, state: dict, ratio: float) -> Tensor:
        """Teacher forcing with probability ``ratio`` per sequence and step, else the model's argmax."""
        B, T = tgt.shape
        rng = default_generator()
        tokens = tgt[:, 0]
        logits = []
        for t in range(T):
            features, state, _ = self._step(self.dropout(self.tgt_embed(tokens)), state)
            step_logits = self.out_proj(self.dropout(self._join(features)))  # (B, V)
            logits.append(step_logits)
            if t + 1 < T:
                gold = rng.random(B) < ratio
                tokens = np.where(gold, tgt[:, t + 1], step_logits.data.argmax(axis=-1))
        return stack(logits, axis=1)  # (B, T, V)

    def extra_repr(self) -> str:
        return f"attention={self.attention_type!r}, cell={self.config.cell!r}"
