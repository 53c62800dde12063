"""User-facing errors: one line on stderr, exit status 2, no traceback."""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

import click

USAGE_EXIT = 2


def one_line(message: object) -> str:
    """``message`` with its lines joined, so an error is always a single line."""
    return " ".join(part.strip() for part in str(message).strip().splitlines() if part.strip())


class CLIError(click.ClickException):
    """Bad input (unknown task, malformed config, missing checkpoint, ...): exit status 2."""

    exit_code = USAGE_EXIT

    def __init__(self, message: object) -> None:
        super().__init__(one_line(message))


class TrainingFailed(click.ClickException):
    """A run that could not finish (the loss diverged, a checkpoint could not be written): exit status 1."""

    exit_code = 1


@contextlib.contextmanager
def user_errors(prefix: str = "", translate: Callable[[str], str] | None = None) -> Iterator[None]:
    """Turn the library's user-facing exceptions into ``CLIError`` (exit status 2).

    Catches ``tasks.TaskError``, ``minigrad.CheckpointError`` (an OSError), and ValueError /
    TypeError / KeyError raised while building tasks, models and configs. Wrap only code that
    checks user input, never the training loop, so real bugs keep their tracebacks.
    ``translate`` rewrites the message of a ValueError/TypeError/KeyError (the library's
    option names as the CLI's flags, say); OSError messages (paths) are kept as they are.
    """
    try:
        yield
    except click.ClickException:
        raise
    except (ValueError, TypeError, KeyError, OSError) as err:
        message = str(err.args[0] if isinstance(err, KeyError) and err.args else err)
        if translate is not None and not isinstance(err, OSError):
            message = translate(message)
        raise CLIError(f"{prefix}{message}") from None
