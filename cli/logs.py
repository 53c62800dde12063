"""``--log-file FILE``: the library's log records (every ``minigrad.*`` logger) into a rotating file."""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
from typing import Iterator

from minigrad.cli.errors import CLIError

LOGGERS = ("minigrad",)
MAX_BYTES = 1_000_000
BACKUPS = 3


@contextlib.contextmanager
def log_to_file(path: str | None) -> Iterator[None]:
    """Attach a RotatingFileHandler (1 MB, 3 backups, INFO) for the duration of a command."""
    if path is None:
        yield
        return
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise CLIError(f"cannot write the log file {path}: directory {directory} does not exist")
    try:
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    except OSError as err:
        raise CLIError(f"cannot write the log file {path}: {err.strerror or err}") from None
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    loggers = [logging.getLogger(name) for name in LOGGERS]
    previous = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        if lg.level == logging.NOTSET or lg.level > logging.INFO:
            lg.setLevel(logging.INFO)
    try:
        yield
    finally:
        for lg, level in zip(loggers, previous):
            lg.removeHandler(handler)
            lg.setLevel(level)
        handler.close()
