"""``minigrad bench``: the end-to-end benchmarks on this machine (minigrad against PyTorch).

    minigrad bench                                  # ms per training step, every model, default size
    minigrad bench --sizes all --models rnn-attn    # default, width256, len32, batch128
    minigrad bench --accuracy --seeds 0             # also steps and seconds to 99% on copy and reverse
    minigrad bench --startup                        # time to first step (cold/warm Numba cache), peak RSS

It runs ``benchmarks/train_step.py`` and ``benchmarks/time_to_accuracy.py`` of a source
checkout in fresh interpreters (they pin every library to one thread before importing it)
and streams their tables. PyTorch is used when installed; ``--no-torch`` times minigrad alone.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click

from minigrad.cli.core import MinigradCommand
from minigrad.cli.errors import CLIError

MODELS = ("rnn-attn", "rnn", "rnn-luong", "transformer")
SIZES = ("default", "width256", "len32", "batch128")
TASKS = ("copy", "reverse")


def benchmarks_dir() -> Path:
    """The ``benchmarks/`` directory beside the installed ``cli`` package (a source checkout)."""
    return Path(__file__).resolve().parents[2] / "benchmarks"


def _names(value: str, valid: tuple[str, ...], what: str, option: str, everything: str | None = None) -> list[str]:
    """The comma-separated names of ``option``; BadParameter naming the option and value otherwise."""
    if everything is not None and value.strip() == everything:
        return list(valid)
    names = [v.strip() for v in value.split(",") if v.strip()]
    bad = [n for n in names if n not in valid]
    if bad or not names:
        raise click.BadParameter(f"{', '.join(map(repr, bad)) or repr(value)} is not a {what}; choose from "
                                 f"{', '.join(valid)}" + (f" or {everything!r}" if everything else ""),
                                 param_hint=f"'{option}'")
    return names


def _seeds(value: str) -> list[str]:
    """The --seeds items ("0", "3-7"), checked: non-negative integers, ranges that do not decrease."""
    items = [s.strip() for s in value.split(",") if s.strip()]
    for item in items:
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", item)
        if match is None:
            raise click.BadParameter(f"{value!r} is not a list of seeds; write e.g. 0,1,2 or 0-9", param_hint="'--seeds'")
        if match.group(2) is not None and int(match.group(2)) < int(match.group(1)):
            raise click.BadParameter(f"the range {item!r} decreases; write it low-high, e.g. "
                                     f"{match.group(2)}-{match.group(1)}", param_hint="'--seeds'")
    if not items:
        raise click.BadParameter(f"{value!r} is not a list of seeds; write e.g. 0,1,2 or 0-9", param_hint="'--seeds'")
    return items


def _run(script: Path, args: list[str]) -> None:
    click.echo(f"$ python benchmarks/{script.name} {' '.join(args)}", err=True)
    status = subprocess.call([sys.executable, str(script), *args], cwd=str(script.parent.parent))
    if status != 0:
        raise click.ClickException(f"benchmarks/{script.name} exited with status {status}")


@click.command(name="bench", cls=MinigradCommand)
@click.option("--models", default=",".join(MODELS), show_default=True, metavar="NAMES",
              help="Comma-separated models to time.")
@click.option("--sizes", default="default", show_default=True, metavar="NAMES",
              help=f"Comma-separated sizes ({', '.join(SIZES)}) or 'all'.")
@click.option("--quick", is_flag=True, help="Fewer timed rounds (noisier, about 3x faster).")
@click.option("--accuracy", is_flag=True, help="Also time training to 99% exact-sequence accuracy.")
@click.option("--tasks", "task_names", default=",".join(TASKS), show_default=True, metavar="NAMES",
              help="Tasks for --accuracy.")
@click.option("--seeds", default="0,1,2", show_default=True, metavar="SEEDS", help="Seeds for --accuracy (a list, or ranges like 0-9).")
@click.option("--startup", is_flag=True, help="Also time the first training step (cold and warm Numba cache) and "
              "measure peak RSS.")
@click.option("--memory-steps", type=click.IntRange(min=0), default=0, metavar="N",
              help="Also report RSS every N/20 steps of an N-step run of the first model.")
@click.option("--no-torch", is_flag=True, help="Time minigrad alone even if PyTorch is installed.")
@click.option("--write-results", is_flag=True, help="Update benchmarks/RESULTS.md with the new figures.")
def command(models: str, sizes: str, quick: bool, accuracy: bool, task_names: str, seeds: str, startup: bool,
            memory_steps: int, no_torch: bool, write_results: bool) -> None:
    """Benchmark training against PyTorch CPU on this machine.

    Prints milliseconds per training step (forward, loss, backward, clip, Adam) of each model
    in minigrad and in PyTorch, measured alternately in one process, and their ratio.
    """
    model_list = _names(models, MODELS, "model", "--models")
    size_list = _names(sizes, SIZES, "size", "--sizes", everything="all")
    task_list = _names(task_names, TASKS, "task", "--tasks")
    seed_list = _seeds(seeds)
    root = benchmarks_dir()
    step_script, accuracy_script = root / "train_step.py", root / "time_to_accuracy.py"
    if not step_script.is_file() or not accuracy_script.is_file():
        raise CLIError(f"the benchmark scripts are not in {root}: minigrad bench runs them from a source checkout "
                       "of minigrad (git clone, then pip install -e .)")
    common = (["--no-torch"] if no_torch else []) + (["--write-results"] if write_results else [])
    _run(step_script, ["--models", ",".join(model_list), "--sizes", ",".join(size_list)]
         + (["--quick"] if quick else []) + common)
    if startup:
        _run(step_script, ["--startup", "--models", ",".join(model_list)] + common)
    if memory_steps:
        _run(step_script, ["--memory-steps", str(memory_steps), "--models", model_list[0]] + common)
    if accuracy:
        _run(accuracy_script, ["--models", ",".join(model_list), "--tasks", ",".join(task_list),
                               "--seeds", ",".join(seed_list)] + common)
