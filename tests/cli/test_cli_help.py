"""--help of every command, and a fast start-up (no heavy import before a command runs)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from minigrad.cli.main import COMMANDS, cli
from minigrad.cli.train import main as train_main
from testutils import run


def test_group_help_lists_every_command(runner):
    result = run(runner, cli, ["--help"])
    assert result.exit_code == 0
    assert "minigrad: train, inspect and use" in result.output
    for command in COMMANDS:
        assert command.name in result.output


@pytest.mark.parametrize("name", [c.name for c in COMMANDS])
def test_subcommand_help(runner, name):
    result = run(runner, cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_minigrad_train_help_shows_every_hyper_parameter(runner):
    result = run(runner, train_main, ["--help"])
    assert result.exit_code == 0
    for flag in ("--task", "--model", "--steps", "--epochs", "--embed-dim", "--hidden-dim", "--num-layers", "--cell",
                 "--bidirectional", "--d-model", "--num-heads", "--ff-dim", "--dropout", "--lr", "--optimizer",
                 "--schedule", "--warmup", "--clip", "--batch-size", "--teacher-forcing", "--label-smoothing",
                 "--min-len", "--max-len", "--vocab-size", "--data", "--seed", "--eval-interval", "--beam-size",
                 "--config", "--output", "--save", "--resume", "--overwrite", "--log-file", "--quiet", "--interactive",
                 "--version"):
        assert flag in result.output, flag
    assert "MINIGRAD_SEED" in result.output


def test_version_of_both_commands(runner):
    from importlib.metadata import version

    for command, name in ((cli, "minigrad"), (train_main, "minigrad-train")):
        result = run(runner, command, ["--version"])
        assert result.exit_code == 0, result.output
        assert result.stdout.strip() == f"{name}, version {version('minigrad')}"


def test_bare_minigrad_prints_its_help_on_stdout_and_exits_0(runner):
    result = run(runner, cli, [])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Usage:") and "Commands:" in result.stdout
    assert result.stderr == ""


def test_train_subcommand_has_the_same_options():
    group_train = cli.commands["train"]
    assert [p.name for p in group_train.params] == [p.name for p in train_main.params]


def test_help_lists_the_registries_names_and_choices(runner):
    from minigrad import models, tasks
    from minigrad.models.train.config import OPTIMIZERS, SCHEDULES

    help_text = " ".join(run(runner, train_main, ["--help"]).output.split())  # unwrapped
    assert f"Task: {', '.join(tasks.names())} (file:" in help_text
    assert f"Model: {', '.join(models.names())}." in help_text
    assert f"[{'|'.join(OPTIMIZERS)}]" in help_text
    assert f"[{'|'.join(SCHEDULES)}]" in help_text


def test_help_imports_nothing_heavy():
    # The registries (models, tasks) are read for the names and defaults --help shows;
    # the Numba kernels, Rich and YAML load only when a command runs.
    code = (
        "import sys\n"
        "from minigrad.cli.main import cli\n"
        "from minigrad.cli.train import main\n"
        "heavy = [m for m in ('numba', 'rich', 'yaml') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_documented_defaults_match_the_library():
    import dataclasses
    import re

    from minigrad import models
    from minigrad.cli.options import ALL_OPTIONS
    from minigrad.models.training import DEFAULT_STEPS, TrainConfig

    library = dataclasses.asdict(TrainConfig())
    library["steps"] = DEFAULT_STEPS
    library.update({k: v for k, v in dataclasses.asdict(models.config_for("rnn-attn")).items() if k != "num_layers"})
    library.update({k: v for k, v in dataclasses.asdict(models.config_for("transformer")).items() if k != "num_layers"})
    checked = 0
    for opt in ALL_OPTIONS:
        shown = re.search(r"\[default: ([^\]]+)\]", opt.kwargs.get("help", ""))
        if not shown or opt.key not in library:
            continue
        value = library[opt.key]
        text = shown.group(1)
        if isinstance(value, bool) or value is None:  # shown in words: "pre", "no", "never", ...
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            assert float(text) == value, (opt.name, text, value)
        else:
            assert text == str(value), (opt.name, text, value)
        checked += 1
    assert checked >= 20
