"""Hypothesis strategies for the op table in ``minigrad.optable``.

The table (``minigrad.optable.OPS``) owns each op's ``fn``, value domain, ``exclude``
predicate and tolerances; this file adds only what Hypothesis draws for it: one strategy
per op name giving ``(shapes, kwargs)``, one shape per tensor input and the keyword
arguments ``fn`` takes (axes, index arrays, targets, masks, flags). The gradient suite
(tests/test_gradients.py) draws values in the entry's domain and gradchecks ``fn``.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minigrad import optable

Draw = st.SearchStrategy  # of (shapes, kwargs)


# ---------------------------------------------------------------- building blocks


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4) -> st.SearchStrategy:
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def unary(min_dims: int = 0, max_dims: int = 3, max_side: int = 4) -> Draw:
    """One input of any small shape (0-d included), no keyword arguments."""
    return shapes(min_dims, max_dims, max_side=max_side).map(lambda s: ((s,), {}))


def broadcastable(n: int = 2) -> st.SearchStrategy:
    """``n`` mutually broadcastable shapes (0-d and size-1 axes included)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=n, min_dims=0, max_dims=3, min_side=1, max_side=3).map(
        lambda b: b.input_shapes)


def binary() -> Draw:
    return broadcastable(2).map(lambda s: (s, {}))


def with_kwargs(shape_strategy: st.SearchStrategy, kwargs_for) -> Draw:
    """One input drawn from ``shape_strategy``; ``kwargs_for(shape)`` is a strategy of kwargs."""
    return shape_strategy.flatmap(lambda s: kwargs_for(s).map(lambda kw: ((s,), kw)))


def axis_kwargs(shape: tuple, ddof: bool = False) -> st.SearchStrategy:
    """axis None, one axis (possibly negative) or a tuple of axes; keepdims either way."""
    ndim = len(shape)
    choices = [st.none()]
    if ndim:
        choices.append(st.integers(-ndim, ndim - 1))
        choices.append(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple))
    kw = {"axis": st.one_of(*choices), "keepdims": st.booleans()}
    if ddof:
        kw["ddof"] = st.sampled_from([0, 1])
    return st.fixed_dictionaries(kw)


def one_axis(shape: tuple) -> st.SearchStrategy:
    """An axis of ``shape``, possibly negative; a 0-d shape takes 0 or -1, as PyTorch."""
    ndim = max(len(shape), 1)
    return st.fixed_dictionaries({"axis": st.integers(-ndim, ndim - 1)})


def reduction() -> st.SearchStrategy:
    return st.sampled_from(["mean", "sum", "none"])


def int_array(shape: tuple, low: int, high: int) -> st.SearchStrategy:
    return hnp.arrays(np.int64, shape, elements=st.integers(low, high))


def same_shapes(n: int, shape_strategy: st.SearchStrategy | None = None) -> st.SearchStrategy:
    return (shape_strategy or shapes()).map(lambda s: (s,) * n)


# ---------------------------------------------------------------- ops with structured arguments


@st.composite
def _where(draw):
    cond, a, b = draw(broadcastable(3))
    return (a, b), {"condition": draw(hnp.arrays(np.bool_, cond))}


@st.composite
def _masked_fill(draw):
    shape = draw(shapes())
    mask_shape = shape[draw(st.integers(0, len(shape))):]  # a trailing part broadcasts
    return (shape,), {"mask": draw(hnp.arrays(np.bool_, mask_shape)), "value": draw(st.floats(-2, 2))}


@st.composite
def _clip(draw):
    """Scalar bounds, or one or both bounds as tensors (broadcasting with the input)."""
    scalars = zip(("a_min", "a_max"), draw(st.sampled_from([(-0.5, 0.7), (None, 0.3), (0.0, None)])))
    tensor_bounds = draw(st.sampled_from([(), ("a_min",), ("a_max",), ("a_min", "a_max")]))
    kwargs = {k: v for k, v in scalars if v is not None and k not in tensor_bounds}
    return draw(broadcastable(1 + len(tensor_bounds))), {"tensor_bounds": tensor_bounds, **kwargs}


@st.composite
def _std(draw):
    shape = draw(shapes(min_dims=1))
    return (shape,), draw(axis_kwargs(shape, ddof=True))


@st.composite
def _matmul(draw):
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    kind = draw(st.sampled_from(["vv", "mv", "vm", "mm", "bmm", "broadcast"]))
    pairs = {
        "vv": ((k,), (k,)),
        "mv": ((n, k), (k,)),
        "vm": ((k,), (2, k, m)),
        "mm": ((n, k), (k, m)),
        "bmm": ((2, n, k), (2, k, m)),
        "broadcast": ((2, 1, n, k), (3, k, m)),
    }
    return pairs[kind], {}


