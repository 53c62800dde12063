"""The ``minigrad`` command group. Each subcommand lives in ``cli/commands/<name>.py``."""

from __future__ import annotations

import click

from minigrad.cli.commands import attention, bench, eval, generate, gradcheck, plot, predict, trace, train
from minigrad.cli.core import MinigradGroup


@click.group(cls=MinigradGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="minigrad", prog_name="minigrad")
def cli() -> None:
    """minigrad: train, inspect and use the attention and seq2seq models of minigrad.

    \b
    Train, save, then use the checkpoint:
      minigrad train --task copy --model rnn-attn --save ckpt --output results.json
      minigrad eval ckpt --split test
      minigrad predict ckpt "3 1 4 1 5"
      minigrad attention ckpt "3 1 4 1 5" --png attention.png
      minigrad plot results.json

    \b
    A character-level language model of a text file:
      minigrad train --task text --data input.txt --model lm --save lm
      minigrad generate lm --prompt "def " --max-new-tokens 300 --temperature 0.8

    \b
    See inside autodiff:
      minigrad trace --demo mlp          # the graph, then backward one node at a time
      minigrad gradcheck matmul softmax  # float64 gradient checks from the op table
      minigrad trace --demo mlp --order 2  # the graph a create_graph=True backward builds
      minigrad gradcheck --order 2       # second derivatives of every op
      minigrad gradcheck --mode forward  # every op's jvp rule

    Symbols of copy/reverse/sort are written space-separated ("3 1 4"). Bad input (an
    unknown task or model, a malformed config, a missing checkpoint, tokens outside the
    vocabulary) ends with one "Error:" line and exit status 2. Run "minigrad COMMAND --help"
    for a command's options; "minigrad-train" is "minigrad train".
    """


# The registry: one line per command module (each defines `command`).
COMMANDS = [
    train.command,
    eval.command,
    predict.command,
    attention.command,
    generate.command,
    plot.command,
    trace.command,
    gradcheck.command,
    bench.command,
]

for _command in COMMANDS:
    cli.add_command(_command)
