"""``minigrad train`` and ``minigrad-train``: one command body, two names."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import click
from click.core import ParameterSource

from minigrad.cli.config import apply_config_file
from minigrad.cli.core import INTERRUPTED_EXIT, MinigradCommand
from minigrad.cli.errors import CLIError, TrainingFailed, one_line, user_errors
from minigrad.cli.files import check_output_file
from minigrad.cli.logs import log_to_file
from minigrad.cli.memory import check_model_fits
from minigrad.cli.options import BY_NAME, SECTIONS, flag_names, flag_of, to_config_parts, training_options

DATA_FILE_OF = {"file": "a TSV file of source<TAB>target lines", "text": "a UTF-8 text file"}
TASK_KEYS = {opt.key for opt in BY_NAME.values() if opt.target == "task"}

HELP = """Train a sequence model on a task and report train/valid/test metrics.

\b
Examples:
  minigrad-train --task copy --model rnn-attn
  minigrad-train --task reverse --model transformer --d-model 32 --steps 800
  minigrad-train --config run.yaml --lr 3e-4 --save ckpt --output results.json
  minigrad-train --resume ckpt --steps 3000

Every hyper-parameter is an option. Values come from, highest first: the command line,
the environment (MINIGRAD_SEED for --seed), the --config YAML file (keys are option
names, e.g. "hidden-dim: 256"), the built-in defaults (Adam, lr 1e-3 with cosine decay, batch 64,
clip 1.0, 500 steps). The same options, seed and thread count give the same numbers.

