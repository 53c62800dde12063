"""Fixtures of the language-model CLI tests: a text file and one tiny trained ``lm`` checkpoint."""

from __future__ import annotations

import pytest

from testutils import TEXT, TINY_LM, train_and_save


@pytest.fixture(scope="session")
def text_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("text") / "code.py"
    path.write_text(TEXT, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def lm_checkpoint(tmp_path_factory, text_file):
    """(checkpoint dir, results.json dict) of one tiny ``minigrad-train --task text --model lm`` run."""
    save, _, result = train_and_save(tmp_path_factory.mktemp("lm"), ["--task", "text", "--data", str(text_file), *TINY_LM])
    return save, result
