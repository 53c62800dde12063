"""``minigrad generate CKPT --prompt "def "``: sample text from a language-model checkpoint."""

from __future__ import annotations

import secrets
from typing import Any

import click

from minigrad.cli.core import MinigradCommand
from minigrad.cli.errors import CLIError, user_errors
from minigrad.cli.loading import open_checkpoint

DEFAULT_PROMPT = "\n"  # as nanoGPT's sample.py: start a character model at a line break


def require_lm(task: Any, command: str) -> None:
    """CLIError unless the checkpoint is a language model (the ``text`` task)."""
    if task.kind != "lm":
        raise CLIError(f"'{command}' needs a language-model checkpoint (minigrad-train --task text --model lm); "
                       f"this one is a {task.name} sequence-to-sequence model (use 'minigrad predict')")


def prompt_ids(task: Any, prompt: str | None) -> tuple[str, list[int]]:
    """The prompt text and its token ids; CLIError for an empty prompt or unknown tokens."""
    vocab = task.vocab
    if prompt is None or prompt == "":
        if vocab.tokenizer != "char" or DEFAULT_PROMPT not in vocab:
            raise CLIError("give --prompt: this checkpoint's vocabulary has no line break to start from")
        prompt = DEFAULT_PROMPT
    try:
        ids = task.encode_source(prompt)
    except ValueError as err:  # tasks.TaskError
        detail = str(err).removeprefix(f"{task.name}: ")
        raise CLIError(f"the prompt has tokens outside the checkpoint's vocabulary: {detail}") from None
    if not ids:
        raise CLIError("give --prompt: the prompt holds no tokens")
    return prompt, ids


def token_text(vocab: Any, token: int) -> str:
    """The text one sampled token adds: its character, or a space and its word."""
    text = vocab.id_to_token(token)
    return text if vocab.tokenizer == "char" else " " + text


@click.command(name="generate", cls=MinigradCommand)
@click.argument("checkpoint", metavar="CKPT", type=click.Path(file_okay=False))
@click.option("--prompt", default=None, metavar="TEXT",
              help="Text to continue (characters or words of the training text).  [default: a line break]")
@click.option("--max-new-tokens", type=click.IntRange(min=0), default=200, show_default=True,
              help="Tokens (characters or words) to sample.")
@click.option("--temperature", type=click.FloatRange(min=0.0), default=1.0, show_default=True,
              help="Divide the logits by this; below 1 is more conservative, 0 is greedy (always the most likely).")
@click.option("--top-k", type=click.IntRange(min=1), default=None, help="Sample among the K most likely tokens only.")
@click.option("--top-p", type=click.FloatRange(0.0, 1.0, min_open=True), default=None,
              help="Sample from the smallest set of most likely tokens holding probability >= P (nucleus).")
@click.option("--seed", type=click.IntRange(min=0), default=None, envvar="MINIGRAD_SEED", show_envvar=True,
              help="Seed of the sampling; the same seed gives the same text.  [default: random, printed on stderr]")
@click.pass_context
def command(ctx: click.Context, checkpoint: str, prompt: str | None, max_new_tokens: int, temperature: float,
            top_k: int | None, top_p: float | None, seed: int | None) -> None:
    """Continue a prompt with a language-model checkpoint.

    Prints the prompt, then each sampled character (or word) as soon as it is drawn.
    The same checkpoint, prompt, options and --seed give the same text. The model reads
    at most its block size of context (the last tokens of a longer text).
    """
    from minigrad import tasks

    model, task, _, _ = open_checkpoint(checkpoint)
    require_lm(task, "generate")
    prompt, ids = prompt_ids(task, prompt)
    if seed is None:
        seed = secrets.randbelow(2**31)
        click.echo(f"seed {seed} (pass --seed {seed} to repeat this sample)", err=True)
    with user_errors():  # the special tokens never occur in a training text: never sample them
        stream = model.generate_stream(ids, max_new_tokens, temperature=temperature, top_k=top_k, top_p=top_p,
                                       seed=seed, suppress_tokens=range(len(tasks.SPECIAL_TOKENS)))
    click.echo(prompt, nl=False)
    try:
        for token in stream:
            click.echo(token_text(task.vocab, token), nl=False)
    except KeyboardInterrupt:
        click.echo()
        ctx.exit(130)
    click.echo()
