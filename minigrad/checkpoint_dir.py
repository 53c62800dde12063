"""Atomic checkpoint directories: a directory of files replaced as one, for any training script.

    >>> from minigrad import checkpoint_dir
    >>> layout = checkpoint_dir.Layout(files=("weights.safetensors", "state.json"), state_file="state.json",
    ...                                format="my-run")
    >>> def write(target):                                    # doctest: +SKIP
    ...     minigrad.save(model.state_dict(), f"{target}/weights.safetensors")
    ...     checkpoint_dir.write_state(target, layout, {"step": step})
    >>> checkpoint_dir.save("runs/ck", write, layout)         # doctest: +SKIP

A ``Layout`` names the files a save writes (``files``; the ``state_file`` among them is
written last, by ``write_state``, and holds ``format`` and the manifest: the size and SHA-256
of every other file) and the ``best_dir`` a save carries over. ``save(directory, write,
layout)`` calls ``write(tmp)`` on a fresh, empty sibling directory and swaps it in.
``minigrad.models.checkpoint`` is one such layout.

Crash safety: a directory is never modified in place. ``save`` writes every file
(each one atomically: temp file + fsync + rename) into a fresh sibling ``.DIR.tmp-XXXX``,
with ``state.json`` last, fsyncs it, then moves into it every entry of ``DIR`` that the save
did not write (``best/``, and the user's files, directories, symlinks and FIFOs, hidden or
not: each one renamed, so it stays itself), and swaps it in: ``DIR -> .DIR.old-XXXX``,
``.DIR.tmp-XXXX -> DIR``, and deletes the old one, which by then holds only the old
checkpoint's own files. A crash can therefore leave only:

- a partial ``.DIR.tmp-XXXX`` (no valid ``state.json``): ignored and removed by the next save;
- a complete ``.DIR.tmp-XXXX`` holding some of the user's entries (a crash before the swap):
  the next save moves them back into ``DIR`` before removing it;
- the instant between the two renames, where ``DIR`` is missing but a complete
  ``.DIR.tmp-XXXX`` (the new checkpoint) exists: the next ``save`` and
  ``read_state`` finish the swap first (``recover``), so readers always see a complete
  checkpoint, the old one or the new one.

A save never deletes an entry it did not write: a stale copy still holding one (its name is
taken in ``DIR`` again) is left where it is.

Reading (``read_state``) checks the manifest, so a file truncated or edited after the save
is a ``CheckpointError`` naming the file, as is a missing or unparsable one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import shutil
from dataclasses import dataclass
from typing import Any, Callable

from minigrad.errors import CheckpointError
from minigrad.serialization import fsync_directory, load_json, save_json

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Layout:
    """What a save writes: ``files`` (including ``state_file``, written last), the ``format``
    tag in the state file, and ``best_dir``, the subdirectory holding the best checkpoint."""

    files: tuple[str, ...]
    state_file: str
    format: str
    best_dir: str = "best"

    @property
    def data_files(self) -> tuple[str, ...]:
        """The files the manifest covers: all but the state file."""
        return tuple(f for f in self.files if f != self.state_file)


# -- paths ----------------------------------------------------------------------------------


def _split(directory: str | os.PathLike) -> tuple[str, str, str]:
    path = os.path.abspath(os.fspath(directory))
    parent, name = os.path.split(path.rstrip(os.sep))
    if not name:
        raise CheckpointError(f"{directory!r} cannot be a checkpoint directory")
    return path.rstrip(os.sep), parent, name


def directory_path(directory: str | os.PathLike) -> str:
    """The absolute path of save directory ``directory`` (CheckpointError for one without a name, like "/")."""
    return _split(directory)[0]


def _siblings(parent: str, name: str, kind: str) -> list[str]:
    """Hidden siblings ``.NAME.tmp-XXXX`` / ``.NAME.old-XXXX`` of a checkpoint directory."""
    prefix = f".{name}.{kind}-"
    try:
        entries = os.listdir(parent)
    except OSError:
        return []
    return sorted(os.path.join(parent, e) for e in entries if e.startswith(prefix))


def file_digest(path: str) -> tuple[int, str]:
    """``(size in bytes, SHA-256 hex digest)`` of the file at ``path``."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def is_complete(directory: str | os.PathLike, layout: Layout) -> bool:
    """True if ``directory`` holds a committed save of ``layout`` (a state file of its format)."""
    path = os.path.join(os.fspath(directory), layout.state_file)
    if not os.path.isfile(path):
        return False
    try:
        data = load_json(path)
    except CheckpointError:
        return False
    return isinstance(data, dict) and data.get("format") == layout.format


