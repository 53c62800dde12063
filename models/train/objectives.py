"""What a run optimises and how it is scored, one class per workload.

The loop (``loop.Trainer``) and ``evaluate`` never ask what kind of task they run: they ask
the objective, picked once by ``objective_for(task, model)``:

- ``Seq2SeqObjective``: a source-target task and an encoder-decoder (``rnn*``,
  ``transformer``). Loss: teacher-forced cross-entropy of ``model(src, tgt_in,
  src_lengths)`` against ``tgt_out`` (PAD ignored). Evaluation decodes (greedy, or beam
  search with ``beam_size > 1``) and scores token and exact-sequence accuracy. Score:
  sequence accuracy.
- ``PerPositionObjective``: the same tasks with a model giving one output per source
  position (``encoder``): targets are ``tgt_out`` cut to the source width with EOS as PAD,
  so every target must be as long as its source (copy, reverse, sort).
- ``LanguageModelObjective``: a language-modelling task (``text``) and the ``lm`` model.
  Loss: next-token cross-entropy of ``model(x)`` against ``y``; evaluation: loss, bits per
  token, next-token accuracy (no sequences to match: sequence accuracy None). Score: minus
  the loss. Splits: the task's own (``task.splits``).

Every objective has ``splits`` (evaluated at the end), ``check()`` (reads the data, so a
broken file is reported before training), ``loss(model, batch, label_smoothing) -> (loss,
tokens)``, ``evaluate(model, split, ...) -> metrics``, ``score(metrics)`` (higher is
better, None: no score) and ``steps_per_epoch(batch_size)``.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterator, Sequence

import numpy as np

import minigrad
from minigrad import functional as F
from minigrad import tasks
from minigrad.models.train.decoding import decode, is_per_position, strip_bos

PAD = tasks.PAD
EOS = tasks.EOS
SPLITS = ("train", "valid", "test")

EvalProgress = Callable[[int, int], None]
"""``progress(done, total)``: how many of the ``total`` examples an evaluation has done."""


def no_progress(done: int, total: int) -> None:
    """The progress report of an evaluation given none: nothing."""


class Seq2SeqObjective:
    """Source-target pairs, an encoder-decoder, decoded outputs scored by sequence accuracy."""

    splits: tuple[str, ...] = SPLITS

    def __init__(self, task: tasks.Task) -> None:
        self.task = task

    def check(self) -> None:
        """Read the training data now, so a missing or broken data file is reported before training."""
        self.task.split("train")

    def steps_per_epoch(self, batch_size: int) -> int:
        """Optimizer steps in one pass over the train split."""
        return self.task.steps_per_epoch(batch_size)

    def targets(self, batch: tasks.Batch) -> np.ndarray:
        """The ids (B, T) the logits are scored against; PAD is ignored."""
        return batch.tgt_out

    def loss(self, model: minigrad.nn.Module, batch: tasks.Batch, label_smoothing: float = 0.0,
             reduction: str = "mean") -> tuple[minigrad.Tensor, int]:
        """Teacher-forced cross-entropy of one batch and the number of target tokens it counts."""
        logits = model(batch.src, batch.tgt_in, src_lengths=batch.src_lengths)
        targets = self.targets(batch)
        loss = F.cross_entropy(logits, targets, ignore_index=PAD, label_smoothing=label_smoothing, reduction=reduction)
        return loss, int((targets != PAD).sum())

    def score(self, metrics: dict[str, Any]) -> float | None:
        """Higher is better: the exact-sequence accuracy."""
        return metrics["sequence_accuracy"]

    def evaluate(self, model: minigrad.nn.Module, split: str, batch_size: int, beam_size: int = 1,
                 limit: int | None = None, max_len: int | None = None, length_penalty: float = 1.0,
                 report: EvalProgress = no_progress) -> dict[str, Any]:
        """Loss, token and sequence accuracy on the first ``limit`` pairs of ``split`` (no_grad,
        eval mode: the caller's job)."""
        pairs = self.task.split(split)
        if limit is not None:
            pairs = pairs[:limit]
        if not pairs:
            return {"loss": None, "token_accuracy": None, "sequence_accuracy": None, "examples": 0}
        max_len = max_len or self.task.max_tgt_len
        loss_sum, n_tokens, done = 0.0, 0, 0
        counts = tasks.AccuracyCounts()
        report(done, len(pairs))
        for batch in _pair_batches(pairs, batch_size):
            loss, tokens_in_batch = self.loss(model, batch, reduction="sum")
            loss_sum += float(loss.item())
            n_tokens += tokens_in_batch
            tokens, _ = decode(model, batch.src, batch.src_lengths, max_len, beam_size, length_penalty)
            pred = tasks.align_predictions(strip_bos(tokens), batch.tgt_out.shape[1])
            counts = counts + tasks.accuracy_counts(pred, batch.tgt_out)
            done += batch.size
            report(done, len(pairs))
        return {
            "loss": loss_sum / max(n_tokens, 1),
            "token_accuracy": counts.token_accuracy,
            "sequence_accuracy": counts.sequence_accuracy,
            "examples": len(pairs),
        }


class PerPositionObjective(Seq2SeqObjective):
    """A model with one output per source position (``encoder``): targets as long as their sources."""

    def check(self) -> None:
        """ValueError unless every target of every split is as long as its source."""
        for split in SPLITS:
            for src, tgt in self.task.split(split):
                if len(src) != len(tgt):
                    raise ValueError(f"the encoder model gives one output per source position, so it needs targets as long "
                                     f"as their sources (copy, reverse, sort); task {self.task.name!r} has a "
                                     f"{len(src)}-token source with a {len(tgt)}-token target")

    def targets(self, batch: tasks.Batch) -> np.ndarray:
        return position_targets(batch)


class LanguageModelObjective:
    """Next-token prediction on a token stream (``text`` task, ``lm`` model), scored by minus the loss."""

    def __init__(self, task: tasks.Task) -> None:
        self.task = task
        self.splits: tuple[str, ...] = tuple(task.splits)

    def check(self) -> None:
        """Read the training data now, so a missing or broken data file is reported before training."""
        self.task.train_ids  # noqa: B018

    def steps_per_epoch(self, batch_size: int) -> int:
        """Optimizer steps in one pass over the training tokens, ``block_size`` per window."""
        return max(1, len(self.task.train_ids) // (self.task.block_size * batch_size))

    def loss(self, model: minigrad.nn.Module, batch: Any, label_smoothing: float = 0.0) -> tuple[minigrad.Tensor, int]:
        """Mean next-token cross-entropy of one batch of windows and the number of tokens."""
        logits = model(batch.x)
        loss = F.cross_entropy(logits, batch.y, label_smoothing=label_smoothing)
        return loss, int(batch.y.size)

    def score(self, metrics: dict[str, Any]) -> float | None:
        """Higher is better: minus the loss."""
        return None if metrics["loss"] is None else -metrics["loss"]

    def evaluate(self, model: minigrad.nn.Module, split: str, batch_size: int, beam_size: int = 1,
                 limit: int | None = None, max_len: int | None = None, length_penalty: float = 1.0,
                 report: EvalProgress = no_progress) -> dict[str, Any]:
        """Loss, bits per token and next-token accuracy on the first ``limit`` windows of ``split``
        (``beam_size``, ``max_len`` and ``length_penalty`` do not apply)."""
        empty = {"loss": None, "bits_per_token": None, "token_accuracy": None, "sequence_accuracy": None, "examples": 0}
        if split not in self.task.splits:
            return empty
        total = len(self.task.window_starts(split))
        if limit is not None:
            total = min(total, limit)
        if total:
            report(0, total)
        loss_sum, n_tokens, correct, windows = 0.0, 0, 0, 0
        for batch in self.task.batches(split, batch_size):
            x, y = batch.x, batch.y
            if limit is not None:
                if windows >= limit:
                    break
                x, y = x[: limit - windows], y[: limit - windows]
            logits = model(x)
            loss_sum += float(F.cross_entropy(logits, y, reduction="sum").item())
            correct += int((np.argmax(logits.data, axis=-1) == y).sum())
            n_tokens += int(y.size)
            windows += len(x)
            report(windows, total)
        if not n_tokens:
            return empty
        loss = loss_sum / n_tokens
        return {"loss": loss, "bits_per_token": loss / math.log(2), "token_accuracy": correct / n_tokens,
                "sequence_accuracy": None, "examples": windows}


Objective = Seq2SeqObjective | LanguageModelObjective


def objective_for(task: tasks.Task, model: minigrad.nn.Module | None = None) -> Objective:
    """The objective of training ``model`` on ``task``: the one place that looks at the task's
    kind and the model's. Without a model, what the task alone decides (its epochs, splits)."""
    if task.kind == "lm":
        return LanguageModelObjective(task)
    if model is not None and is_per_position(model):
        return PerPositionObjective(task)
    return Seq2SeqObjective(task)


def position_targets(batch: tasks.Batch) -> np.ndarray:
    """Targets (B, S) of a per-position model: ``tgt_out`` cut to the source width, EOS -> PAD.

    Valid when every target is as long as its source (copy, reverse, sort).
    """
    targets = batch.tgt_out[:, : batch.src.shape[1]].copy()
    targets[targets == EOS] = PAD
    return targets


def _pair_batches(pairs: Sequence[Any], batch_size: int) -> Iterator[tasks.Batch]:
    for start in range(0, len(pairs), batch_size):
        yield tasks.collate(pairs[start:start + batch_size])
