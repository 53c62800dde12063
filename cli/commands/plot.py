"""``minigrad plot RESULTS.json``: loss and accuracy curves of a run."""

from __future__ import annotations

import json
import os

import click

from minigrad.cli.core import MinigradCommand
from minigrad.cli.errors import CLIError, user_errors
from minigrad.cli.files import check_output_file, writing

PLOT_HINT = 'matplotlib is not installed; pip install "minigrad[plot]" for --png'


def read_history(path: str) -> list[dict]:
    """The history of a results.json file, or of a checkpoint directory's state.json."""
    source = os.path.join(path, "state.json") if os.path.isdir(path) else path
    try:
        with open(source, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise CLIError(f"no such file: {source}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise CLIError(f"cannot read {source}: {getattr(err, 'strerror', None) or err}") from None
    except json.JSONDecodeError as err:
        raise CLIError(f"{source}:{err.lineno}: not valid JSON ({err.msg})") from None
    history = data.get("history") if isinstance(data, dict) else None
    if not isinstance(history, list) or not all(isinstance(r, dict) for r in history):
        raise CLIError(f"{source} has no 'history' list (expected a results.json from --output, or a checkpoint)")
    if not history:
        raise CLIError(f"{source} has an empty history: nothing to plot")
    return history


@click.command(name="plot", cls=MinigradCommand)
@click.argument("results", metavar="RESULTS.json", type=click.Path())
@click.option("--png", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help='Write the curves as an image (needs: pip install "minigrad[plot]").')
def command(results: str, png: str | None) -> None:
    """Plot loss and accuracy curves of a run.

    RESULTS.json is a file written by --output, or a checkpoint directory.
    """
    from minigrad.cli.render import history_chart, save_history_png
    from rich.console import Console

    history = read_history(results)
    if png is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise CLIError(PLOT_HINT) from None
        check_output_file(png, "--png")
    console = Console(highlight=False)
    console.print(history_chart(history, title=f"{results}: {len(history)} validations"))
    if png is not None:
        with user_errors(f"cannot write --png {png}: "), writing(png, "--png"):
            save_history_png(history, png, title=os.path.basename(results))
        console.print(f"wrote {png}")
