"""Checkpoint directories: everything needed to reload a trained model or resume its training.

A checkpoint is a directory::

    DIR/
      model.safetensors       the model's state_dict (readable by safetensors.numpy.load_file)
      optimizer.safetensors   {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}
                              (arrays as tensors, the scalar state as JSON in the file's header;
                              minigrad.serialization.save_tree)
      config.json             the TrainConfig, as a dict
      task.json               task.state(): options and vocabularies
      state.json              step, history, minigrad's RNG state, best metric, elapsed seconds,
                              and the manifest: size and SHA-256 of every other file
      best/                   the same files for the best-by-validation checkpoint (no best/ inside)

Crash safety: a directory is never modified in place. ``save_checkpoint`` writes every file
(each one atomically: temp file + fsync + rename) into a fresh sibling ``.DIR.tmp-XXXX``,
with ``state.json`` last, fsyncs it, then swaps it in: ``DIR -> .DIR.old-XXXX``,
``.DIR.tmp-XXXX -> DIR``, and deletes the old one. ``best/`` is carried over into the new
directory by hard links (files are never rewritten in place, so sharing them is safe). A
crash can therefore leave only:

- a partial ``.DIR.tmp-XXXX`` (no valid ``state.json``): ignored and removed by the next save;
- the instant between the two renames, where ``DIR`` is missing but a complete
  ``.DIR.tmp-XXXX`` (the new checkpoint) exists: ``load_checkpoint`` and the next
  ``save_checkpoint`` finish the swap first (``recover``), so readers always see a complete
  checkpoint, the old one or the new one.

Loading checks the manifest, so a file truncated or edited after the save is reported as a
``CheckpointError`` naming the file, as is a missing or unparsable one.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from dataclasses import dataclass, field
from typing import Any

from minigrad.errors import CheckpointError
from minigrad.serialization import fsync_directory, load, load_json, load_tree, save, save_json, save_tree

FORMAT = "minigrad-checkpoint"
VERSION = 1
MODEL_FILE = "model.safetensors"
OPTIMIZER_FILE = "optimizer.safetensors"
CONFIG_FILE = "config.json"
TASK_FILE = "task.json"
STATE_FILE = "state.json"
BEST_DIR = "best"
DATA_FILES = (MODEL_FILE, OPTIMIZER_FILE, CONFIG_FILE, TASK_FILE)


@dataclass
class TrainingState:
    """What ``state.json`` holds besides the manifest.

    step:          optimizer updates done so far (the resumed run continues the batch stream there)
    history:       one dict per validation (see ``models.training``)
    rng_state:     ``minigrad.rng.get_rng_state()`` at that step boundary
    best_metric:   best validation score so far (higher is better), or None
    best_step:     the step it was reached at, or None
    elapsed:       wall seconds spent training so far (summed over resumed runs)
    extra:         anything else a caller wants to keep (JSON)
    """

    step: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    rng_state: dict[str, Any] | None = None
    best_metric: float | None = None
    best_step: int | None = None
    elapsed: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "history": self.history,
            "rng_state": self.rng_state,
            "best_metric": self.best_metric,
            "best_step": self.best_step,
            "elapsed": self.elapsed,
            "extra": self.extra,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str) -> "TrainingState":
        try:
            state = cls(
                step=int(d["step"]),
                history=list(d.get("history") or []),
                rng_state=d.get("rng_state"),
                best_metric=None if d.get("best_metric") is None else float(d["best_metric"]),
                best_step=None if d.get("best_step") is None else int(d["best_step"]),
                elapsed=float(d.get("elapsed") or 0.0),
                extra=dict(d.get("extra") or {}),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise CheckpointError(f"{where} is corrupt: bad training state ({err!s})") from None
        if state.step < 0:
            raise CheckpointError(f"{where} is corrupt: negative step {state.step}")
        return state


# -- paths ----------------------------------------------------------------------------------


def _split(directory: str | os.PathLike) -> tuple[str, str, str]:
    path = os.path.abspath(os.fspath(directory))
    parent, name = os.path.split(path.rstrip(os.sep))
    if not name:
        raise CheckpointError(f"{directory!r} cannot be a checkpoint directory")
    return path.rstrip(os.sep), parent, name


def _siblings(parent: str, name: str, kind: str) -> list[str]:
    """Hidden siblings ``.NAME.tmp-XXXX`` / ``.NAME.old-XXXX`` of a checkpoint directory."""
    prefix = f".{name}.{kind}-"
    try:
        entries = os.listdir(parent)
    except OSError:
        return []
    return sorted(os.path.join(parent, e) for e in entries if e.startswith(prefix))


def _sha256(path: str) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def is_checkpoint(directory: str | os.PathLike) -> bool:
    """True if ``directory`` holds a committed checkpoint (a ``state.json`` of this format)."""
    path = os.path.join(os.fspath(directory), STATE_FILE)
    if not os.path.isfile(path):
        return False
    try:
        data = load_json(path)
    except CheckpointError:
        return False
    return isinstance(data, dict) and data.get("format") == FORMAT


def recover(directory: str | os.PathLike) -> bool:
    """Finish a swap a crash interrupted: if ``directory`` is missing but a complete new
    (``.DIR.tmp-*``) or old (``.DIR.old-*``) copy exists beside it, rename it into place.
    Returns True if something was recovered."""
    path, parent, name = _split(directory)
    if os.path.exists(path):
        return False
    for kind in ("tmp", "old"):
        for candidate in reversed(_siblings(parent, name, kind)):
            if is_checkpoint(candidate):
                os.replace(candidate, path)
                fsync_directory(parent)
                return True
    return False


def _cleanup(parent: str, name: str) -> None:
    for kind in ("tmp", "old"):
        for stale in _siblings(parent, name, kind):
            shutil.rmtree(stale, ignore_errors=True)


# -- saving ---------------------------------------------------------------------------------


def _write_files(target: str, *, model_state: dict, optimizer_state: dict | None, config: dict,
                 task_state: dict, state: TrainingState) -> None:
    """Write the five files into the (new, empty) directory ``target``; state.json last."""
    save(model_state, os.path.join(target, MODEL_FILE), metadata={"format": FORMAT})
    save_tree(optimizer_state or {}, os.path.join(target, OPTIMIZER_FILE), metadata={"format": FORMAT})
    save_json(config, os.path.join(target, CONFIG_FILE))
    save_json(task_state, os.path.join(target, TASK_FILE))
    manifest = {}
    for filename in DATA_FILES:
        size, digest = _sha256(os.path.join(target, filename))
        manifest[filename] = {"bytes": size, "sha256": digest}
    save_json({"format": FORMAT, "version": VERSION, **state.to_dict(), "files": manifest}, os.path.join(target, STATE_FILE))


def _link_tree(source: str, target: str) -> None:
    """Recreate directory ``source`` at ``target`` with hard links (copies where linking fails)."""
    os.makedirs(target)
    for entry in os.listdir(source):
        src = os.path.join(source, entry)
        if os.path.isfile(src):
            try:
                os.link(src, os.path.join(target, entry))
            except OSError:
                shutil.copy2(src, os.path.join(target, entry))


def _carry_over_other_files(old: str, new: str) -> None:
    """Hard-link into ``new`` every top-level file of checkpoint ``old`` that is not part of a
    checkpoint (a results.json the user wrote there, notes, ...), so a save never deletes them."""
    if not os.path.isdir(old):
        return
    own = {*DATA_FILES, STATE_FILE, BEST_DIR}
    for entry in os.listdir(old):
        src = os.path.join(old, entry)
        if entry in own or entry.startswith(".") or not os.path.isfile(src):
            continue
        try:
            os.link(src, os.path.join(new, entry))
        except OSError:
            shutil.copy2(src, os.path.join(new, entry))


def check_writable(directory: str | os.PathLike) -> None:
    """CheckpointError unless ``directory`` can take a checkpoint: absent, empty, or one already."""
    path, parent, _ = _split(directory)
    if os.path.exists(path) and not os.path.isdir(path):
        raise CheckpointError(f"cannot save a checkpoint to {path}: it exists and is not a directory")
    if os.path.isdir(path) and os.listdir(path) and not is_checkpoint(path):
        raise CheckpointError(f"cannot save a checkpoint to {path}: the directory exists and is not a minigrad checkpoint")
    existing = parent
    while not os.path.isdir(existing):
        if os.path.exists(existing):
            raise CheckpointError(f"cannot save a checkpoint to {path}: {existing} is not a directory")
        existing = os.path.dirname(existing)
    if not os.access(existing, os.W_OK):
        raise CheckpointError(f"cannot save a checkpoint to {path}: {existing} is not writable")


def save_checkpoint(
    directory: str | os.PathLike,
    *,
    model_state: dict,
    optimizer_state: dict | None,
    config: dict,
    task_state: dict,
    state: TrainingState,
    keep_best: bool = True,
) -> str:
    """Write a checkpoint to ``directory``, replacing an existing checkpoint there atomically.

    ``model_state`` is a state_dict, ``optimizer_state`` ``{"optimizer": ..., "scheduler": ...}``
    (or None), ``config`` and ``task_state`` JSON dicts. With ``keep_best`` the ``best/``
    subdirectory of the checkpoint being replaced is carried over; other top-level files in
    it that are not part of a checkpoint (a results.json written there) are always kept. A
    directory that exists but is not a checkpoint (and is not empty) is refused:
    CheckpointError. Returns the path.
    """
    path, parent, name = _split(directory)
    check_writable(path)
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as err:
        raise CheckpointError(f"cannot create {parent}: {err.strerror or err}") from None
    recover(path)
    _cleanup(parent, name)
    tmp = os.path.join(parent, f".{name}.tmp-{secrets.token_hex(4)}")
    try:
        os.makedirs(tmp)
        _write_files(tmp, model_state=model_state, optimizer_state=optimizer_state, config=config,
                     task_state=task_state, state=state)
        best = os.path.join(path, BEST_DIR)
        if keep_best and os.path.isdir(best) and is_checkpoint(best):
            _link_tree(best, os.path.join(tmp, BEST_DIR))
        _carry_over_other_files(path, tmp)
        fsync_directory(tmp)
        old = None
        if os.path.exists(path):
            old = os.path.join(parent, f".{name}.old-{secrets.token_hex(4)}")
            os.replace(path, old)
        os.replace(tmp, path)
        fsync_directory(parent)
    except BaseException as err:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(err, OSError) and not isinstance(err, CheckpointError):
            raise CheckpointError(f"could not save the checkpoint {path}: {err.strerror or err}") from err
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return path


def save_best(directory: str | os.PathLike, **files: Any) -> str:
    """Write ``directory/best`` (same arguments as ``save_checkpoint``, without ``keep_best``)."""
    path, _, _ = _split(directory)
    if not os.path.isdir(path):
        raise CheckpointError(f"cannot save {path}/{BEST_DIR}: {path} is not a checkpoint directory yet")
    return save_checkpoint(os.path.join(path, BEST_DIR), keep_best=False, **files)


# -- loading --------------------------------------------------------------------------------


def _check_manifest(path: str, manifest: Any) -> None:
    if not isinstance(manifest, dict):
        raise CheckpointError(f"{os.path.join(path, STATE_FILE)} is corrupt: no file manifest")
    for filename in DATA_FILES:
        file_path = os.path.join(path, filename)
        if not os.path.isfile(file_path):
            raise CheckpointError(f"checkpoint file missing: {file_path}")
        expected = manifest.get(filename)
        if not isinstance(expected, dict):
            raise CheckpointError(f"{os.path.join(path, STATE_FILE)} is corrupt: no manifest entry for {filename}")
        size, digest = _sha256(file_path)
        if size != expected.get("bytes") or digest != expected.get("sha256"):
            why = f"{size} bytes, expected {expected.get('bytes')}" if size != expected.get("bytes") else "checksum mismatch"
            raise CheckpointError(f"checkpoint file {file_path} is corrupt or was changed after saving ({why})")


def read_checkpoint(directory: str | os.PathLike) -> tuple[dict, dict, dict, TrainingState]:
    """The raw parts of a checkpoint: ``(model_state, config, task_state, state)`` after
    checking the manifest. CheckpointError naming the file for anything missing or corrupt."""
    path, _, _ = _split(directory)
    recover(path)
    if not os.path.exists(path):
        raise CheckpointError(f"no checkpoint at {path}: the directory does not exist")
    if not os.path.isdir(path):
        raise CheckpointError(f"no checkpoint at {path}: it is a file, expected a checkpoint directory")
    state_path = os.path.join(path, STATE_FILE)
    if not os.path.isfile(state_path):
        raise CheckpointError(f"{path} is not a minigrad checkpoint: {STATE_FILE} is missing")
    raw = load_json(state_path)
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise CheckpointError(f"{state_path} is not a minigrad checkpoint state file")
    if raw.get("version") != VERSION:
        raise CheckpointError(f"{state_path}: unsupported checkpoint version {raw.get('version')!r} (expected {VERSION})")
    _check_manifest(path, raw.get("files"))
    config = load_json(os.path.join(path, CONFIG_FILE))
    task_state = load_json(os.path.join(path, TASK_FILE))
    for filename, value in ((CONFIG_FILE, config), (TASK_FILE, task_state)):
        if not isinstance(value, dict):
            raise CheckpointError(f"{os.path.join(path, filename)} is corrupt: expected a JSON object")
    model_state = load(os.path.join(path, MODEL_FILE))
    return model_state, config, task_state, TrainingState.from_dict(raw, state_path)


def read_optimizer(directory: str | os.PathLike) -> dict:
    """``{"optimizer": ..., "scheduler": ...}`` as saved (for resuming)."""
    path, _, _ = _split(directory)
    tree = load_tree(os.path.join(path, OPTIMIZER_FILE))
    if not isinstance(tree, dict):
        raise CheckpointError(f"{os.path.join(path, OPTIMIZER_FILE)} is corrupt: expected a dict of optimizer state")
    return tree


def load_checkpoint(directory: str | os.PathLike, data_path: str | None = None):
    """Rebuild ``(model, task, config, state)`` from a checkpoint directory.

    ``model`` is built with ``models.build`` from the saved config and loaded with the saved
    weights (in eval mode); ``task`` comes from ``tasks.from_state`` (``data_path`` replaces
    the stored data file of a ``file``/``text`` task); ``config`` is a ``TrainConfig``;
    ``state`` a ``TrainingState``. CheckpointError (naming the file) when anything is
    missing, corrupt or inconsistent.
    """
    from minigrad import tasks
    from minigrad.models.training import TrainConfig, build_model

    path, _, _ = _split(directory)
    model_state, config_dict, task_state, state = read_checkpoint(path)
    config_path = os.path.join(path, CONFIG_FILE)
    try:
        config = TrainConfig.from_dict(config_dict)
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{config_path} is corrupt: {err}") from None
    try:
        task = tasks.from_state(task_state, path=data_path)
    except tasks.TaskError as err:
        raise CheckpointError(f"{os.path.join(path, TASK_FILE)} is corrupt: {err}") from None
    try:
        model = build_model(config, task)
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{config_path} does not describe a buildable model: {err}") from None
    try:
        model.load_state_dict(model_state)
    except (KeyError, ValueError, TypeError) as err:
        first = str(err).strip().splitlines()
        detail = " ".join(line.strip() for line in first)[:300]
        raise CheckpointError(f"{os.path.join(path, MODEL_FILE)} does not fit the model in {CONFIG_FILE}: {detail}") from None
    model.eval()
    return model, task, config, state
