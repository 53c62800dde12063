"""Activation kernels: softmax, log-softmax (with backward), erf and GELU (with backward).

Conventions shared by the softmax family (both backends):

- Numerically stable: the row maximum is subtracted before exponentiating, so logits of
  +-1e4 never overflow.
- A row that is entirely -inf (fully masked attention scores) gives softmax 0 everywhere,
  its backward 0, and log-softmax -inf everywhere (so exp(log_softmax) == softmax still
  holds). A NaN anywhere in a row makes that whole row NaN; a +inf makes it NaN.
- Outputs have the inputs' (float32 or float64) dtype; two inputs of different float
  dtypes compute in ``np.result_type`` of the two, like NumPy.
"""

from __future__ import annotations

import math

import numpy as np

from . import _backend
from ._util import check_float, common_float, from_rows, moved_shape, normalize_axis, to_rows

_nb = None


def _numba():
    """The Numba implementations, imported (and compiled) on first use."""
    global _nb
    if _nb is None:
        _nb = _backend.numba_module("_activations_nb")
    return _nb


# ---------------------------------------------------------------------------------------
# NumPy references
# ---------------------------------------------------------------------------------------


def softmax_ref(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """NumPy reference of ``softmax``."""
    m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)  # initial: an empty axis gives an empty result
    m = np.where(m == -np.inf, 0, m)  # an all -inf row: exp(-inf - 0) = 0 below
    e = np.exp(x - m)
    s = np.sum(e, axis=axis, keepdims=True)
    return e / np.where(s == 0, 1, s)


def softmax_backward_ref(y: np.ndarray, grad: np.ndarray, axis: int = -1) -> np.ndarray:
    """NumPy reference of ``softmax_backward``."""
    return y * (grad - np.sum(grad * y, axis=axis, keepdims=True))


def log_softmax_ref(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """NumPy reference of ``log_softmax``."""
    m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    m = np.where(m == -np.inf, 0, m)
    shifted = x - m
    s = np.sum(np.exp(shifted), axis=axis, keepdims=True)
    return shifted - np.log(np.where(s == 0, 1, s))


def log_softmax_backward_ref(y: np.ndarray, grad: np.ndarray, axis: int = -1) -> np.ndarray:
    """NumPy reference of ``log_softmax_backward``."""
    return grad - np.exp(y) * np.sum(grad, axis=axis, keepdims=True)


_erf_ufunc = np.frompyfunc(math.erf, 1, 1)


def erf_ref(x: np.ndarray) -> np.ndarray:
    """NumPy reference of ``erf``: ``math.erf`` per element (double precision), cast back."""
    return np.asarray(_erf_ufunc(x), dtype=x.dtype)


_SQRT1_2 = 0.7071067811865476  # 1 / sqrt(2)
_SQRT_2_OVER_PI = 0.7978845608028654  # sqrt(2 / pi)
_INV_SQRT_2PI = 0.3989422804014327  # 1 / sqrt(2 pi)
_TANH_C = 0.044715


def gelu_ref(x: np.ndarray, approximate: str = "none") -> np.ndarray:
    """NumPy reference of ``gelu``."""
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(_SQRT_2_OVER_PI * (x + _TANH_C * x**3)))
    return 0.5 * x * (1 + erf_ref(x * _SQRT1_2))


def gelu_backward_ref(x: np.ndarray, grad: np.ndarray, approximate: str = "none") -> np.ndarray:
    """NumPy reference of ``gelu_backward``."""
    if approximate == "tanh":
        t = np.tanh(_SQRT_2_OVER_PI * (x + _TANH_C * x**3))
        du = _SQRT_2_OVER_PI * (1 + 3 * _TANH_C * x * x)
        return grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)
    cdf = 0.5 * (1 + erf_ref(x * _SQRT1_2))
    pdf = _INV_SQRT_2PI * np.exp(-0.5 * x * x)
    return grad * (cdf + x * pdf)


# ---------------------------------------------------------------------------------------
# Public kernels
# ---------------------------------------------------------------------------------------


