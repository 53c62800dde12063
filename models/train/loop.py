"""The training loop: ``Trainer``, ``train``, ``Callback`` and ``Results``.

One training step: draw the next batch of ``task.sample_batches(batch_size, seed,
start_step=step)``, compute the objective's loss (``objectives``: seq2seq, per-position or
language model; the loop never asks which), backward, ``clip_grad_norm_``, optimizer step,
scheduler step. Every ``eval_interval`` steps the model is validated (``evaluate``) and a
record is appended to the history; at the end it is evaluated on the objective's splits
(train on its first ``FINAL_TRAIN_LIMIT`` examples).

Reproducibility: ``minigrad.manual_seed(config.seed)`` is called before the model is built,
so initialisation, dropout and teacher forcing draw from one generator; the batch stream is a
function of ``(seed, step)``. The same config and thread count give the same numbers, and a
run resumed from a checkpoint saved at step k ends with exactly the weights of a run that
was never interrupted (the checkpoint holds the optimizer and scheduler state and the
generator's state at the step boundary).

Resuming with a different run length (``steps``/``epochs``) re-targets the schedules that
depend on it (cosine, warmup_cosine, and step with its default step size) to the new total,
from the current step on; an unchanged length continues the saved schedule exactly.

Early stopping (``stop_at``) is off by default, so a run always trains for the steps it was
given; ``stop_at=0.99`` stops at the first validation whose exact-sequence accuracy
(``sequence_accuracy``) reaches 99% (validation loss ``<= stop_at`` is not used).

Interrupts: a KeyboardInterrupt (Ctrl-C) at any moment of ``train`` (a step, a validation,
the final evaluation) ends in ``TrainingInterrupted`` carrying the last completed step and
the checkpoint path. It never lands half-way through an optimizer update or a checkpoint
write (``minigrad.interrupts.InterruptGuard``, installed for the whole run in the main
thread). With ``save_dir`` that step is saved first, unless the directory holds it already;
before the first step nothing is saved.
"""

from __future__ import annotations

import logging
import math
import os
import time
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np

import minigrad
from minigrad import optim
from minigrad.interrupts import InterruptGuard
from minigrad.rng import get_rng_state, set_rng_state
from minigrad.models import checkpoint as ckpt
from minigrad.models.train.build import (
    build_model, build_optimizer, build_scheduler, build_task, retarget_schedule, total_steps,
)
from minigrad.models.train.config import TrainConfig, check_resumable
from minigrad.models.train.evaluate import evaluate
from minigrad.models.train.objectives import EvalProgress, objective_for

logger = logging.getLogger(__name__)

FINAL_TRAIN_LIMIT = 1000


class TrainingError(RuntimeError):
    """Training cannot go on (the loss or the gradient norm became NaN/Inf, say)."""


class TrainingInterrupted(Exception):
    """Raised by ``train`` after a KeyboardInterrupt: ``step`` done, ``checkpoint`` path or None."""

    def __init__(self, step: int, checkpoint: str | None, results: "Results | None" = None):
        self.step = step
        self.checkpoint = checkpoint
        self.results = results
        where = f"; checkpoint saved to {checkpoint}" if checkpoint else ""
        super().__init__(f"training interrupted after step {step}{where}")


def train_loss_label(steps: int) -> str:
    """What a validation record's ``train_loss`` is: "train loss (mean of last 10 steps)".

    Not to be confused with a progress display's smoothed (moving-average) loss.
    """
    return f"train loss (mean of last {steps} step{'' if steps == 1 else 's'})"


class Callback:
    """Hooks called by ``train``; subclass and override the ones you need (all no-ops here).

    The final evaluation calls ``on_final_eval(split)`` before each split and then
    ``on_eval_progress(split, done, total)`` as its examples are evaluated (see ``evaluate``).
    """

    def on_train_start(self, trainer: "Trainer") -> None: ...
    def on_step_end(self, trainer: "Trainer", loss: float, tokens: int) -> None: ...
    def on_eval(self, trainer: "Trainer", record: dict[str, Any]) -> None: ...
    def on_checkpoint(self, trainer: "Trainer", path: str, best: bool) -> None: ...
    def on_final_eval(self, trainer: "Trainer", split: str) -> None: ...
    def on_eval_progress(self, trainer: "Trainer", split: str, done: int, total: int) -> None: ...
    def on_train_end(self, trainer: "Trainer", results: "Results") -> None: ...


