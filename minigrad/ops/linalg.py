"""Matrix multiplication with NumPy's ``matmul`` rules, and the singular value decomposition.

``matmul``: 1-D operands are promoted (a vector on the left is a row, on the right a column)
and the added axis removed again; leading batch axes broadcast. The products run through
``minigrad.kernels.matmul`` (Numba for small batched matrices, BLAS for large ones).

``svd``/``svdvals``: ``A = U diag(S) Vh`` of a (..., M, N) stack, K = min(M, N), one Function
with three outputs. Its rules (PyTorch's, real case) are written with its own outputs, so on
Tensors they record a graph that leads back through the same Function: higher derivatives
come from the same two rules. They divide by ``S_k**2 - S_j**2`` and by ``S``: singular values
are differentiable where they are distinct (and, for M != N, nonzero), and singular vectors
are defined there up to sign.
"""

from __future__ import annotations

import numpy as np

from .. import kernels
from ..autograd import Function, is_grad_enabled
from ..forward_ad import is_zero
from ..errors import BackwardError, ShapeError
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


# ---------------------------------------------------------------- singular value decomposition
#
# The rules run on ndarrays, or on Tensors for higher derivatives (np.matmul, np.swapaxes,
# np.diagonal and the arithmetic operators dispatch to the recorded ops), so they use only those.


def _data(x):
    return x.data if isinstance(x, Tensor) else x


def _absent(g) -> bool:
    """None, or the constant zeros the engine passes for an output without a gradient when the
    rule runs on Tensors: the terms of such an output are 0 and are left out."""
    return g is None or (isinstance(g, Tensor) and not g.requires_grad and not g._tangents and not np.any(g.data))


def _mT(x):
    """The matrix transpose of a (..., m, n) stack."""
    return np.swapaxes(x, -1, -2)


def _diag_embed(v):
    """(..., k) -> (..., k, k) with ``v`` on the diagonal."""
    k = v.shape[-1]
    return v[..., None] * np.eye(k, dtype=v.dtype)


def _skew(x):
    return x - _mT(x)


def _gaps(s):
    """E with E[..., j, k] = s_k**2 - s_j**2 off the diagonal and 1 on it (PyTorch's E)."""
    s2 = s * s
    k = s.shape[-1]
    return s2[..., None, :] - s2[..., :, None] + np.eye(k, dtype=s.dtype)


def _svd_vjp(g_u, g_s, g_vh, u, s, vh):
    """dA from the gradients of the reduced U, S, Vh (None where an output got none):
    U [(skew(U^T dU) S + S skew(V^T dV)) / E + diag(dS)] Vh, plus, for M > N, the part of dU
    outside U's columns, (I - U U^T) dU S^-1 Vh, and for M < N that of dV."""
    m, n = u.shape[-2], vh.shape[-1]
    g_u, g_s, g_vh = (None if _absent(g) else g for g in (g_u, g_s, g_vh))
    if g_u is None and g_vh is None:
        return None if g_s is None else _mm(u * g_s[..., None, :], vh)
    if g_u is not None:
        inner = _skew(_mm(_mT(u), g_u)) * s[..., None, :]
    if g_vh is not None:
        vh_term = s[..., :, None] * _skew(_mm(vh, _mT(g_vh)))
        inner = vh_term if g_u is None else inner + vh_term
    inner = inner / _gaps(s)
    if g_s is not None:
        inner = inner + _diag_embed(g_s)
    if m > n and g_u is not None:
        outside = g_u / s[..., None, :]
        return _mm(_mm(u, inner) + outside - _mm(u, _mm(_mT(u), outside)), vh)
    if m < n and g_vh is not None:
        outside = g_vh / s[..., :, None]
        return _mm(u, _mm(inner, vh) + outside - _mm(_mm(outside, _mT(vh)), vh))
    return _mm(_mm(u, inner), vh)


def _svd_jvp(t_a, u, s, vh):
    """(dU, dS, dVh) for dA = ``t_a``: with dP = U^T dA V, dS = diag(dP),
    dU = U (dP S + S dP^T) / E + (I - U U^T) dA V S^-1 and
    dV = V (S dP + dP^T S) / E + (I - V V^T) dA^T U S^-1 (the quotients 0 on the diagonal)."""
    m, n = u.shape[-2], vh.shape[-1]
    v = _mT(vh)
    d_p = _mm(_mm(_mT(u), t_a), v)
    d_s = np.diagonal(d_p, axis1=-2, axis2=-1)
    k = s.shape[-1]
    off_diagonal = (1.0 - np.eye(k, dtype=s.dtype)) / _gaps(s)  # U^T dU and V^T dV are skew
    d_p_s, s_d_p = d_p * s[..., None, :], s[..., :, None] * d_p
    d_u = _mm(u, (d_p_s + _mT(d_p_s)) * off_diagonal)
    d_v = _mm(v, (s_d_p + _mT(s_d_p)) * off_diagonal)
    if m > n:
        a_v = _mm(t_a, v)
        d_u = d_u + (a_v - _mm(u, _mm(_mT(u), a_v))) / s[..., None, :]
    if m < n:
        a_u = _mm(_mT(t_a), u)
        d_v = d_v + (a_u - _mm(v, _mm(vh, a_u))) / s[..., None, :]
    return d_u, d_s, _mT(d_v)


