"""Convolution and pooling layers with PyTorch's names, parameters and initialisation.

``Conv1d``/``Conv2d`` hold ``weight`` (out_channels, in_channels / groups, *kernel_size) and
``bias`` (out_channels,), both drawn from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with
fan_in = in_channels / groups * prod(kernel_size), as PyTorch's default.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from ..tensor import Tensor
from .layers import _dtype, _positive_int, _reset_weight_and_bias, _weight_and_bias
from .module import Module


class _ConvNd(Module):
    _dims = 0
    _function = None

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, dtype: Any = None):
        super().__init__()
        name = type(self).__name__
        self.in_channels = _positive_int(name, "in_channels", in_channels)
        self.out_channels = _positive_int(name, "out_channels", out_channels)
        self.groups = _positive_int(name, "groups", groups)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: groups={groups} must divide in_channels={in_channels} and "
                             f"out_channels={out_channels}")
        sizes = (kernel_size,) * self._dims if isinstance(kernel_size, (int, np.integer)) else tuple(kernel_size)
        self.kernel_size = tuple(_positive_int(name, "kernel_size", k) for k in sizes)
        if len(self.kernel_size) != self._dims:
            raise ValueError(f"{name}: kernel_size must be an int or {self._dims} of them, got {kernel_size!r}")
        self.stride, self.padding, self.dilation = stride, padding, dilation
        _weight_and_bias(self, (out_channels, in_channels // groups) + self.kernel_size, bias, _dtype(dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw weight and bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
        _reset_weight_and_bias(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        return type(self)._function(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, dilation={self.dilation}, groups={self.groups}, bias={self.bias is not None}")


class Conv1d(_ConvNd):
    """1-D convolution: (N, in_channels, L) -> (N, out_channels, L_out); see ``F.conv1d``."""

    _dims = 1
    _function = staticmethod(F.conv1d)


class Conv2d(_ConvNd):
    """2-D convolution: (N, in_channels, H, W) -> (N, out_channels, H_out, W_out); see ``F.conv2d``."""

    _dims = 2
    _function = staticmethod(F.conv2d)


class _MaxPoolNd(Module):
    """PyTorch's arguments and defaults; ``stride`` None means ``kernel_size``."""

    _function = None

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False,
                 ceil_mode: bool = False):
        super().__init__()
        self.kernel_size, self.padding, self.dilation = kernel_size, padding, dilation
        self.stride = kernel_size if stride is None else stride
        self.return_indices, self.ceil_mode = bool(return_indices), bool(ceil_mode)

    def forward(self, x: Tensor):
        return type(self)._function(x, self.kernel_size, self.stride, self.padding, self.dilation,
                                    ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """The max of each window of (N, C, L); with ``return_indices`` also each max's position
    (values, indices); see ``F.max_pool1d``."""

    _function = staticmethod(F.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """The max of each window of (N, C, H, W); with ``return_indices`` also each max's flat
    position in its (H, W) plane (values, indices); see ``F.max_pool2d``."""

    _function = staticmethod(F.max_pool2d)


class _AvgPoolNd(Module):
    """PyTorch's arguments and defaults; ``stride`` None means ``kernel_size``."""

    _function = None

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True):
        super().__init__()
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = kernel_size if stride is None else stride
        self.ceil_mode, self.count_include_pad = bool(ceil_mode), bool(count_include_pad)

    def forward(self, x: Tensor) -> Tensor:
        return type(self)._function(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                                    self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """The mean of each window of (N, C, L); see ``F.avg_pool1d``."""

    _function = staticmethod(F.avg_pool1d)


class AvgPool2d(_AvgPoolNd):
    """The mean of each window of (N, C, H, W); see ``F.avg_pool2d``."""

    _function = staticmethod(F.avg_pool2d)

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None):
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)
        self.divisor_override = divisor_override

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override)
