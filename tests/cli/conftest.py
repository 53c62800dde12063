"""Fixtures of the CLI tests: a runner without MINIGRAD_SEED, one trained checkpoint."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cli.train import main as train_main
from cli_testutils import TINY


@pytest.fixture
def runner(monkeypatch) -> CliRunner:
    monkeypatch.delenv("MINIGRAD_SEED", raising=False)
    return CliRunner()


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """One tiny run saved to a checkpoint with its results.json: (checkpoint dir, results path, result)."""
    base = tmp_path_factory.mktemp("trained")
    save, output = base / "ckpt", base / "results.json"
    result = CliRunner().invoke(train_main, TINY + ["--save", str(save), "--output", str(output)],
                                catch_exceptions=False, env={"MINIGRAD_SEED": None})
    assert result.exit_code == 0, result.output
    return save, output, json.loads(output.read_text())
