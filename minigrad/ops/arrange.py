"""More shape and indexing ops, each a composition of the primitives in ``shape.py``.

Every op here rearranges, repeats or selects elements, so each is written as indexing
(``getitem`` with slices or integer arrays), a transpose, a reshape or a broadcast of
its input; the gradient, its forward-mode rule and higher derivatives come from those
primitives (repeated positions accumulate through ``ScatterAdd``). Names and defaults
follow NumPy; ``gather``/``scatter``/``scatter_add``/``masked_select``/``one_hot``/
``unflatten`` follow PyTorch, which alone has them.
"""

from __future__ import annotations

import numpy as np

from .._spelling import numpy_spelling
from ..errors import ShapeError
from . import elementwise, reduce
from ._util import Tensor, data_of, float_array, normalize_axes, normalize_axis
from .shape import (
    ScatterAdd, broadcast_to, concat, getitem, reshape, split, transpose,
)

# ---------------------------------------------------------------- reordering


def _along(axis: int, index) -> tuple:
    """An index selecting ``index`` on ``axis`` and everything on the axes before it."""
    return (slice(None),) * axis + (index,)


def _axes_or_all(axis, ndim: int, op: str) -> tuple:
    axes = normalize_axes(axis, ndim, op)
    return tuple(range(ndim)) if axes is None else axes


@numpy_spelling
def flip(a, axis=None) -> Tensor:
    """``numpy.flip``: reverse the order along ``axis`` (an int, a tuple, or None for every axis)."""
    a = float_array(a)
    axes = _axes_or_all(axis, a.ndim, "flip")
    return getitem(a, tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(a.ndim)))


@numpy_spelling
def roll(a, shift, axis=None) -> Tensor:
    """``numpy.roll``: shift elements along ``axis`` cyclically (``axis=None``: over the flattened
    tensor, then reshaped back). ``shift`` and ``axis`` may be matching tuples."""
    a = float_array(a)
    if axis is None:
        return reshape(roll(reshape(a, (-1,)), shift, 0), a.shape)
    try:
        pairs = np.broadcast(np.asarray(shift), np.asarray(axis))
    except ValueError:
        raise ValueError(f"roll: shift {shift!r} and axis {axis!r} do not broadcast together") from None
    total = [0] * a.ndim
    for s, ax in pairs:  # NumPy's rule: shifts of the same axis add up
        total[normalize_axis(int(ax), a.ndim, "roll")] += int(s)
    out = a
    for ax, s in enumerate(total):
        n = a.shape[ax]
        if n and s % n:
            out = getitem(out, _along(ax, (np.arange(n) - s) % n))
    return out


@numpy_spelling
def moveaxis(a, source, destination) -> Tensor:
    """``numpy.moveaxis``: move axes to new positions, the others keep their order."""
    a = float_array(a)
    sources = [normalize_axis(int(s), a.ndim, "moveaxis") for s in np.atleast_1d(source)]
    destinations = [normalize_axis(int(d), a.ndim, "moveaxis") for d in np.atleast_1d(destination)]
    if len(sources) != len(destinations):
        raise ValueError(f"moveaxis: source {source} and destination {destination} differ in length")
    order = [n for n in range(a.ndim) if n not in sources]
    for d, s in sorted(zip(destinations, sources)):
        order.insert(d, s)
    return transpose(a, axes=tuple(order))


# ---------------------------------------------------------------- repeating


@numpy_spelling
def repeat(a, repeats, axis=None) -> Tensor:
    """``numpy.repeat``: repeat each element ``repeats`` times (an int, or one count per element
    of ``axis``); ``axis=None`` works on the flattened tensor."""
    a = float_array(a)
    if axis is None:
        a, axis = reshape(a, (-1,)), 0
    axis = normalize_axis(axis, a.ndim, "repeat")
    counts = np.asarray(repeats)
    if not np.issubdtype(counts.dtype, np.integer) or (counts < 0).any():
        raise ValueError(f"repeat: repeats must be non-negative integers, got {repeats!r}")
    try:
        index = np.repeat(np.arange(a.shape[axis]), counts)
    except ValueError:
        raise ShapeError(f"repeat: {counts.size} repeats for axis {axis} of length {a.shape[axis]}") from None
    return getitem(a, _along(axis, index))