class SVD(Function):
    """(U, S, Vh) of a (..., M, N) stack, S descending. ``full_matrices=True`` also returns
    the columns of U (M > N) or rows of Vh (M < N) that complete a basis; A does not determine
    them, so they have no gradient and no tangent."""

    @staticmethod
    def forward(ctx, a, full_matrices=False):
        u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
        ctx.save_for_backward(u, s, vh)
        ctx.set_materialize_grads(False)
        ctx.full_matrices = full_matrices
        return u, s, vh

    @staticmethod
    def backward(ctx, g_u, g_s, g_vh):
        u, s, vh = ctx.saved
        k = s.shape[-1]
        if ctx.full_matrices and u.shape[-2] != vh.shape[-1]:
            if _data(g_u) is not None and np.any(_data(g_u)[..., k:]) or \
                    _data(g_vh) is not None and np.any(_data(g_vh)[..., k:, :]):
                raise BackwardError(
                    f"svd: no gradient through the extra singular vectors of full_matrices=True for a "
                    f"{u.shape[-2]} x {vh.shape[-1]} matrix (A does not determine them); use full_matrices=False")
            u, vh = u[..., :k], vh[..., :k, :]
            g_u = None if g_u is None else g_u[..., :k]
            g_vh = None if g_vh is None else g_vh[..., :k, :]
        return _svd_vjp(g_u, g_s, g_vh, u, s, vh)

    @staticmethod
    def jvp(ctx, t_a):
        u, s, vh = ctx.saved
        if ctx.full_matrices and u.shape[-2] != vh.shape[-1]:
            raise BackwardError(f"svd: no tangent for the extra singular vectors of full_matrices=True for a "
                                f"{u.shape[-2]} x {vh.shape[-1]} matrix; use full_matrices=False")
        return _svd_jvp(t_a, u, s, vh)


class Svdvals(Function):
    """S of the reduced SVD, saving U and Vh for its rules. Higher derivatives differentiate
    ``reference``, the S output of ``SVD`` (whose rules are written with U, S, Vh)."""

    @staticmethod
    def forward(ctx, a):
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        ctx.save_for_backward(u, vh)
        return s

    @staticmethod
    def backward(ctx, grad):
        u, vh = ctx.saved
        return _mm(u * grad[..., None, :], vh)  # U diag(dS) Vh

    @staticmethod
    def jvp(ctx, t):
        u, vh = ctx.saved
        return np.einsum("...ij,...ik,...kj->...j", u, t, _mT(vh))  # diag(U^T dA V)

    @staticmethod
    def reference(a):
        return SVD.apply(a, full_matrices=False)[1]


def _check_matrix(a, op: str):
    a = float_array(a)
    if a.ndim < 2:
        raise ShapeError(f"{op}: needs a (..., M, N) stack of matrices, got shape {a.shape}")
    return a if a.dtype.kind == "f" else a.astype(np.float64)  # integers: float64, as NumPy


def svd(a, full_matrices: bool = True):
    """``numpy.linalg.svd`` / ``torch.linalg.svd``: (U, S, Vh) with ``A = U @ diag(S) @ Vh``.

    Shapes for A (..., M, N) and K = min(M, N): U (..., M, K), S (..., K) descending,
    Vh (..., K, N); with ``full_matrices=True`` (the default, as both libraries) U is (..., M, M)
    and Vh (..., N, N). Differentiable where the singular values are distinct and nonzero, by
    PyTorch's rule; the gradient of a loss that depends on the signs of the singular vectors
    is that of the signs LAPACK chose. With ``full_matrices=True`` and M != N the completing
    vectors get no gradient (an error if one reaches them): use ``full_matrices=False``.
    """
    a = _check_matrix(a, "svd")
    return SVD.apply(a, full_matrices=bool(full_matrices))


def svdvals(a) -> Tensor:
    """The singular values of a (..., M, N) stack: (..., min(M, N)), descending
    (``np.linalg.svd(a, compute_uv=False)``, ``torch.linalg.svdvals``).

    Gradient dA = U diag(dS) Vh (the reduced U, Vh of the forward), jvp dS = diag(U^T dA V);
    differentiable where the singular values are distinct and nonzero (a repeated or zero
    singular value is a kink, as ``abs`` at 0).
    """
    a = _check_matrix(a, "svdvals")
    tracked = isinstance(a, Tensor) and ((is_grad_enabled() and a.requires_grad) or a._tangents)
    if not tracked:  # no derivative wanted: skip the singular vectors
        return Tensor._make(np.linalg.svd(_data(a), compute_uv=False), False, None)
    return Svdvals.apply(a)