@st.composite
def _reshape(draw):
    shape = draw(shapes())
    return (shape,), {"shape": draw(st.sampled_from([(-1, 1), (-1,), (1, -1, 1)]))}


def _permutation(shape: tuple) -> st.SearchStrategy:
    return st.fixed_dictionaries({"axes": st.permutations(range(len(shape))).map(tuple)})


def _transpose_axes(shape: tuple) -> st.SearchStrategy:
    """A permutation, passed positionally or as ``axes=`` (NumPy's keyword)."""
    return st.fixed_dictionaries({"axes": st.permutations(range(len(shape))).map(tuple), "keyword": st.booleans()})


@st.composite
def _swapaxes(draw):
    shape = draw(shapes(min_dims=1))
    axis = st.integers(-len(shape), len(shape) - 1)
    return (shape,), {"axis1": draw(axis), "axis2": draw(axis)}


@st.composite
def _squeeze(draw):
    shape = list(draw(shapes(max_dims=3, max_side=3)))
    shape.insert(draw(st.integers(0, len(shape))), 1)  # at least one length-1 axis
    ones = [i for i, s in enumerate(shape) if s == 1]
    axis = draw(st.one_of(st.none(), st.sampled_from(ones), st.sampled_from(ones).map(lambda i: i - len(shape))))
    return (tuple(shape),), {"axis": axis}


@st.composite
def _unsqueeze(draw):
    shape = draw(shapes())
    return (shape,), {"axis": draw(st.integers(-len(shape) - 1, len(shape)))}


@st.composite
def _broadcast_target(draw):
    """A shape with length-1 axes and a target that repeats them and prepends one axis."""
    shape = draw(shapes(max_side=3))
    target = (2,) + tuple(draw(st.sampled_from([1, 3])) if s == 1 else s for s in shape)
    return shape, target


@st.composite
def _expand(draw):
    shape, target = draw(_broadcast_target())
    keep = tuple(-1 if draw(st.booleans()) else t for t in target[1:])  # -1 keeps the axis's size
    return (shape,), {"shape": target if draw(st.booleans()) else (target[0],) + keep}


@st.composite
def _broadcast_to(draw):
    shape, target = draw(_broadcast_target())
    if len(shape) <= 1 and draw(st.booleans()):  # an int shape, as numpy.broadcast_to takes
        return (shape,), {"shape": shape[0] if shape and shape[0] > 1 else draw(st.sampled_from([1, 3]))}
    return (shape,), {"shape": target}


@st.composite
def _flatten(draw):
    shape = draw(shapes())
    if not shape:
        return (shape,), {}
    start = draw(st.integers(0, len(shape) - 1))
    return (shape,), {"start_axis": start, "end_axis": draw(st.integers(start, len(shape) - 1))}


@st.composite
def _getitem(draw):
    """An index exercising ints, slices (negative steps), None, ..., int arrays, masks."""
    shape = draw(shapes(min_dims=1))
    kind = draw(st.sampled_from(["basic", "ints", "mask", "mixed"]))
    if kind == "basic":
        index = draw(hnp.basic_indices(shape, min_dims=0, allow_newaxis=True, allow_ellipsis=True))
    elif kind == "ints":  # repeated indices: backward scatter-adds
        index = np.asarray(draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=1, max_size=6)))
    elif kind == "mask":
        index = draw(hnp.arrays(np.bool_, shape[:1]))
    elif len(shape) > 1:
        columns = draw(st.lists(st.integers(0, shape[1] - 1), min_size=1, max_size=4))
        index = (slice(None, None, -1), np.asarray(columns))
    else:
        index = np.asarray([0, 0])
    return (shape,), {"index": index}


@st.composite
def _take_along_axis(draw):
    shape = draw(shapes(min_dims=1))
    axis = draw(st.integers(0, len(shape) - 1))
    idx_shape = list(shape)
    idx_shape[axis] = draw(st.integers(1, 5))  # longer than the axis: repeated indices
    return (shape,), {"indices": draw(int_array(tuple(idx_shape), 0, shape[axis] - 1)), "axis": axis}


@st.composite
def _concat(draw):
    if draw(st.booleans()):  # axis=None flattens any shapes first
        return tuple(draw(st.lists(shapes(max_side=3), min_size=1, max_size=3))), {"axis": None}
    base = list(draw(shapes(min_dims=1, max_side=3)))
    axis = draw(st.integers(-len(base), len(base) - 1))
    out = []
    for _ in range(draw(st.integers(1, 3))):
        s = list(base)
        s[axis] = draw(st.integers(1, 3))
        out.append(tuple(s))
    return tuple(out), {"axis": axis}


