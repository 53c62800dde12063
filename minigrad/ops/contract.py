"""Tensor contractions: ``einsum`` (a Function) and the NumPy products written with it
(``tensordot dot outer inner``), ``kron``, and ``norm`` (``minigrad.linalg.norm``).

einsum's gradient for operand i is another einsum: the output gradient and the other
operands contracted to operand i's labels. Labels that only operand i has were summed
inside it, so their gradient is broadcast back; a label repeated in operand i (a
diagonal, ``"ii->i"``) takes the gradient on that diagonal only, zero elsewhere.
"""

from __future__ import annotations

import string

import numpy as np

from .._spelling import numpy_spelling
from ..autograd import Function
from ..errors import ShapeError
from . import elementwise, reduce
from ._util import Tensor, float_array, normalize_axis
from .arrange import moveaxis
from .linalg import svdvals
from .shape import reshape, scatter_add

# ---------------------------------------------------------------- subscripts


def _expand_ellipsis(term: str, ndim: int, letters: str, op: str) -> str:
    if "..." not in term:
        if len(term) != ndim:
            raise ShapeError(f"{op}: subscripts {term!r} name {len(term)} axes of an operand with {ndim}")
        return term
    named = len(term) - 3
    extra = ndim - named
    if extra < 0:
        raise ShapeError(f"{op}: subscripts {term!r} name more axes than the operand's {ndim}")
    return term.replace("...", letters[len(letters) - extra:] if extra else "")


def parse_subscripts(subscripts: str, ndims: list[int], op: str = "einsum") -> tuple[list[str], str]:
    """NumPy's einsum subscripts with ``...`` replaced by letters not used elsewhere, and the
    output of implicit mode made explicit (``...`` first, then the labels used once, sorted)."""
    subscripts = subscripts.replace(" ", "")
    lhs, arrow, out = subscripts.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ndims):
        raise ValueError(f"{op}: subscripts {subscripts!r} name {len(terms)} operands, {len(ndims)} were given")
    labels = set(subscripts) - set(".,->")
    if any(c not in string.ascii_letters for c in labels):
        raise ValueError(f"{op}: subscripts {subscripts!r} may only hold letters, ',', '->' and '...'")
    spare = "".join(c for c in string.ascii_letters if c not in labels)
    width = max([n - (len(t) - 3) for t, n in zip(terms, ndims) if "..." in t] or [0])
    letters = spare[:width]
    inputs = [_expand_ellipsis(t, n, letters, op) for t, n in zip(terms, ndims)]
    if arrow:
        output = out.replace("...", letters)
    else:
        counts = "".join(inputs)
        output = letters + "".join(sorted(c for c in set(counts) if counts.count(c) == 1 and c not in letters))
    return inputs, output


def _label_sizes(inputs: list[str], shapes: list[tuple], op: str) -> dict:
    sizes: dict = {}
    for term, shape in zip(inputs, shapes):
        for label, n in zip(term, shape):
            if sizes.get(label, 1) != 1 and n != 1 and sizes[label] != n:
                raise ShapeError(f"{op}: label {label!r} has sizes {sizes[label]} and {n} (shapes {shapes})")
            sizes[label] = n if sizes.get(label, 1) == 1 else sizes[label]
    return sizes


# ---------------------------------------------------------------- einsum


def _contract(spec: str, *operands):
    """np.einsum on ndarrays (BLAS through optimize) or on Tensors (recorded, for higher orders)."""
    return np.einsum(spec, *operands, optimize=len(operands) > 1)


