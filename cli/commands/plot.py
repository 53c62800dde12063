"""``minigrad plot RESULTS.json``: loss and accuracy curves of a run."""

from __future__ import annotations

import json
import math
import os

import click

from minigrad.cli.core import MinigradCommand
from minigrad.cli.errors import CLIError, user_errors
from minigrad.cli.files import check_output_file, writing

PLOT_HINT = 'matplotlib is not installed; pip install "minigrad[plot]" for --png'
# Beyond any loss, accuracy, learning rate or step a run writes, and far from where the chart's
# arithmetic (max - min, tick spacing) overflows a float.
PLOT_LIMIT = 1e100
UNPLOTTABLE = f"not a number of magnitude at most {PLOT_LIMIT:g}"


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


def is_plottable(value: object) -> bool:
    """True for an int or float (not a bool) that is finite with ``abs(value) <= PLOT_LIMIT``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return abs(value) <= PLOT_LIMIT  # False for NaN; never converts a huge int to float


def plottable_history(history: list[dict], series: tuple[str, ...]) -> tuple[list[dict], int]:
    """``history`` without the points that cannot be plotted, and how many points were dropped.

    A point is one value of a ``series`` key in a record; ``None`` (a diverged run's loss) is a gap
    in the curve and is kept. A value that is not ``is_plottable`` is dropped from its record; a
    record whose ``step`` is not plottable is dropped whole, all its points counted. Records left
    with no point are dropped too.
    """
    kept, skipped = [], 0
    for record in history:
        points = {key: record[key] for key in series if record.get(key) is not None}
        good = {key: v for key, v in points.items() if is_plottable(v)} if is_plottable(record.get("step")) else {}
        skipped += len(points) - len(good)
        if good:
            kept.append({**{k: v for k, v in record.items() if k not in points}, **good})
    return kept, skipped


def check_plottable(history: list[dict], series: tuple[str, ...], source: str) -> list[dict]:
    """The plottable part of ``history``; says on stderr how many points were skipped.

    Raises CLIError when no point is left.
    """
    kept, skipped = plottable_history(history, series)
    points = f"{skipped} point{'s' if skipped != 1 else ''}"
    if not kept:
        raise CLIError(f"{source}: nothing to plot ({points} skipped: each is {UNPLOTTABLE})")
    if skipped:
        click.echo(f"skipped {points} of {source} that {'are' if skipped != 1 else 'is'} {UNPLOTTABLE}", err=True)
    return kept


@click.command(name="plot", cls=MinigradCommand)
@click.argument("results", metavar="RESULTS.json", type=click.Path())
@click.option("--png", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help='Write the curves as an image (needs: pip install "minigrad[plot]").')
def command(results: str, png: str | None) -> None:
    """Plot loss and accuracy curves of a run.

    RESULTS.json is a file written by --output, or a checkpoint directory.
    """
    from minigrad.cli.render import SERIES, history_chart, save_history_png
    from rich.console import Console

    history = check_plottable(read_history(results), tuple(key for key, _, _ in SERIES), results)
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
