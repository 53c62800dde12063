"""Every script in examples/ runs to completion (each asserts its own claims)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs(script: Path, tmp_path: Path):
    env = dict(os.environ, MPLBACKEND="Agg", MINIGRAD_EXAMPLE_OUTPUT=str(tmp_path))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=240, env=env,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert result.stdout.strip(), "an example should show the learner something"
