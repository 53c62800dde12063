"""Elementwise math beyond arithmetic: trigonometric, hyperbolic, logarithms and powers,
rounding, and the two-input functions (arctan2, hypot, copysign, logaddexp, fmod, remainder).

NumPy's names and semantics (``arcsin``, not ``asin``; ``round`` halves to even, as PyTorch).
A one-input op here is an ``_Elementwise``: ``function`` computes it and ``derivative(a, out)``
gives f'(a) from the input and the output, so backward is ``grad * f'(a)`` and jvp ``t * f'(a)``.
Derivatives are written with NumPy calls the interop maps, so they run on Tensors too (higher
derivatives). Rounding ops and ``sign`` have the gradient 0 wherever they have one, as PyTorch.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd import Function
from ._util import Tensor, check_broadcast, float_array
from .elementwise import _binary, binary_function, unary_function

LN2 = math.log(2.0)
LN10 = math.log(10.0)


class _Elementwise(Function):
    """f(a) with f'(a) = ``derivative(a, out)``; subclasses set both as static methods.
    Keyword arguments of ``apply`` (an activation's slope, alpha...) reach both as keywords."""

    @staticmethod
    def function(a, **params):
        raise NotImplementedError

    @staticmethod
    def derivative(a, out, **params):
        raise NotImplementedError

    @classmethod
    def forward(cls, ctx, a, **params):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # outside the domain: NaN, as NumPy
            out = cls.function(a, **params)
        ctx.save_for_backward(a, out)
        ctx.params = params
        return out

    @classmethod
    def backward(cls, ctx, grad):
        return grad * cls._slope(ctx)

    @classmethod
    def jvp(cls, ctx, t):
        return t * cls._slope(ctx)

    @classmethod
    def _slope(cls, ctx):
        """f'(a) in a's dtype (a mask times a Python float would be float64)."""
        a, out = ctx.saved
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            slope = cls.derivative(a, out, **ctx.params)
        return slope if slope.dtype == a.dtype else slope.astype(a.dtype)


class Sin(_Elementwise):
    function = staticmethod(np.sin)
    derivative = staticmethod(lambda a, out: np.cos(a))


class Cos(_Elementwise):
    function = staticmethod(np.cos)
    derivative = staticmethod(lambda a, out: -np.sin(a))


class Tan(_Elementwise):
    function = staticmethod(np.tan)
    derivative = staticmethod(lambda a, out: 1 + out * out)


class Arcsin(_Elementwise):
    function = staticmethod(np.arcsin)
    derivative = staticmethod(lambda a, out: 1 / np.sqrt(1 - a * a))


class Arccos(_Elementwise):
    function = staticmethod(np.arccos)
    derivative = staticmethod(lambda a, out: -1 / np.sqrt(1 - a * a))


class Arctan(_Elementwise):
    function = staticmethod(np.arctan)
    derivative = staticmethod(lambda a, out: 1 / (1 + a * a))


class Sinh(_Elementwise):
    function = staticmethod(np.sinh)
    derivative = staticmethod(lambda a, out: np.cosh(a))


class Cosh(_Elementwise):
    function = staticmethod(np.cosh)
    derivative = staticmethod(lambda a, out: np.sinh(a))


class Arcsinh(_Elementwise):
    function = staticmethod(np.arcsinh)
    derivative = staticmethod(lambda a, out: 1 / np.sqrt(a * a + 1))


class Arccosh(_Elementwise):
    function = staticmethod(np.arccosh)
    derivative = staticmethod(lambda a, out: 1 / np.sqrt(a * a - 1))


class Arctanh(_Elementwise):
    function = staticmethod(np.arctanh)
    derivative = staticmethod(lambda a, out: 1 / (1 - a * a))


class Log2(_Elementwise):
    function = staticmethod(np.log2)
    derivative = staticmethod(lambda a, out: 1 / (a * LN2))


class Log10(_Elementwise):
    function = staticmethod(np.log10)
    derivative = staticmethod(lambda a, out: 1 / (a * LN10))


class Log1p(_Elementwise):
    function = staticmethod(np.log1p)
    derivative = staticmethod(lambda a, out: 1 / (1 + a))


class Exp2(_Elementwise):
    function = staticmethod(np.exp2)
    derivative = staticmethod(lambda a, out: out * LN2)


class Expm1(_Elementwise):
    function = staticmethod(np.expm1)
    derivative = staticmethod(lambda a, out: out + 1)


class Square(_Elementwise):
    function = staticmethod(np.square)
    derivative = staticmethod(lambda a, out: 2 * a)


class Reciprocal(_Elementwise):
    function = staticmethod(np.reciprocal)
    derivative = staticmethod(lambda a, out: -(out * out))


class Rsqrt(_Elementwise):
    function = staticmethod(lambda a: 1 / np.sqrt(a))
    derivative = staticmethod(lambda a, out: -0.5 * out * out * out)


class _Flat(Function):
    """A piecewise-constant op (rounding, sign): gradient 0, as PyTorch."""

    @classmethod
    def forward(cls, ctx, a, **kwargs):
        return cls.function(a, **kwargs)

    @staticmethod
    def backward(ctx, grad):
        return grad * 0  # written with grad, so the gradient of this gradient (in grad) is 0 too

    @staticmethod
    def jvp(ctx, t):
        return t * 0


class Sign(_Flat):
    function = staticmethod(np.sign)


class Floor(_Flat):
    function = staticmethod(np.floor)


class Ceil(_Flat):
    function = staticmethod(np.ceil)


class Trunc(_Flat):
    function = staticmethod(np.trunc)


class Round(_Flat):
    function = staticmethod(np.round)


# ---------------------------------------------------------------- two inputs


class Arctan2(Function):
    @staticmethod
    def forward(ctx, y, x):
        ctx.save_for_backward(y, x)
        return np.arctan2(y, x)

    @staticmethod
    def backward(ctx, grad):
        y, x = ctx.saved  # d/dy = x / (x^2 + y^2), d/dx = -y / (x^2 + y^2)
        scale = grad / (x * x + y * y)
        return scale * x, -scale * y

    @staticmethod
    def jvp(ctx, ty, tx):
        y, x = ctx.saved
        return (ty * x - tx * y) / (x * x + y * y)


class Hypot(Function):
    @staticmethod
    def forward(ctx, a, b):
        out = np.hypot(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved  # d/da = a / hypot(a, b)
        scale = grad / out
        return scale * a, scale * b

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b, out = ctx.saved
        return (ta * a + tb * b) / out


class Logaddexp(Function):
    @staticmethod
    def forward(ctx, a, b):
        out = np.logaddexp(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved  # d/da = exp(a - out): the softmax weight of a
        return grad * np.exp(a - out), grad * np.exp(b - out)

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b, out = ctx.saved
        return ta * np.exp(a - out) + tb * np.exp(b - out)


class Copysign(Function):
    """|a| with the sign of b: d/da is +-1 (0 where a == 0, as PyTorch), d/db is 0."""

    @staticmethod
    def forward(ctx, a, b):
        out = np.copysign(a, b)
        with np.errstate(invalid="ignore", divide="ignore"):
            ctx.save_for_backward(np.where(a == 0, 0.0, out / np.where(a == 0, 1, a)).astype(out.dtype))
        return out

    @staticmethod
    def backward(ctx, grad):
        (flip,) = ctx.saved
        return grad * flip, grad * 0

    @staticmethod
    def jvp(ctx, ta, tb):
        (flip,) = ctx.saved
        return ta * flip


class _Modulo(Function):
    """a - q * b for an integer quotient q (trunc for fmod, floor for remainder):
    d/da = 1, d/db = -q, as PyTorch. q is piecewise constant, so it is saved."""

    @classmethod
    def forward(cls, ctx, a, b):
        out = cls.function(a, b)
        with np.errstate(invalid="ignore", divide="ignore"):
            ctx.save_for_backward(np.round((a - out) / b))
        return out

    @staticmethod
    def backward(ctx, grad):
        (q,) = ctx.saved
        return grad, -grad * q

    @staticmethod
    def jvp(ctx, ta, tb):
        (q,) = ctx.saved
        return ta - tb * q


class Fmod(_Modulo):
    function = staticmethod(np.fmod)


class Remainder(_Modulo):
    function = staticmethod(np.remainder)


# ---------------------------------------------------------------- public functions


sin = unary_function(Sin)
cos = unary_function(Cos)
tan = unary_function(Tan)
arcsin = unary_function(Arcsin, "Inverse sine, NaN outside [-1, 1] (PyTorch: asin).")
arccos = unary_function(Arccos, "Inverse cosine, NaN outside [-1, 1] (PyTorch: acos).")
arctan = unary_function(Arctan, "Inverse tangent (PyTorch: atan).")
sinh = unary_function(Sinh)
cosh = unary_function(Cosh)
arcsinh = unary_function(Arcsinh, "Inverse hyperbolic sine (PyTorch: asinh).")
arccosh = unary_function(Arccosh, "Inverse hyperbolic cosine, NaN below 1 (PyTorch: acosh).")
arctanh = unary_function(Arctanh, "Inverse hyperbolic tangent, NaN outside [-1, 1] (PyTorch: atanh).")
log2 = unary_function(Log2)
log10 = unary_function(Log10)
log1p = unary_function(Log1p, "log(1 + a), accurate for small a.")
exp2 = unary_function(Exp2, "2 ** a.")
expm1 = unary_function(Expm1, "exp(a) - 1, accurate for small a.")
square = unary_function(Square)


def reciprocal(a) -> Tensor:
    """1 / a (a float result for integer input too)."""
    a = float_array(a)
    if a.dtype.kind != "f":
        a = a.astype(np.float32)
    return Reciprocal.apply(a)


rsqrt = unary_function(Rsqrt, "1 / sqrt(a) (PyTorch's name; NumPy has none).")
sign = unary_function(Sign, "-1, 0 or 1; gradient 0.")
floor = unary_function(Floor, "Largest integer <= a (same dtype); gradient 0.")
ceil = unary_function(Ceil, "Smallest integer >= a; gradient 0.")
trunc = unary_function(Trunc, "a rounded towards 0; gradient 0.")


def round(a, decimals: int = 0) -> Tensor:  # noqa: A001 - numpy.round
    """Round to ``decimals`` places, halves to even (NumPy and PyTorch); gradient 0."""
    return Round.apply(float_array(a), decimals=int(decimals))


def arctan2(y, x) -> Tensor:
    """The angle of the point (x, y), in (-pi, pi], broadcasting (PyTorch: atan2)."""
    return _binary(Arctan2, y, x, "arctan2")


hypot = binary_function(Hypot, "sqrt(a^2 + b^2) without overflow, broadcasting.")
logaddexp = binary_function(Logaddexp, "log(exp(a) + exp(b)) without overflow, broadcasting.")
copysign = binary_function(Copysign, "|a| with the sign of b, broadcasting; the gradient flows to a only.")
fmod = binary_function(Fmod, "C's remainder a - trunc(a / b) * b: the sign of a (NumPy and PyTorch fmod).")
remainder = binary_function(Remainder, "Python's ``a % b`` = a - floor(a / b) * b: the sign of b (NumPy remainder/mod, ``%``).")


def lerp(start, end, weight) -> Tensor:
    """``start + weight * (end - start)``, broadcasting; ``weight`` a number or a tensor,
    differentiable in all three (PyTorch's lerp; NumPy has none)."""
    check_broadcast("lerp", start, end, weight)
    start = float_array(start)
    return start + weight * (end - start)


__all__ = [
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "arcsinh", "arccosh", "arctanh",
    "log2", "log10", "log1p", "exp2", "expm1", "square", "reciprocal", "rsqrt", "sign", "floor", "ceil",
    "trunc", "round", "arctan2", "hypot", "logaddexp", "copysign", "fmod", "remainder", "lerp",
]
