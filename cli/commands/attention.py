"""``minigrad attention CKPT "3 1 4"``: where the model looks while decoding, as a heatmap."""

from __future__ import annotations

import click

from minigrad.cli.core import MinigradCommand
from minigrad.cli.errors import CLIError, user_errors
from minigrad.cli.files import check_open, check_output_file, open_in_browser, page_options, writing
from minigrad.cli.loading import check_input_length, open_checkpoint, require_seq2seq

PLOT_HINT = 'matplotlib is not installed; pip install "minigrad[plot]" for --png'


@click.command(name="attention", cls=MinigradCommand)
@click.argument("checkpoint", metavar="CKPT", type=click.Path(file_okay=False))
@click.argument("text", metavar="TEXT")
@click.option("--beam-size", type=click.IntRange(min=1), default=1, show_default=True, help="Beam width (1: greedy).")
@click.option("--png", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help='Also write the heatmap as an image (needs: pip install "minigrad[plot]").')
@page_options("Also write a web page of every layer and head (Transformers) or of the alignment (RNNs).")
@click.option("--new-tokens", type=click.IntRange(min=0), default=16, show_default=True,
              help="Language models: how many tokens to generate after the prompt.")
def command(checkpoint: str, text: str, beam_size: int, png: str | None, html_path: str | None,
            open_page: bool, new_tokens: int) -> None:
    """Show a decode's attention as a heatmap.

    Output tokens down the side, source tokens across the top, each cell shaded by
    the weight the model gave that source token when producing that output token.
    --html FILE writes a page with every layer and head of a Transformer's self-,
    causal and cross-attention (for an RNN, its alignment matrix). For a language
    model TEXT is a prompt: the page shows the causal self-attention over the prompt
    and the text it generates (greedy, --new-tokens of them); it needs --html.
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
    check_open(open_page, html_path)
    check_output_file(html_path, "--html")
    model, task, config, _ = open_checkpoint(checkpoint)
    if task.kind == "lm":
        _language_model(model, task, text, new_tokens, html_path, open_page)
        return
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
    if html_path is not None:
        page = _page(model, task, text, tokens, matrix, source, out_tokens, f"{text} → {output} ({config.model})")
        with writing(html_path, "--html"):
            page.save(html_path)
        console.print(f"wrote {html_path} ({len(page.data['maps'])} attention layers)", soft_wrap=True)
        if open_page:
            open_in_browser(html_path)


def _page(model, task, text: str, tokens: list[int], matrix, source: list[str], out_tokens: list[str], title: str):
    """Every layer and head for a model whose attention modules keep ``last_weights`` (run again on
    the source and BOS + the decoded tokens), else the decode's alignment matrix."""
    import numpy as np

    from minigrad import tasks, viz

    if not any(hasattr(m, "last_weights") for m in model.modules()):
        return viz.alignment(matrix, out_tokens, source, title=title)
    src = np.asarray([task.encode_source(text)], dtype=np.int64)
    if not hasattr(model, "decoder"):  # an encoder: one label per source position
        return viz.attention(model, src, src_tokens=source, title=title)
    tgt = np.asarray([[tasks.BOS, *tokens]], dtype=np.int64)
    tgt_tokens = [task.tgt_vocab.id_to_token(i) for i in tgt[0]]
    return viz.attention(model, src, tgt, src_tokens=source, tgt_tokens=tgt_tokens, title=title)


def _language_model(model, task, prompt: str, new_tokens: int, html_path: str | None, open_page: bool) -> None:
    """The causal self-attention of a language model over ``prompt`` and its greedy continuation."""
    from rich.console import Console

    from minigrad import viz
    from minigrad.cli.commands.generate import prompt_ids

    if html_path is None:
        raise CLIError("a language model's attention is shown as a page: give --html FILE")
    prompt, ids = prompt_ids(task, prompt)
    block = model.config.block_size
    with user_errors():
        tokens = model.generate(ids, new_tokens, temperature=0)[-block:]  # the last block_size tokens fit the model
    labels = [task.vocab.id_to_token(int(t)) for t in tokens]
    text = "".join(labels) if task.vocab.tokenizer == "char" else " ".join(labels)
    page = viz.attention(model, tokens, src_tokens=labels, title=f"{text!r} (lm, greedy)")
    with writing(html_path, "--html"):
        page.save(html_path)
    Console(highlight=False).print(f"wrote {html_path} ({len(page.data['maps'])} attention layers over "
                                   f"{len(tokens)} tokens)", soft_wrap=True)
    if open_page:
        open_in_browser(html_path)