@st.composite
def _stack(draw):
    shape = draw(shapes())
    n = draw(st.integers(1, 3))
    return (shape,) * n, {"axis": draw(st.integers(-len(shape) - 1, len(shape)))}


@st.composite
def _split(draw):
    shape = draw(shapes(min_dims=1))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    size = shape[axis]
    divisors = [n for n in range(1, size + 1) if size % n == 0]
    # indices are slice bounds: negative, out of range and decreasing ones included
    sections = draw(st.one_of(st.sampled_from(divisors),
                              st.lists(st.integers(-size - 1, size + 1), min_size=1, max_size=3)))
    return (shape,), {"sections_or_indices": sections, "axis": axis}


@st.composite
def _chunk(draw):
    shape = draw(shapes(min_dims=1))
    return (shape,), {"chunks": draw(st.integers(1, 4)), "axis": draw(st.integers(-len(shape), len(shape) - 1))}


@st.composite
def _pad(draw):
    shape = draw(shapes(min_dims=1))
    pair = st.tuples(st.integers(0, 2), st.integers(0, 2))
    width = draw(st.lists(pair, min_size=len(shape), max_size=len(shape)).map(tuple))
    mode = draw(st.sampled_from(["constant", "reflect", "edge", "wrap", "replicate", "circular"]))
    return (shape,), {"pad_width": width, "value": draw(st.floats(-1, 1)), "mode": mode}


def _some_axes(shape: tuple) -> st.SearchStrategy:
    """None, one axis (possibly negative) or a tuple of distinct axes of ``shape``."""
    choices = [st.none()]
    if shape:
        choices += [st.integers(-len(shape), len(shape) - 1),
                    st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape), unique=True).map(tuple)]
    return st.one_of(*choices)


@st.composite
def _flip(draw):
    shape = draw(shapes())
    return (shape,), {"axis": draw(_some_axes(shape))}


@st.composite
def _roll(draw):
    shape = draw(shapes())
    axis = draw(_some_axes(shape))
    count = len(axis) if isinstance(axis, tuple) else 1
    shift = tuple(draw(st.lists(st.integers(-5, 5), min_size=count, max_size=count)))
    return (shape,), {"shift": shift[0] if count == 1 and draw(st.booleans()) else shift, "axis": axis}


@st.composite
def _repeat(draw):
    shape = draw(shapes())
    if not shape or draw(st.booleans()):
        return (shape,), {"repeats": draw(st.integers(0, 3))}
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    return (shape,), {"repeats": draw(int_array((shape[axis],), 0, 2)), "axis": axis}


@st.composite
def _tile(draw):
    return (draw(shapes(max_side=3)),), {"reps": tuple(draw(st.lists(st.integers(0, 2), min_size=1, max_size=3)))}


@st.composite
def _moveaxis(draw):
    shape = draw(shapes(min_dims=1))
    n = draw(st.integers(1, len(shape)))
    source = draw(st.permutations(range(len(shape))))[:n]
    destination = draw(st.permutations(range(len(shape))))[:n]
    return (shape,), {"source": tuple(source), "destination": tuple(destination)}


@st.composite
def _unflatten(draw):
    shape = list(draw(shapes(min_dims=1)))
    axis = draw(st.integers(0, len(shape) - 1))
    inner = draw(st.integers(1, 3))
    shape[axis] *= inner
    return (tuple(shape),), {"axis": axis, "sizes": (-1, inner)}


def _joined(min_dims: int):
    """Shapes that ``hstack``/``vstack``/``dstack`` accept: equal but for the joining axis."""
    @st.composite
    def draw_shapes(draw):
        base = draw(shapes(max_side=3))
        n = draw(st.integers(1, 3))
        if len(base) < min_dims:
            return (base,) * n, {}
        axis = {1: 0 if len(base) == 1 else 1, 2: 0, 3: 2}[min_dims]
        out = []
        for _ in range(n):
            s = list(base)
            s[axis] = draw(st.integers(1, 3))
            out.append(tuple(s))
        return tuple(out), {}

    return draw_shapes()


@st.composite
def _array_split(draw):
    shape = draw(shapes(min_dims=1))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    return (shape,), {"sections_or_indices": draw(st.integers(1, 5)), "axis": axis}


@st.composite
def _meshgrid(draw):
    n = draw(st.integers(1, 3))
    return tuple((draw(st.integers(1, 3)),) for _ in range(n)), {"indexing": draw(st.sampled_from(["xy", "ij"]))}


@st.composite
def _triangle(draw):
    return (draw(shapes(min_dims=2)),), {"k": draw(st.integers(-3, 3))}


