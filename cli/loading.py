"""What the commands load: a checkpoint directory (eval, predict, attention, ...) and a
function of the user's named ``module:function`` or ``path/to/file.py:function`` (trace,
gradcheck)."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any, Callable

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


def load_function(target: str) -> Callable[..., Any]:
    """The function named by ``module:function`` or ``path/to/file.py:function``.

    The current directory is importable (as for ``python -m``). Raises ``CLIError``
    (one line, exit 2) when the module cannot be imported or has no such function.
    """
    module_part, sep, name = target.rpartition(":")
    if not sep or not module_part or not name:
        raise CLIError(f"target {target!r} must be module:function or path/to/file.py:function")
    try:
        if module_part.endswith(".py"):
            path = Path(module_part)
            if not path.is_file():
                raise CLIError(f"cannot import {module_part!r}: no such file")
            spec = importlib.util.spec_from_file_location(f"_minigrad_target_{path.stem}", path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module  # as an import would (dataclasses and pickle look it up)
            sys.path.insert(0, str(path.resolve().parent))  # its own imports resolve beside it
            try:
                spec.loader.exec_module(module)
            finally:
                sys.path.remove(str(path.resolve().parent))
        else:
            sys.path.insert(0, os.getcwd())
            try:
                module = importlib.import_module(module_part)
            finally:
                sys.path.remove(os.getcwd())
    except CLIError:
        raise
    except Exception as err:  # any failure while importing the user's module is the user's to fix
        raise CLIError(f"cannot import {module_part!r}: {type(err).__name__}: {err}") from None
    fn = getattr(module, name, None)
    if fn is None:
        raise CLIError(f"{module_part!r} has no function {name!r}")
    if not callable(fn):
        raise CLIError(f"{target!r} is a {type(fn).__name__}, not a function")
    return fn


def call_user(fn: Callable[..., Any], target: str, *args: Any) -> Any:
    """Call the user's function; an exception it raises becomes one line (exit 2)."""
    try:
        return fn(*args)
    except Exception as err:
        raise CLIError(f"{target} raised {type(err).__name__}: {err}") from None