def _check_same_shape(kernel: str, a_name: str, a: np.ndarray, b_name: str, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{kernel}: {a_name} shape {a.shape} and {b_name} shape {b.shape} differ")


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax along ``axis``: y = exp(x - max) / sum(exp(x - max)).

    x: any shape with ndim >= 1, float32 or float64, any layout. Returns y of x's shape
    and dtype. An all -inf slice gives zeros (see the module docstring for NaN/inf).
    """
    return _along_rows("softmax", x, axis, softmax_ref)


def softmax_backward(y: np.ndarray, grad: np.ndarray, axis: int = -1) -> np.ndarray:
    """Gradient of softmax: dx = y * (grad - sum(grad * y, axis)).

    y: the softmax output, grad: dL/dy, both of one shape (ndim >= 1), float32/float64.
    Returns dx of that shape. Rows of y that are all zero (masked) give dx = 0.
    """
    return _backward_along_rows("softmax_backward", y, grad, axis, softmax_backward_ref)


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Log-softmax along ``axis``: y = x - logsumexp(x, axis).

    x: any shape with ndim >= 1, float32 or float64, any layout. Returns y of x's shape
    and dtype. An all -inf slice gives -inf everywhere.
    """
    return _along_rows("log_softmax", x, axis, log_softmax_ref)


def log_softmax_backward(y: np.ndarray, grad: np.ndarray, axis: int = -1) -> np.ndarray:
    """Gradient of log-softmax: dx = grad - exp(y) * sum(grad, axis).

    y: the log-softmax output, grad: dL/dy, both of one shape (ndim >= 1), float32/float64.
    Returns dx of that shape.
    """
    return _backward_along_rows("log_softmax_backward", y, grad, axis, log_softmax_backward_ref)


def _along_rows(kernel: str, x: np.ndarray, axis: int, reference) -> np.ndarray:
    """Run the row kernel ``kernel`` (the Numba function of that name) on ``x`` along ``axis``."""
    check_float(kernel, "x", x)
    ax = normalize_axis(kernel, axis, x.ndim)
    if _backend._BACKEND == "numpy":
        return reference(x, ax)
    if x.size == 0:
        return np.empty(x.shape, x.dtype)
    rows = to_rows(x, ax, x.dtype)
    out = np.empty_like(rows)
    getattr(_numba(), kernel)(rows, out)
    return from_rows(out, moved_shape(x.shape, ax), ax, x.ndim)


def _backward_along_rows(kernel: str, y: np.ndarray, grad: np.ndarray, axis: int, reference) -> np.ndarray:
    """The backward twin of ``_along_rows``: the kernel reads the forward output and dL/dy."""
    dtype = common_float(kernel, y=y, grad=grad)
    _check_same_shape(kernel, "y", y, "grad", grad)
    ax = normalize_axis(kernel, axis, y.ndim)
    if _backend._BACKEND == "numpy":
        return reference(y, grad, ax)
    if y.size == 0:
        return np.empty(y.shape, dtype)
    y_rows = to_rows(y, ax, dtype)
    out = np.empty_like(y_rows)
    getattr(_numba(), kernel)(y_rows, to_rows(grad, ax, dtype), out)
    return from_rows(out, moved_shape(y.shape, ax), ax, y.ndim)


def _flat(x: np.ndarray, dtype) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=dtype).reshape(-1)


def erf(x: np.ndarray) -> np.ndarray:
    """The error function elementwise. x: any shape, float32/float64; returns x's shape/dtype.

    float64 uses libm's erf (exact to double precision). float32 uses a vectorized rational
    approximation (Eigen's): at most 4.5e-7 absolute error (7.5 ulp near |x| = 3.2),
    measured against math.erf over 2.2M points.
    """
    check_float("erf", "x", x)
    if _backend._BACKEND == "numpy":
        return erf_ref(x)
    flat = _flat(x, x.dtype)
    out = np.empty_like(flat)
    _numba().erf(flat, out)
    return out.reshape(x.shape)


def _check_approximate(kernel: str, approximate: str) -> bool:
    if approximate not in ("none", "tanh"):
        raise ValueError(f"{kernel}: approximate must be 'none' or 'tanh', got {approximate!r}")
    return approximate == "tanh"


def gelu(x: np.ndarray, approximate: str = "none") -> np.ndarray:
    """GELU elementwise: x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)) for ``approximate="none"``,
    or PyTorch's 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) for ``"tanh"``.

    x: any shape, float32/float64. Returns y of x's shape and dtype.
    """
    check_float("gelu", "x", x)
    use_tanh = _check_approximate("gelu", approximate)
    if _backend._BACKEND == "numpy":
        return gelu_ref(x, approximate)
    flat = _flat(x, x.dtype)
    out = np.empty_like(flat)
    _numba().gelu(flat, out, use_tanh)
    return out.reshape(x.shape)


def gelu_backward(x: np.ndarray, grad: np.ndarray, approximate: str = "none") -> np.ndarray:
    """Gradient of ``gelu``: dx = grad * gelu'(x).

    x: the GELU input, grad: dL/dy, one shape, float32/float64. Returns dx of that shape.
    """
    dtype = common_float("gelu_backward", x=x, grad=grad)
    _check_same_shape("gelu_backward", "x", x, "grad", grad)
    use_tanh = _check_approximate("gelu_backward", approximate)
    if _backend._BACKEND == "numpy":
        return gelu_backward_ref(x, grad, approximate)
    flat = _flat(x, dtype)
    out = np.empty_like(flat)
    _numba().gelu_backward(flat, _flat(grad, dtype), out, use_tanh, dtype == np.float64)
    return out.reshape(x.shape)
