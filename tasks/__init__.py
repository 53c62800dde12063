"""Sequence tasks for seq2seq training and a language-modelling task (NumPy only).

    >>> from minigrad import tasks
    >>> task = tasks.get("reverse", max_len=5, seed=1)
    >>> task.encode_source("3 1 4")
    [7, 5, 8]
    >>> task.decode_target(task.reference([7, 5, 8]))
    '4 1 3'
    >>> batch = next(task.batches("train", batch_size=32, shuffle=True))
    >>> batch.src.shape[0], bool((batch.tgt_in[:, 0] == tasks.BOS).all())
    (32, True)

Task names: ``tasks.names()``. Special token ids: PAD=0, BOS=1, EOS=2, UNK=3.
``task.state()`` is JSON-serialisable and ``tasks.from_state(state)`` rebuilds the task.
"""

from __future__ import annotations

import difflib
from typing import Any

from minigrad.tasks.base import Batch, LMBatch, Seq2SeqTask, Task, collate, epoch_order, pad_sequences
from minigrad.tasks.dates import DatesTask, format_date, parse_date
from minigrad.tasks.errors import DataFileChanged, TaskError
from minigrad.tasks.files import FileTask, read_tsv
from minigrad.tasks.metrics import AccuracyCounts, accuracy_counts, align_predictions, sequence_accuracy, token_accuracy
from minigrad.tasks.synthetic import AddTask, CopyTask, ReverseTask, SortTask
from minigrad.tasks.text import TextTask
from minigrad.tasks.vocab import BOS, EOS, PAD, SPECIAL_TOKENS, UNK, Vocab

_REGISTRY: dict[str, type[Task]] = {
    "copy": CopyTask,
    "reverse": ReverseTask,
    "sort": SortTask,
    "add": AddTask,
    "dates": DatesTask,
    "file": FileTask,
    "text": TextTask,
}


def names() -> list[str]:
    """The task names, sorted."""
    return sorted(_REGISTRY)


def _lookup(name: Any) -> type[Task]:
    if name not in _REGISTRY:
        close = difflib.get_close_matches(str(name), _REGISTRY, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise TaskError(f"unknown task {name!r}{hint}; valid tasks: {', '.join(names())}")
    return _REGISTRY[name]


def get(name: str, **options: Any) -> Task:
    """Build task ``name`` with ``options``; TaskError for an unknown name, option or value.

    Options set to None count as not given, so a caller may pass every option it has.
    """
    return _lookup(name)(**options)


def defaults(name: str) -> dict[str, Any]:
    """The options task ``name`` accepts, with their defaults (None: computed or required)."""
    cls = _lookup(name)
    if issubclass(cls, (FileTask, TextTask)):
        return dict(cls.DEFAULTS)
    return {**cls.DEFAULTS, "seed": 0, "train_size": None, "valid_size": None, "test_size": None}


def from_state(state: dict[str, Any], path: str | None = None, accept_changed_data: bool = False) -> Task:
    """Rebuild a task from ``task.state()``.

    Synthetic tasks regenerate identical splits from their options. ``file`` and ``text``
    tasks restore their vocabularies from the state and read the data file (``path``, or
    the stored one) only when a split is accessed, so ``encode_source``/``decode_target``
    work without it. That file must hold the data the state recorded (its size and
    SHA-256): another one is ``DataFileChanged``, unless ``accept_changed_data``.
    """
    if not isinstance(state, dict) or "name" not in state or not isinstance(state.get("options"), dict):
        raise TaskError("task state must be a dict with 'name' and 'options' (from task.state())")
    cls = _lookup(state["name"])
    if issubclass(cls, (FileTask, TextTask)):
        return cls.from_state(state, path=path, accept_changed_data=accept_changed_data)
    task = cls(**state["options"])
    for key in ("src_vocab", "tgt_vocab"):
        if key in state and Vocab.from_dict(state[key]) != getattr(task, key):
            raise TaskError(f"{state['name']}: the saved {key} does not match the one these options build")
    return task


__all__ = [
    "PAD", "BOS", "EOS", "UNK", "SPECIAL_TOKENS", "Vocab", "TaskError", "DataFileChanged",
    "Task", "Seq2SeqTask", "Batch", "LMBatch", "collate", "pad_sequences", "epoch_order",
    "get", "names", "defaults", "from_state",
    "CopyTask", "ReverseTask", "SortTask", "AddTask", "DatesTask", "FileTask", "TextTask",
    "format_date", "parse_date", "read_tsv",
    "token_accuracy", "sequence_accuracy", "align_predictions", "accuracy_counts", "AccuracyCounts",
]
