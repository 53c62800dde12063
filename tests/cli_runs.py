"""Shared by the CLI test folders: run ``minigrad-train`` once and keep what it saved; the one-line-error assertion."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from minigrad.cli.train import main as train_main


def train_and_save(base: Path, args: list[str]) -> tuple[Path, Path, dict]:
    """Run ``minigrad-train *args --save base/ckpt --output base/results.json`` (MINIGRAD_SEED unset).

    Returns (checkpoint dir, results path, the results.json dict); fails the test on a non-zero exit.
    """
    save, output = base / "ckpt", base / "results.json"
    result = CliRunner().invoke(train_main, [*args, "--save", str(save), "--output", str(output)],
                                catch_exceptions=False, env={"MINIGRAD_SEED": None})
    assert result.exit_code == 0, result.output
    return save, output, json.loads(output.read_text())


def assert_usage_error(result, *fragments: str) -> str:
    """Exit status 2, one 'Error:' line on stderr, no traceback; returns the line."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]
