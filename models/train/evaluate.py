"""``evaluate``: the metrics of a model on one split of a task.

Metrics (the objective of the task and model computes them; see ``objectives``):

- ``loss``: teacher-forced cross-entropy per target token (EOS included, PAD excluded), nats.
- ``token_accuracy``: of the decoded outputs (greedy, or beam search with ``beam_size > 1``),
  aligned position by position with ``target + EOS``: the fraction of target positions
  predicted right. Stopping at the right place counts as one of the positions.
- ``sequence_accuracy``: the fraction of examples whose decode equals ``target + EOS``
  exactly (the "exact-sequence accuracy").
- For a language-modelling task (``text``) the accuracies are next-token argmax accuracy and
  ``None`` (there are no sequences to match); ``bits_per_token`` is the loss in bits
  (loss / ln 2): bits per character for a character-level model.
"""

from __future__ import annotations

from typing import Any

import minigrad
from minigrad import tasks
from minigrad.models.base import eval_mode
from minigrad.models.train.objectives import EvalProgress, no_progress, objective_for


def evaluate(model: minigrad.nn.Module, task: tasks.Task, split: str, batch_size: int = 64, beam_size: int = 1,
             limit: int | None = None, max_len: int | None = None, length_penalty: float = 1.0,
             progress: EvalProgress | None = None) -> dict[str, Any]:
    """Loss, token accuracy and exact-sequence accuracy of ``model`` on ``split`` of ``task``.

    Uses the first ``limit`` examples (all when None). Returns ``{"loss", "token_accuracy",
    "sequence_accuracy", "examples"}`` (see the module docstring for the definitions).
    The model's train/eval mode is restored afterwards. ``progress``, if given, is called
    as ``progress(done, total)`` with the examples (a language model: windows) evaluated so
    far: with 0 before the first batch, then after every batch (an empty split: never).
    """
    objective = objective_for(task, model)
    with minigrad.no_grad(), eval_mode(model):
        return objective.evaluate(model, split, batch_size, beam_size, limit, max_len, length_penalty,
                                  progress or no_progress)