@st.composite
def _diagonal(draw):
    shape = draw(shapes(min_dims=2))
    axis1, axis2 = draw(st.permutations(range(len(shape))))[:2]
    return (shape,), {"offset": draw(st.integers(-3, 3)), "axis1": axis1, "axis2": axis2}


@st.composite
def _diag(draw):
    return (draw(shapes(min_dims=1, max_dims=2)),), {"k": draw(st.integers(-2, 2))}


@st.composite
def _gather(draw):
    shape = draw(shapes(min_dims=1))
    axis = draw(st.integers(0, len(shape) - 1))
    index_shape = tuple(draw(st.integers(1, 4)) if i == axis else draw(st.integers(1, s)) for i, s in enumerate(shape))
    return (shape,), {"axis": axis, "index": draw(int_array(index_shape, -shape[axis], shape[axis] - 1))}


@st.composite
def _scatter(draw):
    """A target, an index no larger than it outside ``axis``, and a source at least the index's size."""
    (shape,), kwargs = draw(_gather())
    src = tuple(n + draw(st.integers(0, 1)) for n in kwargs["index"].shape)
    return (shape, src), kwargs


@st.composite
def _put_along_axis(draw):
    shape = draw(shapes(min_dims=1))
    axis = draw(st.integers(0, len(shape) - 1))
    index_shape = tuple(draw(st.integers(1, 3)) if i == axis else draw(st.sampled_from([1, s])) for i, s in enumerate(shape))
    values_shape = draw(st.sampled_from([index_shape, (), index_shape[-1:]]))
    return (shape, values_shape), {"indices": draw(int_array(index_shape, 0, shape[axis] - 1)), "axis": axis}


@st.composite
def _masked_select(draw):
    shape = draw(shapes())
    mask_shape = shape[draw(st.integers(0, len(shape))):]
    return (shape,), {"mask": draw(hnp.arrays(np.bool_, mask_shape))}


@st.composite
def _einsum(draw):
    """1-3 operands over the labels a-d (repeats in one operand: diagonals), sometimes a leading
    ``...`` (broadcast batch axes), an explicit or implicit output."""
    n = draw(st.integers(1, 3))
    size = {c: draw(st.integers(1, 3)) for c in "abcd"}
    terms = [draw(st.lists(st.sampled_from("abcd"), min_size=0, max_size=3)) for _ in range(n)]
    batch = draw(st.sampled_from([(), (2,), (1, 2)])) if draw(st.booleans()) else None
    shapes, texts = [], []
    for term in terms:
        shape = tuple(size[c] for c in term)
        text = "".join(term)
        if batch is not None and draw(st.booleans()):
            lead = batch[len(batch) - draw(st.integers(0, len(batch))):]
            lead = tuple(1 if draw(st.booleans()) else m for m in lead)  # size 1 broadcasts
            shape, text = lead + shape, "..." + text
        shapes.append(shape)
        texts.append(text)
    subscripts = ",".join(texts)
    if draw(st.booleans()):
        used = sorted(set("".join("".join(t) for t in terms)))
        out = draw(st.lists(st.sampled_from(used), unique=True)) if used else []
        ellipsis = "..." if any("..." in t for t in texts) else ""
        subscripts += "->" + ellipsis + "".join(out)
    return tuple(shapes), {"subscripts": subscripts}


@st.composite
def _tensordot(draw):
    free_a = draw(shapes(max_dims=2, max_side=3))
    free_b = draw(shapes(max_dims=2, max_side=3))
    summed = draw(shapes(max_dims=2, max_side=3))
    if draw(st.booleans()):
        return (free_a + summed, summed + free_b), {"axes": len(summed)}
    a, b = summed + free_a, free_b + summed
    axes = (list(range(len(summed))), [len(free_b) + k for k in range(len(summed))])
    return (a, b), {"axes": axes}


@st.composite
def _dot(draw):
    kind = draw(st.sampled_from(["scalar", "vv", "mv", "mm", "nd"]))
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    return {"scalar": ((), draw(shapes(max_side=3))), "vv": ((k,), (k,)), "mv": ((n, k), (k,)),
            "mm": ((n, k), (k, m)), "nd": ((2, n, k), (m, k, 2))}[kind], {}


@st.composite
def _inner(draw):
    k = draw(st.integers(1, 3))
    if draw(st.booleans()):
        return ((), draw(shapes(max_side=3))), {}
    return (draw(shapes(max_dims=2, max_side=3)) + (k,), draw(shapes(max_dims=1, max_side=3)) + (k,)), {}


