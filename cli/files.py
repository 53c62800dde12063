"""Output files of the commands (--output, --dot, --png, ...): checked before the work, written in one line's error."""

from __future__ import annotations

import contextlib
import os
from typing import Iterator

from cli.errors import CLIError


def check_output_file(path: str | None, option: str) -> None:
    """CLIError (one line naming ``option`` and ``path``) unless ``path`` can be written.

    Checked before a command does its work, so a typo in a directory name does not cost a
    training run: the directory must exist and be writable, and ``path`` must not be a
    directory.
    """
    if path is None:
        return
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        what = "is not a directory" if os.path.exists(directory) else "does not exist"
        raise CLIError(f"cannot write {option} {path}: directory {directory} {what}")
    if os.path.isdir(path):
        raise CLIError(f"cannot write {option} {path}: it is a directory")
    if not os.access(directory, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise CLIError(f"cannot write {option} {path}: permission denied")


@contextlib.contextmanager
def writing(path: str, option: str) -> Iterator[None]:
    """Turn an OSError while writing ``path`` (disk full, say) into one line naming it."""
    try:
        yield
    except OSError as err:
        raise CLIError(f"cannot write {option} {path}: {err.strerror or err}") from None
