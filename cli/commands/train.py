"""``minigrad train`` and ``minigrad-train``: one command body, two names."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import click

from cli.config import apply_config_file
from cli.core import MinigradCommand
from cli.errors import CLIError, TrainingFailed, user_errors
from cli.logs import log_to_file
from cli.options import BY_NAME, SECTIONS, to_config_parts, training_options

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
DIR/best holds the best model by validation. --resume DIR continues a saved run exactly
where it stopped (only the run length, evaluation and stop options may change).
"""


def make_train_command(name: str) -> click.Command:
    """The training command under ``name`` (``train`` in the group, ``minigrad-train`` alone)."""

    @click.command(name=name, cls=MinigradCommand, help=HELP, short_help="Train a model on a task.",
                   context_settings={"help_option_names": ["-h", "--help"]}, sections=SECTIONS)
    @training_options
    @click.pass_context
    def command(ctx: click.Context, **params: Any) -> None:
        run_training(ctx, params)

    return command


def _prompt(values: dict[str, Any]) -> dict[str, Any]:
    """--interactive: ask for the task, the data file if it needs one, the model and the steps."""
    import models
    import tasks
    from models.training import DEFAULT_STEPS

    values = dict(values)
    values["task"] = click.prompt("Task", type=click.Choice(tasks.names()), default=values.get("task") or "copy")
    if values["task"] in ("file", "text") and not values.get("data"):
        values["data"] = click.prompt("Data file", type=click.Path(exists=True, dir_okay=False))
    default_model = values.get("model") or ("lm" if values["task"] == "text" else "rnn-attn")
    values["model"] = click.prompt("Model", type=click.Choice(models.names()), default=default_model)
    values["steps"] = click.prompt("Steps", type=click.IntRange(min=1), default=values.get("steps") or DEFAULT_STEPS)
    values["epochs"] = None
    return values


def _check_model_options(model: str, given: dict[str, Any]) -> None:
    """Unknown model -> error listing the valid ones; an option the model lacks -> error."""
    import models

    names = models.names()
    if model not in names:
        raise CLIError(f"unknown model '{model}'; valid models: {', '.join(names)}")
    accepted = {f.name for f in dataclasses.fields(models.config_for(model))}
    flags = {opt.key: opt.flags[0].split("/")[0] for opt in BY_NAME.values() if opt.target == "model"}
    for key in given:
        if key not in accepted:
            valid = ", ".join(flags.get(k, "--" + k.replace("_", "-")) for k in sorted(accepted) if k in flags)
            raise CLIError(f"option {flags.get(key, key)} does not apply to model '{model}' (its options: {valid})")


def _check_writable_file(path: str | None, what: str) -> None:
    if path is None:
        return
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise CLIError(f"cannot write the {what} {path}: directory {directory} does not exist")
    if os.path.isdir(path):
        raise CLIError(f"cannot write the {what} {path}: it is a directory")


def build_config(values: dict[str, Any]):
    """The TrainConfig the options describe (merged into the checkpoint's when resuming)."""
    from models import checkpoint
    from models.training import TrainConfig, resume_config

    fields, task_options, model_options = to_config_parts(values)
    if values.get("resume"):
        if fields.get("steps") is not None and fields.get("epochs") is not None:
            raise CLIError("give --steps or --epochs, not both")
        _, saved_dict, _, _ = checkpoint.read_checkpoint(values["resume"])
        saved = TrainConfig.from_dict(saved_dict)
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
    _check_model_options(config.model, model_options)
    return config.validate()


def run_training(ctx: click.Context, params: dict[str, Any]) -> None:
    values = dict(params)
    if values.get("config"):
        values = apply_config_file(ctx, values, values["config"])
    if values.get("interactive"):
        values = _prompt(values)
    with log_to_file(values.get("log_file")):
        _train(ctx, values)


def _train(ctx: click.Context, values: dict[str, Any]) -> None:
    import tasks
    from minigrad.serialization import save_json
    from models.training import Trainer, TrainingError, TrainingInterrupted

    from cli.render import ProgressCallback, metrics_table, summary_line
    from rich.console import Console

    quiet = bool(values.get("quiet"))
    console = Console(quiet=quiet, highlight=False)
    _check_writable_file(values.get("output"), "results file")
    save_dir = values.get("save") or values.get("resume")
    progress = None if quiet else ProgressCallback(console)
    with user_errors():
        config = build_config(values)
        trainer = Trainer(config, resume_from=values.get("resume"), save_dir=save_dir,
                          callbacks=[progress] if progress else [])
    n_params = sum(p.data.size for p in trainer.params)
    start = f" from step {trainer.step}" if trainer.step else ""
    console.print(f"[bold]{config.model}[/bold] on [bold]{config.task}[/bold]: {n_params:,} parameters, "
                  f"{trainer.total_steps} steps{start} ({config.optimizer} lr {config.lr:g} {config.schedule}, "
                  f"batch {config.batch_size}, seed {config.seed})", soft_wrap=True)
    try:
        results = trainer.run()
    except TrainingInterrupted as stop:
        if progress:
            progress.stop()
        where = f"; checkpoint saved to {stop.checkpoint} (continue with --resume {stop.checkpoint})" if stop.checkpoint \
            else " (use --save DIR to keep a checkpoint)"
        click.echo(f"Interrupted after step {stop.step}{where}", err=True)
        ctx.exit(130)
    except TrainingError as err:
        raise TrainingFailed(str(err)) from None
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
