"""Shared test configuration.

Threads: one (see below). Hypothesis: no deadlines (Numba compiles on first call, and the machines are shared),
and in CI (``CI=true``) a derandomized profile so a red run is reproducible.
"""

from __future__ import annotations

import os

# One BLAS/OpenMP/Numba thread: on a shared 2-core machine a second thread makes small
# matmuls 20-40x slower whenever another process is busy. Set before NumPy is imported
# by any test module; subprocesses (examples, CLI runs) inherit it.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, settings

settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", parent=settings.get_profile("dev"), derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def runner(monkeypatch) -> CliRunner:
    """A Click test runner for the CLI tests, with MINIGRAD_SEED unset (it changes the default seed)."""
    monkeypatch.delenv("MINIGRAD_SEED", raising=False)
    return CliRunner()