def recover(directory: str | os.PathLike, layout: Layout) -> bool:
    """Finish a swap a crash interrupted: if ``directory`` is missing but a complete new
    (``.DIR.tmp-*``) or old (``.DIR.old-*``) copy exists beside it, rename it into place.
    Returns True if something was recovered."""
    path, parent, name = _split(directory)
    if os.path.exists(path):
        return False
    for kind in ("tmp", "old"):
        for candidate in reversed(_siblings(parent, name, kind)):
            if is_complete(candidate, layout):
                os.replace(candidate, path)
                fsync_directory(parent)
                return True
    return False


def _entries(directory: str) -> list[str]:
    try:
        return sorted(os.listdir(directory))
    except OSError:
        return []


def _is_own(entry: str, layout: Layout) -> bool:
    """True for a name a save writes in a checkpoint directory: one of its five files, or a
    temporary of an interrupted write (``.model.safetensors.<hex>.tmp``, ``.best.tmp-<hex>``,
    ``.best.old-<hex>``). ``best/`` is not one: it is carried over like the user's entries."""
    best = layout.best_dir
    if entry in layout.files or entry.startswith((f".{best}.tmp-", f".{best}.old-")):
        return True
    return entry.endswith(".tmp") and entry.startswith(tuple(f".{name}." for name in layout.files))


def users_entries(directory: str | os.PathLike, layout: Layout) -> list[str]:
    """The entries of a checkpoint directory that no save wrote (files, directories, symlinks,
    FIFOs, hidden or not), sorted; every save keeps them. ``best/`` is not one of them."""
    return [e for e in _entries(os.fspath(directory)) if not _is_own(e, layout) and e != layout.best_dir]


def _move_entries(source: str, target: str, entries: list[str]) -> list[str]:
    """Rename each of ``entries`` from directory ``source`` into ``target`` (a sibling, so one
    file system: each rename is atomic, and a directory, symlink or FIFO moves as itself).
    An entry whose name ``target`` already has stays where it is. Returns the ones moved."""
    moved = []
    for entry in entries:
        destination = os.path.join(target, entry)
        if not os.path.lexists(destination):
            os.rename(os.path.join(source, entry), destination)
            moved.append(entry)
    return moved


def _remove_copy(copy: str, path: str, layout: Layout) -> None:
    """Delete ``copy`` (a stale or replaced copy of checkpoint ``path``) once every entry of it
    that a save did not write (a crash may leave the user's entries, or ``best/``, in it) is
    moved into ``path``; a copy still holding one is left in place and logged."""
    if os.path.isdir(path):
        _move_entries(copy, path, [e for e in _entries(copy) if not _is_own(e, layout)])
    left = [e for e in _entries(copy) if not _is_own(e, layout)]
    if left:
        logger.warning("kept %s: it holds %s, which %s already has", copy, ", ".join(left), path)
        return
    shutil.rmtree(copy, ignore_errors=True)


def _cleanup(parent: str, name: str, layout: Layout) -> None:
    for kind in ("tmp", "old"):
        for stale in _siblings(parent, name, kind):
            _remove_copy(stale, os.path.join(parent, name), layout)


def _finish_interrupted_saves(path: str, layout: Layout) -> None:
    """Recover ``path`` and its ``best/`` from a swap a crash interrupted, then remove their stale copies."""
    parent, name = os.path.split(path)
    recover(path, layout)
    _cleanup(parent, name, layout)
    if os.path.isdir(path):
        recover(os.path.join(path, layout.best_dir), layout)
        _cleanup(path, layout.best_dir, layout)


