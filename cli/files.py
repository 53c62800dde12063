"""Output files of the commands (--output, --dot, --png, ...): checked before the work, written in one line's error."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Callable, Iterator

import click

from minigrad.cli.errors import CLIError


def check_output_file(path: str | None, option: str, checkpoint_dir: str | None = None) -> None:
    """CLIError (one line naming ``option`` and ``path``) unless ``path`` can be written.

    Checked before a command does its work, so a typo in a directory name does not cost a
    training run: the directory must exist and be writable, and ``path`` must not be a
    directory. With ``checkpoint_dir`` (where this run saves), ``path`` must not be one of the
    checkpoint's own files (nothing saved may be overwritten); a file directly in that
    directory is fine even before the first save creates it.
    """
    if path is None:
        return
    directory = os.path.dirname(os.path.abspath(path))
    if checkpoint_dir is not None:
        _check_outside_checkpoint(path, option, checkpoint_dir)
        if os.path.abspath(checkpoint_dir) == directory and not os.path.exists(directory):
            return  # written after the run's first save has created the directory
    if not os.path.isdir(directory):
        what = "is not a directory" if os.path.exists(directory) else "does not exist"
        raise CLIError(f"cannot write {option} {path}: directory {directory} {what}")
    if os.path.isdir(path):
        raise CLIError(f"cannot write {option} {path}: it is a directory")
    if not os.access(directory, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise CLIError(f"cannot write {option} {path}: permission denied")


def _check_outside_checkpoint(path: str, option: str, checkpoint_dir: str) -> None:
    from minigrad.models import checkpoint

    relative = os.path.relpath(os.path.abspath(path), os.path.abspath(checkpoint_dir))
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return  # outside the checkpoint directory
    first = relative.split(os.sep)[0]
    if first in (*checkpoint.DATA_FILES, checkpoint.STATE_FILE, checkpoint.BEST_DIR, os.curdir):
        raise CLIError(f"cannot write {option} {path}: it is part of the checkpoint in {checkpoint_dir}; "
                       "choose another file name")


@contextlib.contextmanager
def writing(path: str, option: str) -> Iterator[None]:
    """Turn an OSError while writing ``path`` (disk full, say) into one line naming it."""
    try:
        yield
    except OSError as err:
        raise CLIError(f"cannot write {option} {path}: {err.strerror or err}") from None


def page_options(html_help: str) -> Callable[[Callable], Callable]:
    """The options of a command that writes a web page: ``--html FILE`` (``html_path``, help
    ``html_help``) and ``--open`` (``open_page``: open it in a browser, see ``check_open``)."""

    def decorate(f: Callable) -> Callable:
        f = click.option("--open", "open_page", is_flag=True, help="Open the --html page in the default browser.")(f)
        return click.option("--html", "html_path", type=click.Path(dir_okay=False), default=None, metavar="FILE",
                            help=html_help)(f)

    return decorate


def check_open(open_page: bool, html_path: str | None) -> None:
    """CLIError for ``--open`` without ``--html FILE``: there is no page to open."""
    if open_page and not html_path:
        raise CLIError("--open opens the --html page: give --html FILE too")


def open_in_browser(path: str) -> None:
    """Open the written page ``path`` in the default web browser; CLIError when there is none."""
    import webbrowser

    if not webbrowser.open(Path(path).resolve().as_uri()):
        raise CLIError(f"wrote {path} but found no browser to open it; open it by hand")
