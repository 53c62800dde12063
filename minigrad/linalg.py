"""``minigrad.linalg``: NumPy's ``numpy.linalg`` names for the linear-algebra ops.

    >>> import minigrad as mg
    >>> float(mg.linalg.norm(mg.tensor([3.0, 4.0])))
    5.0
    >>> mg.linalg.svdvals(mg.tensor([[3.0, 0.0], [0.0, -4.0]])).tolist()
    [4.0, 3.0]
"""

from .ops.contract import norm
from .ops.linalg import svd, svdvals

__all__ = ["norm", "svd", "svdvals"]
