"""The exception classes of the ``tasks`` package: ``TaskError``, and one kind of it."""

from __future__ import annotations


class TaskError(ValueError):
    """A user-facing mistake: bad option value, unknown task, broken data file, unknown token.

    The message is one line that names what was wrong (the option and its value, the file
    and line number, the offending tokens), so the CLI can print it as it is.
    """


class DataFileChanged(TaskError):
    """The data file of a restored file/text task is not the one its state recorded
    (another size or SHA-256): the message names the file and both fingerprints."""
