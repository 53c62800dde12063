"""Fixtures of the language-model CLI tests: a text file and one tiny trained ``lm`` checkpoint."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cli.train import main as train_main
from cli_lm_testutils import TEXT, TINY_LM


@pytest.fixture
def runner(monkeypatch) -> CliRunner:
    monkeypatch.delenv("MINIGRAD_SEED", raising=False)
    return CliRunner()


@pytest.fixture(scope="session")
def text_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("text") / "code.py"
    path.write_text(TEXT, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def lm_checkpoint(tmp_path_factory, text_file):
    """(checkpoint dir, results.json dict) of one tiny ``minigrad-train --task text --model lm`` run."""
    base = tmp_path_factory.mktemp("lm")
    save, output = base / "ckpt", base / "results.json"
    result = CliRunner().invoke(train_main, ["--task", "text", "--data", str(text_file), *TINY_LM,
                                             "--save", str(save), "--output", str(output)],
                                catch_exceptions=False, env={"MINIGRAD_SEED": None})
    assert result.exit_code == 0, result.output
    return save, json.loads(output.read_text())