def check_writable(directory: str | os.PathLike, layout: Layout) -> None:
    """CheckpointError unless ``directory`` can take a checkpoint: absent, empty, or one already."""
    path, parent, _ = _split(directory)
    if os.path.exists(path) and not os.path.isdir(path):
        raise CheckpointError(f"cannot save a checkpoint to {path}: it exists and is not a directory")
    if os.path.isdir(path) and os.listdir(path) and not is_complete(path, layout):
        raise CheckpointError(f"cannot save a checkpoint to {path}: the directory exists and is not a minigrad checkpoint")
    existing = parent
    while not os.path.isdir(existing):
        if os.path.exists(existing):
            raise CheckpointError(f"cannot save a checkpoint to {path}: {existing} is not a directory")
        existing = os.path.dirname(existing)
    if not os.access(existing, os.W_OK):
        raise CheckpointError(f"cannot save a checkpoint to {path}: {existing} is not writable")


def write_state(target: str, layout: Layout, state: dict[str, Any]) -> None:
    """Write the state file into ``target``, last: ``format``, ``state`` and the manifest
    (``files``: size and SHA-256 of each of ``layout.data_files``, which must be written)."""
    manifest = {}
    for filename in layout.data_files:
        size, digest = file_digest(os.path.join(target, filename))
        manifest[filename] = {"bytes": size, "sha256": digest}
    save_json({"format": layout.format, **state, "files": manifest}, os.path.join(target, layout.state_file))


def save(directory: str | os.PathLike, write: Callable[[str], None], layout: Layout, keep_best: bool = True) -> str:
    """Replace the save in ``directory`` atomically by the files ``write(tmp)`` writes into a fresh
    sibling directory ``tmp`` (see the module docstring); returns the path.

    Every entry of the save being replaced that ``layout`` does not name (``users_entries``)
    is kept, as is its best directory unless ``keep_best`` is False; a best directory holding
    entries of the user's is then refused before anything is written. A directory that
    exists but is not a save of ``layout`` (and is not empty) is refused. Both refusals, and
    an OSError while writing, are CheckpointError.
    """
    path, parent, name = _split(directory)
    check_writable(path, layout)
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as err:
        raise CheckpointError(f"cannot create {parent}: {err.strerror or err}") from None
    _finish_interrupted_saves(path, layout)
    if not keep_best:
        check_replaceable_best(path, layout)
    tmp = os.path.join(parent, f".{name}.tmp-{secrets.token_hex(4)}")
    try:
        os.makedirs(tmp)
        write(tmp)
        fsync_directory(tmp)
    except BaseException as err:
        shutil.rmtree(tmp, ignore_errors=True)  # only this save's own files are in it yet
        if isinstance(err, OSError) and not isinstance(err, CheckpointError):
            raise CheckpointError(f"could not save the checkpoint {path}: {err.strerror or err}") from err
        raise
    try:
        _swap_in(tmp, path, keep_best, layout)
    except OSError as err:
        if isinstance(err, CheckpointError):
            raise
        raise CheckpointError(f"could not save the checkpoint {path}: {err.strerror or err}") from err
    return path


def check_replaceable_best(directory: str | os.PathLike, layout: Layout) -> None:
    """CheckpointError, naming them, if ``directory/best`` holds entries of the user's: a fresh
    run replacing the checkpoint there (``keep_best=False``) would have to delete them."""
    best = os.path.join(os.fspath(directory), layout.best_dir)
    if not is_complete(best, layout):
        return  # no best/, or one that is not a checkpoint: kept like any entry of the user's
    mine = users_entries(best, layout)
    if mine:
        shown = ", ".join(mine[:3]) + (f" and {len(mine) - 3} more" if len(mine) > 3 else "")
        raise CheckpointError(f"cannot replace the checkpoint in {best}: it holds {shown}, which a checkpoint "
                              "does not have; move them out first")


