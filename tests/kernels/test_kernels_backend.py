"""Backend selection (MINIGRAD_KERNELS, set_backend, use_backend) and the lazy Numba import."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad.kernels as K
from minigrad.kernels import KERNELS, dispatch

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k != "MINIGRAD_KERNELS"}
    full_env["PYTHONPATH"] = str(ROOT) + os.pathsep + full_env.get("PYTHONPATH", "")
    full_env.update(env)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=full_env,
                          capture_output=True, text=True, timeout=120)


def test_import_does_not_import_numba():
    proc = run_python(
        "import sys, minigrad.kernels, minigrad\n"
        "assert 'numba' not in sys.modules, sorted(m for m in sys.modules if 'numba' in m)\n"
        "import numpy as np\n"
        "minigrad.kernels.softmax(np.zeros((2, 3), np.float32))\n"
        "assert 'numba' in sys.modules\n"
        "print('ok')"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_numpy_backend_never_imports_numba():
    proc = run_python(
        "import sys, numpy as np, minigrad.kernels as K\n"
        "assert K.backend() == 'numpy'\n"
        "K.softmax(np.zeros((2, 3)))\n"
        "K.matmul(np.ones((300, 2, 2)), np.ones((300, 2, 2)))\n"
        "assert 'numba' not in sys.modules\n"
        "print('ok')",
        MINIGRAD_KERNELS="numpy",
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("code", ["K.backend()", "K.softmax(np.zeros((2, 3)))"])
def test_env_var_bad_value_names_variable_value_and_choices(code):
    """``import minigrad`` succeeds (so a program can report the mistake itself); asking for the
    backend, or running a kernel, raises the ValueError naming the variable, value and choices."""
    proc = run_python(f"import numpy as np, minigrad.kernels as K\nprint('imported', flush=True)\n{code}",
                      MINIGRAD_KERNELS="cuda")
    assert proc.returncode != 0 and proc.stdout.strip() == "imported"
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("ValueError")
    for part in ("MINIGRAD_KERNELS", "'cuda'", "'numba'", "'numpy'"):
        assert part in last


@pytest.mark.parametrize("value,expected", [("numba", "numba"), ("numpy", "numpy"), (" NumPy ", "numpy")])
def test_env_var_valid_values(value, expected):
    proc = run_python("import minigrad.kernels as K; print(K.backend())", MINIGRAD_KERNELS=value)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == expected


def test_default_backend_is_numba():
    proc = run_python("import minigrad.kernels as K; print(K.backend())")
    assert proc.stdout.strip() == "numba"


def test_set_backend_switches_and_returns_previous():
    start = K.backend()
    try:
        assert K.set_backend("numpy") == start
        assert K.backend() == "numpy"
        assert K.set_backend("numba") == "numpy"
        assert K.backend() == "numba"
    finally:
        K.set_backend(start)


def test_set_backend_rejects_unknown_name():
    with pytest.raises(ValueError, match="'numba', 'numpy'"):
        K.set_backend("torch")
    with pytest.raises(ValueError):
        dispatch.parse_backend("", "MINIGRAD_KERNELS")


def test_numba_backend_really_runs_numba():
    with K.use_backend("numba"):
        K.softmax(np.zeros((2, 3), np.float32))
        assert KERNELS["softmax"].impl is KERNELS["softmax"].numba_implementation()
    with K.use_backend("numpy"):
        assert KERNELS["softmax"].impl is K.softmax_ref


def test_use_backend_restores_the_previous_backend_also_after_an_error():
    start = K.backend()
    other = "numpy" if start == "numba" else "numba"
    with K.use_backend(other):
        assert K.backend() == other
        assert all(k.impl is not k.reference for k in KERNELS.values()) == (other == "numba")
    assert K.backend() == start
    with pytest.raises(KeyError), K.use_backend(other):
        raise KeyError("raised inside the block")
    assert K.backend() == start
    with pytest.raises(ValueError, match="'numba', 'numpy'"), K.use_backend("torch"):
        pass
    assert K.backend() == start


def test_use_backend_keeps_a_bad_variable_reported_after_the_block():
    """Inside the block the chosen backend runs; after it, the bad MINIGRAD_KERNELS is reported
    again, as before the block."""
    proc = run_python(
        "import numpy as np, minigrad.kernels as K\n"
        "with K.use_backend('numpy'):\n"
        "    K.softmax(np.zeros((2, 3)))\n"
        "print('inside ok', flush=True)\n"
        "K.softmax(np.zeros((2, 3)))",
        MINIGRAD_KERNELS="cuda",
    )
    assert proc.returncode != 0 and proc.stdout.strip() == "inside ok"
    assert "MINIGRAD_KERNELS='cuda'" in proc.stderr.strip().splitlines()[-1]


def test_an_empty_variable_means_the_default_backend():
    proc = run_python("import minigrad.kernels as k; print(k.backend())", MINIGRAD_KERNELS="  ")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "numba"
