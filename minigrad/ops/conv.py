"""Convolution and pooling over 1 or 2 spatial axes (PyTorch's layouts and argument names).

Everything goes through one pair of linear ops: ``Windows`` (im2col: every kernel-sized
window of a padded input, shape (N, C, *out, *kernel)) and ``Fold`` (col2im: each window
added back to its place), each the other's transpose, so each one's gradient is the other.
A convolution is then an einsum of the windows with the weight (BLAS does the work), max
pooling a max and average pooling a mean over the window axes; their gradients, forward-mode
rules and higher derivatives come from those ops.

Shapes: input (N, C, L) or (N, C, H, W) (or without N), weight (out_channels,
in_channels / groups, *kernel), output (N, out_channels, *out) with
out = (L + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1.
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..autograd import Function
from ..errors import ShapeError
from . import reduce
from ._util import Tensor, apply_or_forward, float_array
from .contract import einsum
from .shape import pad, reshape, unsqueeze, squeeze

# ---------------------------------------------------------------- windows and their transpose


def _out_sizes(sizes: tuple, kernel: tuple, stride: tuple, dilation: tuple) -> tuple:
    return tuple((n - d * (k - 1) - 1) // s + 1 for n, k, s, d in zip(sizes, kernel, stride, dilation))


def _window_slices(offsets: tuple, out: tuple, stride: tuple, dilation: tuple) -> tuple:
    """The input positions that kernel offset ``offsets`` reads for every output position."""
    return tuple(slice(i * d, i * d + s * (o - 1) + 1, s) for i, o, s, d in zip(offsets, out, stride, dilation))


class Windows(Function):
    """(N, C, *spatial) -> (N, C, *out, *kernel): every window, strided and dilated."""

    @staticmethod
    def forward(ctx, x, kernel, stride, dilation):
        ctx.meta = (x.shape, kernel, stride, dilation)
        k = len(kernel)
        span = tuple(d * (n - 1) + 1 for n, d in zip(kernel, dilation))
        view = sliding_window_view(x, span, axis=tuple(range(x.ndim - k, x.ndim)))
        picks = (Ellipsis,) + tuple(slice(None, None, s) for s in stride) + tuple(slice(None, None, d) for d in dilation)
        return np.ascontiguousarray(view[picks])

    @staticmethod
    def backward(ctx, grad):
        shape, kernel, stride, dilation = ctx.meta
        return fold(grad, shape, kernel, stride, dilation)

    @staticmethod
    def jvp(ctx, t):
        shape, kernel, stride, dilation = ctx.meta
        return windows(t, kernel, stride, dilation)


class Fold(Function):
    """(N, C, *out, *kernel) -> (N, C, *spatial): each window added back where it was read."""

    @staticmethod
    def forward(ctx, cols, shape, kernel, stride, dilation):
        ctx.meta = (shape, kernel, stride, dilation)
        k = len(kernel)
        out = cols.shape[cols.ndim - 2 * k:cols.ndim - k]
        image = np.zeros(shape, dtype=cols.dtype)
        for offsets in itertools.product(*(range(n) for n in kernel)):
            image[(Ellipsis,) + _window_slices(offsets, out, stride, dilation)] += cols[(Ellipsis,) + offsets]
        return image

    @staticmethod
    def backward(ctx, grad):
        shape, kernel, stride, dilation = ctx.meta
        return windows(grad, kernel, stride, dilation)

    @staticmethod
    def jvp(ctx, t):
        return fold(t, *ctx.meta)


def windows(x, kernel: tuple, stride: tuple, dilation: tuple):
    """``Windows`` of an ndarray (a gradient rule's fast path) or a Tensor (recorded)."""
    return apply_or_forward(Windows, x, kernel=kernel, stride=stride, dilation=dilation)


def fold(cols, shape: tuple, kernel: tuple, stride: tuple, dilation: tuple):
    """``Fold`` of an ndarray or a Tensor (recorded)."""
    return apply_or_forward(Fold, cols, shape=shape, kernel=kernel, stride=stride, dilation=dilation)


# ---------------------------------------------------------------- arguments


def _tuple(value, k: int, name: str, op: str, minimum: int) -> tuple:
    values = (value,) * k if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) != k or any(not isinstance(v, (int, np.integer)) or v < minimum for v in values):
        raise ValueError(f"{op}: {name} must be an int >= {minimum} or {k} of them, got {value!r}")
    return tuple(int(v) for v in values)


