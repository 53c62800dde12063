"""The distribution installs one namespace (minigrad, minigrad.models, minigrad.tasks, minigrad.cli),
and a user's own models.py, tasks.py or cli.py beside their script never shadows it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {"minigrad": "minigrad", "models": "minigrad.models", "tasks": "minigrad.tasks", "cli": "minigrad.cli"}
USER_MODULE = 'raise SystemExit("the user\'s own {name}.py was imported instead of minigrad\'s")\n'


def _run(argv: list[str], cwd: Path, timeout: int = 240) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    """A working directory holding the user's own models.py, tasks.py and cli.py."""
    for name in ("models", "tasks", "cli"):
        (tmp_path / f"{name}.py").write_text(USER_MODULE.format(name=name))
    return tmp_path


def test_pyproject_lists_every_package_under_its_namespace_name():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["package-dir"] == {name: folder for folder, name in FOLDERS.items()}
    found = set()
    for folder, name in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((name, *relative)))
    assert sorted(config["packages"]) == sorted(found)


def test_nothing_is_installed_at_the_top_level_but_minigrad(tmp_path):
    code = ("import importlib.util\n"
            "print([n for n in ('models', 'tasks', 'cli') if importlib.util.find_spec(n) is not None])\n"
            "import minigrad.models, minigrad.tasks, minigrad.cli\n"
            "print(minigrad.models.__name__, minigrad.tasks.__name__, minigrad.cli.__name__)")
    proc = _run([sys.executable, "-c", code], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:2] == ["[]", "minigrad.models minigrad.tasks minigrad.cli"]


def _readme_python_blocks() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    assert len(blocks) >= 3, "the README's library snippets were not found"
    return blocks


@pytest.mark.parametrize("index", range(len(_readme_python_blocks())))
def test_readme_snippets_run_beside_a_users_own_models_tasks_and_cli(user_dir, index):
    script = user_dir / "snippet.py"
    script.write_text(_readme_python_blocks()[index])
    proc = _run([sys.executable, str(script)], cwd=user_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_minigrad_train_runs_beside_a_users_own_models_tasks_and_cli(user_dir):
    train = Path(sys.executable).with_name("minigrad-train")
    assert train.exists(), "the minigrad-train entry point is not installed beside this Python"
    proc = _run([str(train), "--task", "copy", "--model", "rnn-attn", "--steps", "3", "--eval-size", "20",
                 "--quiet"], cwd=user_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "user's own" not in proc.stdout + proc.stderr
