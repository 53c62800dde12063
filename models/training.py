"""The training and evaluation loop, as library code (the CLI only wires it up).

    >>> from minigrad.models.training import TrainConfig, train
    >>> results = train(TrainConfig(task="copy", model="rnn-attn"))      # doctest: +SKIP
    >>> results.metrics["test"]["sequence_accuracy"]                      # doctest: +SKIP
    0.996

The public names of the ``minigrad.models.train`` package, in one place. The rules live
beside the code: one training step, reproducibility, resuming and interrupts in
``train.loop``; the metrics in ``train.evaluate``; the three workloads (seq2seq,
per-position, language model) in ``train.objectives``; the config and what a resumed run
may change in ``train.config``; which directory a run may save to and how far a resumed run
must go in ``train.resume``.

Default schedule: cosine decay from ``lr`` to ``min_lr`` over the run, so that the last
steps take small updates (at a constant rate, Adam's late loss spikes can undo what a run has
learned just before it ends). ``schedule="constant"`` is one option away.
"""

from __future__ import annotations

from minigrad import tasks
from minigrad.models.train.build import (
    build_model, build_optimizer, build_scheduler, build_task, model_arguments, retarget_schedule, steps_per_epoch,
    total_steps,
)
from minigrad.models.train.config import (
    DEFAULT_STEPS, OPTIMIZERS, RESUMABLE_FIELDS, SCHEDULES, ResumeConflict, TrainConfig, check_resumable,
    resume_config, resume_conflict,
)
from minigrad.models.train.decoding import attention_matrix, decode, is_per_position, predict
from minigrad.models.train.evaluate import evaluate
from minigrad.models.train.resume import (
    BestNotReplaceable, CheckpointOccupied, RunTooShort, check_run_length, check_save_target, describe_checkpoint,
    saved_step,
)
from minigrad.models.train.loop import (
    FINAL_TRAIN_LIMIT, Callback, Results, Trainer, TrainingError, TrainingInterrupted, train, train_loss_label,
)
from minigrad.models.train.objectives import (
    SPLITS, EvalProgress, LanguageModelObjective, PerPositionObjective, Seq2SeqObjective, objective_for,
    position_targets,
)

PAD = tasks.PAD
EOS = tasks.EOS

__all__ = [
    "TrainConfig", "train", "Trainer", "Callback", "Results", "evaluate", "predict", "decode", "attention_matrix",
    "TrainingError", "TrainingInterrupted", "resume_config", "resume_conflict", "ResumeConflict", "check_resumable",
    "build_task", "build_model", "model_arguments", "build_optimizer", "build_scheduler", "retarget_schedule",
    "steps_per_epoch", "total_steps", "is_per_position", "position_targets", "objective_for", "Seq2SeqObjective",
    "PerPositionObjective", "LanguageModelObjective", "EvalProgress", "train_loss_label", "DEFAULT_STEPS",
    "FINAL_TRAIN_LIMIT", "OPTIMIZERS", "SCHEDULES", "SPLITS", "RESUMABLE_FIELDS", "PAD", "EOS",
    "check_save_target", "check_run_length", "describe_checkpoint", "saved_step", "CheckpointOccupied",
    "BestNotReplaceable", "RunTooShort",
]
