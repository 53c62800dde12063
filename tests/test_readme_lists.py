"""The README's lists of tasks and models name exactly what ``tasks.names()`` and ``models.names()`` have."""

from __future__ import annotations

import re
from pathlib import Path

from minigrad import models, tasks

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _bullet(start: str) -> str:
    """The Markdown bullet that begins with ``start``, its continuation lines joined."""
    match = re.search(rf"^- {re.escape(start)}.*?(?=^- |^$)", README, flags=re.M | re.S)
    assert match, f"no README bullet starting {start!r}"
    return " ".join(match.group(0).split())


def _names(text: str) -> set[str]:
    """The `code` spans of ``text`` that are plain names (not `--options` or `source<TAB>target`)."""
    return {name for name in re.findall(r"`([^`]+)`", text) if re.fullmatch(r"\w[\w-]*", name)}


def test_command_line_bullet_lists_every_task_and_every_model():
    bullet = _bullet("Tasks:")
    task_part, model_part = bullet.split("Models:")
    assert _names(task_part) == set(tasks.names()), task_part
    named = _names(model_part)
    assert set(models.names()) <= named, model_part
    assert named <= set(models.names()) | set(tasks.names()), model_part  # no model that does not exist


def test_layout_table_lists_every_task():
    row = next(line for line in README.splitlines() if line.startswith("| `tasks/` |"))
    listed = set(re.findall(r"\w+", row.split("|")[3].split(" tasks")[0]))
    assert listed - {"and"} == set(tasks.names()), row
