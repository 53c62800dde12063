"""NumPy functions called on Tensors run minigrad's ops (NEP 13 ``__array_ufunc__``, NEP 18
``__array_function__``), so the result is a Tensor that carries the graph::

    >>> import numpy as np, minigrad as mg
    >>> t = mg.tensor([1.0, 2.0], requires_grad=True)
    >>> y = np.sum(np.exp(t) * 2)
    >>> type(y).__name__, y.requires_grad
    ('Tensor', True)

Rules:
- A ufunc or function listed in ``UFUNCS``/``FUNCTIONS`` dispatches to the minigrad op of the
  same meaning, with NumPy's argument names (``np.sum(t, axis=0, keepdims=True)``).
- Functions that only inspect (``np.shape``, ``np.allclose``, ``np.array_equal``...) run on the
  data and return what NumPy returns.
- Anything else raises TypeError naming the function: nothing silently leaves the graph.
  ``out=``, ``where=`` and ufunc methods other than a plain call (``np.add.at``) are refused the
  same way. ``np.asarray(t)``/``np.array(t)`` are not dispatched by NumPy: they give the data,
  without the graph, as documented for ``Tensor.__array__``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from . import ops
from .ops.linalg import svd, svdvals
from .tensor import Tensor


def _no_dtype(name: str, dtype: Any) -> None:
    if dtype is not None:
        raise TypeError(f"np.{name}(..., dtype=...) is not supported on Tensors; cast with .astype(dtype) first")


# --------------------------------------------------------------------------- ufuncs (NEP 13)

def _data(x):
    return x.data if isinstance(x, Tensor) else x


def _constant(array) -> Tensor:
    """A result outside the graph (comparisons and tests give bool tensors, as the operators do)."""
    return Tensor._make(np.asarray(array), False, None)


def _compare(fn: Callable) -> Callable:
    def compare(a, b):
        return _constant(fn(_data(a), _data(b)))

    return compare


UFUNCS: dict[np.ufunc, Callable] = {
    np.add: ops.add,
    np.subtract: ops.sub,
    np.multiply: ops.mul,
    np.true_divide: ops.div,
    np.power: ops.pow,
    np.negative: ops.neg,
    np.positive: lambda a: a,
    np.matmul: ops.matmul,
    np.exp: ops.exp,
    np.log: ops.log,
    np.sqrt: ops.sqrt,
    np.absolute: ops.abs,
    np.tanh: ops.tanh,
    np.maximum: ops.maximum,
    np.minimum: ops.minimum,
    np.equal: _compare(np.equal),
    np.not_equal: _compare(np.not_equal),
    np.less: _compare(np.less),
    np.less_equal: _compare(np.less_equal),
    np.greater: _compare(np.greater),
    np.greater_equal: _compare(np.greater_equal),
    np.sign: ops.sign,  # its gradient is 0 wherever it has one, as floor/ceil/trunc/rint
    np.sin: ops.sin, np.cos: ops.cos, np.tan: ops.tan, np.arcsin: ops.arcsin, np.arccos: ops.arccos,
    np.arctan: ops.arctan, np.sinh: ops.sinh, np.cosh: ops.cosh, np.arcsinh: ops.arcsinh,
    np.arccosh: ops.arccosh, np.arctanh: ops.arctanh, np.log2: ops.log2, np.log10: ops.log10,
    np.log1p: ops.log1p, np.exp2: ops.exp2, np.expm1: ops.expm1, np.square: ops.square,
    np.reciprocal: ops.reciprocal, np.floor: ops.floor, np.ceil: ops.ceil, np.trunc: ops.trunc,
    np.rint: ops.round, np.arctan2: ops.arctan2, np.hypot: ops.hypot, np.logaddexp: ops.logaddexp,
    np.copysign: ops.copysign, np.fmod: ops.fmod, np.remainder: ops.remainder,
    np.isnan: lambda a: _constant(np.isnan(_data(a))),
    np.isinf: lambda a: _constant(np.isinf(_data(a))),
    np.isfinite: lambda a: _constant(np.isfinite(_data(a))),
}


def array_ufunc(ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
    """``Tensor.__array_ufunc__``: a plain call of a listed ufunc runs the minigrad op."""
    name = f"np.{ufunc.__name__}"
    if method != "__call__":
        raise TypeError(f"{name}.{method} is not supported on Tensors (only plain calls of ufuncs are)")
    for key in ("out", "where"):
        if kwargs.get(key) is not None:
            raise TypeError(f"{name}(..., {key}=...) is not supported on Tensors: write the result to a new Tensor")
    unknown = set(kwargs) - {"out", "where", "dtype"}
    if unknown:
        raise TypeError(f"{name}: the keyword arguments {sorted(unknown)} are not supported on Tensors")
    _no_dtype(ufunc.__name__, kwargs.get("dtype"))
    op = UFUNCS.get(ufunc)
    if op is None:
        raise TypeError(f"{name} has no minigrad equivalent, so it cannot take a Tensor "
                        "(use t.numpy() to leave the graph on purpose)")
    return op(*inputs)


# --------------------------------------------------------------------------- functions (NEP 18)

def _reduction(op: Callable, name: str) -> Callable:
    def reduce(a, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
        _no_dtype(name, dtype)
        if out is not None or kwargs:
            raise TypeError(f"np.{name}: {sorted(kwargs) or ['out']} not supported on Tensors")
        return op(a, axis=axis, keepdims=keepdims)

    return reduce


def _sum(a, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    """``np.sum``: ``dtype=`` casts first and accumulates in it, as NumPy."""
    if out is not None or kwargs:
        raise TypeError(f"np.sum: {sorted(kwargs) or ['out']} not supported on Tensors")
    return ops.sum(a, axis=axis, keepdims=keepdims, dtype=dtype)


def _scan(op: Callable, name: str) -> Callable:
    def scan(a, axis=None, dtype=None, out=None):
        _no_dtype(name, dtype)
        if out is not None:
            raise TypeError(f"np.{name}(..., out=...) is not supported on Tensors")
        return op(a, axis=axis)

    return scan


def _spread(op: Callable, name: str) -> Callable:
    def spread(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kwargs):
        _no_dtype(name, dtype)
        if out is not None or kwargs:
            raise TypeError(f"np.{name}: {sorted(kwargs) or ['out']} not supported on Tensors")
        return op(a, axis=axis, ddof=ddof, keepdims=keepdims)

    return spread


def _extremum(op: Callable, name: str) -> Callable:
    def extremum(a, axis=None, out=None, keepdims=False, **kwargs):
        if out is not None or kwargs:
            raise TypeError(f"np.{name}: {sorted(kwargs) or ['out']} not supported on Tensors")
        return op(a, axis=axis, keepdims=keepdims)

    return extremum


def _concatenate(arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    _no_dtype("concatenate", dtype)
    if out is not None:
        raise TypeError("np.concatenate(..., out=...) is not supported on Tensors")
    return ops.concat(list(arrays), axis=axis)


def _stack(arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    _no_dtype("stack", dtype)
    if out is not None:
        raise TypeError("np.stack(..., out=...) is not supported on Tensors")
    return ops.stack(list(arrays), axis=axis)


def _where(condition, x=None, y=None):
    if x is None or y is None:
        raise TypeError("np.where(condition) with one argument gives indices: use np.nonzero(t.numpy())")
    return ops.where(condition, x, y)


def _clip(a, a_min=None, a_max=None, out=None, **kwargs):
    if out is not None or kwargs:
        raise TypeError(f"np.clip: {sorted(kwargs) or ['out']} not supported on Tensors")
    return ops.clip(a, a_min, a_max)


def _pad(array, pad_width, mode="constant", constant_values=0, **kwargs):
    if mode not in ("constant", "reflect", "edge", "wrap") or kwargs:
        raise TypeError(f"np.pad(mode={mode!r}, {sorted(kwargs)}) is not supported on Tensors; minigrad pads with "
                        "mode 'constant' (constant_values), 'reflect', 'edge' or 'wrap'")
    return ops.pad(array, pad_width, value=constant_values, mode=mode)


def _like(factory: Callable, name: str) -> Callable:
    def like(a, *args, dtype=None, order="K", subok=True, shape=None, **kwargs):
        if shape is not None:
            raise TypeError(f"np.{name}(..., shape=...) is not supported on Tensors")
        return factory(a, *args, dtype=dtype)

    return like


def _expand_dims(a, axis):
    """``np.expand_dims`` with one axis or a tuple of them (positions in the result)."""
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    ndim = a.ndim + len(axes)
    for ax in sorted(ax % ndim for ax in axes):
        a = ops.unsqueeze(a, ax)
    return a


def _einsum(subscripts, *operands, out=None, dtype=None, order="K", casting="safe", optimize=False):
    """``np.einsum`` in its string form (any ``optimize`` is fine: minigrad picks the order)."""
    _no_dtype("einsum", dtype)
    if out is not None or not isinstance(subscripts, str):
        raise TypeError("np.einsum on Tensors takes the subscripts as a string and no out=")
    return ops.einsum(subscripts, *operands)


def _inspect(function: Callable) -> Callable:
    """Run a function that only inspects (shape, equality) on the data."""
    def inspect(*args, **kwargs):
        return function(*(_data(a) for a in args), **{k: _data(v) for k, v in kwargs.items()})

    return inspect


FUNCTIONS: dict[Callable, Callable] = {
    np.sum: _sum,
    np.prod: _reduction(ops.prod, "prod"),
    np.cumsum: _scan(ops.cumsum, "cumsum"),
    np.cumprod: _scan(ops.cumprod, "cumprod"),
    np.sort: lambda a, axis=-1, kind=None, order=None, **kw: ops.sort(a, axis=axis),
    np.argsort: lambda a, axis=-1, kind=None, order=None, **kw: ops.argsort(a, axis=axis),
    np.mean: _reduction(ops.mean, "mean"),
    np.max: _extremum(ops.max, "max"),
    np.min: _extremum(ops.min, "min"),
    np.amax: _extremum(ops.max, "amax"),
    np.amin: _extremum(ops.min, "amin"),
    np.argmax: _extremum(ops.argmax, "argmax"),
    np.argmin: _extremum(ops.argmin, "argmin"),
    np.var: _spread(ops.var, "var"),
    np.std: _spread(ops.std, "std"),
    np.concatenate: _concatenate,
    np.stack: _stack,
    np.where: _where,
    np.clip: _clip,
    np.pad: _pad,
    np.reshape: lambda a, shape=None, order="C", **kw: ops.reshape(a, kw.get("newshape", shape)),
    np.transpose: lambda a, axes=None: ops.transpose(a, axes=None if axes is None else tuple(axes)),
    np.swapaxes: lambda a, axis1, axis2: ops.swapaxes(a, axis1, axis2),
    np.squeeze: lambda a, axis=None: ops.squeeze(a, axis),
    np.expand_dims: lambda a, axis: _expand_dims(a, axis),
    np.moveaxis: lambda a, source, destination: ops.moveaxis(a, source, destination),
    np.flip: lambda m, axis=None: ops.flip(m, axis),
    np.roll: lambda a, shift, axis=None: ops.roll(a, shift, axis),
    np.repeat: lambda a, repeats, axis=None: ops.repeat(a, repeats, axis),
    np.tile: lambda A, reps: ops.tile(A, reps),
    np.atleast_1d: ops.atleast_1d,
    np.atleast_2d: ops.atleast_2d,
    np.atleast_3d: ops.atleast_3d,
    np.tril: lambda m, k=0: ops.tril(m, k),
    np.triu: lambda m, k=0: ops.triu(m, k),
    np.diag: lambda v, k=0: ops.diag(v, k),
    np.diagonal: lambda a, offset=0, axis1=0, axis2=1: ops.diagonal(a, offset, axis1, axis2),
    np.trace: lambda a, offset=0, axis1=0, axis2=1, dtype=None, out=None: ops.trace(a, offset, axis1, axis2),
    np.meshgrid: lambda *xi, indexing="xy": ops.meshgrid(*xi, indexing=indexing),
    np.hstack: lambda tup, dtype=None, casting="same_kind": ops.hstack(list(tup)),
    np.vstack: lambda tup, dtype=None, casting="same_kind": ops.vstack(list(tup)),
    np.dstack: lambda tup: ops.dstack(list(tup)),
    np.array_split: lambda ary, indices_or_sections, axis=0: ops.array_split(ary, indices_or_sections, axis),
    np.isneginf: lambda x, out=None: _constant(np.isneginf(_data(x))),
    np.isposinf: lambda x, out=None: _constant(np.isposinf(_data(x))),
    np.broadcast_to: lambda array, shape, subok=False: ops.broadcast_to(array, shape),
    np.split: lambda ary, indices_or_sections, axis=0: ops.split(ary, indices_or_sections, axis),
    np.take_along_axis: lambda arr, indices, axis: ops.take_along_axis(arr, indices, axis),
    np.round: lambda a, decimals=0, out=None: ops.round(a, decimals),
    np.around: lambda a, decimals=0, out=None: ops.round(a, decimals),
    np.dot: lambda a, b, out=None: ops.dot(a, b),
    np.einsum: _einsum,
    np.tensordot: lambda a, b, axes=2: ops.tensordot(a, b, axes),
    np.inner: lambda a, b: ops.inner(a, b),
    np.outer: lambda a, b, out=None: ops.outer(a, b),
    np.kron: lambda a, b: ops.kron(a, b),
    np.linalg.norm: lambda x, ord=None, axis=None, keepdims=False: ops.norm(x, ord, axis, keepdims),
    np.linalg.svd: lambda a, full_matrices=True, compute_uv=True, hermitian=False:
        svd(a, full_matrices) if compute_uv else svdvals(a),
    np.linalg.svdvals: lambda x: svdvals(x),
    np.copy: lambda a, order="K", subok=False: a.clone(),
    np.zeros_like: _like(lambda a, dtype=None: _constant(np.zeros_like(_data(a), dtype=dtype)), "zeros_like"),
    np.ones_like: _like(lambda a, dtype=None: _constant(np.ones_like(_data(a), dtype=dtype)), "ones_like"),
    np.full_like: _like(lambda a, fill, dtype=None: _constant(np.full_like(_data(a), fill, dtype=dtype)), "full_like"),
    np.empty_like: _like(lambda a, dtype=None: _constant(np.empty_like(_data(a), dtype=dtype)), "empty_like"),
}

INSPECTING = (
    np.shape, np.ndim, np.size, np.result_type, np.allclose, np.isclose, np.array_equal, np.array_equiv,
    np.array2string, np.array_repr, np.array_str, np.may_share_memory, np.shares_memory, np.iscomplexobj,
    np.isrealobj, np.count_nonzero, np.nonzero, np.argwhere, np.flatnonzero, np.any, np.all,
)
FUNCTIONS.update({function: _inspect(function) for function in INSPECTING})


def array_function(func: Callable, types: tuple, args: tuple, kwargs: dict) -> Any:
    """``Tensor.__array_function__``: a listed NumPy function runs the minigrad op."""
    implementation = FUNCTIONS.get(func)
    if implementation is None:
        module = getattr(func, "__module__", None) or "numpy"
        name = f"{module.replace('numpy', 'np', 1)}.{func.__name__}"
        raise TypeError(f"{name} has no minigrad equivalent, so it cannot take a Tensor "
                        "(use t.numpy() to leave the graph on purpose)")
    return implementation(*args, **kwargs)