def _swap_in(tmp: str, path: str, keep_best: bool, layout: Layout) -> None:
    """Make the complete new copy ``tmp`` the checkpoint ``path``.

    The entries of the old checkpoint that no save wrote, and its best/ (with ``keep_best``;
    without, it is renamed aside to go with the old copy), are moved into ``tmp``; then
    ``path -> .NAME.old-XXXX``, ``tmp -> path``, and the old copy is removed. If a step
    fails, the old checkpoint and the moved entries are put back as they were.
    """
    parent, name = os.path.split(path)
    old, moved = None, []
    try:
        if os.path.isdir(path):
            best = layout.best_dir
            carried = [e for e in _entries(path) if not _is_own(e, layout)]
            if not keep_best and best in carried and is_complete(os.path.join(path, best), layout):
                os.replace(os.path.join(path, best), os.path.join(path, f".{best}.old-{secrets.token_hex(4)}"))
                carried.remove(best)
            moved = _move_entries(path, tmp, carried)
            fsync_directory(tmp)
            old = os.path.join(parent, f".{name}.old-{secrets.token_hex(4)}")
            os.replace(path, old)
        os.replace(tmp, path)
    except BaseException:
        if old is not None and not os.path.exists(path):
            os.replace(old, path)
        _move_entries(tmp, path, moved)
        _remove_copy(tmp, path, layout)
        raise
    fsync_directory(parent)
    if old is not None:
        _remove_copy(old, path, layout)


def save_best(directory: str | os.PathLike, write: Callable[[str], None], layout: Layout) -> str:
    """Write ``directory/best`` as ``save`` writes a directory (every entry of it is kept)."""
    path, _, _ = _split(directory)
    if not os.path.isdir(path):
        raise CheckpointError(f"cannot save {path}/{layout.best_dir}: {path} is not a checkpoint directory yet")
    return save(os.path.join(path, layout.best_dir), write, layout)  # best/ has no best/: every entry is kept


def _check_manifest(path: str, manifest: Any, layout: Layout) -> None:
    if not isinstance(manifest, dict):
        raise CheckpointError(f"{os.path.join(path, layout.state_file)} is corrupt: no file manifest")
    for filename in layout.data_files:
        file_path = os.path.join(path, filename)
        if not os.path.isfile(file_path):
            raise CheckpointError(f"checkpoint file missing: {file_path}")
        expected = manifest.get(filename)
        if not isinstance(expected, dict):
            raise CheckpointError(f"{os.path.join(path, layout.state_file)} is corrupt: no manifest entry for {filename}")
        size, digest = file_digest(file_path)
        if size != expected.get("bytes") or digest != expected.get("sha256"):
            why = f"{size} bytes, expected {expected.get('bytes')}" if size != expected.get("bytes") else "checksum mismatch"
            raise CheckpointError(f"checkpoint file {file_path} is corrupt or was changed after saving ({why})")


def read_state(directory: str | os.PathLike, layout: Layout) -> dict[str, Any]:
    """The state file of the save in ``directory`` (a dict), after finishing an interrupted swap
    and checking the manifest. CheckpointError naming the file for anything missing or corrupt."""
    path, _, _ = _split(directory)
    recover(path, layout)
    if not os.path.exists(path):
        raise CheckpointError(f"no checkpoint at {path}: the directory does not exist")
    if not os.path.isdir(path):
        raise CheckpointError(f"no checkpoint at {path}: it is a file, expected a checkpoint directory")
    state_path = os.path.join(path, layout.state_file)
    if not os.path.isfile(state_path):
        raise CheckpointError(f"{path} is not a minigrad checkpoint: {layout.state_file} is missing")
    raw = load_json(state_path)
    if not isinstance(raw, dict) or raw.get("format") != layout.format:
        raise CheckpointError(f"{state_path} is not a minigrad checkpoint state file")
    return raw


def check_manifest(directory: str | os.PathLike, state: dict[str, Any], layout: Layout) -> None:
    """CheckpointError naming the file unless every data file matches ``state["files"]``."""
    path, _, _ = _split(directory)
    _check_manifest(path, state.get("files"), layout)
