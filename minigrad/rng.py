"""The library's random source: one ``numpy.random.Generator`` seeded by ``manual_seed``.

Parameter initialisation, dropout and ``randn``/``rand`` all draw from it, so
``minigrad.manual_seed(n)`` makes a run repeatable.
"""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng(0)


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed every random source minigrad owns; returns the new generator."""
    global _generator
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
    _generator = np.random.default_rng(int(seed))
    return _generator


def default_generator() -> np.random.Generator:
    """The generator library code draws from (init, dropout, randn, rand)."""
    return _generator


def get_rng_state() -> dict:
    """The generator's state as a JSON-serialisable dict (for checkpoints)."""
    return _generator.bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a state returned by ``get_rng_state``."""
    _generator.bit_generator.state = state