@st.composite
def _norm(draw):
    shape = draw(shapes(min_dims=1, max_dims=3))
    kind = draw(st.sampled_from(["all", "vector", "matrix"] if len(shape) >= 2 else ["all", "vector"]))
    keepdims = draw(st.booleans())
    if kind == "all":
        return (shape,), {"keepdims": keepdims}
    if kind == "vector":
        ord_ = draw(st.sampled_from([None, 1, 2, 3, np.inf, -np.inf, 0.5]))
        return (shape,), {"ord": ord_, "axis": draw(st.integers(-len(shape), len(shape) - 1)), "keepdims": keepdims}
    axes = tuple(draw(st.permutations(range(len(shape))))[:2])
    ord_ = draw(st.sampled_from([None, "fro", 1, -1, np.inf, -np.inf, 2, -2, "nuc"]))
    return (shape,), {"ord": ord_, "axis": axes, "keepdims": keepdims}


@st.composite
def _matrices(draw, full_matrices: bool = False):
    """A (..., M, N) stack (M, N in 1..4, no or one batch axis); with ``full_matrices`` the flag
    too, True only for square matrices (a non-square one's completing vectors have no gradient)."""
    m, n = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    shape = draw(st.sampled_from([(), (2,)])) + (m, n)
    if not full_matrices:
        return (shape,), {}
    return (shape,), {"full_matrices": m == n and draw(st.booleans())}