@dataclass
class Results:
    """What ``train`` returns.

    metrics: {"train"|"valid"|"test": {"loss", "token_accuracy", "sequence_accuracy"}} (an LM adds "bits_per_token")
    (train on the first FINAL_TRAIN_LIMIT examples; an LM task: the splits it has).
    history: the validation records. steps: optimizer updates done in all. wall_seconds:
    time of this call; train_seconds: training time summed over resumed runs.
    crossed: (step, train_seconds) of the first validation with sequence accuracy >= 0.99,
    or None. stopped_early: ``stop_at`` was reached.
    """

    config: TrainConfig
    metrics: dict[str, dict[str, Any]]
    history: list[dict[str, Any]]
    steps: int
    wall_seconds: float
    train_seconds: float
    crossed: tuple[int, float] | None = None
    stopped_early: bool = False
    checkpoint: str | None = None
    model: Any = None
    task: Any = None

    def to_json(self) -> dict[str, Any]:
        """The results.json document: config, metrics, history, wall_seconds (+ steps)."""
        keys = ("loss", "token_accuracy", "sequence_accuracy")
        metrics = {split: {k: _json_number(m.get(k)) for k in keys + (("bits_per_token",) if "bits_per_token" in m else ())}
                   for split, m in self.metrics.items()}
        return {
            "config": self.config.to_dict(),
            "metrics": metrics,
            "history": [{k: _json_number(v) for k, v in record.items()} for record in self.history],
            "wall_seconds": self.wall_seconds,
            "steps": self.steps,
            "train_seconds": self.train_seconds,
        }


def _json_number(value: Any) -> Any:
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


