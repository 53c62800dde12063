"""Fixtures of the CLI tests: one trained checkpoint (``runner`` is in tests/conftest.py)."""

from __future__ import annotations

import pytest

from testutils import TINY, train_and_save


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """One tiny run saved to a checkpoint with its results.json: (checkpoint dir, results path, result)."""
    return train_and_save(tmp_path_factory.mktemp("trained"), TINY)
