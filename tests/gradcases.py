"""The op table: one ``Case`` per differentiable public op, fed to one Hypothesis factory.

Knobs per case: the shapes strategy (one shape per input), the value domain per
input, an ``exclude`` predicate for points where the op is not differentiable
(ties, kinks), keyword arguments drawn from the shapes, and tolerances.
Other test modules (nn, models) extend ``CASES`` with their own entries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg

Shapes = st.SearchStrategy  # strategy of a tuple of shapes, one per input


def unary(min_dims: int = 0, max_dims: int = 3, max_side: int = 4) -> Shapes:
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side).map(lambda s: (s,))


def broadcastable(n: int = 2, min_dims: int = 0, max_dims: int = 3) -> Shapes:
    return hnp.mutually_broadcastable_shapes(num_shapes=n, min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=3).map(
        lambda b: b.input_shapes
    )


def axis_kwargs(shapes: tuple, keepdims: bool = True) -> st.SearchStrategy:
    """axis None, one axis (possibly negative) or a tuple of axes; keepdims either way."""
    ndim = len(shapes[0])
    choices = [st.none()]
    if ndim:
        choices.append(st.integers(-ndim, ndim - 1))
        choices.append(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple))
    kw = {"axis": st.one_of(*choices)}
    if keepdims:
        kw["keepdims"] = st.booleans()
    return st.fixed_dictionaries(kw)


def one_axis(shapes: tuple) -> st.SearchStrategy:
    ndim = len(shapes[0])
    return st.fixed_dictionaries({"axis": st.integers(-ndim, ndim - 1)})


def no_kwargs(shapes: tuple) -> st.SearchStrategy:
    return st.just({})


@dataclass
class Case:
    """One row of the op table."""

    name: str
    fn: Callable[..., Any]  # fn(*tensors, **kwargs) -> Tensor
    shapes: Shapes = field(default_factory=unary)
    domain: Any = (-2.0, 2.0)  # (low, high) for every input, or a list with one pair per input
    exclude: Callable[..., bool] | None = None  # exclude(*arrays, **kwargs) -> True to skip the draw
    kwargs: Callable[[tuple], st.SearchStrategy] = no_kwargs
    atol: float = 1e-5
    rtol: float = 1e-3
    eps: float = 1e-6
    custom: st.SearchStrategy | None = None  # draws (fn, arrays) itself, for ops with index arguments


def _far_apart(*arrays, gap=1e-3, **_):
    """True when two broadcast values tie (within gap): a non-differentiable point."""
    a, b = np.broadcast_arrays(*arrays[:2])
    return bool(np.any(np.abs(a - b) < gap))


def _has_ties(a, axis=None, keepdims=False, gap=1e-3):
    flat = np.sort(a.reshape(-1))
    return bool(np.any(np.diff(flat) < gap))


def _near(values, *points, gap=1e-3):
    return bool(any(np.any(np.abs(values - p) < gap) for p in points))


def matmul_shapes() -> Shapes:
    @st.composite
    def draw(draw):
        n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
        kind = draw(st.sampled_from(["vv", "mv", "vm", "mm", "bmm", "broadcast"]))
        if kind == "vv":
            return ((k,), (k,))
        if kind == "mv":
            return ((n, k), (k,))
        if kind == "vm":
            return ((k,), (2, k, m))
        if kind == "mm":
            return ((n, k), (k, m))
        if kind == "bmm":
            return ((2, n, k), (2, k, m))
        return ((2, 1, n, k), (3, k, m))

    return draw()


def _values(draw, shape, low=-2.0, high=2.0):
    return draw(hnp.arrays(np.float64, shape, elements=st.floats(low, high, allow_nan=False, allow_infinity=False)))


@st.composite
def _getitem_case(draw):
    """A shape and an index exercising ints, slices (negative steps), None, ..., int arrays, masks."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    kind = draw(st.sampled_from(["basic", "ints", "mask", "mixed"]))
    if kind == "basic":
        idx = draw(hnp.basic_indices(shape, min_dims=0, allow_newaxis=True, allow_ellipsis=True))
    elif kind == "ints":
        idx = np.asarray(draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=1, max_size=6)))
    elif kind == "mask":
        idx = draw(hnp.arrays(np.bool_, shape[:1]))
    else:
        idx = (slice(None, None, -1), np.asarray(draw(st.lists(st.integers(0, shape[1] - 1), min_size=1, max_size=4)))) if len(
            shape
        ) > 1 else np.asarray([0, 0])
    return (lambda a: a[idx]), [_values(draw, shape)]


