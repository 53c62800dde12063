"""The training configuration: ``TrainConfig``, its checks, and what a resumed run may change.

A ``TrainConfig`` is everything that defines a run (saved as ``config.json`` in a
checkpoint). ``validate`` checks every value (ValueError naming the field and the value).

Resuming: only ``RESUMABLE_FIELDS`` (the run length, evaluation and early-stop options) may
differ from the checkpoint's config; ``resume_conflict`` is the one check of that rule (the
library's ``resume_config``, ``Trainer`` and the CLI all use it). The data file of a
file/text task (``task_options["path"]``) may move: the resumed run checks that the new
place holds the same data (the checkpoint's fingerprint of it).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

DEFAULT_STEPS = 500
OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("constant", "warmup", "cosine", "warmup_cosine", "step", "inverse_sqrt")

# Fields a resumed run may change; every other field must match the checkpoint's.
RESUMABLE_FIELDS = ("steps", "epochs", "eval_interval", "eval_size", "beam_size", "length_penalty", "stop_at")


@dataclass
class TrainConfig:
    """Everything that defines a training run (saved as ``config.json`` in a checkpoint).

    ``task_options`` go to ``tasks.get(task, **task_options)`` (min_len, max_len, vocab_size,
    path, seed of the data splits, ...); ``model_options`` to ``models.build`` (embed_dim,
    hidden_dim, ... see ``models.config_for(model)``). Options left out take the task's and
    the model's own defaults.
    """

    task: str = "copy"
    task_options: dict[str, Any] = field(default_factory=dict)
    model: str = "rnn-attn"
    model_options: dict[str, Any] = field(default_factory=dict)
    optimizer: str = "adam"               # adam | adamw | sgd
    lr: float = 1e-3                      # peak learning rate
    weight_decay: float | None = None     # None: the optimizer's default (adamw 1e-2, others 0)
    momentum: float = 0.0                 # sgd only
    schedule: str = "cosine"              # constant | warmup | cosine | warmup_cosine | step | inverse_sqrt
    warmup: int = 0                       # warmup steps (warmup, warmup_cosine, inverse_sqrt)
    min_lr: float = 0.0                   # floor of cosine and warmup_cosine
    lr_step_size: int | None = None       # step schedule: decay every N steps (default: a third of the run)
    lr_gamma: float = 0.1                 # step schedule: decay factor
    clip: float = 1.0                     # max gradient norm; 0 disables clipping
    batch_size: int = 64
    steps: int | None = None              # optimizer updates; None: epochs, or DEFAULT_STEPS
    epochs: float | None = None           # alternative to steps: passes over the train split
    teacher_forcing: float = 1.0          # probability of feeding the true previous token (rnn family)
    label_smoothing: float = 0.0
    eval_interval: int = 100              # validate every N steps (0: only at the end)
    eval_size: int | None = 500           # validation examples used during training (None: all)
    beam_size: int = 1                    # 1: greedy decoding in evaluation
    length_penalty: float = 1.0           # beam search: scores divided by length ** length_penalty
    seed: int = 0                         # init, dropout, teacher forcing, batch order
    stop_at: float | None = None          # stop once valid sequence accuracy >= this (None: never)

    # -- validation and (de)serialisation -----------------------------------------------

    def validate(self) -> "TrainConfig":
        """Check every value; ValueError naming the field and the value. Returns self."""
        def need(condition: bool, message: str) -> None:
            if not condition:
                raise ValueError(message)

        need(isinstance(self.task, str) and bool(self.task), f"task must be a task name, got {self.task!r}")
        need(isinstance(self.model, str) and bool(self.model), f"model must be a model name, got {self.model!r}")
        need(isinstance(self.task_options, dict), "task_options must be a dict")
        need(isinstance(self.model_options, dict), "model_options must be a dict")
        need(self.optimizer in OPTIMIZERS, f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {self.optimizer!r}")
        need(self.schedule in SCHEDULES, f"schedule must be one of {', '.join(SCHEDULES)}; got {self.schedule!r}")
        need(_number(self.lr) and self.lr > 0, f"lr must be > 0, got {self.lr!r}")
        need(self.weight_decay is None or (_number(self.weight_decay) and self.weight_decay >= 0),
             f"weight_decay must be >= 0, got {self.weight_decay!r}")
        need(_number(self.momentum) and 0 <= self.momentum < 1, f"momentum must be in [0, 1), got {self.momentum!r}")
        need(_integer(self.warmup) and self.warmup >= 0, f"warmup must be an integer >= 0, got {self.warmup!r}")
        need(_number(self.min_lr) and 0 <= self.min_lr <= self.lr, f"min_lr must be in [0, lr], got {self.min_lr!r}")
        need(self.lr_step_size is None or (_integer(self.lr_step_size) and self.lr_step_size >= 1),
             f"lr_step_size must be an integer >= 1, got {self.lr_step_size!r}")
        need(_number(self.lr_gamma) and 0 < self.lr_gamma <= 1, f"lr_gamma must be in (0, 1], got {self.lr_gamma!r}")
        need(_number(self.clip) and self.clip >= 0, f"clip must be >= 0 (0 disables clipping), got {self.clip!r}")
        need(_integer(self.batch_size) and self.batch_size >= 1, f"batch_size must be an integer >= 1, got {self.batch_size!r}")
        need(self.steps is None or (_integer(self.steps) and self.steps >= 1), f"steps must be an integer >= 1, got {self.steps!r}")
        need(self.epochs is None or (_number(self.epochs) and self.epochs > 0), f"epochs must be > 0, got {self.epochs!r}")
        need(self.steps is None or self.epochs is None, "give steps or epochs, not both")
        need(_number(self.teacher_forcing) and 0 <= self.teacher_forcing <= 1,
             f"teacher_forcing must be in [0, 1], got {self.teacher_forcing!r}")
        need(_number(self.label_smoothing) and 0 <= self.label_smoothing < 1,
             f"label_smoothing must be in [0, 1), got {self.label_smoothing!r}")
        need(_integer(self.eval_interval) and self.eval_interval >= 0,
             f"eval_interval must be an integer >= 0, got {self.eval_interval!r}")
        need(self.eval_size is None or (_integer(self.eval_size) and self.eval_size >= 1),
             f"eval_size must be an integer >= 1, got {self.eval_size!r}")
        need(_integer(self.beam_size) and self.beam_size >= 1, f"beam_size must be an integer >= 1, got {self.beam_size!r}")
        need(_number(self.length_penalty) and self.length_penalty >= 0, f"length_penalty must be >= 0, got {self.length_penalty!r}")
        need(_integer(self.seed) and self.seed >= 0, f"seed must be an integer >= 0, got {self.seed!r}")
        need(self.stop_at is None or (_number(self.stop_at) and 0 < self.stop_at <= 1),
             f"stop_at must be in (0, 1], got {self.stop_at!r}")
        if self.schedule == "inverse_sqrt":
            need(self.warmup >= 1, "the inverse_sqrt schedule needs warmup >= 1")
        return self

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict of every field."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        """Build from ``to_dict()``'s output; ValueError naming an unknown key."""
        if not isinstance(d, dict):
            raise ValueError(f"a training config must be a dict, got {type(d).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown config key {unknown[0]!r}; valid keys: {', '.join(sorted(known))}")
        return cls(**{k: (dict(v) if isinstance(v, dict) else v) for k, v in d.items()}).validate()


