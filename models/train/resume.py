"""Checkpoint and resume policy: which directory a run may save to, and how far a resumed run must go.

Rules (checked before any work, so nothing already saved is lost):

- A save directory may be absent, empty, the checkpoint being resumed, or (with
  ``overwrite``) another run's checkpoint; otherwise ``CheckpointOccupied``. A directory that
  is not a checkpoint is refused in every case (``CheckpointError`` from ``check_writable``).
  A crash between two renames of an earlier save is repaired first (``checkpoint.recover``).
- A fresh run replacing another run's checkpoint does not inherit its ``best/``, so a
  ``best/`` holding entries of the user's is refused then (``BestNotReplaceable``).
- A resumed run must end after the checkpoint's step; when its length was given
  explicitly, strictly after (``RunTooShort``).

The errors carry the facts, not the wording: the CLI phrases them in its flags.
"""

from __future__ import annotations

import os

from minigrad.errors import CheckpointError
from minigrad.models import checkpoint
from minigrad.serialization import load_json


class CheckpointOccupied(CheckpointError):
    """``directory`` holds another run's checkpoint (``description``), and this run neither resumes nor replaces it."""

    def __init__(self, directory: str, description: str) -> None:
        self.directory, self.description = directory, description
        super().__init__(f"{directory} already holds a checkpoint ({description})")


class BestNotReplaceable(CheckpointError):
    """A fresh run would replace ``directory/best``, which holds entries of the user's."""


class RunTooShort(ValueError):
    """A resumed run of ``total_steps`` would end at or before the checkpoint's ``step``."""

    def __init__(self, step: int, total_steps: int, epochs: float | None) -> None:
        self.step, self.total_steps, self.epochs = step, total_steps, epochs
        super().__init__(f"the checkpoint is already at step {step}: the run must be longer than {total_steps} steps")


def saved_step(directory: str) -> int | None:
    """The step in a checkpoint directory's state.json, or None if it cannot be read."""
    try:
        return int(load_json(os.path.join(directory, checkpoint.STATE_FILE))["step"])
    except Exception:  # a description only: whatever cannot be read is left out
        return None


def describe_checkpoint(directory: str) -> str:
    """What a checkpoint directory holds, as far as its JSON files can be read: "step 30, rnn-attn on copy"."""
    step = saved_step(directory)
    parts = [] if step is None else [f"step {step}"]
    try:
        config = load_json(os.path.join(directory, checkpoint.CONFIG_FILE))
        parts.append(f"{config['model']} on {config['task']}")
    except Exception:
        pass
    return ", ".join(parts) or "unreadable"


def check_save_target(save: str | None, resume: str | None, overwrite: bool) -> None:
    """Refuse a save directory whose contents this run would destroy (see the module docstring)."""
    if save is None:
        return
    checkpoint.recover(save)  # a crash between two renames: put the checkpoint back first
    checkpoint.check_writable(save)
    if not os.path.isdir(save) or not os.listdir(save):
        return
    resuming_it = resume is not None and os.path.realpath(resume) == os.path.realpath(save)
    if not resuming_it and not overwrite:
        raise CheckpointOccupied(save, describe_checkpoint(save))
    if resume is None:  # a fresh run does not inherit the replaced run's best/
        try:
            checkpoint.check_replaceable_best(save)
        except CheckpointError as err:
            raise BestNotReplaceable(str(err)) from None


def check_run_length(step: int, total_steps: int, epochs: float | None, explicit: bool) -> None:
    """RunTooShort unless a resumed run at ``step`` trains further: ``total_steps > step``, or
    ``==`` when the length was not given (``explicit``) and only the evaluation is wanted."""
    if total_steps > step or (total_steps == step and not explicit):
        return
    raise RunTooShort(step, total_steps, epochs)
