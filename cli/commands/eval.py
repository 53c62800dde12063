"""``minigrad eval CKPT``: metrics of a saved model on a split."""

from __future__ import annotations

import json

import click

from minigrad.cli.core import MinigradCommand
from minigrad.cli.errors import CLIError
from minigrad.cli.loading import open_checkpoint

SPLIT_CHOICES = ("train", "valid", "test", "all")


@click.command(name="eval", cls=MinigradCommand)
@click.argument("checkpoint", metavar="CKPT", type=click.Path(file_okay=False))
@click.option("--split", type=click.Choice(SPLIT_CHOICES), default="test", show_default=True,
              help="Split to evaluate ('all': train, valid and test).")
@click.option("--beam-size", type=click.IntRange(min=1), default=None, help="Beam width (1: greedy).  [default: the run's]")
@click.option("--batch-size", type=click.IntRange(min=1), default=None, help="Examples per batch.  [default: the run's]")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Evaluate only the first N examples.")
@click.option("--data", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Data file of a file/text task, if it moved since training.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
def command(checkpoint: str, split: str, beam_size: int | None, batch_size: int | None, limit: int | None,
            data: str | None, as_json: bool) -> None:
    """Evaluate a checkpoint on a split.

    Prints loss, token accuracy and exact-sequence accuracy (see models.training); for
    a language model loss, bits per token and next-token accuracy.
    """
    from minigrad import tasks
    from minigrad.models.training import evaluate

    from minigrad.cli.render import metrics_table
    from rich.console import Console

    model, task, config, _ = open_checkpoint(checkpoint, data)
    splits = ("train", "valid", "test") if split == "all" else (split,)
    if task.kind == "lm":
        if "test" in splits and "test" not in task.splits and split != "all":
            raise CLIError("this language-modelling checkpoint was trained with test_fraction=0: it has no test split; "
                           "use --split valid")
        splits = tuple(s for s in splits if s in task.splits)
    metrics = {}
    try:
        for name in splits:
            metrics[name] = evaluate(model, task, name, batch_size or config.batch_size, beam_size or config.beam_size,
                                     limit=limit, length_penalty=config.length_penalty)
    except tasks.DataFileChanged as err:
        raise CLIError(f"{err}; to evaluate on it as it is now, pass it explicitly: --data {task.options['path']}") from None
    except tasks.TaskError as err:
        raise CLIError(err) from None
    if as_json:
        click.echo(json.dumps(metrics, indent=2))
        return
    beam = beam_size or config.beam_size
    decoding = "greedy" if beam == 1 else f"beam {beam}"
    Console(highlight=False).print(metrics_table(metrics, title=f"{checkpoint}: {config.model} on {config.task} ({decoding})"))
