"""NumPy spelling for axes: PyTorch's ``dim=``/``keepdim=`` get an answer, not a bare TypeError."""

from __future__ import annotations

import functools


def numpy_spelling(function):
    """Make ``function`` (which takes NumPy's ``axis=``/``keepdims=``) refuse PyTorch's ``dim=`` and
    ``keepdim=`` with a TypeError that names the NumPy spelling."""
    name = function.__name__

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if "dim" in kwargs or "keepdim" in kwargs:
            raise TypeError(f"{name}: minigrad uses NumPy spelling: axis= (not dim=) and keepdims= (not keepdim=)")
        return function(*args, **kwargs)

    return wrapper