def _gradient_for(i: int, inputs: list[str], output: str, grad, operands, shape: tuple):
    """The gradient of operand ``i``: an einsum to its distinct labels, broadcast over the labels
    only it has, placed on the diagonal where a label repeats."""
    term = inputs[i]
    distinct = "".join(dict.fromkeys(term))
    others = [t for j, t in enumerate(inputs) if j != i]
    available = set(output).union(*others)
    target = "".join(c for c in distinct if c in available)
    g = _contract(",".join([output] + others) + "->" + target, grad, *(o for j, o in enumerate(operands) if j != i))
    own = dict(zip(term, shape))
    if len(target) < len(distinct):  # summed inside operand i only: the gradient is the same along them
        g = np.reshape(g, tuple(g.shape[target.index(c)] if c in target else 1 for c in distinct))
        g = np.broadcast_to(g, tuple(g.shape[k] if c in target else own[c] for k, c in enumerate(distinct)))
    if len(distinct) == len(term):  # the engine sums the axes this operand broadcast (size 1)
        return np.transpose(g, tuple(distinct.index(c) for c in term)) if distinct != term else g
    broadcast = tuple(k for k, c in enumerate(distinct) if own[c] == 1 and g.shape[k] != 1)
    if broadcast:  # a label of size 1 here that broadcast against a larger one: its gradient sums
        g = g.sum(axis=broadcast, keepdims=True)
    grid = np.indices(tuple(own[c] for c in distinct), sparse=True)
    index = tuple(grid[distinct.index(c)] for c in term)
    return scatter_add(np.broadcast_to(g, tuple(own[c] for c in distinct)), shape, index)


class Einsum(Function):
    @staticmethod
    def forward(ctx, *operands, inputs, output):
        ctx.save_for_backward(*operands)
        ctx.spec = (inputs, output)
        return np.asarray(_contract(",".join(inputs) + "->" + output, *operands))

    @staticmethod
    def backward(ctx, grad):
        inputs, output = ctx.spec
        operands = ctx.saved
        return tuple(_gradient_for(i, inputs, output, grad, operands, x.shape) if ctx.needs_input_grad[i] else None
                     for i, x in enumerate(operands))

    @staticmethod
    def jvp(ctx, *tangents):
        inputs, output = ctx.spec
        spec = ",".join(inputs) + "->" + output
        operands = ctx.saved
        terms = [_contract(spec, *operands[:i], t, *operands[i + 1:]) for i, t in enumerate(tangents)]
        return sum(terms[1:], terms[0])


def einsum(subscripts: str, *operands) -> Tensor:
    """``numpy.einsum`` with a gradient for every operand: any subscripts NumPy accepts,
    ``...`` included, implicit (no ``->``) or explicit output; repeated labels take diagonals
    (``"ii->i"``) or traces (``"ii"``). Size-1 axes broadcast against a label's size."""
    if not isinstance(subscripts, str):
        raise TypeError("einsum: give the subscripts as a string first, e.g. einsum('ij,jk->ik', a, b)")
    if not operands:
        raise ValueError("einsum: needs at least one operand")
    operands = [float_array(x) for x in operands]
    inputs, output = parse_subscripts(subscripts, [x.ndim for x in operands])
    sizes = _label_sizes(inputs, [x.shape for x in operands], "einsum")
    if len(set(output)) != len(output) or not set(output) <= set(sizes):
        raise ValueError(f"einsum: output subscripts {output!r} repeat a label or name one no operand has")
    for term, x in zip(inputs, operands):
        for label in set(term):
            if len({n for c, n in zip(term, x.shape) if c == label}) > 1:
                raise ShapeError(f"einsum: label {label!r} repeats in {term!r} with different sizes ({x.shape})")
    return Einsum.apply(*operands, inputs=inputs, output=output)


# ---------------------------------------------------------------- products written as einsum


def _letters(n: int, skip: str = "") -> str:
    return "".join(c for c in string.ascii_letters if c not in skip)[:n]


@numpy_spelling
def tensordot(a, b, axes=2) -> Tensor:
    """``numpy.tensordot``: sum over the last ``axes`` axes of ``a`` and the first of ``b``, or over
    the pairs ``axes=(axes_a, axes_b)``; the free axes of ``a`` then those of ``b``."""
    a, b = float_array(a), float_array(b)
    if isinstance(axes, (int, np.integer)):
        if axes < 0 or axes > min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: axes={axes} does not fit shapes {a.shape} and {b.shape}")
        axes_a, axes_b = list(range(a.ndim - axes, a.ndim)), list(range(axes))
    else:
        axes_a, axes_b = (list(np.atleast_1d(x)) for x in axes)
    if len(axes_a) != len(axes_b):
        raise ValueError(f"tensordot: {len(axes_a)} axes of a against {len(axes_b)} of b")
    axes_a = [normalize_axis(int(x), a.ndim, "tensordot") for x in axes_a]
    axes_b = [normalize_axis(int(x), b.ndim, "tensordot") for x in axes_b]
    for i, j in zip(axes_a, axes_b):
        if a.shape[i] != b.shape[j]:
            raise ShapeError(f"tensordot: axis {i} of {a.shape} and axis {j} of {b.shape} differ in length")
    letters = _letters(a.ndim + b.ndim)
    ta = letters[:a.ndim]
    tb = list(letters[a.ndim:a.ndim + b.ndim])
    for i, j in zip(axes_a, axes_b):
        tb[j] = ta[i]
    tb = "".join(tb)
    out = "".join(c for k, c in enumerate(ta) if k not in axes_a) + "".join(c for k, c in enumerate(tb) if k not in axes_b)
    return einsum(f"{ta},{tb}->{out}", a, b)


