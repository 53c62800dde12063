"""The one exception class of the ``tasks`` package."""

from __future__ import annotations


class TaskError(ValueError):
    """A user-facing mistake: bad option value, unknown task, broken data file, unknown token.

    The message is one line that names what was wrong (the option and its value, the file
    and line number, the offending tokens), so the CLI can print it as it is.
    """