@st.composite
def _take_along_axis_case(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    axis = draw(st.integers(0, len(shape) - 1))
    idx_shape = list(shape)
    idx_shape[axis] = draw(st.integers(1, 5))  # longer than the axis: repeated indices
    idx = draw(hnp.arrays(np.int64, tuple(idx_shape), elements=st.integers(0, shape[axis] - 1)))
    return (lambda a: mg.take_along_axis(a, idx, axis)), [_values(draw, shape)]


@st.composite
def _concat_case(draw):
    base = list(draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)))
    axis = draw(st.integers(-len(base), len(base) - 1))
    shapes = []
    for _ in range(draw(st.integers(1, 3))):
        s = list(base)
        s[axis] = draw(st.integers(1, 3))
        shapes.append(tuple(s))
    return (lambda *ts: mg.concat(list(ts), axis=axis)), [_values(draw, s) for s in shapes]


def _pad_width(shapes):
    ndim = len(shapes[0])
    pair = st.tuples(st.integers(0, 2), st.integers(0, 2))
    return st.fixed_dictionaries({"pad_width": st.lists(pair, min_size=ndim, max_size=ndim).map(tuple), "value": st.floats(-1, 1)})


def _transpose_axes(shapes):
    ndim = len(shapes[0])
    return st.fixed_dictionaries({"axes": st.permutations(range(ndim)).map(tuple)})


@st.composite
def _cross_entropy_case(draw):
    lead = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    classes = draw(st.integers(1, 4))
    target = draw(hnp.arrays(np.int64, lead, elements=st.integers(0, classes - 1)))
    ignore = draw(st.sampled_from([None, 0]))
    smoothing = draw(st.sampled_from([0.0, 0.1]))
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    fn = lambda x: mg.functional.cross_entropy(x, target, ignore_index=ignore, label_smoothing=smoothing,  # noqa: E731
                                               reduction=reduction)
    return fn, [_values(draw, lead + (classes,), -3, 3)]


@st.composite
def _nll_case(draw):
    n, classes = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    target = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, classes - 1)))
    ignore = draw(st.sampled_from([None, 0]))
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    return (lambda x: mg.functional.nll_loss(x, target, ignore_index=ignore, reduction=reduction)), [
        _values(draw, (n, classes))]


@st.composite
def _embedding_case(draw):
    num, dim = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    idx = draw(hnp.arrays(np.int64, draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=4)), elements=st.integers(0, num - 1)))
    padding = draw(st.sampled_from([None, 0]))
    # the padding row gets no gradient by design, so its lookups are masked out of the output
    keep = np.ones(idx.shape + (1,)) if padding is None else (idx != padding)[..., None].astype(np.float64)
    return (lambda w: mg.functional.embedding(idx, w, padding_idx=padding) * keep), [_values(draw, (num, dim))]


@st.composite
def _layer_norm_case(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=4))
    k = draw(st.integers(1, len(shape)))
    norm = shape[len(shape) - k:]
    affine = draw(st.booleans())
    if affine:
        return (lambda x, w, b: mg.functional.layer_norm(x, norm, w, b)), [
            _values(draw, shape), _values(draw, norm), _values(draw, norm)]
    return (lambda x: mg.functional.layer_norm(x, norm)), [_values(draw, shape)]


@st.composite
def _linear_case(draw):
    lead = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3))
    n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    if draw(st.booleans()):
        return mg.functional.linear, [_values(draw, lead + (n_in,)), _values(draw, (n_out, n_in)), _values(draw, (n_out,))]
    return mg.functional.linear, [_values(draw, lead + (n_in,)), _values(draw, (n_out, n_in))]


def _seeded_dropout(x, p):
    mg.manual_seed(7)  # the same mask at every evaluation
    return mg.functional.dropout(x, p, training=True)


