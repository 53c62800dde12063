"""``minigrad predict CKPT "3 1 4"``: decode inputs with a saved model."""

from __future__ import annotations

import click

from minigrad.cli.core import MinigradCommand
from minigrad.cli.errors import user_errors
from minigrad.cli.loading import check_input_length, open_checkpoint, require_seq2seq


@click.command(name="predict", cls=MinigradCommand)
@click.argument("checkpoint", metavar="CKPT", type=click.Path(file_okay=False))
@click.argument("inputs", metavar="TEXT...", nargs=-1, required=True)
@click.option("--beam-size", type=click.IntRange(min=1), default=1, show_default=True, help="Beam width (1: greedy).")
@click.option("--max-len", type=click.IntRange(min=1), default=None, help="Longest output.  [default: the task's]")
def command(checkpoint: str, inputs: tuple[str, ...], beam_size: int, max_len: int | None) -> None:
    """Decode inputs with a checkpoint.

    Prints one output line per TEXT; symbols are space-separated ("3 1 4"). A TEXT may be
    as long as the longest source the model was trained on. Put -- before a TEXT that
    starts with "-".
    """
    from minigrad.models.training import predict

    model, task, config, _ = open_checkpoint(checkpoint)
    require_seq2seq(task, "predict")
    for text in inputs:
        check_input_length(task, text)
    for text in inputs:
        with user_errors():
            output, _, _ = predict(model, task, text, beam_size=beam_size, max_len=max_len,
                                   length_penalty=config.length_penalty)
        click.echo(output)