def _spatial(k: int):
    """Convolution/pooling geometry: kernel, stride, dilation, padding per axis, and an input
    size that fits the dilated kernel."""
    @st.composite
    def draw_geometry(draw):
        kernel = tuple(draw(st.integers(1, 3)) for _ in range(k))
        stride = tuple(draw(st.integers(1, 2)) for _ in range(k))
        dilation = tuple(draw(st.integers(1, 2)) for _ in range(k))
        padding = tuple(draw(st.integers(0, n // 2)) for n in kernel)
        sizes = tuple(d * (n - 1) + 1 + draw(st.integers(0, 3)) for n, d in zip(kernel, dilation))
        return kernel, stride, dilation, padding, sizes

    return draw_geometry()


def _conv(k: int):
    @st.composite
    def draw_conv(draw):
        kernel, stride, dilation, padding, sizes = draw(_spatial(k))
        groups = draw(st.integers(1, 2))
        c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
        batch = (draw(st.integers(1, 2)),) if draw(st.booleans()) else ()
        shapes = (batch + (c_in,) + sizes, (c_out, c_in // groups) + kernel)
        if draw(st.booleans()):
            shapes += ((c_out,),)
        return shapes, {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}

    return draw_conv()


def _pool(k: int, kind: str):
    @st.composite
    def draw_pool(draw):
        kernel, stride, dilation, padding, sizes = draw(_spatial(k))
        shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + sizes
        kwargs = {"kernel_size": kernel, "stride": stride if draw(st.booleans()) else None, "padding": padding,
                  "ceil_mode": draw(st.booleans())}
        if kind == "max":
            kwargs["dilation"] = dilation
            kwargs["return_indices"] = draw(st.booleans())
        else:
            kwargs["count_include_pad"] = draw(st.booleans())
            if k == 2:
                kwargs["divisor_override"] = draw(st.sampled_from([None, 1, 3]))
        return (shape,), kwargs

    return draw_pool()


@st.composite
def _cross_entropy(draw):
    """Class indices (ignore_index, smoothing) or probability targets, with or without class weights."""
    lead = draw(shapes(max_dims=2, max_side=3))
    classes = draw(st.integers(1, 4))
    kwargs = {"label_smoothing": draw(st.sampled_from([0.0, 0.1])), "reduction": draw(reduction())}
    if draw(st.booleans()):
        kwargs["weight"] = draw(hnp.arrays(np.float64, (classes,), elements=st.floats(0.5, 2.0)))
    if draw(st.booleans()):
        raw = draw(hnp.arrays(np.float64, lead + (classes,), elements=st.floats(0.1, 1.0)))
        return (lead + (classes,),), {"target": raw / raw.sum(axis=-1, keepdims=True), **kwargs}
    return (lead + (classes,),), {"target": draw(int_array(lead, 0, classes - 1)),
                                  "ignore_index": draw(st.sampled_from([None, 0])), **kwargs}


@st.composite
def _binary_cross_entropy(draw):
    shape = draw(shapes())
    weight = draw(st.sampled_from([None, shape, shape[-1:]])) if shape else None
    return (shape, shape), {"reduction": draw(reduction()), "weight": None if weight is None else
                            draw(hnp.arrays(np.float64, weight, elements=st.floats(0.5, 2.0)))}


@st.composite
def _bce_with_logits(draw):
    (shapes_, kwargs) = draw(_binary_cross_entropy())
    if shapes_[0] and draw(st.booleans()):
        kwargs["pos_weight"] = draw(hnp.arrays(np.float64, shapes_[0][-1:], elements=st.floats(0.5, 3.0)))
    return shapes_, kwargs


@st.composite
def _nll_loss(draw):
    n, classes = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    return ((n, classes),), {
        "target": draw(int_array((n,), 0, classes - 1)),
        "ignore_index": draw(st.sampled_from([None, 0])),
        "reduction": draw(reduction()),
    }


@st.composite
def _mse_loss(draw):
    return draw(same_shapes(2)), {"reduction": draw(reduction())}


@st.composite
def _embedding(draw):
    num, dim = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    indices = draw(int_array(draw(shapes(min_dims=1, max_dims=2)), 0, num - 1))
    return ((num, dim),), {"indices": indices, "padding_idx": draw(st.sampled_from([None, 0]))}


@st.composite
def _layer_norm(draw):
    shape = draw(shapes(min_dims=1, min_side=2))
    norm = shape[len(shape) - draw(st.integers(1, len(shape))):]
    affine = draw(st.integers(0, 2))  # none, weight only, weight and bias
    return (shape,) + (norm,) * affine, {"normalized_shape": norm}


@st.composite
def _linear(draw):
    lead = draw(shapes(min_dims=1, max_side=3))
    n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    bias = ((n_out,),) if draw(st.booleans()) else ()
    return (lead + (n_in,), (n_out, n_in)) + bias, {}


@st.composite
def _scaled_dot_product_attention(draw):
    """Broadcast batch axes, or packed heads; no mask, a bool or an additive float mask, or is_causal."""
    tq, tk, d, dv = (draw(st.integers(1, 3)) for _ in range(4))
    heads = draw(st.sampled_from([None, 1, 2]))
    if heads is None:
        qb, kb, vb = draw(broadcastable(3))
        shapes_ = (qb + (tq, d), kb + (tk, d), vb + (tk, dv))
        score = np.broadcast_shapes(qb, kb, vb) + (tq, tk)
    else:
        b = draw(st.integers(1, 2))
        shapes_ = ((b, tq, heads * d), (b, tk, heads * d), (b, tk, heads * dv))
        score = (b, heads, tq, tk)
    kwargs = {"num_heads": heads} if heads is not None else {}
    kind = draw(st.sampled_from(["none", "bool", "float", "causal"]))
    mask_shape = score[draw(st.integers(0, len(score))):]  # a trailing part broadcasts
    if kind == "bool":
        kwargs["mask"] = draw(hnp.arrays(np.bool_, mask_shape))
    elif kind == "float":
        kwargs["mask"] = draw(hnp.arrays(np.float64, mask_shape, elements=st.floats(-2, 2)))
    elif kind == "causal":
        kwargs["is_causal"] = True
    if draw(st.booleans()):
        kwargs["scale"] = draw(st.floats(0.1, 2.0))
    return shapes_, kwargs


@st.composite
def _additive_attention(draw):
    b, t, dq, a, dv = (draw(st.integers(1, 3)) for _ in range(5))
    kwargs = {"mask": draw(hnp.arrays(np.bool_, (b, t)))} if draw(st.booleans()) else {}
    return ((b, dq), (a, dq), (b, t, a), (1, a), (b, t, dv)), kwargs


GATES = {"rnn_tanh": 1, "gru": 3, "lstm": 4}  # the cells without kinks (rnn_relu has one at 0)


@st.composite
def _recurrence(draw):
    cell = draw(st.sampled_from(sorted(GATES)))
    t, b, h = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    batch_first = draw(st.booleans())
    g = GATES[cell] * h
    shapes_ = ((b, t, g) if batch_first else (t, b, g), (g, h), (g,), (b, h)) + (((b, h),) if cell == "lstm" else ())
    kwargs = {"cell": cell, "batch_first": batch_first, "reverse": draw(st.booleans())}
    if draw(st.booleans()):
        kwargs["lengths"] = draw(int_array((b,), 0, t))
    return shapes_, kwargs


@st.composite
def _rnn_cell(draw):
    cell = draw(st.sampled_from(sorted(GATES)))
    b, n_in, h = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    g = GATES[cell] * h
    return ((b, n_in), (b, h), (g, n_in), (g, h), (g,), (g,)) + (((b, h),) if cell == "lstm" else ()), {"cell": cell}


@st.composite
def _bahdanau_decoder(draw):
    cell = draw(st.sampled_from(["gru", "lstm"]))
    b, t, e, h, s, a, dk = (draw(st.integers(1, 3)) for _ in range(7))
    g = GATES[cell] * h
    shapes_ = ((b, t, e), (b, h), (g, e + dk), (g, h), (g,), (g,), (a, h), (b, s, a), (1, a), (b, s, dk))
    kwargs = {"cell": cell}
    if draw(st.booleans()):
        kwargs["mask"] = draw(hnp.arrays(np.bool_, (b, s)))
    return shapes_ + (((b, h),) if cell == "lstm" else ()), kwargs


def _softmax_axes(shape: tuple) -> st.SearchStrategy:
    """One axis (0-d shapes included), or a tuple of distinct axes normalised together."""
    if not shape:
        return one_axis(shape)
    axes = st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1, max_size=len(shape),
                    unique_by=lambda a: a % len(shape)).map(tuple)
    return st.one_of(one_axis(shape), st.fixed_dictionaries({"axis": axes}))


def _scan_axis(shape: tuple) -> st.SearchStrategy:
    """axis None (flatten, as NumPy's scans) or one axis of a shape with at least one."""
    choices = [st.none()] + ([st.integers(-len(shape), len(shape) - 1)] if shape else [])
    return st.fixed_dictionaries({"axis": st.one_of(*choices)})


@st.composite
def _topk(draw):
    shape = draw(shapes(min_dims=1))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    return (shape,), {"k": draw(st.integers(0, shape[axis])), "axis": axis, "largest": draw(st.booleans())}


# ---------------------------------------------------------------- the strategies, keyed by op name

STRATEGIES: dict[str, Draw] = {
    # arithmetic
    "add": binary(),
    "sub": binary(),
    "mul": binary(),
    "div": binary(),
    "pow": binary(),
    "neg": unary(),
    "matmul": _matmul(),
    # unary functions
    "exp": unary(),
    "log": unary(),
    "sqrt": unary(),
    "abs": unary(),
    "tanh": unary(),
    "erf": unary(),
    "sigmoid": unary(),
    "relu": unary(),
    "gelu": with_kwargs(shapes(), lambda s: st.fixed_dictionaries({"approximate": st.sampled_from(["none", "tanh"])})),
    # elementwise math
    "sin": unary(),
    "cos": unary(),
    "tan": unary(),
    "arcsin": unary(),
    "arccos": unary(),
    "arctan": unary(),
    "sinh": unary(),
    "cosh": unary(),
    "arcsinh": unary(),
    "arccosh": unary(),
    "arctanh": unary(),
    "log2": unary(),
    "log10": unary(),
    "log1p": unary(),
    "exp2": unary(),
    "expm1": unary(),
    "square": unary(),
    "reciprocal": unary(),
    "rsqrt": unary(),
    "sign": unary(),
    "floor": unary(),
    "ceil": unary(),
    "trunc": unary(),
    "round": with_kwargs(shapes(), lambda s: st.fixed_dictionaries({"decimals": st.sampled_from([0, 1, -1])})),
    "arctan2": binary(),
    "hypot": binary(),
    "logaddexp": binary(),
    "copysign": binary(),
    "fmod": binary(),
    "remainder": binary(),
    "lerp": st.one_of(broadcastable(3).map(lambda s: (s, {})),
                      broadcastable(2).flatmap(lambda s: st.floats(-1, 2).map(lambda w: (s, {"weight": w})))),
    # activations
    "leaky_relu": with_kwargs(shapes(), lambda s: st.fixed_dictionaries(
        {"negative_slope": st.sampled_from([0.01, 0.2, -0.5])})),
    "elu": with_kwargs(shapes(), lambda s: st.fixed_dictionaries({"alpha": st.sampled_from([1.0, 0.5, 2.0])})),
    "selu": unary(),
    "celu": with_kwargs(shapes(), lambda s: st.fixed_dictionaries({"alpha": st.sampled_from([1.0, 0.5, 2.0])})),
    "hardtanh": with_kwargs(shapes(), lambda s: st.sampled_from([{}, {"min_val": -0.5, "max_val": 1.5}])),
    "relu6": unary(),
    "hardsigmoid": unary(),
    "hardswish": unary(),
    "softplus": with_kwargs(shapes(), lambda s: st.fixed_dictionaries(
        {"beta": st.sampled_from([1.0, 2.0, 0.5]), "threshold": st.sampled_from([20.0, 1.0])})),
    "softsign": unary(),
    "silu": unary(),
    "mish": unary(),
    "logsigmoid": unary(),
    "softmin": with_kwargs(shapes(), one_axis),
    # products, scans and sorting
    "prod": with_kwargs(shapes(), axis_kwargs),
    "cumsum": with_kwargs(shapes(), _scan_axis),
    "cumprod": with_kwargs(shapes(), _scan_axis),
    "logcumsumexp": with_kwargs(shapes(min_dims=1), one_axis),
    "cummax": with_kwargs(shapes(min_dims=1), one_axis),
    "cummin": with_kwargs(shapes(min_dims=1), one_axis),
    "sort": with_kwargs(shapes(), lambda s: st.fixed_dictionaries(
        {"axis": _scan_axis(s).map(lambda kw: kw["axis"]), "descending": st.booleans()})),
    "topk": _topk(),
    # selection
    "maximum": binary(),
    "minimum": binary(),
    "clip": _clip(),
    "where": _where(),
    "masked_fill": _masked_fill(),
    "astype": unary().map(lambda d: (d[0], {"dtype": np.float32})),
    # reductions
    "sum": with_kwargs(shapes(), axis_kwargs),
    "mean": with_kwargs(shapes(), axis_kwargs),
    "max": with_kwargs(shapes(), axis_kwargs),
    "min": with_kwargs(shapes(), axis_kwargs),
    "var": with_kwargs(shapes(), lambda s: axis_kwargs(s, ddof=True)),
    "std": _std(),
    "logsumexp": with_kwargs(shapes(), axis_kwargs),
    "softmax": with_kwargs(shapes(), _softmax_axes),
    "log_softmax": with_kwargs(shapes(), _softmax_axes),
    # shape
    "reshape": _reshape(),
    "transpose": with_kwargs(shapes(), _transpose_axes),
    "permute": with_kwargs(shapes(), _permutation),
    "swapaxes": _swapaxes(),
    "squeeze": _squeeze(),
    "unsqueeze": _unsqueeze(),
    "expand": _expand(),
    "broadcast_to": _broadcast_to(),
    "flatten": _flatten(),
    "getitem": _getitem(),
    "take_along_axis": _take_along_axis(),
    "concat": _concat(),
    "stack": _stack(),
    "split": _split(),
    "chunk": _chunk(),
    "pad": _pad(),
    "flip": _flip(),
    "roll": _roll(),
    "repeat": _repeat(),
    "tile": _tile(),
    "moveaxis": _moveaxis(),
    "atleast_1d": unary(),
    "atleast_2d": unary(),
    "atleast_3d": unary(),
    "unflatten": _unflatten(),
    "hstack": _joined(1),
    "vstack": _joined(2),
    "dstack": _joined(3),
    "array_split": _array_split(),
    "meshgrid": _meshgrid(),
    "tril": _triangle(),
    "triu": _triangle(),
    "diagonal": _diagonal(),
    "diag": _diag(),
    "trace": _diagonal(),
    "gather": _gather(),
    "scatter": _scatter(),
    "scatter_add": _scatter(),
    "put_along_axis": _put_along_axis(),
    "masked_select": _masked_select(),
    # contractions and norms
    "einsum": _einsum(),
    "tensordot": _tensordot(),
    "dot": _dot(),
    "inner": _inner(),
    "outer": binary(),
    "kron": st.tuples(shapes(max_side=3), shapes(max_side=2)).map(lambda s: (s, {})),
    "norm": _norm(),
    "svdvals": _matrices(),
    "svd": _matrices(full_matrices=True),
    # neural-network functions
    "conv1d": _conv(1),
    "conv2d": _conv(2),
    "max_pool1d": _pool(1, "max"),
    "max_pool2d": _pool(2, "max"),
    "avg_pool1d": _pool(1, "avg"),
    "avg_pool2d": _pool(2, "avg"),
    "cross_entropy": _cross_entropy(),
    "binary_cross_entropy": _binary_cross_entropy(),
    "binary_cross_entropy_with_logits": _bce_with_logits(),
    "nll_loss": _nll_loss(),
    "mse_loss": _mse_loss(),
    "embedding": _embedding(),
    "layer_norm": _layer_norm(),
    "linear": _linear(),
    "scaled_dot_product_attention": _scaled_dot_product_attention(),
    "additive_attention": _additive_attention(),
    "recurrence": _recurrence(),
    "rnn_cell": _rnn_cell(),
    "bahdanau_decoder": _bahdanau_decoder(),
    "dropout": with_kwargs(shapes(), lambda s: st.fixed_dictionaries({"p": st.sampled_from([0.0, 0.3, 1.0])})),
}

ENTRIES = optable.ENTRIES
NON_DIFFERENTIABLE = optable.NON_DIFFERENTIABLE


def values(draw, shape: tuple, low: float = -2.0, high: float = 2.0) -> np.ndarray:
    """A float64 array of ``shape`` with elements in [low, high]."""
    return draw(hnp.arrays(np.float64, shape, elements=st.floats(low, high, allow_nan=False, allow_infinity=False)))