def dot(a, b) -> Tensor:
    """``numpy.dot``: a product with a scalar, the inner product of vectors, matmul for 2-D, and for
    N-D the sum over the last axis of ``a`` and the second-to-last of ``b``."""
    a, b = float_array(a), float_array(b)
    if a.ndim == 0 or b.ndim == 0:
        return elementwise.mul(a, b)
    return tensordot(a, b, axes=([-1], [-2 if b.ndim > 1 else -1]))


def inner(a, b) -> Tensor:
    """``numpy.inner``: the sum over the last axes of ``a`` and ``b`` (a product with a scalar)."""
    a, b = float_array(a), float_array(b)
    if a.ndim == 0 or b.ndim == 0:
        return elementwise.mul(a, b)
    return tensordot(a, b, axes=([-1], [-1]))


def outer(a, b) -> Tensor:
    """``numpy.outer``: ``out[i, j] = a.ravel()[i] * b.ravel()[j]``."""
    return einsum("i,j->ij", reshape(float_array(a), (-1,)), reshape(float_array(b), (-1,)))


def kron(a, b) -> Tensor:
    """``numpy.kron``: the Kronecker product (the shorter shape is padded with leading 1s)."""
    a, b = float_array(a), float_array(b)
    ndim = max(a.ndim, b.ndim)
    sa, sb = (1,) * (ndim - a.ndim) + a.shape, (1,) * (ndim - b.ndim) + b.shape
    spread_a = reshape(a, tuple(x for n in sa for x in (n, 1)))
    spread_b = reshape(b, tuple(x for n in sb for x in (1, n)))
    return reshape(elementwise.mul(spread_a, spread_b), tuple(m * n for m, n in zip(sa, sb)))


# ---------------------------------------------------------------- norms


class PNorm(Function):
    """(sum |x|^p)^(1/p) over ``axis`` (a tuple, kept as size-1 axes), p > 0 and not 1 or inf.

    Backward: dx = dy * sign(x) |x|^(p-1) / y^(p-1) (for p = 2: dy * x / y), and 0 where y = 0
    or x = 0, the subgradient PyTorch takes (the composition's rule would give 0 / 0 there). The rules
    are written with NumPy functions, which also run on Tensors, so higher derivatives
    differentiate the same rule.
    """

    @staticmethod
    def forward(ctx, x, axis=(), p=2.0):
        y = np.sqrt(np.sum(x * x, axis=axis, keepdims=True)) if p == 2 else \
            np.sum(np.abs(x) ** p, axis=axis, keepdims=True) ** (1.0 / p)
        ctx.save_for_backward(x, y)
        ctx.p, ctx.axis = p, axis
        return y

    @staticmethod
    def _slope(ctx):
        """dy/dx (the shape of x), 0 where y is 0."""
        x, y = ctx.saved
        nonzero = y != 0
        safe = np.where(nonzero, y, 1.0)
        if ctx.p == 2:
            return x / safe * nonzero
        magnitude = np.where(x != 0, np.abs(x), 1.0)  # sign(0) = 0 takes care of x = 0 (|0|^(p-1) is inf for p < 1)
        return np.sign(x) * magnitude ** (ctx.p - 1) / safe ** (ctx.p - 1) * nonzero

    @staticmethod
    def backward(ctx, grad):
        return grad * PNorm._slope(ctx)

    @staticmethod
    def jvp(ctx, t):
        return np.sum(PNorm._slope(ctx) * t, axis=ctx.axis, keepdims=True)


def _p_norm(x, p: float, axis: tuple, keepdims: bool) -> Tensor:
    y = PNorm.apply(x, axis=axis, p=float(p))  # the reduced axes kept, size 1
    return y if keepdims else reshape(y, tuple(n for k, n in enumerate(x.shape) if k not in axis))


