"""A Ctrl-C guard for training scripts: SIGINT never lands half-way through an update or a save.

    >>> from minigrad.interrupts import InterruptGuard
    >>> guard = InterruptGuard()
    >>> with guard:                      # installed for the whole run
    ...     with guard.deferred():       # a Ctrl-C here waits for the block to end
    ...         pass                     # optimizer.step(); save(...)

Rules: the guard installs its SIGINT handler only in the main thread (elsewhere Python
cannot, and it does nothing). Outside a ``deferred()`` block a SIGINT raises
KeyboardInterrupt at once, as usual; inside one it is remembered and raised when the
block ends, or dropped with ``deferred(reraise=False)`` (for the save that ends an
interrupted run, so a second Ctrl-C cannot break it). Nested blocks: the outermost one
decides. Leaving the ``with guard`` block restores the previous handler.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Any, Iterator

__all__ = ["InterruptGuard"]


class InterruptGuard:
    """Defers SIGINT while a ``deferred()`` block runs (see the module docstring)."""

    def __init__(self) -> None:
        self.critical = False
        self.pending = False
        self.previous: Any = None
        self.installed = False

    def _handler(self, signum: int, frame: Any) -> None:
        if self.critical:
            self.pending = True
        else:
            raise KeyboardInterrupt

    def __enter__(self) -> "InterruptGuard":
        if threading.current_thread() is threading.main_thread():
            try:
                self.previous = signal.signal(signal.SIGINT, self._handler)
                self.installed = True
            except (ValueError, OSError):
                self.installed = False
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.installed:
            signal.signal(signal.SIGINT, self.previous)
            self.installed = False

    @contextlib.contextmanager
    def deferred(self, reraise: bool = True) -> Iterator[None]:
        """A block a SIGINT does not interrupt: it is raised at the end (``reraise``) or dropped."""
        if self.critical:  # nested: the outer block decides
            yield
            return
        self.critical = True
        try:
            yield
        finally:
            self.critical = False
        if self.pending:
            self.pending = False
            if reraise:
                raise KeyboardInterrupt
