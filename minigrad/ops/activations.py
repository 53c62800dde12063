"""Activation functions with PyTorch's names, defaults and derivatives at the kinks.

Each is an ``_Elementwise`` (minigrad.ops.pointwise): the value and f'(x) from the input,
written with NumPy calls the interop maps, so higher derivatives work. Logistic terms use
``sigmoid(z) = (1 + tanh(z / 2)) / 2`` and ``log(1 + e^z) = logaddexp(z, 0)``, which never
overflow. At a kink the derivative is PyTorch's one-sided choice (stated per op).
"""

from __future__ import annotations

import numpy as np

from .._spelling import numpy_spelling
from ._util import Tensor, float_array
from .nn import softmax
from .pointwise import _Elementwise

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _logistic(z):
    return 0.5 + 0.5 * np.tanh(0.5 * z)


def _softplus(z):
    return np.logaddexp(z, 0.0)


class LeakyRelu(_Elementwise):
    """x for x > 0, slope * x otherwise; f'(0) = slope."""

    function = staticmethod(lambda a, slope: np.where(a > 0, a, a * slope))
    # arithmetic on the mask, not np.where(mask, 1.0, slope): two Python numbers would become float32
    derivative = staticmethod(lambda a, out, slope: (a > 0) * (1.0 - slope) + slope)


class Celu(_Elementwise):
    """x for x > 0, alpha * (exp(x / alpha) - 1) otherwise (ELU is alpha = 1 scaled by alpha:
    see ``Elu``); f'(0) = 1 from the left formula, as PyTorch."""

    function = staticmethod(lambda a, alpha: np.where(a > 0, a, alpha * np.expm1(np.minimum(a, 0) / alpha)))
    derivative = staticmethod(lambda a, out, alpha: np.where(a > 0, 1.0, np.exp(np.minimum(a, 0) / alpha)))


class Elu(_Elementwise):
    """scale * (x for x > 0, alpha * (exp(x) - 1) otherwise): ELU (scale 1) and SELU."""

    function = staticmethod(
        lambda a, alpha, scale: scale * np.where(a > 0, a, alpha * np.expm1(np.minimum(a, 0))))
    derivative = staticmethod(
        lambda a, out, alpha, scale: scale * np.where(a > 0, 1.0, alpha * np.exp(np.minimum(a, 0))))


class Hardtanh(_Elementwise):
    """clip(x, low, high); f' is 1 strictly inside, 0 at and beyond the bounds, as PyTorch."""

    function = staticmethod(lambda a, low, high: np.clip(a, low, high))
    derivative = staticmethod(lambda a, out, low, high: ((a > low) & (a < high)) * 1.0)


class Hardsigmoid(_Elementwise):
    """relu6(x + 3) / 6; f' = 1/6 strictly inside (-3, 3)."""

    function = staticmethod(lambda a: np.clip(a + 3.0, 0.0, 6.0) / 6.0)
    derivative = staticmethod(lambda a, out: ((a > -3) & (a < 3)) * (1 / 6))


class Hardswish(_Elementwise):
    """x * relu6(x + 3) / 6; f' = 0 up to -3, x / 3 + 1/2 on (-3, 3), 1 from 3 on, as PyTorch."""

    function = staticmethod(lambda a: a * np.clip(a + 3.0, 0.0, 6.0) / 6.0)
    derivative = staticmethod(lambda a, out: np.where(a <= -3, 0.0, np.where(a < 3, a / 3 + 0.5, 1.0)))


