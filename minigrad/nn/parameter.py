"""``Parameter``: a leaf ``Tensor`` that a ``Module`` registers as one of its weights."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that requires grad by default and is registered by ``Module.__setattr__``.

    ``Parameter(data)`` shares ``data`` when it is an ndarray or a Tensor (no copy), as
    PyTorch does; a list is converted with the usual dtype rules (floats -> float32).
    Ops on a Parameter return plain ``Tensor``s.
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True):
        if data is None:
            data = np.empty((0,), dtype=np.float32)
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
