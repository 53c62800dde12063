"""Shape ops: views, indexing, joining and splitting, and their gradients.

These move numbers around without changing them, so each backward moves the
gradient back: reshape it, transpose it back, scatter it into zeros, or slice it.
"""

from __future__ import annotations

import numpy as np

from .._spelling import numpy_spelling
from ..autograd import Function
from ..errors import ShapeError
from ._util import Tensor, apply_or_forward, data_of, float_array, normalize_axis

# ---------------------------------------------------------------- views


class Reshape(Function):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape, ctx.shape = a.shape, shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape)

    @staticmethod
    def jvp(ctx, t):
        return t.reshape(ctx.shape)


class Transpose(Function):
    @staticmethod
    def forward(ctx, a, axes):
        ctx.axes, ctx.inverse = axes, tuple(np.argsort(axes).tolist())
        return np.transpose(a, axes)

    @staticmethod
    def backward(ctx, grad):
        return np.transpose(grad, ctx.inverse)  # the inverse permutation

    @staticmethod
    def jvp(ctx, t):
        return np.transpose(t, ctx.axes)


class BroadcastTo(Function):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = shape
        return np.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad  # the engine sums it back to the input's shape

    @staticmethod
    def jvp(ctx, t):
        return np.broadcast_to(t, ctx.shape)


# ---------------------------------------------------------------- indexing


def _is_basic(index: tuple) -> bool:
    """True when NumPy would make a view (ints, slices, None, ...): no repeated positions."""
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in index)


class GetItem(Function):
    @staticmethod
    def forward(ctx, a, index):
        ctx.meta = (a.shape, index)
        return a[index]

    @staticmethod
    def backward(ctx, grad):
        shape, index = ctx.meta
        return scatter_add(grad, shape, index)

    @staticmethod
    def jvp(ctx, t):
        shape, index = ctx.meta
        return t[index]


class ScatterAdd(Function):
    """zeros(shape) with ``values`` added at ``index`` (repeated positions accumulate): the
    transpose of ``a[index]``, so each one's gradient is the other."""

    @staticmethod
    def forward(ctx, values, shape, index):
        ctx.shape, ctx.index = shape, index
        out = np.zeros(shape, dtype=values.dtype)
        if _is_basic(index):
            out[index] = values
        else:
            np.add.at(out, index, values)
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.index]

    @staticmethod
    def jvp(ctx, t):
        return scatter_add(t, ctx.shape, ctx.index)


def scatter_add(values, shape: tuple, index: tuple):
    """``ScatterAdd`` on an ndarray (a gradient rule's fast path) or a Tensor (recorded)."""
    return apply_or_forward(ScatterAdd, values, shape=shape, index=index)


def _normalize_index(index) -> tuple:
    if not isinstance(index, tuple):
        index = (index,)
    parts = []
    for i in index:
        if isinstance(i, Tensor):
            i = i.data
        elif isinstance(i, list):
            i = np.asarray(i)
            if i.dtype == np.float64 and i.size == 0:
                i = i.astype(np.int64)
        if isinstance(i, np.ndarray) and not (i.dtype == np.bool_ or np.issubdtype(i.dtype, np.integer)):
            raise IndexError(f"getitem: index arrays must be integer or bool, got dtype {i.dtype}")
        parts.append(i)
    return tuple(parts)


def getitem(a, index) -> Tensor:
    """NumPy indexing: ints, slices (negative steps too), ``...``, ``None``, integer
    arrays/lists (repeated indices accumulate in backward) and boolean masks."""
    a = float_array(a)
    index = _normalize_index(index)
    try:
        return GetItem.apply(a, index=index)
    except IndexError as exc:
        raise IndexError(f"getitem: {exc} (tensor of shape {a.shape})") from None


