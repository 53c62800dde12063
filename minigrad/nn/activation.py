"""Activation modules: ``minigrad.functional``'s activations with PyTorch's class names,
constructor arguments and defaults (no ``inplace=``: minigrad never writes a graph input in place)."""

from __future__ import annotations

from .. import functional as F
from ..tensor import Tensor
from .layers import _as_tensor, _OverAxis
from .module import Module


class LeakyReLU(Module):
    """x for x > 0, ``negative_slope * x`` otherwise."""

    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: Tensor) -> Tensor:
        return F.leaky_relu(_as_tensor(x), self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """x for x > 0, ``alpha * (exp(x) - 1)`` otherwise."""

    def __init__(self, alpha: float = 1.0):
        super().__init__()
        self.alpha = alpha

    def forward(self, x: Tensor) -> Tensor:
        return F.elu(_as_tensor(x), self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class CELU(ELU):
    """x for x > 0, ``alpha * (exp(x / alpha) - 1)`` otherwise."""

    def forward(self, x: Tensor) -> Tensor:
        return F.celu(_as_tensor(x), self.alpha)


class SELU(Module):
    """``scale * elu(x, alpha)`` with the self-normalising constants."""

    def forward(self, x: Tensor) -> Tensor:
        return F.selu(_as_tensor(x))


class Hardtanh(Module):
    """``clip(x, min_val, max_val)``."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0):
        super().__init__()
        self.min_val, self.max_val = min_val, max_val

    def forward(self, x: Tensor) -> Tensor:
        return F.hardtanh(_as_tensor(x), self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class ReLU6(Module):
    """``clip(x, 0, 6)``."""

    def forward(self, x: Tensor) -> Tensor:
        return F.relu6(_as_tensor(x))


class Hardsigmoid(Module):
    """``relu6(x + 3) / 6``."""

    def forward(self, x: Tensor) -> Tensor:
        return F.hardsigmoid(_as_tensor(x))


class Hardswish(Module):
    """``x * relu6(x + 3) / 6``."""

    def forward(self, x: Tensor) -> Tensor:
        return F.hardswish(_as_tensor(x))


class Softplus(Module):
    """``log(1 + exp(beta * x)) / beta``, x itself where ``beta * x > threshold``."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x: Tensor) -> Tensor:
        return F.softplus(_as_tensor(x), self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softsign(Module):
    """``x / (1 + |x|)``."""

    def forward(self, x: Tensor) -> Tensor:
        return F.softsign(_as_tensor(x))


class SiLU(Module):
    """``x * sigmoid(x)``."""

    def forward(self, x: Tensor) -> Tensor:
        return F.silu(_as_tensor(x))


class Mish(Module):
    """``x * tanh(softplus(x))``."""

    def forward(self, x: Tensor) -> Tensor:
        return F.mish(_as_tensor(x))


class LogSigmoid(Module):
    """``log(sigmoid(x))``."""

    def forward(self, x: Tensor) -> Tensor:
        return F.logsigmoid(_as_tensor(x))


class Softmin(_OverAxis):
    """``softmax(-x)`` over ``axis`` (default the last, as ``Softmax``)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.softmin(_as_tensor(x), axis=self.axis)


__all__ = [
    "LeakyReLU", "ELU", "CELU", "SELU", "Hardtanh", "ReLU6", "Hardsigmoid", "Hardswish", "Softplus", "Softsign",
    "SiLU", "Mish", "LogSigmoid", "Softmin",
]