def tile(a, reps) -> Tensor:
    """``numpy.tile``: the tensor repeated ``reps`` times per axis (``reps`` shorter than ndim
    is padded with 1s in front; longer adds leading axes)."""
    a = float_array(a)
    reps = tuple(int(r) for r in np.atleast_1d(reps))
    if any(r < 0 for r in reps):
        raise ValueError(f"tile: reps must be non-negative, got {reps}")
    ndim = max(a.ndim, len(reps))
    reps = (1,) * (ndim - len(reps)) + reps
    shape = (1,) * (ndim - a.ndim) + a.shape
    interleaved = tuple(x for s in shape for x in (1, s))
    target = tuple(x for r, s in zip(reps, shape) for x in (r, s))
    tiled = broadcast_to(reshape(a, interleaved), target)
    return reshape(tiled, tuple(r * s for r, s in zip(reps, shape)))


# ---------------------------------------------------------------- adding and splitting axes


def _at_least(n: int, placement, arrays):
    out = []
    for a in arrays:
        a = float_array(a)
        out.append(a if a.ndim >= n else reshape(a, placement(a.shape)))
    return out[0] if len(out) == 1 else out


def atleast_1d(*arrays):
    """``numpy.atleast_1d``: a 0-d tensor becomes shape (1,); one argument gives one tensor, several a list."""
    return _at_least(1, lambda s: (1,), arrays)


def atleast_2d(*arrays):
    """``numpy.atleast_2d``: () -> (1, 1), (n,) -> (1, n)."""
    return _at_least(2, lambda s: (1,) * (2 - len(s)) + s, arrays)


def atleast_3d(*arrays):
    """``numpy.atleast_3d``: () -> (1, 1, 1), (n,) -> (1, n, 1), (m, n) -> (m, n, 1)."""
    return _at_least(3, lambda s: {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}[len(s)], arrays)


@numpy_spelling
def unflatten(a, axis: int, sizes) -> Tensor:
    """PyTorch's unflatten: split ``axis`` into ``sizes`` (one entry may be -1)."""
    a = float_array(a)
    axis = normalize_axis(axis, a.ndim, "unflatten")
    return reshape(a, a.shape[:axis] + tuple(int(s) for s in sizes) + a.shape[axis + 1:])


