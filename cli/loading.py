"""Loading a checkpoint for the commands that use one (eval, predict, attention, ...)."""

from __future__ import annotations

from typing import Any

from cli.errors import CLIError, user_errors


def open_checkpoint(path: str, data: str | None = None) -> tuple[Any, Any, Any, Any]:
    """``(model, task, config, state)`` of the checkpoint directory ``path``.

    A missing or corrupt checkpoint is a one-line error naming the file. ``data`` replaces
    the stored data file of a ``file``/``text`` task.
    """
    from models.checkpoint import load_checkpoint

    with user_errors():
        return load_checkpoint(path, data_path=data)


def require_seq2seq(task: Any, command: str) -> None:
    if task.kind != "seq2seq":
        raise CLIError(f"'{command}' needs a sequence-to-sequence checkpoint; this one is a {task.name} language model "
                       "(use 'minigrad generate')")