class TakeAlongAxis(Function):
    @staticmethod
    def forward(ctx, a, indices, axis):
        ctx.meta = (a.shape, indices, axis)
        return np.take_along_axis(a, indices, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        shape, indices, axis = ctx.meta
        # scatter into the broadcast shape; the engine sums any broadcast axes back
        target = list(grad.shape)
        target[axis] = shape[axis]
        grid = list(np.indices(grad.shape, sparse=True))
        grid[axis] = np.broadcast_to(indices, grad.shape)
        return scatter_add(grad, tuple(target), tuple(grid))

    @staticmethod
    def jvp(ctx, t):
        shape, indices, axis = ctx.meta
        return np.take_along_axis(t, indices, axis)


@numpy_spelling
def take_along_axis(a, indices, axis: int) -> Tensor:
    """``numpy.take_along_axis``: gather along ``axis`` with an index array of the same ndim."""
    a = float_array(a)
    idx = data_of(indices)
    if not np.issubdtype(idx.dtype, np.integer):
        raise TypeError(f"take_along_axis: indices must be integers, got dtype {idx.dtype}")
    if idx.ndim != a.ndim:
        raise ShapeError(f"take_along_axis: indices of shape {idx.shape} must have as many axes as the tensor {a.shape}")
    axis = normalize_axis(axis, a.ndim, "take_along_axis")
    try:
        return TakeAlongAxis.apply(a, indices=idx, axis=axis)
    except (IndexError, ValueError) as exc:
        raise IndexError(f"take_along_axis: {exc} (tensor {a.shape}, indices {idx.shape})") from None


# ---------------------------------------------------------------- joining


class Concat(Function):
    @staticmethod
    def forward(ctx, *arrays, axis=0):
        ctx.meta = (axis, np.cumsum([x.shape[axis] for x in arrays])[:-1])
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        axis, bounds = ctx.meta
        return tuple(np.split(grad, bounds, axis=axis))

    @staticmethod
    def jvp(ctx, *tangents):
        axis, _ = ctx.meta
        return np.concatenate(tangents, axis=axis)


class Stack(Function):
    @staticmethod
    def forward(ctx, *arrays, axis=0):
        ctx.axis = axis
        return np.stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(np.moveaxis(grad, ctx.axis, 0))

    @staticmethod
    def jvp(ctx, *tangents):
        return np.stack(tangents, axis=ctx.axis)


def _shapes(tensors) -> str:
    return ", ".join(str(t.shape) for t in tensors)


@numpy_spelling
def concat(tensors, axis: int | None = 0) -> Tensor:
    """Join tensors along an existing axis; all other axes must match.
    ``axis=None`` flattens each tensor first, as ``numpy.concatenate``."""
    tensors = [float_array(t) for t in tensors]
    if not tensors:
        raise ValueError("concat: needs at least one tensor")
    if axis is None:
        tensors, axis = [Reshape.apply(t, shape=(-1,)) for t in tensors], 0
    ndim = tensors[0].ndim
    if ndim == 0:
        raise ShapeError("concat: zero-dimensional tensors cannot be concatenated; use stack")
    axis = normalize_axis(axis, ndim, "concat")
    for t in tensors:
        if t.ndim != ndim or t.shape[:axis] + t.shape[axis + 1:] != tensors[0].shape[:axis] + tensors[0].shape[axis + 1:]:
            raise ShapeError(f"concat: shapes {_shapes(tensors)} differ outside axis {axis}")
    return Concat.apply(*tensors, axis=axis)


@numpy_spelling
def stack(tensors, axis: int = 0) -> Tensor:
    """Join same-shape tensors along a new axis."""
    tensors = [float_array(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    if any(t.shape != tensors[0].shape for t in tensors):
        raise ShapeError(f"stack: all tensors must have the same shape, got {_shapes(tensors)}")
    axis = normalize_axis(axis, tensors[0].ndim + 1, "stack")
    return Stack.apply(*tensors, axis=axis)


class Pad(Function):
    @staticmethod
    def forward(ctx, a, pad_width, value=0.0):
        ctx.pad_width = pad_width
        ctx.crop = tuple(slice(before, before + n) for (before, _), n in zip(pad_width, a.shape))
        return np.pad(a, pad_width, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.crop]

    @staticmethod
    def jvp(ctx, t):
        return np.pad(t, ctx.pad_width)


_PAD_MODES = {"reflect": "reflect", "edge": "edge", "replicate": "edge", "wrap": "wrap", "circular": "wrap"}


def _pad_by_index(a, widths: tuple, mode: str) -> Tensor:
    """``numpy.pad`` modes that copy elements of ``a``: the source index of each output element
    along an axis is ``numpy.pad(arange(n), width, mode)``, so padding is indexing."""
    numpy_mode = _PAD_MODES[mode]
    out = a
    for axis, (before, after) in enumerate(widths):
        if before or after:
            n = a.shape[axis]
            if n == 0:
                raise ShapeError(f"pad: mode {mode!r} cannot pad axis {axis} of length 0 (shape {a.shape})")
            out = getitem(out, (slice(None),) * axis + (np.pad(np.arange(n), (before, after), mode=numpy_mode),))
    return out


def pad(a, pad_width, value: float = 0.0, mode: str = "constant") -> Tensor:
    """Padding with NumPy's ``pad_width``: per-axis ``(before, after)`` pairs (an int or a single
    pair applies to every axis). ``mode``: "constant" (``value``), or NumPy's "reflect", "edge"
    and "wrap" (PyTorch's "replicate" and "circular" are accepted as their other names)."""
    a = float_array(a)
    if a.ndim == 0:
        raise ShapeError("pad: a 0-d tensor has no axes to pad")
    try:
        widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (a.ndim, 2))
    except ValueError:
        raise ShapeError(f"pad: pad_width {pad_width!r} does not fit a tensor of shape {a.shape}") from None
    if (widths < 0).any():
        raise ValueError(f"pad: pad_width must be non-negative, got {pad_width!r}")
    widths = tuple(map(tuple, widths.tolist()))
    if mode == "constant":
        return Pad.apply(a, pad_width=widths, value=value)
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be 'constant' or one of {sorted(_PAD_MODES)}, got {mode!r}")
    return _pad_by_index(a, widths, mode)


# ---------------------------------------------------------------- splitting (slices of the input)


@numpy_spelling
def split(a, sections_or_indices, axis: int = 0) -> list[Tensor]:
    """``numpy.split``: an int N gives N equal pieces (an error if it does not divide);
    indices [i, j, ...] give the slices ``[:i], [i:j], ..., [last:]`` along ``axis``, with
    Python's slice rules (negative indices count from the end, out-of-range or
    decreasing ones give empty pieces)."""
    a = float_array(a)
    axis = normalize_axis(axis, a.ndim, "split")
    size = a.shape[axis]
    if isinstance(sections_or_indices, (int, np.integer)):
        n = int(sections_or_indices)
        if n <= 0 or size % n:
            raise ShapeError(f"split: axis {axis} of size {size} cannot be split into {n} equal sections")
        bounds = list(range(0, size + 1, size // n)) if size else [0] * (n + 1)
    else:
        bounds = [0] + [int(i) for i in sections_or_indices] + [size]
    lead = (slice(None),) * axis
    return [getitem(a, lead + (slice(lo, hi),)) for lo, hi in zip(bounds[:-1], bounds[1:])]


@numpy_spelling
def chunk(a, chunks: int, axis: int = 0) -> list[Tensor]:
    """PyTorch's chunk: pieces of ceil(size / chunks) along ``axis``; the last may be smaller
    (so there may be fewer than ``chunks``); an empty axis gives ``chunks`` empty pieces."""
    a = float_array(a)
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    axis = normalize_axis(axis, a.ndim, "chunk")
    size = a.shape[axis]
    if size == 0:
        return split(a, chunks, axis)
    step = -(-size // chunks)
    return split(a, list(range(step, size, step)), axis)


# ---------------------------------------------------------------- shape-changing views


def _shape_arg(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(int(s) for s in shape[0])
    return tuple(int(s) for s in shape)


def reshape(a, *shape) -> Tensor:
    """Reshape to ``shape`` (a tuple or varargs; one entry may be -1; ``()`` for a 0-d result)."""
    a = float_array(a)
    if not shape:  # NumPy: a.reshape() is an error; the 0-d shape is written reshape(())
        raise TypeError("reshape: the new shape is missing; give it as a tuple or integers (() for a 0-d tensor)")
    shape = _shape_arg(shape)
    resolved = shape
    if shape.count(-1) == 1:
        known = int(np.prod([s for s in shape if s != -1]))
        if known > 0 and a.size % known == 0:
            resolved = tuple(a.size // known if s == -1 else s for s in shape)
    if any(s < 0 for s in resolved) or int(np.prod(resolved)) != a.size:
        raise ShapeError(f"reshape: cannot reshape a tensor of shape {a.shape} ({a.size} elements) into {shape}")
    return Reshape.apply(a, shape=resolved)


def _permute(a, axes: tuple, op: str) -> Tensor:
    a = float_array(a)
    axes = _shape_arg(axes) if axes and axes != (None,) else tuple(range(a.ndim - 1, -1, -1))
    axes = tuple(normalize_axis(ax, a.ndim, op) for ax in axes)
    if sorted(axes) != list(range(a.ndim)):
        hint = ""
        if op == "transpose" and len(axes) == 2 and axes[0] != axes[1]:
            hint = f"; to swap two axes as torch.transpose does, use swapaxes({axes[0]}, {axes[1]})"
        raise ValueError(f"{op}: axes {axes} are not a permutation of the {a.ndim} axes of shape {a.shape}{hint}")
    return Transpose.apply(a, axes=axes)


@numpy_spelling
def transpose(a, *args, axes=None) -> Tensor:
    """Permute axes like ``numpy.transpose``: ``transpose(a, 1, 0, 2)``, ``transpose(a, (1, 0, 2))``
    or ``transpose(a, axes=(1, 0, 2))``; no axes reverses them (like ``.T``)."""
    if args and axes is not None:
        raise TypeError("transpose: give the axes positionally or as axes=, not both")
    return _permute(a, args if axes is None else (axes,), "transpose")


@numpy_spelling
def permute(a, *axes) -> Tensor:
    """PyTorch's name for a full ``transpose(*axes)``."""
    if not axes:
        raise ValueError("permute: give the new order of all axes")
    return _permute(a, axes, "permute")


def swapaxes(a, axis1: int, axis2: int) -> Tensor:
    """Swap two axes."""
    a = float_array(a)
    order = list(range(a.ndim))
    i, j = normalize_axis(axis1, a.ndim, "swapaxes"), normalize_axis(axis2, a.ndim, "swapaxes")
    order[i], order[j] = order[j], order[i]
    return Transpose.apply(a, axes=tuple(order))


@numpy_spelling
def squeeze(a, axis=None) -> Tensor:
    """Remove length-1 axes (all, or the given ones, which must have length 1, as NumPy)."""
    a = float_array(a)
    if axis is None:
        shape = tuple(s for s in a.shape if s != 1)
    else:
        axes = {normalize_axis(ax, a.ndim, "squeeze") for ax in (axis if isinstance(axis, (tuple, list)) else (axis,))}
        for ax in axes:
            if a.shape[ax] != 1:
                raise ShapeError(f"squeeze: axis {ax} of shape {a.shape} has length {a.shape[ax]}, not 1")
        shape = tuple(s for i, s in enumerate(a.shape) if i not in axes)
    return reshape(a, shape)


@numpy_spelling
def unsqueeze(a, axis: int) -> Tensor:
    """Insert a length-1 axis at ``axis`` (``numpy.expand_dims``)."""
    a = float_array(a)
    axis = normalize_axis(axis, a.ndim + 1, "unsqueeze")
    return Reshape.apply(a, shape=a.shape[:axis] + (1,) + a.shape[axis:])


def _broadcast(a, shape: tuple, op: str) -> Tensor:
    try:
        if np.broadcast_shapes(a.shape, shape) != shape:
            raise ValueError
    except ValueError:
        raise ShapeError(f"{op}: cannot broadcast a tensor of shape {a.shape} to {shape}") from None
    return BroadcastTo.apply(a, shape=shape)


def broadcast_to(a, shape) -> Tensor:
    """``numpy.broadcast_to``: repeat length-1 axes and prepend axes; ``shape`` is a tuple or an int."""
    a = float_array(a)
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    return _broadcast(a, shape, "broadcast_to")


def expand(a, *shape) -> Tensor:
    """PyTorch's expand: like ``broadcast_to``, and -1 keeps an axis's size."""
    a = float_array(a)
    shape = _shape_arg(shape)
    lead = len(shape) - a.ndim
    if lead < 0:
        raise ShapeError(f"expand: target {shape} has fewer axes than the tensor's shape {a.shape}")
    resolved = tuple(a.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(shape))
    if any(s < 0 for s in resolved):
        raise ShapeError(f"expand: -1 is not allowed for the new leading axes of {shape}")
    return _broadcast(a, resolved, "expand")


def flatten(a, start_axis: int = 0, end_axis: int = -1) -> Tensor:
    """Merge axes ``start_axis..end_axis`` (all, by default, giving 1-D) into one."""
    a = float_array(a)
    if a.ndim == 0:
        return reshape(a, (1,))
    start = normalize_axis(start_axis, a.ndim, "flatten")
    end = normalize_axis(end_axis, a.ndim, "flatten")
    if start > end:
        raise ValueError(f"flatten: start_axis {start_axis} comes after end_axis {end_axis}")
    merged = int(np.prod(a.shape[start:end + 1]))
    return reshape(a, a.shape[:start] + (merged,) + a.shape[end + 1:])
