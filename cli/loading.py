"""Loading a checkpoint for the commands that use one (eval, predict, attention, ...)."""

from __future__ import annotations

import os
from typing import Any

from minigrad.cli.errors import CLIError, user_errors

# open_checkpoint's ``data`` when the command has no --data option (it never reads the data).
NO_DATA_OPTION: Any = object()


def open_checkpoint(path: str, data: str | None = NO_DATA_OPTION) -> tuple[Any, Any, Any, Any]:
    """``(model, task, config, state)`` of the checkpoint directory ``path``.

    A missing or corrupt checkpoint is a one-line error naming the file. ``data`` is the
    value of a command's ``--data FILE`` option (None when not given): it replaces the stored
    data file of a ``file``/``text`` task, whatever that file holds (an explicit choice),
    and as such a command reads the task's data, a data file that is not there is an error
    naming it and advising ``--data FILE``; the stored file must still hold the data the
    checkpoint was trained on (``tasks.DataFileChanged`` when the command reads it).
    Commands that only encode and decode (predict, attention, generate) leave it out.
    """
    from minigrad.models.checkpoint import load_checkpoint

    reads_data = data is not NO_DATA_OPTION
    given = None if data is NO_DATA_OPTION else data
    with user_errors():
        model, task, config, state = load_checkpoint(path, data_path=None if given is None else os.path.abspath(given),
                                                     accept_changed_data=given is not None)
    stored = task.options.get("path") if config.task in ("file", "text") else None
    if reads_data and stored is not None and not os.path.exists(stored):
        if given is not None:
            raise CLIError(f"--data {given}: no such file")
        raise CLIError(f"the {config.task} task of {path} reads its data from {stored}, which does not exist; "
                       "give the file's new place with --data FILE")
    return model, task, config, state


def require_seq2seq(task: Any, command: str) -> None:
    if task.kind != "seq2seq":
        raise CLIError(f"'{command}' needs a sequence-to-sequence checkpoint; this one is a {task.name} language model "
                       "(use 'minigrad generate')")


def check_input_length(task: Any, text: str) -> None:
    """CLIError for an input longer than any source the checkpoint's task has (its ``max_src_len``).

    The models take any length, but they never saw positions past that one in training:
    beyond it they stop early or repeat, which looks like a truncated answer.
    """
    with user_errors():
        n = len(task.encode_source(text))
    if n > task.max_src_len:
        raise CLIError(f"the input {text!r} has {n} tokens, more than the {task.max_src_len} of the longest source "
                       f"this checkpoint's model was trained on ({task.name} task); give at most {task.max_src_len}")
