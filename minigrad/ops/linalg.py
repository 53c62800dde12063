"""Matrix multiplication with NumPy's ``matmul`` rules and its gradient.

1-D operands are promoted (a vector on the left is a row, on the right a column)
and the added axis removed again; leading batch axes broadcast. The products run
through ``minigrad.kernels.matmul`` (Numba for small batched matrices, BLAS for
large ones).
"""

from __future__ import annotations

import numpy as np

from .. import kernels
from ..autograd import Function
from ..forward_ad import is_zero
from ..errors import ShapeError
from ._util import Tensor, float_array


def _mm(a, b):
    """a @ b: the kernel for ndarrays, NumPy's matmul for 1-D operands and for Tensors (a rule
    running on Tensors, for higher derivatives: np.matmul dispatches to the recorded op)."""
    if a.ndim < 2 or b.ndim < 2 or type(a) is not np.ndarray or type(b) is not np.ndarray:
        return np.matmul(a, b)
    return kernels.matmul(a, b)


class MatMul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _mm(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        if a.ndim == 1 and b.ndim == 1:  # dot product: a 0-d gradient
            return grad * b, grad * a
        a2 = a[None, :] if a.ndim == 1 else a  # (..., n, k)
        b2 = b[:, None] if b.ndim == 1 else b  # (..., k, m)
        g = grad
        if a.ndim == 1:
            g = np.expand_dims(g, -2)
        if b.ndim == 1:
            g = np.expand_dims(g, -1)  # (..., n, m)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = _mm(g, np.swapaxes(b2, -1, -2))
            if a.ndim == 1:
                ga = ga[..., 0, :]
        if ctx.needs_input_grad[1]:
            if b2.ndim == 2 and g.ndim > 2:
                # a shared weight: fold the batch into one product instead of summing B of them
                k, m = b2.shape
                gb = _mm(a2.reshape(-1, k).T, g.reshape(-1, m)) if k else np.zeros((0, m), g.dtype)
            else:
                gb = _mm(np.swapaxes(a2, -1, -2), g)
            if b.ndim == 1:
                gb = gb[..., 0]
        return ga, gb

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.saved
        if is_zero(tb):
            return _mm(ta, b)
        if is_zero(ta):
            return _mm(a, tb)
        return _mm(ta, b) + _mm(a, tb)


def matmul(a, b) -> Tensor:
    """``a @ b`` with NumPy semantics: 1-D, 2-D and batched (broadcast) operands.

    Shapes: (..., n, k) @ (..., k, m) -> (..., n, m).
    """
    a, b = float_array(a), float_array(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul: shapes {a.shape} and {b.shape}: matmul needs at least 1-D operands; use * for scalars")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise ShapeError(f"matmul: shapes {a.shape} and {b.shape} are not aligned ({k_a} != {k_b})")
    if a.ndim > 2 or b.ndim > 2:
        try:
            np.broadcast_shapes(a.shape[:-2] if a.ndim >= 2 else (), b.shape[:-2] if b.ndim >= 2 else ())
        except ValueError:
            raise ShapeError(f"matmul: batch axes of shapes {a.shape} and {b.shape} cannot be broadcast together") from None
    return MatMul.apply(a, b)