class Trainer:
    """One training run: the task, model, optimizer and scheduler, and where the run is.

    Attributes callbacks may read: ``config``, ``task``, ``model``, ``optimizer``,
    ``scheduler``, ``objective`` (what the run optimises and how it is scored: see
    ``objectives``), ``step``, ``total_steps``, ``history``, ``state`` (TrainingState),
    ``save_dir``.
    """

    def __init__(self, config: TrainConfig, *, resume_from: str | None = None, save_dir: str | None = None,
                 callbacks: Iterable[Callback] = ()) -> None:
        self.callbacks = list(callbacks)
        self.save_dir = save_dir
        self.config = config.validate()
        self.state = ckpt.TrainingState()
        # A fresh run replacing another run's checkpoint must not inherit that run's best/.
        self._keep_best = resume_from is not None
        self._guard = InterruptGuard()  # installed while ``run`` runs
        self._saved_step: int | None = None  # the step the checkpoint in save_dir holds, if known
        if resume_from is not None:
            self._resume(resume_from)
            if save_dir is not None and os.path.realpath(save_dir) == os.path.realpath(resume_from):
                self._saved_step = self.step
        else:
            self.task = build_task(self.config)
            minigrad.manual_seed(self.config.seed)
            self.model = build_model(self.config, self.task)
            self.total_steps = total_steps(self.config, self.task)
            self.optimizer = build_optimizer(self.config, self.model)
            self.scheduler = build_scheduler(self.config, self.optimizer, self.total_steps)
            self.state.rng_state = get_rng_state()
        self.params = list(self.model.parameters())
        self.objective = objective_for(self.task, self.model)
        self.objective.check()  # reads the data now: a missing or broken file is reported before training
        if save_dir is not None:
            ckpt.check_writable(save_dir)

    def _resume(self, directory: str) -> None:
        data_path = self.config.task_options.get("path")
        model, task, saved, state = ckpt.load_checkpoint(directory, data_path=data_path)
        check_resumable(self.config, saved, directory)
        trained_on = saved.task_options.get("path")
        if data_path != trained_on and getattr(task, "data_fingerprint", None) is None:
            raise ValueError(f"the checkpoint {directory} records no fingerprint of its data file {trained_on}, so "
                             f"{data_path} cannot be checked to hold the same data; a resumed run reads {trained_on}")
        self.task, self.model, self.state = task, model, state
        self.model.train()
        self.total_steps = total_steps(self.config, self.task)
        self.optimizer = build_optimizer(self.config, self.model)
        self.scheduler = build_scheduler(saved, self.optimizer, total_steps(saved, self.task))
        tree = ckpt.read_optimizer(directory)
        try:
            self.optimizer.load_state_dict(tree["optimizer"])
            self.scheduler.load_state_dict(tree["scheduler"])
        except (KeyError, TypeError, ValueError) as err:
            raise minigrad.CheckpointError(f"{directory}/{ckpt.OPTIMIZER_FILE} does not fit this run: {err}") from None
        if self.total_steps != total_steps(saved, self.task):
            retarget_schedule(self.scheduler, self.config, self.total_steps)
        if state.rng_state is None:
            raise minigrad.CheckpointError(f"{directory}/{ckpt.STATE_FILE} has no RNG state to resume from")
        set_rng_state(state.rng_state)

    # -- properties -----------------------------------------------------------------------

    @property
    def step(self) -> int:
        return self.state.step

    @property
    def history(self) -> list[dict[str, Any]]:
        return self.state.history

    @property
    def saved_step(self) -> int | None:
        """The step the checkpoint in ``save_dir`` holds, when this run knows it (saved or resumed there)."""
        return self._saved_step

    def _emit(self, hook: str, *args: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(self, *args)

    # -- saving ---------------------------------------------------------------------------

    def save(self, directory: str | None = None, best: bool = False) -> str | None:
        """Write a checkpoint of the current step to ``directory`` (default ``save_dir``)."""
        directory = directory or self.save_dir
        if directory is None:
            return None
        files = dict(
            model_state=self.model.state_dict(),
            optimizer_state={"optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict()},
            config=self.config.to_dict(),
            task_state=self.task.state(),
            state=self.state,
        )
        with self._guard.deferred():  # a Ctrl-C waits for the checkpoint to be complete
            if best:
                path = ckpt.save_best(directory, **files)
            else:
                path = ckpt.save_checkpoint(directory, keep_best=self._keep_best, **files)
                self._keep_best = True  # from now on best/ is this run's own
                if directory == self.save_dir:
                    self._saved_step = self.step
        logger.info("saved %scheckpoint at step %d to %s", "best " if best else "", self.step, path)
        self._emit("on_checkpoint", path, best)
        return path

    # -- one step and validation ----------------------------------------------------------

    def _loss(self, batch: Any) -> tuple[minigrad.Tensor, int]:
        """The objective's loss of one batch and the number of target tokens it counts."""
        return self.objective.loss(self.model, batch, self.config.label_smoothing)

    def validate(self, train_loss: float | None, tokens_per_second: float | None, train_steps: int = 0) -> dict[str, Any]:
        """Validate on ``eval_size`` examples, append a history record, save checkpoints.

        ``train_loss`` is the mean loss of the ``train_steps`` steps before this validation.
        """
        c = self.config
        rng_state = get_rng_state()  # evaluation must not move the training's random stream
        try:
            metrics = evaluate(self.model, self.task, "valid", c.batch_size, c.beam_size, limit=c.eval_size,
                               length_penalty=c.length_penalty)
        finally:
            set_rng_state(rng_state)
        record = {
            "step": self.step,
            "seconds": round(self.state.elapsed, 3),
            "lr": float(self.optimizer.param_groups[0]["lr"]),
            "train_loss": train_loss,
            "valid_loss": metrics["loss"],
            "valid_token_accuracy": metrics["token_accuracy"],
            "valid_sequence_accuracy": metrics["sequence_accuracy"],
            "tokens_per_second": tokens_per_second,
        }
        if "bits_per_token" in metrics:  # language model
            record["valid_bits_per_token"] = metrics["bits_per_token"]
        self.state.history.append(record)
        logger.info("step %d: %s %s, valid loss %.4f, token acc %.4f, seq acc %s", self.step, train_loss_label(train_steps),
                    "-" if train_loss is None else f"{train_loss:.4f}", metrics["loss"], metrics["token_accuracy"],
                    "-" if metrics["sequence_accuracy"] is None else f"{metrics['sequence_accuracy']:.4f}")
        self._emit("on_eval", record)
        score = self.objective.score(metrics)
        improved = score is not None and (self.state.best_metric is None or score > self.state.best_metric)
        if improved:
            self.state.best_metric, self.state.best_step = score, self.step
        if self.save_dir is not None:
            self.save()
            if improved:
                self.save(best=True)
        return record

    def _eval_progress(self, split: str) -> EvalProgress:
        """The ``evaluate`` progress report of the final evaluation of ``split``: to the callbacks."""
        return lambda done, total: self._emit("on_eval_progress", split, done, total)

    def run(self, evaluate_at_end: bool = True) -> Results:
        """Train to ``total_steps`` (or ``stop_at``), then evaluate; see ``train``.

        A KeyboardInterrupt (Ctrl-C) at any point, in a step, a validation, a save or the
        final evaluation, ends in ``TrainingInterrupted`` once the last completed step is saved.
        """
        with self._guard:
            try:
                return self._run(evaluate_at_end)
            except KeyboardInterrupt:
                raise self._interrupted() from None

    def _interrupted(self) -> TrainingInterrupted:
        """Save the last completed step unless ``save_dir`` holds it already; a second Ctrl-C
        waits for that save. With no step done nothing is saved: an untrained model must not
        replace the checkpoint a directory holds."""
        set_rng_state(self.state.rng_state)  # the state at the last completed step
        path = None
        if self.save_dir is not None and self._saved_step == self.step:
            path = self.save_dir
        elif self.save_dir is not None and self.step > 0:
            with self._guard.deferred(reraise=False):
                path = self.save()
        logger.info("interrupted after step %d", self.step)
        return TrainingInterrupted(self.step, path)

    def _run(self, evaluate_at_end: bool) -> Results:
        c = self.config
        started = time.perf_counter()
        logger.info("training %s on %s for %d steps (from step %d): %d parameters", c.model, c.task,
                    self.total_steps, self.step, sum(p.data.size for p in self.params))
        self._emit("on_train_start")
        stream = self.task.sample_batches(c.batch_size, c.seed, start_step=self.step)
        loss_sum, loss_count, tokens, window_started = 0.0, 0, 0, time.perf_counter()
        stopped_early = False
        last_validated = self.step if self.history and self.history[-1]["step"] == self.step else None
        self.model.train()
        while self.step < self.total_steps:
            step_started = time.perf_counter()
            rng_state = get_rng_state()
            batch = next(stream)
            loss, n_tokens = self._loss(batch)
            value = float(loss.item())
            if not math.isfinite(value):
                raise TrainingError(f"the loss became {value} at step {self.step + 1}; try a lower learning rate")
            self.optimizer.zero_grad()
            loss.backward()
            with self._guard.deferred():
                if c.clip > 0:
                    try:
                        optim.clip_grad_norm_(self.params, c.clip, error_if_nonfinite=True)
                    except RuntimeError as err:
                        raise TrainingError(f"step {self.step + 1}: {err}") from None
                self.optimizer.step()
                self.scheduler.step()
                self.state.step += 1
                self.state.rng_state = rng_state = get_rng_state()
                self.state.elapsed += time.perf_counter() - step_started
            loss_sum, loss_count, tokens = loss_sum + value, loss_count + 1, tokens + n_tokens
            self._emit("on_step_end", value, n_tokens)
            if c.eval_interval and self.step % c.eval_interval == 0 and self.step < self.total_steps:
                eval_started = time.perf_counter()
                rate = tokens / max(time.perf_counter() - window_started, 1e-9)
                record = self.validate(loss_sum / loss_count, rate, loss_count)
                self.state.elapsed += time.perf_counter() - eval_started
                last_validated = self.step
                loss_sum, loss_count, tokens, window_started = 0.0, 0, 0, time.perf_counter()
                seq = record["valid_sequence_accuracy"]
                if c.stop_at is not None and seq is not None and seq >= c.stop_at:
                    logger.info("stopping early at step %d: valid sequence accuracy %.4f >= %s", self.step, seq, c.stop_at)
                    stopped_early = True
                    break
        if last_validated != self.step:
            eval_started = time.perf_counter()
            rate = tokens / max(time.perf_counter() - window_started, 1e-9) if loss_count else None
            self.validate(loss_sum / loss_count if loss_count else None, rate, loss_count)
            self.state.elapsed += time.perf_counter() - eval_started
        metrics: dict[str, dict[str, Any]] = {}
        if evaluate_at_end:
            for split in self.objective.splits:
                self._emit("on_final_eval", split)
                limit = FINAL_TRAIN_LIMIT if split == "train" else None
                metrics[split] = evaluate(self.model, self.task, split, c.batch_size, c.beam_size, limit=limit,
                                          length_penalty=c.length_penalty, progress=self._eval_progress(split))
                logger.info("final %s: %s", split, {k: v for k, v in metrics[split].items()})
        crossed = next(((r["step"], r["seconds"]) for r in self.history
                        if r.get("valid_sequence_accuracy") is not None and r["valid_sequence_accuracy"] >= 0.99), None)
        results = Results(
            config=c, metrics=metrics, history=list(self.history), steps=self.step,
            wall_seconds=time.perf_counter() - started, train_seconds=self.state.elapsed, crossed=crossed,
            stopped_early=stopped_early, checkpoint=self.save_dir, model=self.model, task=self.task,
        )
        self._emit("on_train_end", results)
        return results


def train(config: TrainConfig, *, callbacks: Iterable[Callback] = (), resume_from: str | None = None,
          save_dir: str | None = None, evaluate_at_end: bool = True) -> Results:
    """Train a model as ``config`` says and evaluate it; returns ``Results``.

    ``resume_from``: a checkpoint directory to continue (its config must match ``config``
    except for RESUMABLE_FIELDS; build ``config`` with ``resume_config``). ``save_dir``: a
    checkpoint directory written at every validation, at the end and on interrupt; its
    ``best/`` holds the best validation score so far. ``callbacks``: ``Callback`` objects.

    Raises ``tasks.TaskError`` / ``ValueError`` for bad configs, ``CheckpointError`` for a
    bad checkpoint, ``TrainingError`` if the loss diverges and ``TrainingInterrupted`` after
    a KeyboardInterrupt (the checkpoint, if any, is saved first).
    """
    trainer = Trainer(config, resume_from=resume_from, save_dir=save_dir, callbacks=callbacks)
    return trainer.run(evaluate_at_end=evaluate_at_end)
