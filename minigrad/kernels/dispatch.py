"""The kernel table, and the one place that decides which implementation of a kernel runs.

Every kernel has two implementations of one contract: a plain NumPy reference (``name_ref``,
beside the public function in ``activations.py``, ``linalg.py``...) and a Numba implementation
in a ``_*_nb`` module, which is imported (and compiled, or loaded from Numba's on-disk cache)
only when the Numba backend first runs it. ``register`` records both in a ``Kernel`` and adds
it to ``KERNELS``, the table of every kernel (complete once ``minigrad.kernels`` is imported;
``tests/kernels/test_kernel_table.py`` holds each Numba implementation equal to its reference).

``Kernel.impl`` is the implementation that calls go to now, so a public kernel is one line::

    def softmax(x, axis=-1):
        return _softmax.impl(x, axis)

``select`` is the only code that decides what ``impl`` is: the reference under the ``"numpy"``
backend, the Numba implementation under ``"numba"``. It runs when a kernel is registered and
whenever the backend changes, never per call: a call costs one attribute look-up more than
calling the implementation itself.

The backend comes from the environment variable ``MINIGRAD_KERNELS`` (``numba`` or ``numpy``;
unset or empty means ``numba``), read once when this module is imported. ``set_backend``
changes it for the process, ``use_backend`` for the body of a ``with`` statement. A bad value
does not stop ``import minigrad``: ``backend()`` and the first kernel call raise the ValueError
naming it, so a program (the CLI) can report it as one line.

This module imports only the standard library: choosing a backend never imports Numba.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from typing import Callable, Iterator

ENV_VAR = "MINIGRAD_KERNELS"
BACKENDS = ("numba", "numpy")
DEFAULT_BACKEND = "numba"


def parse_backend(value: str, source: str = "backend") -> str:
    """Return the canonical backend name for ``value`` or raise ValueError.

    ``source`` names where the value came from (the environment variable or the
    ``set_backend`` argument) so the message points at what to fix.
    """
    if not isinstance(value, str):
        raise TypeError(f"{source} must be a string, one of {', '.join(BACKENDS)}; got {value!r}")
    name = value.strip().lower()
    if name not in BACKENDS:
        raise ValueError(
            f"{source}={value!r} is not a valid minigrad kernel backend; "
            f"valid choices: {', '.join(repr(b) for b in BACKENDS)}"
        )
    return name


def _backend_from_env() -> str:
    value = os.environ.get(ENV_VAR)
    if value is None or not value.strip():  # unset or empty: the default, as for most variables
        return DEFAULT_BACKEND
    return parse_backend(value, ENV_VAR)


try:
    _BACKEND: str | None = _backend_from_env()
    _ENV_ERROR: ValueError | None = None
except ValueError as _err:
    _BACKEND, _ENV_ERROR = None, _err  # neither backend: backend() and every kernel raise it


class Kernel:
    """One kernel of the table.

    name:      the public function's name, e.g. ``"softmax"``.
    reference: the NumPy reference, e.g. ``activations.softmax_ref``.
    numba:     where the Numba implementation lives, ``"<module>.<function>"`` inside
               ``minigrad.kernels``, e.g. ``"_activations_nb.softmax"``; same arguments and
               results as the reference.
    impl:      what calls run now (set by ``select``).
    """

    __slots__ = ("name", "reference", "numba", "impl")

    def __init__(self, name: str, reference: Callable, numba: str):
        self.name = name
        self.reference = reference
        self.numba = numba
        self.impl = select(self)

    def numba_implementation(self) -> Callable:
        """The Numba implementation, importing its module first if needed."""
        module, _, function = self.numba.rpartition(".")
        return getattr(importlib.import_module(f"{__package__}.{module}"), function)

    def _load_numba_and_call(self, *args, **kwargs):
        """``impl`` on the Numba backend until the first call: load the implementation, make
        it ``impl`` (so later calls go straight to it) and run it."""
        implementation = self.numba_implementation()
        if _BACKEND == "numba":  # unless the backend changed while the module was imported
            self.impl = implementation
        return implementation(*args, **kwargs)

    def __repr__(self) -> str:
        return f"Kernel({self.name!r}, reference={self.reference.__name__}, numba={self.numba!r})"


KERNELS: dict[str, Kernel] = {}


def register(name: str, reference: Callable, numba: str) -> Kernel:
    """Add the kernel ``name`` to ``KERNELS`` and return its record (see ``Kernel``)."""
    if name in KERNELS:
        raise ValueError(f"kernel {name!r} is registered twice")
    KERNELS[name] = kernel = Kernel(name, reference, numba)
    return kernel


def select(kernel: Kernel) -> Callable:
    """The implementation of ``kernel`` that runs under the current backend."""
    if _ENV_ERROR is not None:
        return _raise_env_error
    if _BACKEND == "numpy":
        return kernel.reference
    return kernel._load_numba_and_call


def _raise_env_error(*args, **kwargs):
    raise _ENV_ERROR


def _select_all() -> None:
    for kernel in KERNELS.values():
        kernel.impl = select(kernel)


def backend() -> str:
    """The backend the kernels run on now: ``"numba"`` or ``"numpy"``.

    Raises the ValueError naming ``MINIGRAD_KERNELS`` when its value is not a backend.
    """
    if _ENV_ERROR is not None:
        raise _ENV_ERROR
    return _BACKEND


def set_backend(name: str) -> str:
    """Select the backend (``"numba"`` or ``"numpy"``) for this process; return the previous one."""
    global _BACKEND, _ENV_ERROR
    previous = _BACKEND or DEFAULT_BACKEND
    _BACKEND, _ENV_ERROR = parse_backend(name, "set_backend"), None
    _select_all()
    return previous


@contextlib.contextmanager
def use_backend(name: str) -> Iterator[None]:
    """Run the body of a ``with`` statement on backend ``name`` (``"numba"`` or ``"numpy"``)::

        with minigrad.kernels.use_backend("numpy"):
            loss.backward()  # every kernel runs its NumPy reference

    The previous backend is restored afterwards, also when the body raises.
    """
    global _BACKEND, _ENV_ERROR
    saved = _BACKEND, _ENV_ERROR
    set_backend(name)
    try:
        yield
    finally:
        _BACKEND, _ENV_ERROR = saved
        _select_all()
