"""``minigrad attention CKPT "3 1 4"``: where the model looks while decoding, as a heatmap."""

from __future__ import annotations

import click

from minigrad.cli.core import MinigradCommand
from minigrad.cli.errors import CLIError, user_errors
from minigrad.cli.files import check_output_file, writing
from minigrad.cli.loading import check_input_length, open_checkpoint, require_seq2seq

PLOT_HINT = 'matplotlib is not installed; pip install "minigrad[plot]" for --png'


@click.command(name="attention", cls=MinigradCommand)
@click.argument("checkpoint", metavar="CKPT", type=click.Path(file_okay=False))
@click.argument("text", metavar="TEXT")
@click.option("--beam-size", type=click.IntRange(min=1), default=1, show_default=True, help="Beam width (1: greedy).")
@click.option("--png", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help='Also write the heatmap as an image (needs: pip install "minigrad[plot]").')
def command(checkpoint: str, text: str, beam_size: int, png: str | None) -> None:
    """Show a decode's attention as a heatmap.

    Output tokens down the side, source tokens across the top, each cell shaded by
    the weight the model gave that source token when producing that output token.
    """
    from minigrad.models.training import predict

    from minigrad.cli.render import attention_heatmap, heatmap_legend, save_attention_png
    from rich.console import Console

    if png is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise CLIError(PLOT_HINT) from None
        check_output_file(png, "--png")
    model, task, config, _ = open_checkpoint(checkpoint)
    require_seq2seq(task, "attention")
    check_input_length(task, text)
    with user_errors():
        output, tokens, matrix = predict(model, task, text, beam_size=beam_size, length_penalty=config.length_penalty)
    if matrix is None or matrix.size == 0:
        raise CLIError(f"model '{config.model}' returns no attention weights to show")
    source = task.src_vocab.tokenize(text)
    out_tokens = [task.tgt_vocab.id_to_token(i) for i in tokens][: matrix.shape[0]]
    console = Console(highlight=False)
    decoding = "greedy" if beam_size == 1 else f"beam {beam_size}"
    console.print(f"[bold]{text}[/bold] → [bold]{output}[/bold]   ({config.model} attention, {decoding} decode)")
    console.print(attention_heatmap(matrix, source, out_tokens))
    console.print(heatmap_legend())
    if png is not None:
        with user_errors(f"cannot write --png {png}: "), writing(png, "--png"):
            save_attention_png(matrix, source, out_tokens, png, title=f"{text} → {output}")
        console.print(f"wrote {png}")
