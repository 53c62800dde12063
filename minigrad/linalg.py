"""``minigrad.linalg``: NumPy's ``numpy.linalg`` names for the linear-algebra ops.

    >>> import minigrad as mg
    >>> float(mg.linalg.norm(mg.tensor([3.0, 4.0])))
    5.0
"""

from .ops.contract import norm

__all__ = ["norm"]
