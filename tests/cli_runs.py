"""Shared by the CLI test folders: run ``minigrad-train`` once in-process and keep what it saved."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cli.train import main as train_main


def train_and_save(base: Path, args: list[str]) -> tuple[Path, Path, dict]:
    """Run ``minigrad-train *args --save base/ckpt --output base/results.json`` (MINIGRAD_SEED unset).

    Returns (checkpoint dir, results path, the results.json dict); fails the test on a non-zero exit.
    """
    save, output = base / "ckpt", base / "results.json"
    result = CliRunner().invoke(train_main, [*args, "--save", str(save), "--output", str(output)],
                                catch_exceptions=False, env={"MINIGRAD_SEED": None})
    assert result.exit_code == 0, result.output
    return save, output, json.loads(output.read_text())
