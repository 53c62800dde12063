"""Elementwise ops and their gradient rules.

Inputs broadcast like NumPy; each backward returns gradients of the broadcast
output's shape and the engine sums them back to each input's shape.
Where a derivative is written with the output (exp, tanh, sigmoid) the output is
saved instead of the input.
"""

from __future__ import annotations

import math
import operator
from typing import Callable

import numpy as np

from .. import kernels
from ..autograd import Function
from ..forward_ad import is_zero
from ..dtypes import check_kernel_float
from ._util import Tensor, check_broadcast, data_of, float_array, shape_of

# ---------------------------------------------------------------- arithmetic


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        return np.add(a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, grad

    @staticmethod
    def jvp(ctx, ta, tb):
        return ta + tb


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        return np.subtract(a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, -grad if ctx.needs_input_grad[1] else None

    @staticmethod
    def jvp(ctx, ta, tb):
        return ta - tb


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.multiply(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        ga = grad * b if ctx.needs_input_grad[0] else None
        gb = grad * a if ctx.needs_input_grad[1] else None
        return ga, gb

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.saved
        return ta * b + a * tb


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.divide(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        ga = grad / b if ctx.needs_input_grad[0] else None
        gb = -grad * a / (b * b) if ctx.needs_input_grad[1] else None
        return ga, gb

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.saved
        return (ta - a / b * tb) / b


# PyTorch's conventions for a ** b (the callers silence NumPy's inf/NaN warnings):
def _pow_da(a, b):
    """d/da = b a^(b-1), 0 where b == 0. Only at a == 0 (where it is 0 * inf) is it masked; elsewhere
    it is 0 by itself, which keeps the second derivative in b."""
    return np.where((b == 0) & (a == 0), 0.0, b * np.power(a, b - 1))


def _pow_db(a, b, out):
    """d/db = a^b log a, 0 where a == 0 and b >= 0 (-inf for b < 0)."""
    return np.where((a == 0) & (b >= 0), 0.0, out * np.log(a))


class Pow(Function):
    @staticmethod
    def forward(ctx, a, b):
        out = np.power(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved
        ga = gb = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if ctx.needs_input_grad[0]:
                ga = grad * _pow_da(a, b)
            if ctx.needs_input_grad[1]:
                gb = grad * _pow_db(a, b, out)
        return ga, gb

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b, out = ctx.saved
        with np.errstate(divide="ignore", invalid="ignore"):
            if is_zero(tb):  # a constant exponent: log(a) may be NaN (a < 0) and must not appear
                return ta * _pow_da(a, b)
            return ta * _pow_da(a, b) + tb * _pow_db(a, b, out)


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return np.negative(a)

    @staticmethod
    def backward(ctx, grad):
        return -grad

    @staticmethod
    def jvp(ctx, t):
        return -t


# ---------------------------------------------------------------- unary functions


class Exp(Function):
    @staticmethod
    def forward(ctx, a):
        out = np.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved
        return grad * out

    @staticmethod
    def jvp(ctx, t):
        (out,) = ctx.saved
        return t * out


class Log(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return grad / a

    @staticmethod
    def jvp(ctx, t):
        (a,) = ctx.saved
        return t / a


class Sqrt(Function):
    @staticmethod
    def forward(ctx, a):
        out = np.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved
        return grad / (2 * out)

    @staticmethod
    def jvp(ctx, t):
        (out,) = ctx.saved
        return t / (2 * out)


class Abs(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return grad * np.sign(a)  # sign(0) = 0, as PyTorch

    @staticmethod
    def jvp(ctx, t):
        (a,) = ctx.saved
        return t * np.sign(a)


class Tanh(Function):
    @staticmethod
    def forward(ctx, a):
        out = np.tanh(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved
        return grad * (1 - out * out)

    @staticmethod
    def jvp(ctx, t):
        (out,) = ctx.saved
        return t * (1 - out * out)


def _sigmoid(a: np.ndarray) -> np.ndarray:
    # exp of a non-positive number only, so large |a| never overflows
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, a):
        out = _sigmoid(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved
        return grad * out * (1 - out)

    @staticmethod
    def jvp(ctx, t):
        (out,) = ctx.saved
        return t * out * (1 - out)


class Relu(Function):
    @staticmethod
    def forward(ctx, a):
        out = np.maximum(a, 0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved
        return grad * (out > 0)  # derivative at 0 taken as 0, as PyTorch

    @staticmethod
    def jvp(ctx, t):
        (out,) = ctx.saved
        return t * (out > 0)


class Erf(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return kernels.erf(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return grad * (2 / math.sqrt(math.pi)) * np.exp(-a * a)  # d erf(a) = 2/sqrt(pi) exp(-a^2)

    @staticmethod
    def jvp(ctx, t):
        (a,) = ctx.saved
        return t * (2 / math.sqrt(math.pi)) * np.exp(-a * a)


class Gelu(Function):
    """x * Phi(x) with the exact erf form, or PyTorch's tanh approximation."""

    @staticmethod
    def forward(ctx, a, approximate="none"):
        ctx.save_for_backward(a)
        ctx.approximate = approximate
        return kernels.gelu(a, approximate)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return kernels.gelu_backward(a, grad, ctx.approximate)

    @staticmethod
    def reference(a, approximate="none"):
        if approximate == "tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
            return 0.5 * a * (1 + tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a * a * a)))
        return 0.5 * a * (1 + erf(a * (1 / math.sqrt(2))))  # x Phi(x)

    @staticmethod
    def jvp(ctx, t):  # elementwise, so the Jacobian is diagonal: backward's rule applied to t
        (a,) = ctx.saved
        return kernels.gelu_backward(a, t, ctx.approximate)


# ---------------------------------------------------------------- selection


class _Select(Function):
    """maximum/minimum: each output element is a's where ``a_wins(a, b)``, else b's; ties split the
    gradient evenly, as PyTorch. Subclasses set ``pick`` (the forward) and ``a_wins``."""

    @classmethod
    def forward(cls, ctx, a, b):
        ctx.save_for_backward(a, b)
        return cls.pick(a, b)

    @classmethod
    def backward(cls, ctx, grad):
        share_a = cls._share_a(ctx)
        return grad * share_a, grad * (1 - share_a)

    @classmethod
    def jvp(cls, ctx, ta, tb):
        share_a = cls._share_a(ctx)
        return ta * share_a + tb * (1 - share_a)

    @classmethod
    def _share_a(cls, ctx):
        a, b = ctx.saved
        return cls.a_wins(a, b) + 0.5 * (a == b)


class Maximum(_Select):
    pick = staticmethod(np.maximum)
    a_wins = staticmethod(operator.gt)


class Minimum(_Select):
    pick = staticmethod(np.minimum)
    a_wins = staticmethod(operator.lt)


def _clip_sources(a, lo, hi) -> tuple:
    """The masks where clip's output is a, lo and hi (None for a bound not given). On ties a wins;
    a crossed pair (lo > hi) gives hi everywhere, so hi takes the whole gradient."""
    if hi is None:
        return a >= lo, a < lo, None
    if lo is None:
        return a <= hi, None, a > hi
    return (a >= lo) & (a <= hi), (a < lo) & (lo < hi), (a > hi) | (hi < lo)


class Clip(Function):
    """Bounds may be tensors (or None); on ties the input gets the gradient, as PyTorch's clamp."""

    @staticmethod
    def forward(ctx, a, a_min=None, a_max=None):
        ctx.save_for_backward(a, a_min, a_max)
        return np.clip(a, a_min, a_max)

    @staticmethod
    def backward(ctx, grad):
        return tuple(None if mask is None else grad * mask for mask in _clip_sources(*ctx.saved))

    @staticmethod
    def jvp(ctx, ta, tlo, thi):
        terms = [t * mask for t, mask in zip((ta, tlo, thi), _clip_sources(*ctx.saved)) if mask is not None]
        return sum(terms[1:], terms[0])


class Where(Function):
    @staticmethod
    def forward(ctx, a, b, condition):
        ctx.save_for_backward(condition)
        return np.where(condition, a, b)

    @staticmethod
    def backward(ctx, grad):
        (condition,) = ctx.saved
        ga = np.where(condition, grad, 0) if ctx.needs_input_grad[0] else None
        gb = np.where(condition, 0, grad) if ctx.needs_input_grad[1] else None
        return ga, gb

    @staticmethod
    def jvp(ctx, ta, tb):
        (condition,) = ctx.saved
        return np.where(condition, ta, tb)


class MaskedFill(Function):
    @staticmethod
    def forward(ctx, a, mask, value):
        ctx.save_for_backward(mask)
        out = a.copy()
        out[np.broadcast_to(mask, a.shape)] = value
        return out

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved
        return np.where(mask, 0, grad), None, None

    @staticmethod
    def jvp(ctx, t, _, __):
        (mask,) = ctx.saved
        return np.where(mask, 0, t)


class Cast(Function):
    @staticmethod
    def forward(ctx, a, dtype):
        ctx.source_dtype, ctx.target = a.dtype, dtype
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        if not np.issubdtype(ctx.source_dtype, np.floating):
            return (None,)
        return grad.astype(ctx.source_dtype)

    @staticmethod
    def jvp(ctx, t):
        return None if t is None else t.astype(ctx.target)


# ---------------------------------------------------------------- public functions


def _binary(op, a, b, name):
    check_broadcast(name, a, b)
    return op.apply(a, b)


def _public(function: Callable, op: type[Function], doc: str | None) -> Callable:
    function.__name__ = function.__qualname__ = _name(op)
    function.__module__, function.__doc__ = op.__module__, doc
    return function


def _name(op: type[Function]) -> str:
    return op.__name__.lower()  # the public name: Add -> add, Log1p -> log1p


def unary_function(op: type[Function], doc: str | None = None) -> Callable[..., Tensor]:
    """The public function ``f(a)`` of one-input op ``op``: ``op.apply(float_array(a))``."""
    def function(a) -> Tensor:
        return op.apply(float_array(a))

    return _public(function, op, doc)


def binary_function(op: type[Function], doc: str) -> Callable[..., Tensor]:
    """The public function ``f(a, b)`` of two-input op ``op``: a broadcast check (an error
    naming the function and both shapes), then ``op.apply(a, b)``."""
    name = _name(op)

    def function(a, b) -> Tensor:
        return _binary(op, a, b, name)

    return _public(function, op, doc)


add = binary_function(Add, "a + b, broadcasting.")
sub = binary_function(Sub, "a - b, broadcasting.")
mul = binary_function(Mul, "a * b, broadcasting.")
div = binary_function(Div, "a / b (true division), broadcasting.")
pow = binary_function(Pow, "a ** b, differentiable in both.")  # noqa: A001 - numpy.power / operator name


neg = unary_function(Neg)


exp = unary_function(Exp)
log = unary_function(Log)
sqrt = unary_function(Sqrt)
abs = unary_function(Abs)  # noqa: A001 - numpy.abs
tanh = unary_function(Tanh)
sigmoid = unary_function(Sigmoid)
relu = unary_function(Relu)


def erf(a) -> Tensor:
    """The error function, 2/sqrt(pi) times the integral of exp(-t^2) from 0 to a."""
    a = float_array(a)
    check_kernel_float("erf", "x", a.dtype)
    return Erf.apply(a)


def gelu(a, approximate: str = "none") -> Tensor:
    """GELU: exact ``x * Phi(x)`` (default) or ``approximate="tanh"``."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    a = float_array(a)
    check_kernel_float("gelu", "x", a.dtype)
    return Gelu.apply(a, approximate=approximate)


maximum = binary_function(Maximum, "Elementwise maximum; on ties each input gets half the gradient.")
minimum = binary_function(Minimum, "Elementwise minimum; on ties each input gets half the gradient.")


def clip(a, a_min=None, a_max=None, *, min=None, max=None) -> Tensor:  # noqa: A002 (NumPy 2's names)
    """Limit values to [a_min, a_max] (NumPy 2 also spells them ``min=``/``max=``); bounds
    are scalars or tensors broadcasting with ``a``. As PyTorch's clamp, ``a`` gets the
    gradient inside (bounds included) and a tensor bound where it is the output."""
    a_min = min if a_min is None else a_min
    a_max = max if a_max is None else a_max
    if a_min is None and a_max is None:
        raise ValueError("clip: at least one of a_min and a_max must be given")
    check_broadcast("clip", *(x for x in (a, a_min, a_max) if x is not None))
    return Clip.apply(a, a_min, a_max)


def _mask_array(mask, op: str) -> np.ndarray:
    mask = data_of(mask)
    if mask.dtype != np.bool_:
        raise TypeError(f"{op}: mask must be a bool tensor, got dtype {mask.dtype}")
    return mask


def where(condition, a, b) -> Tensor:
    """Pick ``a`` where ``condition`` is True, else ``b`` (all three broadcast)."""
    cond = _mask_array(condition, "where")
    check_broadcast("where", cond, a, b)
    return Where.apply(a, b, condition=cond)


def masked_fill(a, mask, value) -> Tensor:
    """Copy of ``a`` with ``value`` wherever the bool ``mask`` (broadcastable) is True."""
    a = float_array(a)
    mask = _mask_array(mask, "masked_fill")
    shape = check_broadcast("masked_fill", a, mask)
    if isinstance(value, Tensor):
        value = value.item()
    if shape != shape_of(a):
        a = broadcast_to(a, shape)
    return MaskedFill.apply(a, mask, value)


def astype(a, dtype) -> Tensor:
    """Cast to ``dtype``; differentiable between float dtypes."""
    return Cast.apply(a, dtype=np.dtype(dtype))


from .shape import broadcast_to  # noqa: E402  (shape ops import nothing from here)

__all__ = [
    "add", "sub", "mul", "div", "pow", "neg", "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu",
    "gelu", "maximum", "minimum", "clip", "where", "masked_fill", "astype",
]