def _vector_norm(x, ord, axis: tuple, keepdims: bool) -> Tensor:
    if ord is None or ord == 2:
        return _p_norm(x, 2.0, axis, keepdims)
    magnitude = elementwise.abs(x)
    if ord == np.inf:
        return reduce.max(magnitude, axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return reduce.min(magnitude, axis=axis, keepdims=keepdims)
    if ord == 0:  # the count of nonzero elements: piecewise constant
        return Tensor._make(np.asarray((x.data != 0).sum(axis=axis, keepdims=keepdims), dtype=x.dtype), False, None)
    if ord == 1:
        return reduce.sum(magnitude, axis=axis, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"norm: ord={ord!r} is a matrix norm; give a 2-tuple axis or a 2-D tensor")
    if ord < 0:  # sum(|x|^p)^(1/p) with p < 0 (a zero element gives 0, as NumPy)
        return reduce.sum(magnitude ** float(ord), axis=axis, keepdims=keepdims) ** (1.0 / float(ord))
    return _p_norm(x, ord, axis, keepdims)


_MATRIX_ORDS = (None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf)


def _spectral_norm(x, ord, axis: tuple, keepdims: bool) -> Tensor:
    """ord 2 / -2 / 'nuc': the largest / smallest / sum of the singular values of the (rows, cols) planes."""
    s = svdvals(moveaxis(x, axis, (-2, -1)))  # (..., K)
    pick = {2: reduce.max, -2: reduce.min, "nuc": reduce.sum}[ord]
    out = pick(s, axis=-1)
    if not keepdims:
        return out
    return reshape(out, tuple(1 if k in axis else n for k, n in enumerate(x.shape)))


def _matrix_norm(x, ord, axis: tuple, keepdims: bool) -> Tensor:
    if ord not in _MATRIX_ORDS:
        raise ValueError(f"norm: matrix ord={ord!r} is not supported; use one of None, 'fro', 'nuc', 1, -1, 2, -2, "
                         "inf, -inf")
    rows, cols = axis
    if ord in (None, "fro"):
        return _p_norm(x, 2.0, axis, keepdims)
    if ord in (2, -2, "nuc"):
        return _spectral_norm(x, ord, axis, keepdims)
    magnitude = elementwise.abs(x)
    summed, over = (rows, cols) if ord in (1, -1) else (cols, rows)  # 1: column sums; inf: row sums
    sums = reduce.sum(magnitude, axis=summed, keepdims=True)
    pick = reduce.max if ord in (1, np.inf) else reduce.min
    out = pick(sums, axis=over, keepdims=True)
    return out if keepdims else reshape(out, tuple(n for k, n in enumerate(out.shape) if k not in axis))


@numpy_spelling
def norm(x, ord=None, axis=None, keepdims: bool = False) -> Tensor:
    """``numpy.linalg.norm``. Vector norms (1-D, or one ``axis``): ``ord`` None/2 (Euclidean),
    1, inf, -inf, 0 (count of nonzeros, no gradient), or any p (sum |x|^p)^(1/p). Matrix norms
    (2-D, or a 2-tuple ``axis``): None/'fro', 1/-1 (max/min column sum), inf/-inf (max/min row
    sum), 2/-2 (largest/smallest singular value), 'nuc' (sum of the singular values; these three
    through ``linalg.svdvals``, differentiable where the singular values are distinct and nonzero).
    ``axis=None`` with ``ord=None`` is the 2-norm of all elements, whatever the ndim."""
    x = float_array(x)
    if axis is None:
        if ord is None:
            return _p_norm(x, 2.0, tuple(range(x.ndim)), keepdims)
        if x.ndim not in (1, 2):
            raise ValueError(f"norm: ord={ord!r} with axis=None needs a 1-D or 2-D tensor, got shape {x.shape}")
        axis = tuple(range(x.ndim))
    axes = tuple(normalize_axis(int(a), x.ndim, "norm") for a in np.atleast_1d(axis))
    if len(axes) == 1:
        return _vector_norm(x, ord, axes, keepdims)
    if len(axes) == 2 and axes[0] != axes[1]:
        return _matrix_norm(x, ord, axes, keepdims)
    raise ValueError(f"norm: axis must be one axis or two different ones, got {axis!r}")