CASES: list[Case] = [
    # arithmetic
    Case("add", lambda a, b: a + b, broadcastable()),
    Case("sub", lambda a, b: a - b, broadcastable()),
    Case("mul", lambda a, b: a * b, broadcastable()),
    Case("div", lambda a, b: a / b, broadcastable(), domain=[(-2, 2), (0.5, 2)]),
    Case("pow", lambda a, b: a**b, broadcastable(), domain=[(0.5, 2), (-2, 2)]),
    Case("neg", lambda a: -a),
    Case("matmul", lambda a, b: a @ b, matmul_shapes()),
    # unary functions
    Case("exp", mg.exp),
    Case("log", mg.log, domain=(0.5, 3)),
    Case("sqrt", mg.sqrt, domain=(0.5, 3)),
    Case("abs", mg.abs, exclude=lambda a: _near(a, 0)),
    Case("tanh", mg.tanh),
    Case("sigmoid", mg.sigmoid, domain=(-6, 6)),
    Case("relu", mg.relu, exclude=lambda a: _near(a, 0)),
    Case("gelu", lambda a, approximate: mg.gelu(a, approximate=approximate), domain=(-4, 4),
         kwargs=lambda s: st.fixed_dictionaries({"approximate": st.sampled_from(["none", "tanh"])})),
    # selection
    Case("maximum", mg.maximum, broadcastable(), exclude=_far_apart),
    Case("minimum", mg.minimum, broadcastable(), exclude=_far_apart),
    Case("clip", lambda a: mg.clip(a, -0.5, 0.7), exclude=lambda a: _near(a, -0.5, 0.7)),
    Case("where", lambda a, b: mg.where(mg.tensor(a.data > 0), a, b), broadcastable(), exclude=lambda a, b: _near(a, 0)),
    Case("masked_fill", lambda a: mg.masked_fill(a, mg.tensor(a.data > 0.3), -1.5), exclude=lambda a: _near(a, 0.3)),
    # float32 rounding (~1e-7) needs a larger step to stay below the tolerance
    Case("astype", lambda a: mg.astype(a, np.float32) * mg.astype(a, np.float32), eps=1e-2, atol=1e-3),
    # reductions
    Case("sum", lambda a, **kw: mg.sum(a, **kw), kwargs=axis_kwargs),
    Case("mean", lambda a, **kw: mg.mean(a, **kw), kwargs=axis_kwargs),
    Case("max", lambda a, **kw: mg.max(a, **kw), kwargs=axis_kwargs, exclude=lambda a, **kw: _has_ties(a)),
    Case("min", lambda a, **kw: mg.min(a, **kw), kwargs=axis_kwargs, exclude=lambda a, **kw: _has_ties(a)),
    Case("var", lambda a, **kw: mg.var(a, **kw), kwargs=axis_kwargs),
    Case("std", lambda a, **kw: mg.std(a, **kw), unary(min_dims=1), kwargs=lambda s: st.fixed_dictionaries(
        {"axis": st.just(-1), "ddof": st.sampled_from([0])}), exclude=lambda a, **kw: a.shape[-1] < 2 or _has_ties(a, gap=0.05)),
    Case("logsumexp", lambda a, **kw: mg.logsumexp(a, **kw), kwargs=axis_kwargs),
    Case("softmax", lambda a, axis: mg.softmax(a, axis=axis), unary(min_dims=1), kwargs=one_axis),
    Case("log_softmax", lambda a, axis: mg.log_softmax(a, axis=axis), unary(min_dims=1), kwargs=one_axis),
    # shape
    Case("reshape", lambda a: a.reshape(-1, 1), unary()),
    Case("transpose", lambda a, axes: a.transpose(*axes), kwargs=_transpose_axes),
    Case("permute", lambda a, axes: a.permute(*axes) if axes else a.transpose(), kwargs=_transpose_axes),
    Case("swapaxes", lambda a: mg.swapaxes(a, 0, -1), unary(min_dims=1)),
    Case("squeeze", lambda a: mg.squeeze(a.reshape((1,) + a.shape + (1,)))),
    Case("unsqueeze", lambda a, axis: mg.unsqueeze(a, axis), kwargs=lambda s: st.fixed_dictionaries(
        {"axis": st.integers(-len(s[0]) - 1, len(s[0]))})),
    Case("expand", lambda a: mg.expand(a.reshape(a.shape + (1,)), *(2,) + a.shape + (3,))),
    Case("broadcast_to", lambda a: mg.broadcast_to(a, (2,) + a.shape)),
    Case("flatten", lambda a: mg.flatten(a), unary()),
    Case("getitem", None, custom=_getitem_case()),
    Case("take_along_axis", None, custom=_take_along_axis_case()),
    Case("concat", None, custom=_concat_case()),
    Case("stack", lambda a, b, c: mg.stack([a, b, c], axis=-1), st.shared(unary(), key="stack").map(lambda s: s * 3)),
    Case("split", lambda a: mg.split(a, [1, 3], axis=0)[1] * 2 + mg.split(a, [1, 3], axis=0)[0].sum(), unary(min_dims=1)),
    Case("chunk", lambda a: mg.chunk(a, 2, axis=-1)[-1].sum() * mg.chunk(a, 2, axis=-1)[0].mean(), unary(min_dims=1)),
    Case("pad", lambda a, **kw: mg.pad(a, **kw), unary(min_dims=1), kwargs=_pad_width),
    # neural-network functions
    Case("cross_entropy", None, custom=_cross_entropy_case()),
    Case("nll_loss", None, custom=_nll_case()),
    Case("mse_loss", lambda a, b, **kw: mg.functional.mse_loss(a, b, **kw), st.shared(unary(), key="mse").map(lambda s: s * 2),
         kwargs=lambda s: st.fixed_dictionaries({"reduction": st.sampled_from(["mean", "sum", "none"])})),
    Case("embedding", None, custom=_embedding_case()),
    Case("layer_norm", None, custom=_layer_norm_case()),
    Case("linear", None, custom=_linear_case()),
    Case("dropout", _seeded_dropout, kwargs=lambda s: st.fixed_dictionaries({"p": st.sampled_from([0.0, 0.3, 1.0])})),
]

# Ops whose output carries no gradient, listed explicitly (HIPS autograd style).
NON_DIFFERENTIABLE = {"argmax", "argmin"}
