"""The interface every sequence-to-sequence model shares, and decoding written once for all.

Sutskever, Vinyals and Le (2014), "Sequence to Sequence Learning with Neural Networks":
an encoder reads the source, a decoder produces the target one token at a time from BOS,
and at test time a left-to-right beam search keeps the ``beam_size`` most likely partial
hypotheses, a hypothesis being complete when it emits EOS.

A model subclasses ``Seq2Seq`` and implements three methods:

- ``forward(src, tgt_in, src_lengths=None) -> logits (B, T, V)`` (training, teacher forcing);
- ``encode(src, src_lengths) -> state``: the decoder state before the first step;
- ``decode_step(tokens (N,), state) -> (logits (N, V), state, attention (N, S) or None)``.

``greedy_decode`` and ``beam_search`` are written here against that protocol. A state is
any nesting of dicts, lists and tuples whose leaves are Tensors, ndarrays (batch on axis 0),
``KVCache``-like objects with a ``select(indices)`` method, or plain Python values; beam search
reorders it with ``select_state``.

Token conventions: PAD=0, BOS=1, EOS=2 by default (constructor arguments ``pad_id``,
``bos_id``, ``eos_id``; this package never imports ``tasks``).
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import numpy as np

from minigrad import Tensor, no_grad
from minigrad.errors import ShapeError
from minigrad.nn import Module

TokensLike = Any  # integer Tensor, ndarray or nested list (B, T)


# =============================================================================== helpers


def as_tokens(tokens: TokensLike, name: str = "tokens") -> np.ndarray:
    """An int64 (B, T) ndarray from an integer Tensor, ndarray or nested list."""
    a = tokens.data if isinstance(tokens, Tensor) else np.asarray(tokens)
    if a.dtype == np.bool_ or not np.issubdtype(a.dtype, np.integer):
        raise TypeError(f"{name}: expected integer token ids, got dtype {a.dtype}")
    if a.ndim != 2:
        raise ShapeError(f"{name}: expected a (B, T) batch of token ids, got shape {a.shape}")
    return a.astype(np.int64, copy=False)


def check_int(owner: str, name: str, value: Any, minimum: int = 1) -> None:
    """ValueError unless ``value`` is an int (not a bool) >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{owner}: {name} must be an int >= {minimum}, got {value!r}")


def check_probability(owner: str, name: str, value: Any, upper_open: bool = False) -> None:
    """ValueError unless ``value`` is a number in [0, 1] (or [0, 1) with ``upper_open``)."""
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and 0.0 <= value <= 1.0
    if not ok or (upper_open and value == 1.0):
        interval = "[0, 1)" if upper_open else "[0, 1]"
        raise ValueError(f"{owner}: {name} must be a number in {interval}, got {value!r}")


