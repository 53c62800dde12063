"""Building a run from its config: the task, the model, the optimizer and the schedule.

``build_task`` and ``build_model`` are what a checkpoint is rebuilt with, so their checks
(the lm model for the text task only, a block size covering the task's windows,
teacher forcing for the rnn models only) hold for loaded and for new runs alike.
"""

from __future__ import annotations

import math
from dataclasses import fields
from typing import Any

import minigrad
from minigrad import optim, tasks
from minigrad.models.registry import build, config_for, names
from minigrad.models.train.config import DEFAULT_STEPS, TrainConfig
from minigrad.models.train.objectives import objective_for


def build_task(config: TrainConfig) -> tasks.Task:
    """``tasks.get(config.task, **config.task_options)`` (TaskError on bad names or values)."""
    return tasks.get(config.task, **config.task_options)


def build_model(config: TrainConfig, task: tasks.Task) -> minigrad.nn.Module:
    """``models.build`` for ``task``'s vocabularies; ValueError for a bad name or hyper-parameter.

    ``config.teacher_forcing`` becomes the model's ``teacher_forcing_ratio`` (rnn family);
    a ratio below 1 for a model without one is an error.
    """
    vocab_sizes, options = model_arguments(config, task)
    return build(config.model, *vocab_sizes, **options)


def model_arguments(config: TrainConfig, task: tasks.Task) -> tuple[tuple[int, ...], dict[str, Any]]:
    """What ``build_model`` passes to ``models.build`` after ``config.model``: the vocabulary
    sizes (one for ``lm``) and the hyper-parameters. Checks as ``build_model`` does; builds nothing."""
    options = dict(config.model_options)
    accepted: set[str] = set()
    if config.model in names():
        accepted = {f.name for f in fields(config_for(config.model))}
        if "teacher_forcing_ratio" in accepted:
            options.setdefault("teacher_forcing_ratio", config.teacher_forcing)
        elif config.teacher_forcing != 1.0:
            raise ValueError(f"teacher_forcing applies to the rnn models only; model {config.model!r} is always teacher-forced")
    if task.kind == "lm":
        if config.model != "lm":
            raise ValueError(f"task {task.name!r} is language modelling and needs the 'lm' model, not {config.model!r}")
        if config.model not in names():
            raise ValueError(f"task {task.name!r} needs the 'lm' model, which models.build does not provide")
        if "block_size" in accepted:  # the model reads the task's windows
            options.setdefault("block_size", task.block_size)
            if isinstance(options["block_size"], int) and options["block_size"] < task.block_size:
                raise ValueError(f"the lm's block_size ({options['block_size']}) is shorter than the task's windows "
                                 f"(block_size {task.block_size})")
        return (len(task.src_vocab),), options
    if config.model == "lm":
        raise ValueError(f"the 'lm' model is for the text task; task {task.name!r} needs a seq2seq model")
    return (len(task.src_vocab), len(task.tgt_vocab)), options


def build_optimizer(config: TrainConfig, model: minigrad.nn.Module) -> optim.Optimizer:
    """``config.optimizer`` over the model's parameters, with ``lr`` and (when set) ``weight_decay``."""
    params = list(model.parameters())
    kwargs: dict[str, Any] = {"lr": config.lr}
    if config.weight_decay is not None:
        kwargs["weight_decay"] = config.weight_decay
    if config.optimizer == "adam":
        return optim.Adam(params, **kwargs)
    if config.optimizer == "adamw":
        return optim.AdamW(params, **kwargs)
    return optim.SGD(params, momentum=config.momentum, **kwargs)


def build_scheduler(config: TrainConfig, optimizer: optim.Optimizer, total_steps: int):
    """``config.schedule`` for a run of ``total_steps`` optimizer updates."""
    kwargs: dict[str, Any] = {}
    if config.schedule in ("cosine", "warmup_cosine"):
        kwargs["total_steps"] = max(total_steps, config.warmup + 1)
        kwargs["min_lr"] = config.min_lr
    if config.schedule in ("warmup", "warmup_cosine", "inverse_sqrt"):
        kwargs["warmup_steps"] = config.warmup
    if config.schedule == "step":
        kwargs["step_size"] = config.lr_step_size or max(1, total_steps // 3)
        kwargs["gamma"] = config.lr_gamma
    return optim.lr_scheduler.get_scheduler(config.schedule, optimizer, **kwargs)


def retarget_schedule(scheduler: Any, config: TrainConfig, total: int) -> None:
    """Stretch or shrink a length-dependent schedule to ``total`` steps, keeping its position.

    Cosine and warmup-cosine get the new horizon, a step schedule without an explicit
    ``lr_step_size`` a third of the new length; the learning rate of the next update is
    recomputed at once. Other schedules do not depend on the length and are left alone.
    """
    sched = optim.lr_scheduler
    if isinstance(scheduler, sched.CosineAnnealingLR):
        scheduler.T_max = max(total, 1)
    elif isinstance(scheduler, sched.WarmupCosine):
        scheduler.total_steps = max(total, scheduler.warmup_steps + 1)
    elif isinstance(scheduler, sched.StepLR) and config.lr_step_size is None:
        scheduler.step_size = max(1, total // 3)
    else:
        return
    for group, lr in zip(scheduler.optimizer.param_groups, scheduler.get_lr()):
        group["lr"] = lr


def steps_per_epoch(task: tasks.Task, batch_size: int) -> int:
    """Optimizer steps in one pass over the train split."""
    return objective_for(task).steps_per_epoch(batch_size)


def total_steps(config: TrainConfig, task: tasks.Task) -> int:
    """``steps``, else ``ceil(epochs * steps_per_epoch)``, else ``DEFAULT_STEPS``."""
    if config.steps is not None:
        return int(config.steps)
    if config.epochs is not None:
        return max(1, math.ceil(config.epochs * steps_per_epoch(task, config.batch_size)))
    return DEFAULT_STEPS
