"""Feed-forward layers, activations and losses as modules, with PyTorch's parameter names,
shapes and default initialisation (drawn from the generator ``minigrad.manual_seed`` seeds).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import functional as F
from ..errors import ShapeError
from ..tensor import Tensor
from . import init
from .module import Module
from .parameter import Parameter


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _positive_int(layer: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{layer}: {name} must be a positive int, got {value!r}")
    return int(value)


def _dtype(dtype: Any) -> np.dtype:
    dtype = np.dtype(np.float32 if dtype is None else dtype)
    if not np.issubdtype(dtype, np.floating):
        raise TypeError(f"parameters must have a floating dtype, got {dtype}")
    return dtype


def _weight_and_bias(module: Module, weight_shape: tuple, bias: bool, dtype: np.dtype) -> None:
    """Register ``weight`` (weight_shape) and ``bias`` (weight_shape[0],), or a None bias."""
    module.weight = Parameter(np.empty(weight_shape, dtype=dtype))
    if bias:
        module.bias = Parameter(np.empty(weight_shape[:1], dtype=dtype))
    else:
        module.register_parameter("bias", None)


def _reset_weight_and_bias(weight: Parameter, bias: Parameter | None) -> None:
    """PyTorch's default for Linear and Conv: both from U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

    For a weight (out, in, *kernel), fan_in = in * prod(kernel); ``kaiming_uniform_`` with
    a = sqrt(5) draws the weight from that range.
    """
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        bound = 1.0 / math.sqrt(weight.data[0].size)  # fan_in
        init.uniform_(bias, -bound, bound)


# ---------------------------------------------------------------- Linear


class Linear(Module):
    """y = x W^T + b: x (..., in_features) -> (..., out_features).

    ``weight`` (out_features, in_features) and ``bias`` (out_features,) are drawn from
    U(-1/sqrt(in_features), 1/sqrt(in_features)), as PyTorch's default (kaiming uniform
    with a = sqrt(5)).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype: Any = None):
        super().__init__()
        self.in_features = _positive_int("Linear", "in_features", in_features)
        self.out_features = _positive_int("Linear", "out_features", out_features)
        _weight_and_bias(self, (self.out_features, self.in_features), bias, _dtype(dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw weight and bias from U(-1/sqrt(in), 1/sqrt(in))."""
        _reset_weight_and_bias(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        """x (..., in_features) -> (..., out_features)."""
        x = _as_tensor(x)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ShapeError(f"Linear: expected input of shape (..., {self.in_features}), got {x.shape}")
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


# ---------------------------------------------------------------- Embedding


class Embedding(Module):
    """A lookup table: integer indices (...) -> rows of ``weight`` (..., embedding_dim).

    ``weight`` (num_embeddings, embedding_dim) is drawn from N(0, 1); the ``padding_idx``
    row (negative counts from the end) starts at zero and never receives a gradient.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None, dtype: Any = None):
        super().__init__()
        self.num_embeddings = _positive_int("Embedding", "num_embeddings", num_embeddings)
        self.embedding_dim = _positive_int("Embedding", "embedding_dim", embedding_dim)
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} is out of range for num_embeddings={num_embeddings}")
            padding_idx = int(padding_idx) % num_embeddings
        self.padding_idx = padding_idx
        self.weight = Parameter(np.empty((self.num_embeddings, self.embedding_dim), dtype=_dtype(dtype)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw the table from N(0, 1) and zero the padding row."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings: Any, freeze: bool = True, padding_idx: int | None = None) -> "Embedding":
        """An Embedding whose table is a copy of ``embeddings`` (num, dim); frozen by default."""
        table = np.array(embeddings.data if isinstance(embeddings, Tensor) else embeddings)
        if table.ndim != 2:
            raise ShapeError(f"Embedding.from_pretrained: embeddings must be 2-D (num, dim), got {table.shape}")
        module = cls(table.shape[0], table.shape[1], padding_idx=padding_idx, dtype=table.dtype)
        module.weight.data[...] = table
        module.weight.requires_grad = not freeze
        return module

    def forward(self, idx: Any) -> Tensor:
        """idx: integer Tensor or ndarray (...) -> (..., embedding_dim)."""
        array = idx.data if isinstance(idx, Tensor) else np.asarray(idx)
        if not np.issubdtype(array.dtype, np.integer):
            raise TypeError(f"Embedding: indices must be integers, got dtype {array.dtype}")
        if array.size and (array.min() < 0 or array.max() >= self.num_embeddings):
            bad = array[(array < 0) | (array >= self.num_embeddings)].reshape(-1)[0]
            raise IndexError(f"Embedding: index {bad} is out of range for num_embeddings={self.num_embeddings}")
        return F.embedding(array, self.weight, padding_idx=self.padding_idx)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text


# ---------------------------------------------------------------- LayerNorm


class LayerNorm(Module):
    """Normalise over the trailing ``normalized_shape`` axes (mean 0, biased variance 1),
    then scale by ``weight`` (ones) and shift by ``bias`` (zeros), both of that shape.
    x (..., *normalized_shape) -> same shape.
    """

    def __init__(self, normalized_shape: int | tuple, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, dtype: Any = None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
        self.normalized_shape = tuple(_positive_int("LayerNorm", "normalized_shape", s) for s in shape)
        self.eps = float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        dtype = _dtype(dtype)
        if self.elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        """weight <- 1, bias <- 0."""
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x: Tensor) -> Tensor:
        """x (..., *normalized_shape) -> same shape."""
        x = _as_tensor(x)
        n = len(self.normalized_shape)
        if x.shape[x.ndim - n:] != self.normalized_shape or x.ndim < n:
            expected = ", ".join(map(str, self.normalized_shape))
            raise ShapeError(f"LayerNorm: expected input of shape (..., {expected}), got {x.shape}")
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


# ---------------------------------------------------------------- Dropout and activations


class Dropout(Module):
    """In training mode zero each element with probability ``p`` and scale the rest by
    1/(1-p); the identity in eval mode. Any shape."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        self.p = float(p)

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(_as_tensor(x), self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. for an optional projection)."""

    def forward(self, x: Any) -> Any:
        return x


class ReLU(Module):
    """max(x, 0), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(_as_tensor(x))


class GELU(Module):
    """x * Phi(x) (``approximate="none"``, exact erf) or the tanh approximation."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return F.gelu(_as_tensor(x), approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Tanh(Module):
    """tanh(x), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return F.tanh(_as_tensor(x))


class Sigmoid(Module):
    """1 / (1 + exp(-x)), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return F.sigmoid(_as_tensor(x))


class _OverAxis(Module):
    """A module with one argument, the ``axis`` its function normalises over (default the last).
    Softmax, LogSoftmax and Softmin share it without being subclasses of each other, as in PyTorch."""

    def __init__(self, axis: int = -1):
        super().__init__()
        self.axis = axis

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class Softmax(_OverAxis):
    """softmax over ``axis`` (default the last)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.softmax(_as_tensor(x), axis=self.axis)


class LogSoftmax(_OverAxis):
    """log_softmax over ``axis`` (default the last)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.log_softmax(_as_tensor(x), axis=self.axis)


# ---------------------------------------------------------------- losses


class CrossEntropyLoss(Module):
    """``functional.cross_entropy`` as a module: logits (..., C), integer target (...).
    Classes are on the LAST axis (PyTorch puts them on axis 1)."""

    def __init__(self, ignore_index: int | None = None, label_smoothing: float = 0.0, reduction: str = "mean"):
        super().__init__()
        self.ignore_index = ignore_index
        self.label_smoothing = float(label_smoothing)
        self.reduction = reduction

    def forward(self, logits: Tensor, target: Any) -> Tensor:
        return F.cross_entropy(logits, target, ignore_index=self.ignore_index,
                               label_smoothing=self.label_smoothing, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"ignore_index={self.ignore_index}, label_smoothing={self.label_smoothing}, reduction={self.reduction!r}"


class NLLLoss(Module):
    """``functional.nll_loss`` as a module: log-probabilities (..., C), integer target (...)."""

    def __init__(self, ignore_index: int | None = None, reduction: str = "mean"):
        super().__init__()
        self.ignore_index = ignore_index
        self.reduction = reduction

    def forward(self, log_probs: Tensor, target: Any) -> Tensor:
        return F.nll_loss(log_probs, target, ignore_index=self.ignore_index, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"ignore_index={self.ignore_index}, reduction={self.reduction!r}"


class MSELoss(Module):
    """``functional.mse_loss`` as a module: mean (or sum, or none) of (input - target)^2."""

    def __init__(self, reduction: str = "mean"):
        super().__init__()
        self.reduction = reduction

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002 (PyTorch's name)
        return F.mse_loss(input, target, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"
