"""Kernel backend selection: Numba (default) or the plain NumPy references.

The backend is read once from the environment variable ``MINIGRAD_KERNELS`` when
``minigrad.kernels`` is imported and kept in the module-level variable ``_BACKEND``, which
every public kernel reads at call time (one attribute look-up). ``set_backend`` changes it
for the running process (tests, benchmarks, debugging).

A bad value does not stop ``import minigrad``: the ValueError naming it is raised by
``backend()`` and by the first kernel that runs, so a program (the CLI) can report it as
one line.

This module imports only the standard library: selecting a backend never imports Numba.
"""

from __future__ import annotations

import os

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
    _BACKEND, _ENV_ERROR = None, _err  # neither "numpy" nor "numba": the first kernel raises it


def backend() -> str:
    """The backend the public kernels dispatch to now: ``"numba"`` or ``"numpy"``.

    Raises the ValueError naming ``MINIGRAD_KERNELS`` when its value is not a backend.
    """
    if _ENV_ERROR is not None:
        raise _ENV_ERROR
    return _BACKEND


def numba_module(name: str):
    """Import the Numba implementations ``minigrad.kernels.<name>`` (compiling them, or loading
    Numba's on-disk cache, on first use); the ValueError of a bad ``MINIGRAD_KERNELS`` instead."""
    import importlib

    backend()
    return importlib.import_module(f"{__package__}.{name}")


def set_backend(name: str) -> str:
    """Select the backend (``"numba"`` or ``"numpy"``) for this process; return the previous one."""
    global _BACKEND, _ENV_ERROR
    previous = _BACKEND or DEFAULT_BACKEND
    _BACKEND, _ENV_ERROR = parse_backend(name, "set_backend"), None
    return previous