def _batched(x, k: int, op: str):
    """The input with a batch axis, and whether one was added ((C, *spatial) is accepted)."""
    x = float_array(x)
    if x.ndim == k + 1:
        return unsqueeze(x, 0), True
    if x.ndim != k + 2:
        raise ShapeError(f"{op}: input must be (N, C, {', '.join('LHW'[3 - k:] if k == 2 else 'L')}) or without N, "
                         f"got shape {x.shape}")
    return x, False


def _padded(x, widths: tuple, value: float):
    if not any(w for pair in widths for w in pair):
        return x
    return pad(x, ((0, 0), (0, 0)) + widths, value=value)


def _check_fits(x, kernel: tuple, dilation: tuple, op: str) -> None:
    span = tuple(d * (n - 1) + 1 for n, d in zip(kernel, dilation))
    if any(n < s for n, s in zip(x.shape[2:], span)):
        raise ShapeError(f"{op}: the (padded) input's spatial size {x.shape[2:]} is smaller than the kernel's span {span}")


# ---------------------------------------------------------------- convolution


def _padding_widths(padding, kernel: tuple, stride: tuple, dilation: tuple, op: str) -> tuple:
    if padding == "valid":
        return tuple((0, 0) for _ in kernel)
    if padding == "same":
        if any(s != 1 for s in stride):
            raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride}")
        total = tuple(d * (n - 1) for n, d in zip(kernel, dilation))
        return tuple((t // 2, t - t // 2) for t in total)
    return tuple((p, p) for p in _tuple(padding, len(kernel), "padding", op, 0))


def _conv(x, weight, bias, stride, padding, dilation, groups: int, k: int, op: str) -> Tensor:
    x, added = _batched(x, k, op)
    weight = float_array(weight)
    if weight.ndim != k + 2:
        raise ShapeError(f"{op}: weight must be (out_channels, in_channels / groups, *kernel) with {k} kernel axes, "
                         f"got shape {weight.shape}")
    channels, out_channels, kernel = x.shape[1], weight.shape[0], weight.shape[2:]
    if not isinstance(groups, (int, np.integer)) or groups < 1 or channels % groups or out_channels % groups:
        raise ValueError(f"{op}: groups={groups!r} must divide the input's {channels} channels and the weight's "
                         f"{out_channels} output channels")
    if weight.shape[1] * groups != channels:
        raise ShapeError(f"{op}: weight {weight.shape} with groups={groups} expects {weight.shape[1] * groups} input "
                         f"channels, the input {x.shape} has {channels}")
    stride = _tuple(stride, k, "stride", op, 1)
    dilation = _tuple(dilation, k, "dilation", op, 1)
    x = _padded(x, _padding_widths(padding, kernel, stride, dilation, op), 0.0)
    _check_fits(x, kernel, dilation, op)
    cols = windows(x, kernel, stride, dilation)  # (N, C, *out, *kernel)
    out_sizes = cols.shape[2:2 + k]
    n = x.shape[0]
    cols = reshape(cols, (n, groups, channels // groups) + cols.shape[2:])
    w = reshape(weight, (groups, out_channels // groups) + weight.shape[1:])
    spatial, taps = "hw"[:k], "ij"[:k]
    out = einsum(f"ngc{spatial}{taps},gfc{taps}->ngf{spatial}", cols, w)
    out = reshape(out, (n, out_channels) + out_sizes)
    if bias is not None:
        bias = float_array(bias)
        if bias.shape != (out_channels,):
            raise ShapeError(f"{op}: bias must have shape ({out_channels},), got {bias.shape}")
        out = out + reshape(bias, (out_channels,) + (1,) * k)
    return squeeze(out, 0) if added else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1) -> Tensor:  # noqa: A002
    """PyTorch's conv1d (a cross-correlation): input (N, C, L), weight (O, C / groups, K), bias (O,);
    ``padding`` an int, a 1-tuple, "valid" or "same" (stride 1)."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1) -> Tensor:  # noqa: A002
    """PyTorch's conv2d (a cross-correlation): input (N, C, H, W), weight (O, C / groups, KH, KW),
    bias (O,); stride, padding, dilation an int or a pair (padding also "valid" or "same")."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


# ---------------------------------------------------------------- pooling


def _pool_args(x, kernel_size, stride, padding, dilation, ceil_mode: bool, k: int, op: str):
    """kernel, stride, dilation and the (before, after) padding of each spatial axis.

    As PyTorch: out = floor or ceil((n + 2 * padding - span) / stride) + 1 with span =
    dilation * (kernel - 1) + 1; with ``ceil_mode`` the last window may run past the input
    (it is padded on the right for it) but must start inside the input or the left padding.
    """
    kernel = _tuple(kernel_size, k, "kernel_size", op, 1)
    stride = kernel if stride is None else _tuple(stride, k, "stride", op, 1)
    pads = _tuple(padding, k, "padding", op, 0)
    dilation = _tuple(dilation, k, "dilation", op, 1)
    if any(2 * p > n for p, n in zip(pads, kernel)):
        raise ValueError(f"{op}: padding {pads} must be at most half the kernel size {kernel}")
    spans = tuple(d * (n - 1) + 1 for n, d in zip(kernel, dilation))
    padded = tuple(n + 2 * p for n, p in zip(x.shape[2:], pads))
    if any(n < s for n, s in zip(padded, spans)):
        raise ShapeError(f"{op}: the (padded) input's spatial size {padded} is smaller than the kernel's span {spans}")
    widths = []
    for n, p, s, span in zip(x.shape[2:], pads, stride, spans):
        room = n + 2 * p - span
        out = (-(-room // s) if ceil_mode else room // s) + 1
        if ceil_mode and (out - 1) * s >= n + p:  # a window starting in the right padding is dropped
            out -= 1
        widths.append((p, p + max(0, (out - 1) * s + span - n - 2 * p)))
    return kernel, stride, dilation, tuple(widths)


def _argmax_indices(cols: np.ndarray, spatial: tuple, widths: tuple, kernel: tuple, stride: tuple,
                    dilation: tuple) -> np.ndarray:
    """For each window of ``cols`` (N, C, *out, *kernel), the flat index into its (unpadded)
    input plane of ``spatial`` of the max, as PyTorch: the first maximum in row-major window
    order, the last NaN if the window has one, padding never chosen. int64 (N, C, *out)."""
    k = len(kernel)
    planes = np.pad(np.arange(int(np.prod(spatial))).reshape(spatial), widths, constant_values=-1)
    where = windows(planes[None, None], kernel, stride, dilation)  # (1, 1, *out, *kernel)
    lead = cols.shape[:cols.ndim - k]
    values = cols.reshape(lead + (-1,))
    where = np.broadcast_to(where.reshape(where.shape[:2 + k] + (-1,)), values.shape)
    real = where >= 0
    nan = np.isnan(values) & real
    first_max = np.argmax((values == values.max(axis=-1, keepdims=True)) & real, axis=-1)
    last_nan = values.shape[-1] - 1 - np.argmax(nan[..., ::-1], axis=-1)
    pick = np.where(nan.any(axis=-1), last_nan, first_max)
    return np.take_along_axis(where, pick[..., None], axis=-1)[..., 0].astype(np.int64)


def _max_pool(x, kernel_size, stride, padding, dilation, ceil_mode: bool, return_indices: bool, k: int, op: str):
    x, added = _batched(x, k, op)
    kernel, stride, dilation, widths = _pool_args(x, kernel_size, stride, padding, dilation, ceil_mode, k, op)
    spatial = x.shape[2:]
    x = _padded(x, widths, -np.inf)  # padding never wins the max
    cols = windows(x, kernel, stride, dilation)  # (N, C, *out, *kernel)
    out = reduce.max(cols, axis=tuple(range(-k, 0)))
    out = squeeze(out, 0) if added else out
    if not return_indices:
        return out
    array = cols.data if isinstance(cols, Tensor) else cols
    indices = _argmax_indices(array, spatial, widths, kernel, stride, dilation)
    return out, Tensor(indices[0] if added else indices)


def _avg_pool(x, kernel_size, stride, padding, ceil_mode: bool, count_include_pad: bool, divisor_override,
              k: int, op: str) -> Tensor:
    x, added = _batched(x, k, op)
    kernel, stride, ones, widths = _pool_args(x, kernel_size, stride, padding, 1, ceil_mode, k, op)
    spatial = x.shape[2:]
    x = _padded(x, widths, 0.0)
    sums = reduce.sum(windows(x, kernel, stride, ones), axis=tuple(range(-k, 0)))
    overhang = any(after > before for before, after in widths)  # ceil_mode's extra right padding
    if divisor_override is not None:
        out = sums / float(divisor_override)
    elif count_include_pad and not overhang:
        out = sums / float(np.prod(kernel))
    else:  # divide by the elements each window covers: the real ones, or those and the zero padding
        if count_include_pad:  # the input and its padding count, ceil_mode's overhang does not
            counted = np.pad(np.ones(tuple(n + 2 * p for n, (p, _) in zip(spatial, widths)), dtype=x.dtype),
                             tuple((0, after - before) for before, after in widths))
        else:
            counted = np.pad(np.ones(spatial, dtype=x.dtype), widths)
        counts = windows(counted[None, None], kernel, stride, ones).sum(axis=tuple(range(-k, 0)))
        out = sums / counts
    return squeeze(out, 0) if added else out


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,  # noqa: A002
               return_indices: bool = False):
    """PyTorch's max_pool1d: the max of each window of (N, C, L) (or (C, L)); stride defaults to
    kernel_size; padding (at most half the kernel) never wins; ``ceil_mode`` keeps a last partial
    window. Tied maxima share the gradient. ``return_indices=True`` returns (values, indices):
    indices int64 of the values' shape, each the position in L of its window's max (the first
    of tied maxima, as PyTorch), not differentiable."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1, "max_pool1d")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,  # noqa: A002
               return_indices: bool = False):
    """PyTorch's max_pool2d over (N, C, H, W); see ``max_pool1d``. Indices are flat positions
    h * W + w in each (H, W) plane."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2, "max_pool2d")


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False,  # noqa: A002
               count_include_pad: bool = True) -> Tensor:
    """PyTorch's avg_pool1d: the mean of each window of (N, C, L), zero padding counted unless
    ``count_include_pad=False``; with ``ceil_mode`` a last partial window is the mean of the
    elements it covers (the part past the padding is never counted)."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1, "avg_pool1d")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False,  # noqa: A002
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """PyTorch's avg_pool2d over (N, C, H, W); see ``avg_pool1d``. ``divisor_override`` divides
    every window's sum by that number instead of by its element count."""
    if divisor_override is not None and (not isinstance(divisor_override, (int, np.integer)) or divisor_override == 0):
        raise ValueError(f"avg_pool2d: divisor_override must be a nonzero int or None, got {divisor_override!r}")
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 2,
                     "avg_pool2d")