def select_state(state: Any, indices: np.ndarray) -> Any:
    """``state`` with its batch rows replaced by ``state[indices]`` (every leaf, recursively)."""
    if isinstance(state, (Tensor, np.ndarray)):
        return state[indices]
    if isinstance(state, dict):
        return {key: select_state(value, indices) for key, value in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(select_state(value, indices) for value in state)
    if hasattr(state, "select"):
        return state.select(indices)
    return state  # ints, strings, None: shared by every row


@contextlib.contextmanager
def eval_mode(module: Module) -> Iterator[None]:
    """Evaluation mode for the duration, then every submodule's own ``training`` flag back."""
    flags = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        yield
    finally:
        for m, flag in flags:
            m.training = flag


def linear_parameters(in_features: int, out_features: int, bias: bool = True) -> int:
    """Parameters of ``Linear(in_features, out_features, bias)``: the (out, in) weight and the (out,) bias."""
    return out_features * in_features + (out_features if bias else 0)


def log_softmax_array(logits: np.ndarray) -> np.ndarray:
    """log_softmax over the last axis, in float64 (beam scores accumulate)."""
    x = logits.astype(np.float64)
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


# =============================================================================== the base class


class Seq2Seq(Module):
    """Base of every sequence-to-sequence model: token conventions and shared decoding.

    Token inputs (``src``, ``tgt_in``) are integer Tensors or ndarrays (B, T), padded with
    ``pad_id`` at the end. ``src_lengths`` (B,) is optional everywhere; when None it is the
    number of non-PAD tokens of each source row.
    """

    def __init__(self, pad_id: int = 0, bos_id: int = 1, eos_id: int = 2):
        super().__init__()
        if len({pad_id, bos_id, eos_id}) != 3:
            raise ValueError(f"pad_id ({pad_id}), bos_id ({bos_id}) and eos_id ({eos_id}) must be different")
        self.pad_id, self.bos_id, self.eos_id = int(pad_id), int(bos_id), int(eos_id)

    # ------------------------------------------------------------------ protocol
    def forward(self, src: TokensLike, tgt_in: TokensLike, src_lengths: Any = None) -> Tensor:
        """src (B, S), tgt_in (B, T) (BOS then the target without its last token) -> logits (B, T, V)."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def encode(self, src: np.ndarray, src_lengths: np.ndarray) -> Any:
        """The decoder state before the first step, for a batch of B sources."""
        raise NotImplementedError(f"{type(self).__name__} does not define encode()")

    def decode_step(self, tokens: np.ndarray, state: Any) -> tuple[Tensor, Any, np.ndarray | None]:
        """tokens (N,) the previous outputs -> (logits (N, V), new state, attention weights (N, S) or None)."""
        raise NotImplementedError(f"{type(self).__name__} does not define decode_step()")

    # ------------------------------------------------------------------ shared
    def source_lengths(self, src: np.ndarray, src_lengths: Any = None) -> np.ndarray:
        """int64 (B,): ``src_lengths`` checked, or the count of non-PAD tokens per row of ``src`` (B, S)."""
        B, S = src.shape
        if src_lengths is None:
            return (src != self.pad_id).sum(axis=1).astype(np.int64)
        lengths = src_lengths.data if isinstance(src_lengths, Tensor) else np.asarray(src_lengths)
        if lengths.shape != (B,) or not np.issubdtype(lengths.dtype, np.integer):
            raise ShapeError(
                f"src_lengths: expected {B} integer lengths (B,), got shape {lengths.shape}, dtype {lengths.dtype}"
            )
        if lengths.size and (lengths.min() < 0 or lengths.max() > S):
            raise ValueError(f"src_lengths: lengths must be in [0, {S}] (the source width), got {lengths.tolist()}")
        return lengths.astype(np.int64, copy=False)

    def greedy_decode(self, src: TokensLike, max_len: int, src_lengths: Any = None) -> tuple[np.ndarray, np.ndarray | None]:
        """Pick the most likely token at every step, for the whole batch at once.

        Returns ``(tokens (B, L) int64, attention (B, L, S) float or None)`` with L <= max_len:
        decoding stops when every row has produced EOS (EOS included; PAD after it) or after
        ``max_len`` steps. ``attention[b, t]`` are the weights over source positions used for
        output t (zero after EOS); None for models without attention. Runs under ``no_grad``
        in evaluation mode; the module's training flags are left as they were.
        """
        src = as_tokens(src, "greedy_decode: src")
        if max_len < 1:
            raise ValueError(f"greedy_decode: max_len must be at least 1, got {max_len}")
        lengths = self.source_lengths(src, src_lengths)
        B = src.shape[0]
        with no_grad(), eval_mode(self):
            state = self.encode(src, lengths)
            tokens = np.full(B, self.bos_id, dtype=np.int64)
            done = np.zeros(B, dtype=np.bool_)
            outputs, weights = [], []
            for _ in range(max_len):
                logits, state, attn = self.decode_step(tokens, state)
                tokens = np.where(done, self.pad_id, logits.data.argmax(axis=-1)).astype(np.int64)
                outputs.append(tokens)
                if attn is not None:
                    weights.append(np.where(done[:, None], 0.0, attn))
                done |= tokens == self.eos_id
                if done.all():
                    break
        attention = np.stack(weights, axis=1) if weights else None  # (B, L, S)
        return np.stack(outputs, axis=1), attention

    def beam_search(self, src: TokensLike, beam_size: int | None = None, max_len: int | None = None,
                    length_penalty: float = 1.0, src_lengths: Any = None, *,
                    beam: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Beam search, batched over the B sources (B * beam_size decoder rows).

        Each step expands every live hypothesis by every token and keeps, per source, the
        ``beam_size`` best by total log-probability; a candidate ending in EOS is complete
        when it ranks among the first ``beam_size`` (so ``beam_size=1`` is exactly greedy
        decoding). A source is done when it has ``beam_size`` complete hypotheses; live ones
        still open after ``max_len`` steps count as complete. Scores are length-normalised:
        ``sum log p / L ** length_penalty``, L the number of output tokens (EOS included);
        ``length_penalty=0`` ranks by raw log-probability.

        Returns ``(tokens (B, beam_size, L) int64, scores (B, beam_size) float64, attention
        (B, beam_size, L, S) or None)``, hypotheses sorted best first, PAD after EOS (a slot
        with no hypothesis has score -inf and only PAD).
        """
        beam_size = resolve_beam_size(beam_size, beam)
        if max_len is None:
            raise TypeError("beam_search: max_len is required")
        src = as_tokens(src, "beam_search: src")
        if beam_size < 1 or max_len < 1:
            raise ValueError(f"beam_search: beam_size ({beam_size}) and max_len ({max_len}) must be at least 1")
        lengths = self.source_lengths(src, src_lengths)
        with no_grad(), eval_mode(self):
            return _BeamSearch(self, beam_size, max_len, float(length_penalty)).run(src, lengths)


# =============================================================================== beam search


def resolve_beam_size(beam_size: int | None, beam: int | None) -> int:
    """``beam_search`` takes the width as ``beam_size`` or, as DESIGN.md spells it, ``beam``."""
    if beam_size is not None and beam is not None and beam_size != beam:
        raise TypeError(f"beam_search: got beam_size={beam_size} and beam={beam}; give one")
    width = beam_size if beam_size is not None else beam
    if width is None:
        raise TypeError("beam_search: the beam width (beam_size, or beam) is required")
    return int(width)


class _BeamSearch:
    """The bookkeeping of one batched beam search (rows b * K + k belong to source b)."""

    def __init__(self, model: Seq2Seq, beam_size: int, max_len: int, length_penalty: float):
        self.model, self.K, self.max_len, self.alpha = model, beam_size, max_len, length_penalty

    def _normalise(self, score: float, length: int) -> float:
        return score / (length ** self.alpha) if self.alpha else score

    def run(self, src: np.ndarray, lengths: np.ndarray):
        model, K = self.model, self.K
        B = src.shape[0]
        state = select_state(model.encode(src, lengths), np.repeat(np.arange(B), K))  # (B*K) rows
        scores = np.full((B, K), -np.inf)
        scores[:, 0] = 0.0  # one live hypothesis per source at the start, not K copies of it
        history = np.zeros((B * K, 0), dtype=np.int64)
        attn_history: np.ndarray | None = None
        tokens = np.full(B * K, model.bos_id, dtype=np.int64)
        finished: list[list[tuple]] = [[] for _ in range(B)]  # (normalised score, tokens, attention)
        done = np.zeros(B, dtype=np.bool_)
        for t in range(self.max_len):
            logits, state, attn = model.decode_step(tokens, state)
            logp = log_softmax_array(logits.data)  # (B*K, V)
            V = logp.shape[-1]
            if attn is not None and attn_history is None:
                attn_history = np.zeros((B * K, 0, attn.shape[-1]))
            cand = (scores.reshape(-1, 1) + logp).reshape(B, K * V)  # (B, K*V)
            n = min(2 * K, K * V)  # at most K of the best 2K end in EOS, so K live ones remain
            top = np.argpartition(-cand, n - 1, axis=1)[:, :n]
            top = np.take_along_axis(top, np.argsort(-np.take_along_axis(cand, top, 1), axis=1, kind="stable"), 1)
            rows = np.repeat(np.arange(B) * K, K)  # default: parent row of a dead slot
            next_tokens = np.full(B * K, model.pad_id, dtype=np.int64)
            new_scores = np.full((B, K), -np.inf)
            for b in range(B):
                if done[b]:
                    continue
                live = 0
                for rank in range(n):
                    flat = top[b, rank]
                    score = cand[b, flat]
                    if score == -np.inf:
                        break
                    parent, token = b * K + flat // V, flat % V
                    if token == model.eos_id:
                        if rank < K:
                            seq = np.append(history[parent], token)
                            seq_attn = None if attn is None else np.concatenate([attn_history[parent], attn[parent][None]])
                            finished[b].append((self._normalise(score, t + 1), seq, seq_attn))
                        continue
                    if live < K:
                        slot = b * K + live
                        rows[slot], next_tokens[slot], new_scores[b, live] = parent, token, score
                        live += 1
                    if live == K:  # every rank < K has been seen by now
                        break
                if len(finished[b]) >= K:
                    done[b] = True
            history = np.concatenate([history[rows], next_tokens[:, None]], axis=1)
            if attn is not None:
                attn_history = np.concatenate([attn_history[rows], attn[rows][:, None]], axis=1)
            scores = np.where(done[:, None], -np.inf, new_scores)
            if done.all():
                break
            state = select_state(state, rows)
            tokens = next_tokens
        for b in range(B):  # hypotheses still open after max_len steps
            if done[b]:
                continue
            for k in range(K):
                if scores[b, k] > -np.inf:
                    row = b * K + k
                    finished[b].append((self._normalise(scores[b, k], history.shape[1]), history[row],
                                        None if attn_history is None else attn_history[row]))
        return self._pack(finished, B, attn_history)

    def _pack(self, finished: list[list[tuple]], B: int, attn_history: np.ndarray | None):
        K, pad = self.K, self.model.pad_id
        best = [sorted(hyps, key=lambda h: -h[0])[:K] for hyps in finished]
        L = max([len(h[1]) for hyps in best for h in hyps] or [1])
        tokens = np.full((B, K, L), pad, dtype=np.int64)
        scores = np.full((B, K), -np.inf)
        attention = None if attn_history is None else np.zeros((B, K, L, attn_history.shape[-1]))
        for b, hyps in enumerate(best):
            for k, (score, seq, seq_attn) in enumerate(hyps):
                tokens[b, k, : len(seq)] = seq
                scores[b, k] = score
                if attention is not None:
                    attention[b, k, : len(seq)] = seq_attn
        return tokens, scores, attention