class Softplus(_Elementwise):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (PyTorch's switch)."""

    function = staticmethod(lambda a, beta, threshold: np.where(a * beta > threshold, a, _softplus(a * beta) / beta))
    derivative = staticmethod(lambda a, out, beta, threshold: np.where(a * beta > threshold, 1.0, _logistic(a * beta)))


class Softsign(_Elementwise):
    """x / (1 + |x|); f' = 1 / (1 + |x|)^2."""

    function = staticmethod(lambda a: a / (1 + np.abs(a)))
    derivative = staticmethod(lambda a, out: 1 / ((1 + np.abs(a)) * (1 + np.abs(a))))


class Silu(_Elementwise):
    """x * sigmoid(x) (swish); f' = s (1 + x (1 - s))."""

    function = staticmethod(lambda a: a * _logistic(a))
    derivative = staticmethod(lambda a, out: _logistic(a) * (1 + a * (1 - _logistic(a))))


class Mish(_Elementwise):
    """x * tanh(softplus(x)); f' = tanh(sp) + x sigmoid(x) (1 - tanh(sp)^2)."""

    function = staticmethod(lambda a: a * np.tanh(_softplus(a)))
    derivative = staticmethod(
        lambda a, out: np.tanh(_softplus(a)) + a * _logistic(a) * (1 - np.square(np.tanh(_softplus(a)))))


class LogSigmoid(_Elementwise):
    """log(sigmoid(x)) = -softplus(-x); f' = sigmoid(-x)."""

    function = staticmethod(lambda a: -_softplus(-a))
    derivative = staticmethod(lambda a, out: _logistic(-a))


# ---------------------------------------------------------------- public functions


def leaky_relu(x, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, ``negative_slope * x`` otherwise."""
    return LeakyRelu.apply(float_array(x), slope=float(negative_slope))


def elu(x, alpha: float = 1.0) -> Tensor:
    """x for x > 0, ``alpha * (exp(x) - 1)`` otherwise."""
    return Elu.apply(float_array(x), alpha=float(alpha), scale=1.0)


def selu(x) -> Tensor:
    """``scale * elu(x, alpha)`` with the self-normalising constants (alpha 1.6733, scale 1.0507)."""
    return Elu.apply(float_array(x), alpha=SELU_ALPHA, scale=SELU_SCALE)


def celu(x, alpha: float = 1.0) -> Tensor:
    """x for x > 0, ``alpha * (exp(x / alpha) - 1)`` otherwise; alpha must not be 0."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides x)")
    return Celu.apply(float_array(x), alpha=float(alpha))


def hardtanh(x, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """``clip(x, min_val, max_val)`` with gradient 1 strictly inside."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val {min_val} is greater than max_val {max_val}")
    return Hardtanh.apply(float_array(x), low=float(min_val), high=float(max_val))


def relu6(x) -> Tensor:
    """``clip(x, 0, 6)``."""
    return Hardtanh.apply(float_array(x), low=0.0, high=6.0)


def hardsigmoid(x) -> Tensor:
    """``relu6(x + 3) / 6``: 0 below -3, 1 above 3, linear between."""
    return Hardsigmoid.apply(float_array(x))


def hardswish(x) -> Tensor:
    """``x * relu6(x + 3) / 6``."""
    return Hardswish.apply(float_array(x))


def softplus(x, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``; x itself where ``beta * x > threshold``."""
    if beta == 0:
        raise ValueError("softplus: beta must not be 0 (it divides the result)")
    return Softplus.apply(float_array(x), beta=float(beta), threshold=float(threshold))


def softsign(x) -> Tensor:
    """``x / (1 + |x|)``."""
    return Softsign.apply(float_array(x))


def silu(x) -> Tensor:
    """``x * sigmoid(x)`` (also called swish)."""
    return Silu.apply(float_array(x))


def mish(x) -> Tensor:
    """``x * tanh(softplus(x))``."""
    return Mish.apply(float_array(x))


def logsigmoid(x) -> Tensor:
    """``log(sigmoid(x))``, computed without overflow."""
    return LogSigmoid.apply(float_array(x))


@numpy_spelling
def softmin(x, axis: int = -1) -> Tensor:
    """``softmax(-x, axis)``: weights that favour the smallest entries."""
    return softmax(-float_array(x), axis=axis)


__all__ = [
    "leaky_relu", "elu", "selu", "celu", "hardtanh", "relu6", "hardsigmoid", "hardswish", "softplus", "softsign",
    "silu", "mish", "logsigmoid", "softmin",
]