def _number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) and math.isfinite(value)


def _integer(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


@dataclass(frozen=True)
class ResumeConflict:
    """An option a resumed run gives with a value other than the checkpoint's.

    ``target``: "config" (a TrainConfig field), "task" (task_options) or "model"
    (model_options); ``saved``: the checkpoint's value (None: the default, unset);
    ``given``: the run's value (None: the default, unset).
    """

    target: str
    key: str
    saved: Any
    given: Any

    def message(self, directory: str | None = None) -> str:
        """"the checkpoint DIR was trained with key=value; a resumed run cannot change it (got value)"."""
        where = f" {directory}" if directory else ""
        saved = "its default" if self.saved is None else repr(self.saved)
        given = "its default" if self.given is None else repr(self.given)
        return f"the checkpoint{where} was trained with {self.key}={saved}; a resumed run cannot change it (got {given})"


def resume_conflict(saved: TrainConfig, fields_: dict[str, Any], task_options: dict[str, Any],
                    model_options: dict[str, Any], complete: bool = False) -> ResumeConflict | None:
    """The first option a resumed run gives that differs from checkpoint config ``saved``, or None.

    ``fields_`` are TrainConfig fields (RESUMABLE_FIELDS may differ), ``task_options`` and
    ``model_options`` the options given. The data file (``task_options["path"]``) may move
    when the checkpoint has one. With ``complete`` the given options are the whole run's, so
    an option the checkpoint sets and they leave out is a conflict too.
    """
    stored_config = saved.to_dict()
    for target, given, stored in (("config", fields_, stored_config), ("task", task_options, saved.task_options),
                                  ("model", model_options, saved.model_options)):
        for key, value in given.items():
            if (target == "config" and key in RESUMABLE_FIELDS) or (key in stored and stored[key] == value):
                continue
            if target == "task" and key == "path" and stored.get("path") is not None:
                continue  # a moved data file: the run checks it holds the same data (its fingerprint)
            return ResumeConflict(target, key, stored.get(key), value)
        if complete and target != "config":
            for key in sorted(set(stored) - set(given) - {"path"}):
                return ResumeConflict(target, key, stored[key], None)
    return None


def resume_config(saved: TrainConfig, overrides: dict[str, Any]) -> TrainConfig:
    """The config of a resumed run: ``saved`` with ``overrides`` applied to RESUMABLE_FIELDS.

    Any other override that differs from the saved value is a ValueError naming the field
    (``resume_conflict``), since it would change the model, the data or the optimizer
    half-way through a run. A moved data file (``task_options["path"]``) is accepted here
    and checked by its contents when the run starts.
    """
    merged = saved.to_dict()
    unknown = [key for key in overrides if key not in merged]
    if unknown:
        raise ValueError(f"unknown config key {unknown[0]!r}")
    given = {k: v for k, v in overrides.items() if k not in ("task_options", "model_options")}
    conflict = resume_conflict(saved, given, overrides.get("task_options", {}), overrides.get("model_options", {}))
    if conflict is not None:
        raise ValueError(conflict.message())
    for key, value in given.items():
        merged[key] = value
        if key == "steps" and value is not None:
            merged["epochs"] = None
        if key == "epochs" and value is not None:
            merged["steps"] = None
    if "path" in overrides.get("task_options", {}) and merged["task_options"].get("path") is not None:
        merged["task_options"]["path"] = overrides["task_options"]["path"]
    return TrainConfig.from_dict(merged)


def check_resumable(config: TrainConfig, saved: TrainConfig, directory: str) -> None:
    """ValueError naming the first field in which ``config`` differs from checkpoint ``saved``
    beyond RESUMABLE_FIELDS and the data file's place (a moved file is checked by its contents)."""
    given = {k: v for k, v in config.to_dict().items() if k not in ("task_options", "model_options")}
    conflict = resume_conflict(saved, given, config.task_options, config.model_options, complete=True)
    if conflict is not None:
        raise ValueError(conflict.message(directory))
