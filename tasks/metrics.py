"""Accuracy metrics on token ids (NumPy only).

``pred`` and ``target`` are (B, T) integer arrays; target positions equal to ``pad_id`` are
ignored. Compare a decoder's output with ``Batch.tgt_out`` (target + EOS) after
``align_predictions``, so stopping at the right place counts as part of being right.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from minigrad.tasks.vocab import EOS, PAD

IntArray = np.ndarray | Sequence[Sequence[int]]


def _pair(pred: IntArray, target: IntArray) -> tuple[np.ndarray, np.ndarray]:
    p, t = np.asarray(pred), np.asarray(target)
    if p.ndim != 2 or t.ndim != 2 or p.shape != t.shape:
        raise ValueError(f"accuracy: pred and target must be 2-D of the same shape; got {p.shape} and {t.shape}")
    return p, t


@dataclass(frozen=True)
class AccuracyCounts:
    """Correct and total counts; add them up over batches, then read the accuracies."""

    tokens_correct: int = 0
    tokens_total: int = 0
    sequences_correct: int = 0
    sequences_total: int = 0

    def __add__(self, other: "AccuracyCounts") -> "AccuracyCounts":
        return AccuracyCounts(
            self.tokens_correct + other.tokens_correct,
            self.tokens_total + other.tokens_total,
            self.sequences_correct + other.sequences_correct,
            self.sequences_total + other.sequences_total,
        )

    @property
    def token_accuracy(self) -> float:
        """tokens_correct / tokens_total (NaN when there are no tokens)."""
        return self.tokens_correct / self.tokens_total if self.tokens_total else float("nan")

    @property
    def sequence_accuracy(self) -> float:
        """sequences_correct / sequences_total (NaN when there are no sequences)."""
        return self.sequences_correct / self.sequences_total if self.sequences_total else float("nan")


def accuracy_counts(pred: IntArray, target: IntArray, pad_id: int = PAD) -> AccuracyCounts:
    """Counts behind ``token_accuracy`` and ``sequence_accuracy`` for pred, target (B, T)."""
    p, t = _pair(pred, target)
    real = t != pad_id  # (B, T)
    right = (p == t) & real  # (B, T)
    return AccuracyCounts(
        tokens_correct=int(right.sum()),
        tokens_total=int(real.sum()),
        sequences_correct=int((right == real).all(axis=1).sum()),
        sequences_total=int(t.shape[0]),
    )


def token_accuracy(pred: IntArray, target: IntArray, pad_id: int = PAD) -> float:
    """Fraction of non-pad positions of target (B, T) where pred (B, T) equals it (NaN if none)."""
    return accuracy_counts(pred, target, pad_id).token_accuracy


def sequence_accuracy(pred: IntArray, target: IntArray, pad_id: int = PAD) -> float:
    """Fraction of rows in which pred (B, T) equals target (B, T) at every non-pad position."""
    return accuracy_counts(pred, target, pad_id).sequence_accuracy


def align_predictions(pred: IntArray, width: int, eos_id: int = EOS, pad_id: int = PAD) -> np.ndarray:
    """Decoded rows (B, any length, or a list of ragged lists) -> int64 (B, width).

    Each row is cut after its first ``eos_id`` (the EOS is kept, what follows becomes
    ``pad_id``), then padded with ``pad_id`` or truncated to ``width``. Rows must not start
    with BOS. Use ``width = tgt_out.shape[1]`` to compare with a batch's ``tgt_out``.
    """
    rows = [np.asarray(r, dtype=np.int64).ravel() for r in pred]
    out = np.full((len(rows), width), pad_id, dtype=np.int64)
    for i, row in enumerate(rows):
        stops = np.flatnonzero(row == eos_id)
        if len(stops):
            row = row[: stops[0] + 1]
        row = row[:width]
        out[i, : len(row)] = row
    return out