def hstack(tensors) -> Tensor:
    """``numpy.hstack``: join along axis 1 (axis 0 for 1-D tensors)."""
    tensors = atleast_1d(*tensors) if len(tensors) > 1 else [atleast_1d(*tensors)]
    return concat(tensors, axis=0 if tensors[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """``numpy.vstack``: join along axis 0 after making each tensor at least 2-D."""
    tensors = atleast_2d(*tensors) if len(tensors) > 1 else [atleast_2d(*tensors)]
    return concat(tensors, axis=0)


def dstack(tensors) -> Tensor:
    """``numpy.dstack``: join along axis 2 after making each tensor at least 3-D."""
    tensors = atleast_3d(*tensors) if len(tensors) > 1 else [atleast_3d(*tensors)]
    return concat(tensors, axis=2)


@numpy_spelling
def array_split(a, sections_or_indices, axis: int = 0) -> list[Tensor]:
    """``numpy.array_split``: like ``split``, but N sections need not divide the axis: the first
    ``size % N`` pieces are one longer."""
    a = float_array(a)
    if not isinstance(sections_or_indices, (int, np.integer)):
        return split(a, sections_or_indices, axis)
    n = int(sections_or_indices)
    if n <= 0:
        raise ValueError(f"array_split: the number of sections must be positive, got {n}")
    size = a.shape[normalize_axis(axis, a.ndim, "array_split")]
    lengths = [size // n + 1] * (size % n) + [size // n] * (n - size % n)
    return split(a, list(np.cumsum(lengths)[:-1]), axis)


def meshgrid(*tensors, indexing: str = "xy") -> list[Tensor]:
    """``numpy.meshgrid`` of 1-D tensors: ``indexing="xy"`` (NumPy's default; PyTorch's is "ij")
    swaps the first two output axes."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    tensors = [reshape(float_array(t), (-1,)) for t in tensors]
    shape = [t.shape[0] for t in tensors]
    if indexing == "xy" and len(tensors) > 1:
        shape[0], shape[1] = shape[1], shape[0]
    grids = []
    for i, t in enumerate(tensors):
        axis = {0: 1, 1: 0}.get(i, i) if indexing == "xy" and len(tensors) > 1 else i
        view = [1] * len(tensors)
        view[axis] = t.shape[0]
        grids.append(broadcast_to(reshape(t, tuple(view)), tuple(shape)))
    return grids


# ---------------------------------------------------------------- triangles and diagonals


def _triangle(a, k: int, lower: bool, op: str) -> Tensor:
    a = float_array(a)
    if a.ndim < 2:
        raise ShapeError(f"{op}: needs at least 2-D input, got shape {a.shape}")
    n, m = a.shape[-2:]
    keep = np.tri(n, m, k, dtype=bool) if lower else ~np.tri(n, m, k - 1, dtype=bool)
    return elementwise.masked_fill(a, ~keep, 0.0)


def tril(a, k: int = 0) -> Tensor:
    """``numpy.tril`` on the last two axes: zero above the ``k``-th diagonal."""
    return _triangle(a, k, True, "tril")


def triu(a, k: int = 0) -> Tensor:
    """``numpy.triu`` on the last two axes: zero below the ``k``-th diagonal."""
    return _triangle(a, k, False, "triu")


def diagonal(a, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """``numpy.diagonal``: the ``offset`` diagonal of the (axis1, axis2) planes, as the LAST axis."""
    a = float_array(a)
    if a.ndim < 2:
        raise ShapeError(f"diagonal: needs at least 2-D input, got shape {a.shape}")
    i, j = normalize_axis(axis1, a.ndim, "diagonal"), normalize_axis(axis2, a.ndim, "diagonal")
    if i == j:
        raise ValueError(f"diagonal: axis1 and axis2 are the same axis {i}")
    moved = moveaxis(a, (i, j), (-2, -1))
    n, m = moved.shape[-2:]
    length = max(0, min(n + min(offset, 0), m - max(offset, 0)))
    rows = np.arange(length) + max(-offset, 0)
    return getitem(moved, (Ellipsis, rows, rows + offset))


def diag(v, k: int = 0) -> Tensor:
    """``numpy.diag``: a 1-D ``v`` gives the square matrix with ``v`` on the ``k``-th diagonal;
    a 2-D ``v`` gives its ``k``-th diagonal."""
    v = float_array(v)
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise ShapeError(f"diag: needs 1-D or 2-D input, got shape {v.shape}")
    n = v.shape[0] + abs(k)
    rows = np.arange(v.shape[0]) + max(-k, 0)
    return ScatterAdd.apply(v, shape=(n, n), index=(rows, rows + k))


def trace(a, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """``numpy.trace``: the sum of ``diagonal(a, offset, axis1, axis2)``."""
    return reduce.sum(diagonal(a, offset, axis1, axis2), axis=-1)


# ---------------------------------------------------------------- gather and scatter (PyTorch's rules)


def _index_array(index, op: str) -> np.ndarray:
    idx = data_of(index)
    if not np.issubdtype(idx.dtype, np.integer):
        raise TypeError(f"{op}: index must be integers, got dtype {idx.dtype}")
    return idx


def _scatter_positions(shape: tuple, axis: int, idx: np.ndarray, op: str, src_shape=None) -> tuple:
    """The full index tuple of PyTorch's gather/scatter: ``idx`` on ``axis``, the element's own
    position on every other axis. ``idx`` may be smaller than ``shape`` (and than the source)."""
    if idx.ndim != len(shape):
        raise ShapeError(f"{op}: index of shape {idx.shape} must have as many axes as the tensor {shape}")
    limits = [s for i, s in enumerate(shape) if i != axis]
    sizes = [s for i, s in enumerate(idx.shape) if i != axis]
    if any(n > m for n, m in zip(sizes, limits)) or (src_shape is not None and any(
            n > m for n, m in zip(idx.shape, src_shape))):
        raise ShapeError(f"{op}: index of shape {idx.shape} is larger than the tensor {shape}"
                         + ("" if src_shape is None else f" or the source {src_shape}") + f" outside axis {axis}")
    n = shape[axis]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"{op}: index values must lie in [{-n}, {n}) for axis {axis} of shape {shape}")
    grid = list(np.indices(idx.shape, sparse=True))
    grid[axis] = idx % n if n else idx
    return tuple(grid)


@numpy_spelling
def gather(a, axis: int, index) -> Tensor:
    """PyTorch's gather: ``out[i][j] = a[index[i][j]][j]`` for ``axis=0`` (and so on), the output
    of ``index``'s shape; ``index`` has ``a``'s ndim and is no larger outside ``axis``."""
    a = float_array(a)
    axis = normalize_axis(axis, max(a.ndim, 1), "gather")
    idx = _index_array(index, "gather")
    return getitem(a, _scatter_positions(a.shape, axis, idx, "gather"))


def _source_part(src, idx: np.ndarray) -> Tensor:
    src = float_array(src)
    if src.ndim != idx.ndim:
        raise ShapeError(f"scatter: src of shape {src.shape} must have as many axes as index {idx.shape}")
    return getitem(src, tuple(slice(0, n) for n in idx.shape))


def _scattered(values: Tensor, shape: tuple, positions: tuple) -> Tensor:
    return ScatterAdd.apply(values, shape=shape, index=positions)


def _last_writer(shape: tuple, positions: tuple) -> np.ndarray:
    """A bool mask over the index's elements: True for the last one writing each output
    position (NumPy assignment's rule when positions repeat)."""
    flat = np.ravel_multi_index(np.broadcast_arrays(*positions), shape).reshape(-1)
    last = np.zeros(flat.shape, dtype=bool)
    _, first_from_end = np.unique(flat[::-1], return_index=True)
    last[flat.size - 1 - first_from_end] = True
    return last.reshape(np.broadcast_shapes(*(p.shape for p in positions)))


def _written(shape: tuple, positions: tuple) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[positions] = True
    return mask


@numpy_spelling
def scatter(a, axis: int, index, src) -> Tensor:
    """PyTorch's scatter (out of place): a copy of ``a`` with ``out[index[i][j]][j] = src[i][j]``
    (``axis=0``); where several elements write one position, the last one wins (NumPy's rule)."""
    a = float_array(a)
    axis = normalize_axis(axis, max(a.ndim, 1), "scatter")
    idx = _index_array(index, "scatter")
    values = _source_part(src, idx)
    positions = _scatter_positions(a.shape, axis, idx, "scatter", values.shape)
    kept = elementwise.masked_fill(values, ~_last_writer(a.shape, positions), 0.0)
    return elementwise.masked_fill(a, _written(a.shape, positions), 0.0) + _scattered(kept, a.shape, positions)


@numpy_spelling
def scatter_add(a, axis: int, index, src) -> Tensor:
    """PyTorch's scatter_add (out of place): ``a`` with ``src[i][j]`` added at
    ``[index[i][j]][j]`` (``axis=0``); repeated positions accumulate."""
    a = float_array(a)
    axis = normalize_axis(axis, max(a.ndim, 1), "scatter_add")
    idx = _index_array(index, "scatter_add")
    values = _source_part(src, idx)
    return a + _scattered(values, a.shape, _scatter_positions(a.shape, axis, idx, "scatter_add", values.shape))


@numpy_spelling
def put_along_axis(arr, indices, values, axis: int) -> Tensor:
    """``numpy.put_along_axis`` out of place: a copy of ``arr`` with ``values`` written where
    ``take_along_axis(arr, indices, axis)`` reads (indices and values broadcast as NumPy's);
    the last write to a position wins."""
    arr = float_array(arr)
    idx = _index_array(indices, "put_along_axis")
    if idx.ndim != arr.ndim:
        raise ShapeError(f"put_along_axis: indices of shape {idx.shape} must have as many axes as the tensor {arr.shape}")
    axis = normalize_axis(axis, arr.ndim, "put_along_axis")
    outside = [s for i, s in enumerate(arr.shape) if i != axis]
    try:
        shape = list(np.broadcast_shapes(tuple(outside), tuple(s for i, s in enumerate(idx.shape) if i != axis)))
    except ValueError:
        raise ShapeError(f"put_along_axis: indices {idx.shape} do not broadcast with the tensor {arr.shape}") from None
    shape.insert(axis, idx.shape[axis])
    values = broadcast_to(float_array(values), tuple(shape))
    return scatter(arr, axis, np.broadcast_to(idx, tuple(shape)), values)


# ---------------------------------------------------------------- masks and one-hot


def masked_select(a, mask) -> Tensor:
    """PyTorch's masked_select: the elements of ``a`` where ``mask`` (broadcast together) is
    True, as a 1-D tensor in row-major order."""
    a = float_array(a)
    mask = data_of(mask)
    if mask.dtype != np.bool_:
        raise TypeError(f"masked_select: mask must be bool, got dtype {mask.dtype}")
    try:
        shape = np.broadcast_shapes(a.shape, mask.shape)
    except ValueError:
        raise ShapeError(f"masked_select: shapes {a.shape} and mask {mask.shape} cannot be broadcast together") from None
    return getitem(broadcast_to(a, shape), np.broadcast_to(mask, shape))


def one_hot(indices, num_classes: int = -1) -> Tensor:
    """PyTorch's one_hot: int64 tensor of shape ``indices.shape + (num_classes,)`` (-1: max + 1).
    Not differentiable (its input is integers)."""
    idx = _index_array(indices, "one_hot")
    if num_classes == -1:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise IndexError(f"one_hot: class values must lie in [0, {num_classes}), got {idx.min()}..{idx.max()}")
    return Tensor._make((idx[..., None] == np.arange(num_classes)).astype(np.int64), False, None)


def nonzero(a) -> tuple[Tensor, ...]:
    """``numpy.nonzero``: a tuple of int64 index tensors, one per axis. Not differentiable."""
    data = data_of(a)
    return tuple(Tensor._make(i.astype(np.int64), False, None) for i in np.nonzero(data))