With --save DIR a checkpoint is written at every validation, at the end and on Ctrl-C;
DIR/best holds the best model by validation. A DIR that already holds a checkpoint is
refused unless this run resumes it (--resume DIR) or --overwrite says to replace it.
--resume DIR continues a saved run exactly where it stopped (only the run length,
evaluation and stop options may change; --steps must go beyond the saved step; a seed
from MINIGRAD_SEED is ignored).
"""


def make_train_command(name: str) -> click.Command:
    """The training command under ``name`` (``train`` in the group, ``minigrad-train`` alone)."""

    @click.command(name=name, cls=MinigradCommand, help=HELP, short_help="Train a model on a task.",
                   context_settings={"help_option_names": ["-h", "--help"]}, sections=SECTIONS)
    @click.version_option(package_name="minigrad", prog_name=name if name.startswith("minigrad") else "minigrad")
    @training_options
    @click.pass_context
    def command(ctx: click.Context, **params: Any) -> None:
        run_training(ctx, params)

    return command


def _prompt(values: dict[str, Any]) -> dict[str, Any]:
    """--interactive: ask for the task, the data file if it needs one, the model and the steps."""
    from minigrad import models
    from minigrad import tasks
    from minigrad.models.training import DEFAULT_STEPS

    values = dict(values)
    values["task"] = _ask("Task", type=click.Choice(tasks.names()), default=values.get("task") or "copy")
    if values["task"] in ("file", "text") and not values.get("data"):
        values["data"] = _ask("Data file", type=click.Path(exists=True, dir_okay=False))
    default_model = values.get("model") or ("lm" if values["task"] == "text" else "rnn-attn")
    values["model"] = _ask("Model", type=click.Choice(models.names()), default=default_model)
    values["steps"] = _ask("Steps", type=click.IntRange(min=1), default=values.get("steps") or DEFAULT_STEPS)
    values["epochs"] = None
    return values


def _ask(text: str, **kwargs: Any) -> Any:
    """``click.prompt``, except that the end of input is a CLIError naming the prompt and a
    Ctrl-C stays a KeyboardInterrupt (Click turns both into its "Aborted!")."""
    try:
        return click.prompt(text, **kwargs)
    except click.Abort as abort:
        if isinstance(abort.__context__, KeyboardInterrupt):
            raise KeyboardInterrupt from None
        raise CLIError(f"--interactive: the input ended at the {text!r} prompt; answer every prompt on standard "
                       "input, or give the options on the command line instead") from None


def _check_model_options(model: str, given: dict[str, Any]) -> None:
    """Unknown model -> error listing the valid ones; an option the model lacks -> error."""
    from minigrad import models

    names = models.names()
    if model not in names:
        raise CLIError(f"unknown model '{model}'; valid models: {', '.join(names)}")
    accepted = {f.name for f in dataclasses.fields(models.config_for(model))}
    flags = {opt.key: opt.flags[0].split("/")[0] for opt in BY_NAME.values() if opt.target == "model"}
    for key in given:
        if key not in accepted:
            valid = ", ".join(flags.get(k, "--" + k.replace("_", "-")) for k in sorted(accepted) if k in flags)
            raise CLIError(f"option {flags.get(key, key)} does not apply to model '{model}' (its options: {valid})")


def _check_task_options(task: str, given: dict[str, Any]) -> None:
    """Unknown task -> error listing the valid ones; a missing --data or an option the task lacks -> error naming flags."""
    from minigrad import tasks

    accepted = tasks.defaults(task)  # TaskError for an unknown task
    if task in DATA_FILE_OF and not given.get("path"):
        raise CLIError(f"--task {task} needs --data FILE ({DATA_FILE_OF[task]})")
    for key in given:
        if key not in accepted:
            valid = ", ".join(sorted(flag_of("task", k) for k in accepted if k in TASK_KEYS))
            raise CLIError(f"option {flag_of('task', key)} does not apply to task '{task}' (its options: {valid})")


def _shown(target: str, key: str, value: Any) -> str:
    """An option as the user would type it: "--hidden-dim 16", "--norm pre", "--unidirectional"."""
    opt = next((o for o in BY_NAME.values() if o.target == target and o.key == key), None)
    flag = flag_of(target, key)
    if opt is not None and "/" in opt.flags[0] and isinstance(value, bool):
        on, off = opt.flags[0].split("/")
        return on if value else off
    if key == "norm_first" and isinstance(value, bool):
        value = "pre" if value else "post"
    return f"{flag} {value}"


def _check_resume_overrides(directory: str, saved, fields: dict[str, Any], task_options: dict[str, Any],
                            model_options: dict[str, Any]) -> None:
    """Refuse, naming the flag, an option a resumed run gives with a value other than the
    checkpoint's (the library's rule: ``resume_conflict``)."""
    from minigrad.models.training import resume_conflict

    conflict = resume_conflict(saved, fields, task_options, model_options)
    if conflict is None:
        return
    target, key = conflict.target, conflict.key
    before = f"the default {flag_of(target, key)}" if conflict.saved is None else _shown(target, key, conflict.saved)
    raise CLIError(f"the checkpoint {directory} was trained with {before}; a resumed run cannot change it "
                   f"(got {_shown(target, key, conflict.given)})")


def build_config(values: dict[str, Any]):
    """The TrainConfig the options describe (merged into the checkpoint's when resuming)."""
    from minigrad.models import checkpoint
    from minigrad.models.training import TrainConfig, resume_config

    fields, task_options, model_options = to_config_parts(values)
    if values.get("resume"):
        if fields.get("steps") is not None and fields.get("epochs") is not None:
            raise CLIError("give --steps or --epochs, not both")
        _, saved_dict, _, _ = checkpoint.read_checkpoint(values["resume"])
        saved = TrainConfig.from_dict(saved_dict)
        stored_data = saved.task_options.get("path")
        if "path" in task_options and stored_data is not None and os.path.abspath(stored_data) == task_options["path"]:
            del task_options["path"]  # the same file, given again
        if stored_data is not None and "path" not in task_options and not os.path.exists(stored_data):
            raise CLIError(f"cannot resume {values['resume']}: its {saved.task} task reads {stored_data}, which does not "
                           "exist; if it moved, give its new place with --data FILE (it must hold the same data)")
        _check_resume_overrides(values["resume"], saved, fields, task_options, model_options)
        overrides: dict[str, Any] = dict(fields)
        if task_options:
            overrides["task_options"] = task_options
        if model_options:
            overrides["model_options"] = model_options
        return resume_config(saved, overrides)
    if fields.get("task") == "text" and fields.get("model") is None:
        fields["model"] = "lm"
    config = TrainConfig(**fields, task_options=task_options, model_options=model_options)
    if config.steps is not None and config.epochs is not None:
        raise CLIError("give --steps or --epochs, not both")
    _check_task_options(config.task, task_options)
    _check_model_options(config.model, model_options)
    return config.validate()


# -- where the checkpoint goes -------------------------------------------------------------


def check_save_target(save: str | None, resume: str | None, overwrite: bool) -> None:
    """The library's save-directory rule (``models.train.resume.check_save_target``), in the flags'
    words: a directory this run would destroy is refused before any work."""
    from minigrad.models.train import resume as policy

    with user_errors():
        try:
            policy.check_save_target(save, resume, overwrite)
        except policy.CheckpointOccupied as err:
            raise CLIError(f"--save {save} already holds a checkpoint ({err.description}); continue it with "
                           f"--resume {save}, or replace it with --overwrite") from None
        except policy.BestNotReplaceable as err:
            raise CLIError(f"--overwrite: {err}") from None


def _check_resume_length(trainer, values: dict[str, Any]) -> None:
    """The library's resume-length rule, naming the flag that sets the run's length."""
    from minigrad.models.train import resume as policy

    given = values.get("steps") is not None or values.get("epochs") is not None
    try:
        policy.check_run_length(trainer.step, trainer.total_steps, trainer.config.epochs, given)
    except policy.RunTooShort as err:
        if err.epochs is not None:
            got, option = f"--epochs {err.epochs:g}, which is {err.total_steps} steps", "--epochs"
        else:
            got, option = f"--steps {err.total_steps}", "--steps"
        raise CLIError(f"the checkpoint {values['resume']} is already at step {err.step}: {option} must be larger "
                       f"to train further (got {got})") from None


def _save_failure(save_dir: str, step: int, err: Exception) -> str:
    """One line for a checkpoint write that failed (disk full, say): the file, the OS error, what is kept."""
    from minigrad.models import checkpoint

    from minigrad.models.train.resume import describe_checkpoint

    kept = (f"the checkpoint already in {save_dir} ({describe_checkpoint(save_dir)}) is unchanged"
            if checkpoint.is_checkpoint(save_dir) else f"nothing was saved to {save_dir}")
    return one_line(f"could not save the checkpoint of step {step} to {save_dir}: {err}; {kept}")


def interrupted_line(step: int | None, checkpoint: str | None, save_dir: str | None) -> str:
    """The one line a Ctrl-C ends a run with: the last completed step and where it is saved."""
    if checkpoint:
        return f"Interrupted after step {step}; checkpoint saved to {checkpoint} (continue with --resume {checkpoint})"
    if not step:
        return "Interrupted before the first step" + ("; nothing was saved" if save_dir else "")
    return f"Interrupted after step {step} (use --save DIR to keep a checkpoint)"


@dataclasses.dataclass
class RunSoFar:
    """How far a ``minigrad-train`` run got, for a Ctrl-C that lands outside the training loop."""

    save_dir: str | None = None
    resume: str | None = None
    trainer: Any = None  # the Trainer, once built

    def last_saved(self) -> tuple[int | None, str | None]:
        """``(step, checkpoint)``: the last completed step and the directory holding it (None: none does)."""
        trainer = self.trainer
        if trainer is not None and self.save_dir and trainer.saved_step == trainer.step:
            return trainer.step, self.save_dir
        from minigrad.models.train.resume import saved_step

        if self.resume and (trainer is None or trainer.step == saved_step(self.resume)):
            return saved_step(self.resume), self.resume
        return (trainer.step if trainer is not None else None), None


def run_training(ctx: click.Context, params: dict[str, Any]) -> None:
    """The command body. A Ctrl-C at any moment ends with one line and exit status 130."""
    run = RunSoFar()
    try:
        _run_training(ctx, params, run)
    except KeyboardInterrupt:
        click.echo(interrupted_line(*run.last_saved(), run.save_dir), err=True)
        ctx.exit(INTERRUPTED_EXIT)


def _run_training(ctx: click.Context, params: dict[str, Any], run: RunSoFar) -> None:
    values = dict(params)
    if values.get("config"):
        values = apply_config_file(ctx, values, values["config"])
    run.save_dir, run.resume = values.get("save") or values.get("resume"), values.get("resume")
    if values.get("interactive"):
        values = _prompt(values)
    env_seed = None
    if values.get("resume") and ctx.get_parameter_source("seed") == ParameterSource.ENVIRONMENT:
        # MINIGRAD_SEED picks the seed of new runs; a resumed run keeps the checkpoint's.
        env_seed, values["seed"] = values["seed"], None
    if values.get("data"):
        # Stored in the checkpoint: absolute, so eval/resume work from any directory.
        values["data"] = os.path.abspath(values["data"])
    save_dir = values.get("save") or values.get("resume")
    check_output_file(values.get("output"), "--output", save_dir)
    check_output_file(values.get("log_file"), "--log-file", save_dir)
    with log_to_file(values.get("log_file")):
        _train(ctx, values, env_seed, run)


def _train(ctx: click.Context, values: dict[str, Any], env_seed: int | None, run: RunSoFar) -> None:
    import numpy as np

    from minigrad import tasks
    from minigrad.errors import CheckpointError
    from minigrad.serialization import save_json
    from minigrad.models.training import Trainer, TrainingError, TrainingInterrupted

    from minigrad.cli.render import ProgressCallback, metrics_table, summary_line
    from rich.console import Console

    quiet = bool(values.get("quiet"))
    console = Console(quiet=quiet, highlight=False)
    save_dir = values.get("save") or values.get("resume")
    progress = None if quiet else ProgressCallback(console)
    with user_errors(translate=flag_names):
        config = build_config(values)  # reads no data: cheap, so every check here comes before any work
    check_save_target(save_dir, values.get("resume"), bool(values.get("overwrite")))
    with user_errors(translate=flag_names):
        if not values.get("resume"):  # a resumed model's size is that of the weights it loads
            check_model_fits(config)
        trainer = Trainer(config, resume_from=values.get("resume"), save_dir=save_dir,
                          callbacks=[progress] if progress else [])
    run.trainer = trainer
    if values.get("resume"):
        _check_resume_length(trainer, values)
        if env_seed is not None and env_seed != config.seed and not quiet:
            click.echo(f"note: MINIGRAD_SEED={env_seed} is ignored: {values['resume']} continues with its seed "
                       f"{config.seed}", err=True)
    n_params = sum(p.data.size for p in trainer.params)
    start = f" from step {trainer.step}" if trainer.step else ""
    console.print(f"[bold]{config.model}[/bold] on [bold]{config.task}[/bold]: {n_params:,} parameters, "
                  f"{trainer.total_steps} steps{start} ({config.optimizer} lr {config.lr:g} {config.schedule}, "
                  f"batch {config.batch_size}, seed {config.seed})", soft_wrap=True)
    try:
        # A diverging run is reported in one line (TrainingError), not NumPy's overflow warnings.
        with np.errstate(all="ignore"):
            results = trainer.run()
    except TrainingInterrupted as stop:
        if progress:
            progress.stop()
        click.echo(interrupted_line(stop.step, save_dir if stop.checkpoint else None, save_dir), err=True)
        ctx.exit(INTERRUPTED_EXIT)
    except TrainingError as err:
        raise TrainingFailed(str(err)) from None
    except CheckpointError as err:  # the disk filled up, say: exit status 1, the old checkpoint intact
        raise TrainingFailed(_save_failure(save_dir, trainer.step, err)) from None
    except tasks.TaskError as err:
        raise CLIError(err) from None
    finally:
        if progress:
            progress.stop()
    if values.get("output"):
        with user_errors():
            save_json(results.to_json(), values["output"])
    console.print(metrics_table(results.metrics))
    console.print(summary_line(results), soft_wrap=True)
    if save_dir:
        console.print(f"checkpoint: {save_dir}  (best by validation: {os.path.join(save_dir, 'best')})")


command = make_train_command("train")
