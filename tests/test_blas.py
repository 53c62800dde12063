"""minigrad.blas reads and sets NumPy's OpenBLAS thread count while the process runs; the CLI uses one."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import minigrad as mg

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
pytestmark = pytest.mark.skipif(mg.blas.get_num_threads() is None, reason="NumPy's BLAS here is not OpenBLAS")


def _python(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    proc = subprocess.run([sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True,
                          timeout=120, check=True)
    return proc.stdout.strip()


def test_set_then_get_round_trips():
    previous = mg.blas.get_num_threads()
    try:
        assert mg.blas.set_num_threads(2) is True and mg.blas.get_num_threads() == 2
        assert mg.blas.set_num_threads(1) is True and mg.blas.get_num_threads() == 1
    finally:
        mg.blas.set_num_threads(previous)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_a_bad_thread_count_is_a_value_error_naming_it(bad):
    with pytest.raises(ValueError, match=f"set_num_threads: .*{bad!r}"):
        mg.blas.set_num_threads(bad)


def test_the_cli_runs_blas_on_one_thread_unless_the_user_chose():
    code = "import minigrad as mg; n = mg.blas.get_num_threads(); import minigrad.cli; print(n, mg.blas.get_num_threads())"
    before, after = map(int, _python(code, OPENBLAS_NUM_THREADS="2").split())
    assert before == after == 2  # the user's choice stands
    assert _python(code).split()[1] == "1"
