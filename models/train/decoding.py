"""Decoding for evaluation and prediction: ``decode``, ``predict`` and ``attention_matrix``.

``decode`` returns token ids (B, L) without BOS, EOS where the model stopped and PAD after
it, for every seq2seq model: a per-position model (``encoder``, one output per source
position) gets the EOS the others emit added after each source's length.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import minigrad
from minigrad import tasks
from minigrad.models.base import eval_mode
from minigrad.models.transformer import TransformerEncoderModel

PAD = tasks.PAD
EOS = tasks.EOS


def decode(model: minigrad.nn.Module, src: np.ndarray, src_lengths: np.ndarray | None, max_len: int,
           beam_size: int = 1, length_penalty: float = 1.0) -> tuple[np.ndarray, np.ndarray | None]:
    """Decoded token ids (B, L) (no BOS; EOS where the model stopped, PAD after it) and the
    attention weights (B, L, S) or None. With ``beam_size > 1`` the best hypothesis of each
    beam search."""
    with minigrad.no_grad():
        if beam_size > 1:
            tokens, _, attention = model.beam_search(src, beam_size, max_len, length_penalty=length_penalty,
                                                     src_lengths=src_lengths)
            tokens = np.asarray(tokens)[:, 0]  # (B, K, L) -> best hypothesis (B, L)
            attention = None if attention is None else np.asarray(attention)[:, 0]
        else:
            tokens, attention = model.greedy_decode(src, max_len, src_lengths=src_lengths)
    tokens = tokens.data if isinstance(tokens, minigrad.Tensor) else tokens
    tokens = np.asarray(tokens, dtype=np.int64).reshape(len(src), -1)
    if is_per_position(model):  # (B, S) with PAD past each length: add the EOS the others emit
        lengths = np.asarray(src_lengths if src_lengths is not None else (np.asarray(src) != PAD).sum(axis=1))
        out = np.full((len(src), tokens.shape[1] + 1), PAD, dtype=np.int64)
        out[:, : tokens.shape[1]] = tokens
        out[np.arange(len(src)), np.minimum(lengths, tokens.shape[1])] = EOS
        tokens = out
    return tokens, attention


def is_per_position(model: minigrad.nn.Module) -> bool:
    """True for models with one output per source position (``encoder``): no EOS, no tgt_in."""
    return isinstance(model, TransformerEncoderModel)


def strip_bos(tokens: np.ndarray) -> np.ndarray:
    """``tokens`` (B, L) without the leading BOS column, when every row starts with one."""
    if tokens.shape[1] and (tokens[:, 0] == tasks.BOS).all():
        return tokens[:, 1:]
    return tokens


def attention_matrix(attention: Any, length: int | None = None) -> np.ndarray | None:
    """Reduce a decode's attention weights for one example to a 2-D (T_out, S) array.

    Accepts what decoders return: an array (T, S), (1, T, S), (1, H, T, S) or
    (L, 1, H, T, S), a Tensor, or a list of per-layer/per-step arrays; heads are averaged and
    the last layer is kept. ``length`` cuts the rows to the decoded length.
    """
    if attention is None:
        return None
    if isinstance(attention, dict):
        attention = attention.get("cross", attention.get("attention", next(iter(attention.values()), None)))
    if isinstance(attention, (list, tuple)):
        parts = [attention_matrix(a) for a in attention]
        parts = [p for p in parts if p is not None]
        if not parts:
            return None
        if all(p.shape[0] == 1 for p in parts) and len({p.shape[1] for p in parts}) == 1:
            matrix = np.concatenate(parts, axis=0)  # one row per decoding step
        else:
            matrix = parts[-1]  # one matrix per layer: keep the last layer
    else:
        matrix = np.asarray(attention.data if isinstance(attention, minigrad.Tensor) else attention, dtype=np.float64)
        while matrix.ndim > 3:
            matrix = matrix[-1] if matrix.shape[0] != 1 else matrix[0]
        if matrix.ndim == 3:
            matrix = matrix[0] if matrix.shape[0] == 1 else matrix.mean(axis=0)
        if matrix.ndim == 1:
            matrix = matrix[None, :]
    if length is not None:
        matrix = matrix[:length]
    return matrix


def predict(model: minigrad.nn.Module, task: tasks.Task, text: str, beam_size: int = 1,
            max_len: int | None = None, length_penalty: float = 1.0) -> tuple[str, list[int], np.ndarray | None]:
    """Decode one source string: ``(output_text, token_ids, attention)``.

    ``text`` is encoded strictly (TaskError for tokens outside the vocabulary).
    ``token_ids`` is the decoded output up to and including EOS when the model produced it;
    ``attention`` is a (len(token_ids), len(source)) array of weights (None if the model
    has no attention), row t being where the model looked when producing token t.
    """
    if task.kind == "lm":
        raise ValueError(f"task {task.name!r} is language modelling: use generation, not predict")
    src_ids = task.encode_source(text)
    src = np.asarray([src_ids], dtype=np.int64)
    lengths = np.asarray([len(src_ids)], dtype=np.int64)
    with eval_mode(model):
        tokens, attention = decode(model, src, lengths, max_len or max(task.max_tgt_len, len(src_ids) + 1), beam_size, length_penalty)
    row = strip_bos(tokens)[0].tolist()
    if EOS in row:
        row = row[: row.index(EOS) + 1]
    matrix = attention_matrix(attention, length=None)
    if matrix is not None:
        offset = 1 if tokens.shape[1] and tokens[0, 0] == tasks.BOS and matrix.shape[0] == tokens.shape[1] else 0
        matrix = matrix[offset: offset + len(row), : len(src_ids)]
    return task.decode_target(row), row, matrix
