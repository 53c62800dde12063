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

from .dispatch import register


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

_softmax = register("softmax", softmax_ref, numba="_activations_nb.softmax")
_softmax_backward = register("softmax_backward", softmax_backward_ref, numba="_activations_nb.softmax_backward")
_log_softmax = register("log_softmax", log_softmax_ref, numba="_activations_nb.log_softmax")
_log_softmax_backward = register("log_softmax_backward", log_softmax_backward_ref,
                                 numba="_activations_nb.log_softmax_backward")
_erf = register("erf", erf_ref, numba="_activations_nb.erf")
_gelu = register("gelu", gelu_ref, numba="_activations_nb.gelu")
_gelu_backward = register("gelu_backward", gelu_backward_ref, numba="_activations_nb.gelu_backward")


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax along ``axis``: y = exp(x - max) / sum(exp(x - max)).

    x: any shape with ndim >= 1, any layout; axis in [-ndim, ndim). Returns y of x's shape
    and dtype. An all -inf slice gives zeros (see the module docstring for NaN/inf).
    """
    return _softmax.impl(x, axis)


def softmax_backward(y: np.ndarray, grad: np.ndarray, axis: int = -1) -> np.ndarray:
    """Gradient of softmax: dx = y * (grad - sum(grad * y, axis)).

    y: the softmax output, grad: dL/dy, both of one shape (ndim >= 1). Returns dx of that
    shape. Rows of y that are all zero (masked) give dx = 0.
    """
    return _softmax_backward.impl(y, grad, axis)


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Log-softmax along ``axis``: y = x - logsumexp(x, axis).

    x: any shape with ndim >= 1, any layout; axis in [-ndim, ndim). Returns y of x's shape
    and dtype. An all -inf slice gives -inf everywhere.
    """
    return _log_softmax.impl(x, axis)


def log_softmax_backward(y: np.ndarray, grad: np.ndarray, axis: int = -1) -> np.ndarray:
    """Gradient of log-softmax: dx = grad - exp(y) * sum(grad, axis).

    y: the log-softmax output, grad: dL/dy, both of one shape (ndim >= 1). Returns dx of
    that shape.
    """
    return _log_softmax_backward.impl(y, grad, axis)


def erf(x: np.ndarray) -> np.ndarray:
    """The error function elementwise. x: any shape; returns x's shape and dtype.

    float64 uses libm's erf (exact to double precision); float32 a vectorized rational
    approximation with at most 4.5e-7 absolute error.
    """
    return _erf.impl(x)


def gelu(x: np.ndarray, approximate: str = "none") -> np.ndarray:
    """GELU elementwise: x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)) for ``approximate="none"``,
    or PyTorch's 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) for ``"tanh"``.

    x: any shape. Returns y of x's shape and dtype.
    """
    return _gelu.impl(x, approximate)


def gelu_backward(x: np.ndarray, grad: np.ndarray, approximate: str = "none") -> np.ndarray:
    """Gradient of ``gelu``: dx = grad * gelu'(x).

    x: the GELU input, grad: dL/dy, of one shape. Returns dx of that shape.
    """
    return _gelu_backward.impl(x, grad, approximate)
