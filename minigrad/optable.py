"""The op table: one entry per differentiable public op, and a float64 check over it.

Each ``OpEntry`` says how to call the op on tensors (``fn(*tensors, **kwargs)``),
where its inputs may live (``domain``), which points to skip because the op has no
derivative there (``exclude``: ties, kinks), the tolerances of the check, and a few
fixed ``examples``: input shapes (broadcasting, size-1 and 0-d among them) with
keyword arguments. ``minigrad gradcheck`` runs the examples; the test suite draws
many more shapes and keyword arguments with Hypothesis and calls the same ``fn``.

    >>> from minigrad import optable
    >>> row = optable.check_ops(["mul"])[0]
    >>> row.op, row.passed, row.shapes[1]
    ('mul', True, '(2, 3), (3,)')

Index arguments (targets, gather indices, masks) are keyword arguments holding
integer or bool ndarrays, so one entry covers every way the op is called.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from . import functional as F
from . import linalg, ops
from . import rng as _rng
from .errors import GradcheckError
from .gradcheck import first_derivatives, gradient_errors
from .tensor import Tensor

Shape = tuple[int, ...]
Domain = tuple[float, float]


@dataclass(frozen=True)
class Example:
    """One fixed call: a shape per tensor input and the keyword arguments."""

    shapes: tuple[Shape, ...]
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        """'(2, 3), (3,)' followed by the keyword arguments, e.g. 'axis=1'."""
        text = ", ".join(str(tuple(s)) for s in self.shapes)
        extras = [f"{k}={_short(v)}" for k, v in self.kwargs.items()]
        return text + (" " + " ".join(extras) if extras else "")


def ex(*shapes: Shape, **kwargs: Any) -> Example:
    """``ex((2, 3), (3,), axis=0)``: an ``Example`` with one shape per tensor input."""
    return Example(tuple(tuple(s) for s in shapes), kwargs)


def _short(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"<{value.dtype} {value.shape}>"
    if isinstance(value, slice):
        parts = ["" if v is None else str(v) for v in (value.start, value.stop, value.step)]
        return ":".join(parts).rstrip(":") or ":"
    if value is Ellipsis:
        return "..."
    if isinstance(value, type) and issubclass(value, np.generic):
        return np.dtype(value).name
    if isinstance(value, tuple):
        return "(" + ",".join(_short(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value)


@dataclass(frozen=True)
class OpEntry:
    """One row of the op table.

    ``fn(*tensors, **kwargs)`` returns a Tensor (or a list of Tensors, each checked).
    ``domain`` is one (low, high) for every input or a list with one pair per input.
    ``exclude(*arrays, **kwargs)`` is True at points where the op is not
    differentiable; such draws are skipped. ``atol``/``rtol``/``eps`` are passed to
    the gradient check.
    """

    name: str
    fn: Callable[..., Any]
    examples: tuple[Example, ...]
    domain: Domain | list[Domain] = (-2.0, 2.0)
    exclude: Callable[..., bool] | None = None
    atol: float = 1e-5
    rtol: float = 1e-3
    eps: float = 1e-6

    def domains(self, n: int) -> list[Domain]:
        """The (low, high) of each of ``n`` inputs."""
        if isinstance(self.domain, list):
            if len(self.domain) != n:
                raise ValueError(f"{self.name}: {len(self.domain)} domains for {n} inputs")
            return list(self.domain)
        return [self.domain] * n

    def sample(self, example: Example, rng: np.random.Generator, tries: int = 200) -> list[np.ndarray]:
        """Float64 inputs of the example's shapes, uniform in the domain, redrawn while excluded."""
        domains = self.domains(len(example.shapes))
        for _ in range(tries):
            arrays = [rng.uniform(lo, hi, size=s) for s, (lo, hi) in zip(example.shapes, domains)]
            if self.exclude is None or not self.exclude(*arrays, **example.kwargs):
                return arrays
        raise ValueError(f"{self.name}: every draw for {example.describe()} was excluded")


# ---------------------------------------------------------------- exclusions (kinks and ties)


def near(values: np.ndarray, *points: float, gap: float = 1e-3) -> bool:
    """True when some value lies within ``gap`` of one of ``points`` (a kink)."""
    return bool(any(np.any(np.abs(values - p) < gap) for p in points))


def ties(a: np.ndarray, b: np.ndarray, gap: float = 1e-3) -> bool:
    """True when ``a`` and ``b`` broadcast to a pair of values within ``gap``."""
    a, b = np.broadcast_arrays(a, b)
    return bool(np.any(np.abs(a - b) < gap))


def has_ties(a: np.ndarray, *_, gap: float = 1e-3, **__) -> bool:
    """True when two values of ``a`` are within ``gap``: max/min would split the gradient."""
    return bool(np.any(np.diff(np.sort(a.reshape(-1))) < gap))


def _near_integer(values: np.ndarray, gap: float = 1e-3) -> bool:
    """True when some value is within ``gap`` of an integer: a jump of floor, ceil, trunc, round."""
    return bool(np.any(np.abs(values - np.round(values)) < gap))


def _near_origin(a: np.ndarray, b: np.ndarray, radius: float = 0.1) -> bool:
    """True when some broadcast pair lies near (0, 0), where arctan2 and hypot have no derivative."""
    return bool(np.any(np.hypot(*np.broadcast_arrays(a, b)) < radius))


def _branch_cut(y: np.ndarray, x: np.ndarray) -> bool:
    """arctan2 jumps by 2 pi across the negative x axis (y = 0, x < 0)."""
    y, x = np.broadcast_arrays(y, x)
    return bool(np.any((np.abs(y) < 1e-2) & (x < 0)))


def _modulo_jump(a: np.ndarray, b: np.ndarray) -> bool:
    """fmod/remainder jump where a / b crosses an integer and blow up for b near 0."""
    return near(b, 0, gap=0.3) or _near_integer(a / np.where(np.abs(b) < 0.3, 1.0, b), gap=1e-2)


def _no_spare_degree(a: np.ndarray, axis=None, ddof: int = 0, keepdims: bool = False) -> bool:
    # var divides by (count - ddof): no degree of freedom left means no finite value
    count = a.size if axis is None else int(np.prod([a.shape[i] for i in np.atleast_1d(axis)]))
    return count <= ddof


def _flat_spread(a: np.ndarray, axis=None, ddof: int = 0, keepdims: bool = False) -> bool:
    # std = sqrt(var) has no derivative where the variance is 0 and a huge one near it
    return _no_spare_degree(a, axis, ddof) or float(np.min(np.var(a, axis=axis))) < 1e-2


def _clip_kinks(a: np.ndarray, *bounds: np.ndarray, tensor_bounds: tuple = (), a_min=None, a_max=None) -> bool:
    named = {"a_min": a_min, "a_max": a_max, **dict(zip(tensor_bounds, bounds))}
    lo, hi = named["a_min"], named["a_max"]
    kink = any(ties(a, v) for v in (lo, hi) if v is not None)
    return kink or (lo is not None and hi is not None and ties(lo, hi))  # lo == hi: no bound gets the gradient


# ---------------------------------------------------------------- calls that need a little glue


def _where(a: Tensor, b: Tensor, condition: np.ndarray) -> Tensor:
    return ops.where(condition, a, b)


def _clip(a: Tensor, *bounds: Tensor, tensor_bounds: tuple = (), **scalar_bounds: float) -> Tensor:
    """``clip`` with the bounds named in ``tensor_bounds`` ("a_min", "a_max") given as tensor inputs."""
    return ops.clip(a, **scalar_bounds, **dict(zip(tensor_bounds, bounds)))


def _reshape(a: Tensor, shape: tuple) -> Tensor:
    return ops.reshape(a, shape)


def _transpose(a: Tensor, axes: tuple, keyword: bool = False) -> Tensor:
    return ops.transpose(a, axes=axes or None) if keyword else ops.transpose(a, *axes)


def _permute(a: Tensor, axes: tuple) -> Tensor:
    return ops.permute(a, *axes) if axes else ops.transpose(a)  # a 0-d tensor has no axes to name


def _expand(a: Tensor, shape: tuple) -> Tensor:
    return ops.expand(a, *shape)


def _concat(*tensors: Tensor, axis: int = 0) -> Tensor:
    return ops.concat(list(tensors), axis=axis)


def _stack(*tensors: Tensor, axis: int = 0) -> Tensor:
    return ops.stack(list(tensors), axis=axis)


def _joined(op_name: str) -> Callable[..., Tensor]:
    """``hstack``/``vstack``/``dstack`` with their tensors given one per input."""
    return lambda *tensors: getattr(ops, op_name)(list(tensors))


def _scatter_src(op_name: str) -> Callable[..., Tensor]:
    """``scatter``/``scatter_add`` with the source as the second tensor input."""
    return lambda a, src, axis, index: getattr(ops, op_name)(a, axis, index, src)


def _pool_values(op_name: str) -> Callable[..., Tensor]:
    """``max_pool1d``/``max_pool2d``'s values, also when ``return_indices`` adds the (integer) indices."""
    def pooled(x: Tensor, **kwargs: Any) -> Tensor:
        out = getattr(F, op_name)(x, **kwargs)
        return out[0] if kwargs.get("return_indices") else out
    return pooled


def _put_along_axis(arr: Tensor, values: Tensor, indices: np.ndarray, axis: int) -> Tensor:
    return ops.put_along_axis(arr, indices, values, axis)


def _einsum(*operands: Tensor, subscripts: str) -> Tensor:
    return ops.einsum(subscripts, *operands)


def _close_singular_values(a: np.ndarray, axis: tuple = (-2, -1), gap: float = 0.2) -> bool:
    """True when two singular values of a (axis[0], axis[1]) plane are within ``gap`` of each other
    or one is within ``gap`` of 0: svdvals has kinks there and the singular vectors' derivatives poles."""
    s = np.linalg.svd(np.moveaxis(a, axis, (-2, -1)), compute_uv=False)
    return bool(np.any(s < gap) or np.any(-np.diff(s, axis=-1) < gap))


def _svd_degenerate(a: np.ndarray, full_matrices: bool = False) -> bool:
    # besides close singular values: a U column summing to about 0, where _svd's sign choice flips
    if _close_singular_values(a):
        return True
    return bool(np.any(np.abs(np.linalg.svd(a, full_matrices=False)[0].sum(axis=-2)) < 0.1))


def _norm_kinks(a: np.ndarray, ord=None, axis=None, keepdims: bool = False) -> bool:
    # |x| has a kink at 0 (and sqrt of a sum of squares, at a zero vector); max/min split at ties
    if near(a, 0, gap=1e-2):
        return True
    matrix = (a.ndim == 2 and axis is None) or (axis is not None and np.ndim(axis) == 1 and len(axis) == 2)
    if matrix and any(ord is o or ord == o for o in (2, -2, "nuc")):  # through the singular values
        return _close_singular_values(a, (0, 1) if axis is None else tuple(axis))
    return ord in (np.inf, -np.inf, 1, -1) and has_ties(np.abs(a), gap=1e-2)


def _embedding(weight: Tensor, indices: np.ndarray, padding_idx: int | None = None) -> Tensor:
    # The padding row gets no gradient by design (PyTorch's rule), so finite differences
    # would disagree there: lookups of the padding row are masked out of the output.
    out = F.embedding(indices, weight, padding_idx=padding_idx)
    if padding_idx is None:
        return out
    return out * (indices != padding_idx)[..., None].astype(out.dtype)


def _svd(a: Tensor, full_matrices: bool = False) -> list:
    """``linalg.svd`` with the sign of each singular vector pair fixed by its U column's sum: LAPACK
    may return either sign, and the finite differences must follow one smooth branch."""
    u, s, vh = linalg.svd(a, full_matrices=full_matrices)
    signs = np.sign(u.data.sum(axis=-2, keepdims=True))  # (..., 1, K)
    return [u * signs, s, vh * np.swapaxes(signs, -1, -2)]


def _layer_norm(x: Tensor, *affine: Tensor, normalized_shape: tuple, eps: float = 1e-5) -> Tensor:
    return F.layer_norm(x, normalized_shape, *affine, eps=eps)


DROPOUT_SEED = 7


def _attention_out(q: Tensor, k: Tensor, v: Tensor, **kwargs: Any) -> Tensor:
    return F.scaled_dot_product_attention(q, k, v, **kwargs)[0]  # the weights are a constant output


def _additive_context(*inputs: Tensor, **kwargs: Any) -> Tensor:
    return F.additive_attention(*inputs, **kwargs)[0]  # the weights are a constant output


def _recurrence(xp: Tensor, w_hh: Tensor, b_hh: Tensor, h0: Tensor, *c0: Tensor, **kwargs: Any) -> list[Tensor]:
    return list(F.recurrence(xp, w_hh, b_hh, h0, *c0, **kwargs))  # outputs, h_n (and c_n)


def _rnn_cell(x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor, *c: Tensor,
              cell: str) -> list[Tensor]:
    out = F.rnn_cell(x, h, c[0] if c else None, w_ih, w_hh, b_ih, b_hh, cell=cell)
    return list(out) if isinstance(out, tuple) else [out]


def _bahdanau_features(emb: Tensor, h0: Tensor, *weights: Tensor, cell: str, mask=None) -> Tensor:
    c0 = weights[8] if cell == "lstm" else None  # w_ih, w_hh, b_ih, b_hh, w_q, keys_proj, v, keys (, c0)
    return F.bahdanau_decoder(emb, h0, c0, *weights[:8], mask=mask, cell=cell)[0]  # the weights are constants


def _seeded_dropout(x: Tensor, p: float) -> Tensor:
    # The same mask at every evaluation of the finite differences; the library's own
    # random state is put back afterwards.
    state = _rng.get_rng_state()
    _rng.manual_seed(DROPOUT_SEED)
    try:
        return F.dropout(x, p, training=True)
    finally:
        _rng.set_rng_state(state)


# ---------------------------------------------------------------- the table

_UNARY = (ex(()), ex((4,)), ex((2, 1, 3)))
_BINARY = (ex((2, 3), (2, 3)), ex((2, 3), (3,)), ex((), (2, 1)), ex((3, 1), (1, 4)))
_REDUCE = (ex((4,)), ex((2, 3), axis=1), ex((2, 3, 2), axis=(0, 2), keepdims=True), ex((1, 3), axis=-1, keepdims=True),
           ex(()))
_I = np.array  # the index, mask and target arrays of the examples

OPS: list[OpEntry] = [
    # arithmetic
    OpEntry("add", ops.add, _BINARY),
    OpEntry("sub", ops.sub, _BINARY),
    OpEntry("mul", ops.mul, _BINARY),
    OpEntry("div", ops.div, _BINARY, domain=[(-2, 2), (0.5, 2)]),
    OpEntry("pow", ops.pow, _BINARY, domain=[(0.5, 2), (-2, 2)]),
    OpEntry("neg", ops.neg, _UNARY),
    OpEntry("matmul", ops.matmul, (ex((3,), (3,)), ex((2, 3), (3,)), ex((3,), (2, 3, 4)), ex((2, 3), (3, 4)),
                                   ex((2, 2, 3), (2, 3, 1)), ex((2, 1, 2, 3), (3, 3, 2)))),
    # unary functions
    OpEntry("exp", ops.exp, _UNARY),
    OpEntry("log", ops.log, _UNARY, domain=(0.5, 3)),
    OpEntry("sqrt", ops.sqrt, _UNARY, domain=(0.5, 3)),
    OpEntry("abs", ops.abs, _UNARY, exclude=lambda a: near(a, 0)),
    OpEntry("tanh", ops.tanh, _UNARY),
    OpEntry("erf", ops.erf, _UNARY),
    OpEntry("sigmoid", ops.sigmoid, _UNARY, domain=(-6, 6)),
    OpEntry("relu", ops.relu, _UNARY, exclude=lambda a: near(a, 0)),
    OpEntry("gelu", ops.gelu,
            (ex((2, 3), approximate="none"), ex((), approximate="tanh"), ex((4,), approximate="tanh")), domain=(-4, 4)),
    # elementwise math (minigrad.ops.pointwise)
    OpEntry("sin", ops.sin, _UNARY, domain=(-4, 4)),
    OpEntry("cos", ops.cos, _UNARY, domain=(-4, 4)),
    OpEntry("tan", ops.tan, _UNARY, domain=(-1.2, 1.2)),
    OpEntry("arcsin", ops.arcsin, _UNARY, domain=(-0.9, 0.9)),
    OpEntry("arccos", ops.arccos, _UNARY, domain=(-0.9, 0.9)),
    OpEntry("arctan", ops.arctan, _UNARY, domain=(-3, 3)),
    OpEntry("sinh", ops.sinh, _UNARY),
    OpEntry("cosh", ops.cosh, _UNARY),
    OpEntry("arcsinh", ops.arcsinh, _UNARY, domain=(-3, 3)),
    OpEntry("arccosh", ops.arccosh, _UNARY, domain=(1.1, 3)),
    OpEntry("arctanh", ops.arctanh, _UNARY, domain=(-0.9, 0.9)),
    OpEntry("log2", ops.log2, _UNARY, domain=(0.5, 3)),
    OpEntry("log10", ops.log10, _UNARY, domain=(0.5, 3)),
    OpEntry("log1p", ops.log1p, _UNARY, domain=(-0.5, 3)),
    OpEntry("exp2", ops.exp2, _UNARY),
    OpEntry("expm1", ops.expm1, _UNARY),
    OpEntry("square", ops.square, _UNARY),
    OpEntry("reciprocal", ops.reciprocal, _UNARY, exclude=lambda a: near(a, 0, gap=0.3)),
    OpEntry("rsqrt", ops.rsqrt, _UNARY, domain=(0.5, 3)),
    # piecewise constant: gradient 0 away from the jumps
    OpEntry("sign", ops.sign, _UNARY, exclude=lambda a: near(a, 0)),
    OpEntry("floor", ops.floor, _UNARY, exclude=lambda a: _near_integer(a)),
    OpEntry("ceil", ops.ceil, _UNARY, exclude=lambda a: _near_integer(a)),
    OpEntry("trunc", ops.trunc, _UNARY, exclude=lambda a: _near_integer(a)),
    OpEntry("round", ops.round, (ex(()), ex((4,)), ex((2, 3), decimals=1)),
            exclude=lambda a, decimals=0: _near_integer(a * 10.0 ** decimals + 0.5)),
    OpEntry("arctan2", ops.arctan2, _BINARY, exclude=lambda y, x: _near_origin(y, x) or _branch_cut(y, x)),
    OpEntry("hypot", ops.hypot, _BINARY, exclude=lambda a, b: _near_origin(a, b)),
    OpEntry("logaddexp", ops.logaddexp, _BINARY),
    OpEntry("copysign", ops.copysign, _BINARY, exclude=lambda a, b: near(a, 0) or near(b, 0)),
    OpEntry("fmod", ops.fmod, _BINARY, domain=[(-3, 3), (-2, 2)], exclude=_modulo_jump),
    OpEntry("remainder", ops.remainder, _BINARY, domain=[(-3, 3), (-2, 2)], exclude=_modulo_jump),
    OpEntry("lerp", ops.lerp, (ex((2, 3), (2, 3), (2, 3)), ex((3,), (2, 3), ()), ex((2, 1), (3,), weight=0.25))),
    # activations (minigrad.ops.activations); kinks excluded, second derivatives jump there too
    OpEntry("leaky_relu", ops.leaky_relu, (ex((2, 3)), ex((), negative_slope=0.2), ex((4,), negative_slope=-0.5)),
            exclude=lambda a, **_: near(a, 0)),
    OpEntry("elu", ops.elu, (ex((2, 3)), ex((4,), alpha=0.5), ex((), alpha=2.0)), exclude=lambda a, **_: near(a, 0)),
    OpEntry("selu", ops.selu, _UNARY, exclude=lambda a: near(a, 0)),
    OpEntry("celu", ops.celu, (ex((2, 3)), ex((4,), alpha=0.5), ex((), alpha=2.0)), exclude=lambda a, **_: near(a, 0)),
    OpEntry("hardtanh", ops.hardtanh, (ex((2, 3)), ex((5,), min_val=-0.5, max_val=1.5)), domain=(-3, 3),
            exclude=lambda a, min_val=-1.0, max_val=1.0: near(a, min_val, max_val)),
    OpEntry("relu6", ops.relu6, _UNARY, domain=(-2, 8), exclude=lambda a: near(a, 0, 6)),
    OpEntry("hardsigmoid", ops.hardsigmoid, _UNARY, domain=(-5, 5), exclude=lambda a: near(a, -3, 3)),
    OpEntry("hardswish", ops.hardswish, _UNARY, domain=(-5, 5), exclude=lambda a: near(a, -3, 3)),
    OpEntry("softplus", ops.softplus, (ex((2, 3)), ex((4,), beta=2.0, threshold=1.0), ex((), beta=0.5)),
            domain=(-3, 3), exclude=lambda a, beta=1.0, threshold=20.0: near(a * beta, threshold, gap=1e-2)),
    OpEntry("softsign", ops.softsign, _UNARY, exclude=lambda a: near(a, 0)),
    OpEntry("silu", ops.silu, _UNARY, domain=(-4, 4)),
    OpEntry("mish", ops.mish, _UNARY, domain=(-4, 4)),
    OpEntry("logsigmoid", ops.logsigmoid, _UNARY, domain=(-4, 4)),
    OpEntry("softmin", ops.softmin, (ex((2, 3), axis=-1), ex((3, 2), axis=0), ex((), axis=0))),
    # products, scans and sorting (minigrad.ops.scan); the gathering ones skip ties
    OpEntry("prod", ops.prod, _REDUCE),
    OpEntry("cumsum", ops.cumsum, (ex((2, 3), axis=1), ex((4,), axis=0), ex((2, 3)), ex(()))),
    OpEntry("cumprod", ops.cumprod, (ex((2, 3), axis=1), ex((4,), axis=-1), ex((2, 2)), ex(()))),
    OpEntry("logcumsumexp", ops.logcumsumexp, (ex((2, 3), axis=1), ex((4,), axis=0), ex((3, 2), axis=-2))),
    OpEntry("cummax", lambda a, axis: ops.cummax(a, axis)[0], (ex((2, 4), axis=1), ex((5,), axis=0)),
            exclude=has_ties),
    OpEntry("cummin", lambda a, axis: ops.cummin(a, axis)[0], (ex((2, 4), axis=1), ex((5,), axis=0)),
            exclude=has_ties),
    OpEntry("sort", ops.sort, (ex((2, 4)), ex((3, 2), axis=0, descending=True), ex((2, 2), axis=None)),
            exclude=has_ties),
    OpEntry("topk", lambda a, k, **kw: ops.topk(a, k, **kw)[0],
            (ex((2, 4), k=2), ex((5,), k=3, largest=False), ex((3, 2), k=1, axis=0)), exclude=has_ties),
    # selection
    OpEntry("maximum", ops.maximum, _BINARY, exclude=lambda a, b: ties(a, b)),
    OpEntry("minimum", ops.minimum, _BINARY, exclude=lambda a, b: ties(a, b)),
    OpEntry("clip", _clip, (ex((2, 3), a_min=-0.5, a_max=0.7), ex((4,), a_min=0.0), ex((), a_max=0.3),
                            ex((2, 3), (2, 3), (3,), tensor_bounds=("a_min", "a_max")),
                            ex((4,), (), tensor_bounds=("a_max",), a_min=-1.0),
                            ex((3, 1), (1, 2), tensor_bounds=("a_min",))),
            exclude=_clip_kinks),
    OpEntry("where", _where, (ex((2, 3), (2, 3), condition=_I([[True, False, True], [False, True, True]])),
                              ex((2, 3), (3,), condition=_I([True, False, True])),
                              ex((), (2, 1), condition=_I([[True], [False]])))),
    OpEntry("masked_fill", ops.masked_fill, (ex((2, 3), mask=_I([False, True, True]), value=-1.5),
                                             ex((3,), mask=_I([True, False, False]), value=0.0))),
    # float32 rounding (~1e-7) needs a larger step to stay below the tolerance
    OpEntry("astype", lambda a, dtype: ops.astype(a, dtype) * ops.astype(a, dtype),
            (ex((2, 3), dtype=np.float32), ex((), dtype=np.float32)), eps=1e-2, atol=1e-3),
    # reductions
    OpEntry("sum", ops.sum, _REDUCE),
    OpEntry("mean", ops.mean, _REDUCE),
    OpEntry("max", ops.max, _REDUCE, exclude=has_ties),
    OpEntry("min", ops.min, _REDUCE, exclude=has_ties),
    OpEntry("var", ops.var, _REDUCE + (ex((2, 4), axis=1, ddof=1),), exclude=_no_spare_degree),
    OpEntry("std", ops.std, (ex((2, 4), axis=-1), ex((5,)), ex((3, 2), axis=0, ddof=1, keepdims=True)),
            exclude=_flat_spread),
    OpEntry("logsumexp", ops.logsumexp, _REDUCE),
    OpEntry("softmax", ops.softmax, (ex((2, 3), axis=-1), ex((3, 2), axis=0), ex((1,), axis=0), ex((), axis=-1),
                                     ex((2, 3, 2), axis=(0, 2)))),
    OpEntry("log_softmax", ops.log_softmax,
            (ex((2, 3), axis=-1), ex((3, 2), axis=0), ex((1,), axis=0), ex((), axis=0))),
    # shape
    OpEntry("reshape", _reshape, (ex((2, 3), shape=(3, 2)), ex((2, 3), shape=(-1,)), ex((), shape=(1, 1)))),
    OpEntry("transpose", _transpose, (ex((2, 3), axes=()), ex((2, 3, 4), axes=(2, 0, 1)),
                                      ex((2, 3, 4), axes=(1, 0, 2), keyword=True))),
    OpEntry("permute", _permute, (ex((2, 3, 4), axes=(1, 2, 0)), ex((), axes=()))),
    OpEntry("swapaxes", ops.swapaxes, (ex((2, 3), axis1=0, axis2=-1), ex((2, 1, 3), axis1=1, axis2=2))),
    OpEntry("squeeze", ops.squeeze, (ex((1, 3, 1)), ex((1, 3, 1), axis=0), ex((2, 1), axis=-1))),
    OpEntry("unsqueeze", ops.unsqueeze, (ex((2, 3), axis=1), ex((), axis=0), ex((3,), axis=-1))),
    OpEntry("expand", _expand, (ex((3, 1), shape=(2, 3, 4)), ex((), shape=(2,)), ex((1, 2), shape=(3, -1)))),
    OpEntry("broadcast_to", ops.broadcast_to, (ex((3,), shape=(2, 3)), ex((), shape=(2, 2)), ex((2, 1), shape=(2, 3)),
                                               ex((1,), shape=3))),
    OpEntry("flatten", ops.flatten, (ex((2, 3, 2)), ex((2, 3, 2), start_axis=1), ex(()))),
    OpEntry("getitem", ops.getitem, (ex((4, 3), index=(slice(None, None, -1), 1)), ex((4,), index=_I([0, 2, 2, -1])),
                                     ex((3, 2), index=_I([True, False, True])), ex((2, 3), index=(Ellipsis, None, 0)))),
    OpEntry("take_along_axis", ops.take_along_axis, (ex((2, 3), indices=_I([[0, 2, 2, 1], [1, 1, 0, 0]]), axis=1),
                                                     ex((3,), indices=_I([2, 2]), axis=0))),
    OpEntry("concat", _concat, (ex((2, 3), (1, 3), axis=0), ex((2, 1), (2, 2), (2, 1), axis=-1), ex((3,), axis=0),
                                ex((2, 2), (), (3,), axis=None))),
    OpEntry("stack", _stack, (ex((2, 3), (2, 3), axis=0), ex((), (), axis=0), ex((3,), (3,), (3,), axis=-1))),
    OpEntry("split", ops.split,
            (ex((5, 2), sections_or_indices=[1, 3], axis=0), ex((2, 4), sections_or_indices=2, axis=1),
             ex((6,), sections_or_indices=[2, -2, 1, 9], axis=0))),
    OpEntry("chunk", ops.chunk,
            (ex((2, 5), chunks=2, axis=-1), ex((3,), chunks=3, axis=0), ex((2, 0), chunks=3, axis=1))),
    OpEntry("pad", ops.pad, (ex((2, 3), pad_width=((1, 0), (0, 2)), value=0.5), ex((3,), pad_width=((2, 1),)),
                             ex((3, 2), pad_width=((2, 1), (1, 1)), mode="reflect"), ex((2,), pad_width=3, mode="wrap"),
                             ex((1, 2), pad_width=((1, 2), (0, 1)), mode="edge"))),
    OpEntry("flip", ops.flip, (ex((2, 3)), ex((2, 3, 2), axis=(0, 2)), ex((4,), axis=-1), ex(()))),
    OpEntry("roll", ops.roll, (ex((2, 3), shift=1), ex((2, 3), shift=(1, -4), axis=(0, 1)), ex((4,), shift=5, axis=0))),
    OpEntry("repeat", ops.repeat, (ex((2, 3), repeats=2), ex((2, 3), repeats=_I([1, 0, 2]), axis=1), ex((), repeats=3))),
    OpEntry("tile", ops.tile, (ex((2, 3), reps=(2, 1)), ex((3,), reps=(2, 2)), ex((), reps=2), ex((2, 1, 2), reps=3))),
    OpEntry("moveaxis", ops.moveaxis, (ex((2, 3, 4), source=0, destination=-1), ex((2, 3, 4), source=(0, 1), destination=(2, 0)))),
    OpEntry("atleast_1d", ops.atleast_1d, (ex(()), ex((2, 3)))),
    OpEntry("atleast_2d", ops.atleast_2d, (ex(()), ex((3,)), ex((2, 1, 2)))),
    OpEntry("atleast_3d", ops.atleast_3d, (ex(()), ex((3,)), ex((2, 3)))),
    OpEntry("unflatten", ops.unflatten, (ex((2, 6), axis=1, sizes=(3, 2)), ex((4,), axis=0, sizes=(-1, 2)))),
    OpEntry("hstack", _joined("hstack"), (ex((2,), (3,)), ex((2, 1), (2, 3)), ex((), ()))),
    OpEntry("vstack", _joined("vstack"), (ex((3,), (2, 3)), ex((), ()), ex((1, 2, 2), (2, 2, 2)))),
    OpEntry("dstack", _joined("dstack"), (ex((3,), (3,)), ex((2, 2), (2, 2, 3)), ex((), ()))),
    OpEntry("array_split", ops.array_split, (ex((7, 2), sections_or_indices=3), ex((2, 5), sections_or_indices=[1, 3], axis=1))),
    OpEntry("meshgrid", ops.meshgrid, (ex((3,), (2,)), ex((2,), (3,), (2,), indexing="ij"), ex((3,)))),
    OpEntry("tril", ops.tril, (ex((3, 4)), ex((2, 3, 3), k=1), ex((4, 2), k=-1))),
    OpEntry("triu", ops.triu, (ex((3, 4)), ex((2, 3, 3), k=-1), ex((4, 2), k=1))),
    OpEntry("diagonal", ops.diagonal, (ex((3, 4)), ex((2, 3, 4), offset=1, axis1=2, axis2=0), ex((3, 3), offset=-2))),
    OpEntry("diag", ops.diag, (ex((3,)), ex((2,), k=-1), ex((3, 4), k=1))),
    OpEntry("trace", ops.trace, (ex((3, 4)), ex((2, 3, 3), offset=-1, axis1=1, axis2=2))),
    OpEntry("gather", ops.gather, (ex((3, 4), axis=1, index=_I([[0, 3, 3], [1, 0, 2]])), ex((4,), axis=0, index=_I([1, 1, 3])))),
    OpEntry("scatter", _scatter_src("scatter"),
            (ex((3, 4), (2, 3), axis=0, index=_I([[0, 2, 2], [1, 2, 0]])), ex((4,), (3,), axis=0, index=_I([3, 3, 0])))),
    OpEntry("scatter_add", _scatter_src("scatter_add"),
            (ex((3, 4), (2, 5), axis=1, index=_I([[0, 0, 3], [2, 2, 2]])), ex((4,), (2,), axis=0, index=_I([1, 1])))),
    OpEntry("put_along_axis", _put_along_axis,
            (ex((2, 3), (2, 1), indices=_I([[2], [0]]), axis=1), ex((4,), (), indices=_I([0, 3]), axis=0))),
    OpEntry("masked_select", ops.masked_select, (ex((2, 3), mask=_I([True, False, True])), ex((3,), mask=_I([[True], [False]])))),
    # contractions and norms (minigrad.ops.contract)
    OpEntry("einsum", _einsum, (ex((2, 3), (3, 4), subscripts="ij,jk->ik"), ex((3, 3), subscripts="ii->i"),
                                ex((2, 2, 3), (3,), subscripts="iij,j"), ex((2, 1, 3), (3, 2), subscripts="...ij,jk"),
                                ex((2,), (3,), (2, 3), subscripts="i,j,ij->"), ex((2, 3), subscripts="ij->j"),
                                ex((2,), (1, 1, 1), subscripts="...,...aa"))),  # a broadcast label on a diagonal
    OpEntry("tensordot", ops.tensordot, (ex((2, 3, 4), (3, 4, 2)), ex((2, 3), (4, 3), axes=([1], [1])), ex((2,), (3,), axes=0))),
    OpEntry("dot", ops.dot, (ex((3,), (3,)), ex((2, 3), (3, 4)), ex((2, 2, 3), (2, 3, 2)), ex((), (2,)))),
    OpEntry("inner", ops.inner, (ex((3,), (3,)), ex((2, 3), (4, 3)), ex((2,), ()))),
    OpEntry("outer", ops.outer, (ex((3,), (2,)), ex((2, 2), (3,)), ex((), (2,)))),
    OpEntry("kron", ops.kron, (ex((2, 2), (2, 3)), ex((3,), (2, 2)), ex((), (2,)))),
    OpEntry("norm", ops.norm, (ex((4,)), ex((2, 3), ord="fro"), ex((2, 3), ord=1, axis=1, keepdims=True),
                               ex((3, 3), ord=np.inf), ex((2, 3, 2), ord=-1, axis=(2, 0)), ex((4,), ord=3),
                               ex((2, 2, 2)), ex((3, 2), ord=2), ex((2, 3, 3), ord="nuc", axis=(2, 1)),
                               ex((3, 4), ord=-2, keepdims=True)),
            exclude=_norm_kinks),
    # singular values (minigrad.linalg): well-separated, nonzero singular values only
    OpEntry("svdvals", linalg.svdvals, (ex((3, 3)), ex((4, 2)), ex((2, 2, 3)), ex((1, 1))),
            exclude=_close_singular_values),
    OpEntry("svd", _svd, (ex((3, 3)), ex((4, 2)), ex((2, 2, 3)), ex((3, 3), full_matrices=True)),
            exclude=_svd_degenerate),
    # neural-network functions (minigrad.functional)
    OpEntry("conv1d", F.conv1d, (ex((2, 3, 6), (4, 3, 3), (4,)), ex((1, 4, 7), (2, 2, 2), stride=2, padding=1, dilation=2, groups=2),
                                 ex((2, 5), (3, 2, 2), padding="same"))),
    OpEntry("conv2d", F.conv2d, (ex((1, 2, 5, 4), (3, 2, 2, 3), (3,)),
                                 ex((2, 4, 5, 5), (2, 2, 3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2))),
    OpEntry("max_pool1d", _pool_values("max_pool1d"),
            (ex((2, 3, 6), kernel_size=2), ex((1, 2, 7), kernel_size=3, stride=2, padding=1, dilation=2),
             ex((1, 2, 8), kernel_size=3, stride=2, padding=1, ceil_mode=True, return_indices=True)),  # last window partial
            exclude=has_ties),
    OpEntry("max_pool2d", _pool_values("max_pool2d"),
            (ex((1, 2, 5, 4), kernel_size=2), ex((2, 1, 5, 5), kernel_size=(3, 2), stride=1, padding=1),
             ex((1, 2, 5, 6), kernel_size=(2, 3), stride=2, dilation=(2, 1), ceil_mode=True, return_indices=True)),
            exclude=has_ties),
    OpEntry("avg_pool1d", F.avg_pool1d,
            (ex((2, 3, 6), kernel_size=3), ex((1, 2, 7), kernel_size=3, stride=2, padding=1, count_include_pad=False),
             ex((2, 1, 7), kernel_size=3, stride=2, padding=1, ceil_mode=True))),
    OpEntry("avg_pool2d", F.avg_pool2d,
            (ex((1, 2, 5, 4), kernel_size=2), ex((2, 1, 5, 5), kernel_size=(3, 2), stride=(2, 1), padding=(1, 1)),
             ex((1, 2, 5, 6), kernel_size=2, stride=(2, 3), ceil_mode=True, count_include_pad=False),
             ex((1, 1, 4, 5), kernel_size=3, stride=2, padding=1, ceil_mode=True, divisor_override=4))),
    OpEntry("cross_entropy", F.cross_entropy,
            (ex((3, 4), target=_I([0, 3, 1])),
             ex((2, 3, 4), target=_I([[0, 1, 3], [2, 0, 1]]), ignore_index=0, label_smoothing=0.1, reduction="mean"),
             ex((4,), target=_I(2), reduction="sum"),
             ex((2, 1), target=_I([0, 0]), label_smoothing=0.1, reduction="none"),
             ex((3, 4), target=_I([0, 3, 3]), weight=_I([0.5, 1.0, 2.0, 1.5]), ignore_index=0, label_smoothing=0.1),
             ex((2, 3), target=_I([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]]), weight=_I([1.0, 2.0, 0.5]), reduction="sum"),
             ex((2, 2, 3), target=np.full((2, 2, 3), 1 / 3), label_smoothing=0.2, reduction="mean")),
            domain=(-3, 3)),
    OpEntry("binary_cross_entropy", F.binary_cross_entropy,
            (ex((2, 3), (2, 3)), ex((4,), (4,), weight=_I([1.0, 2.0, 0.5, 1.0]), reduction="sum"),
             ex((), (), reduction="none")),
            domain=[(0.05, 0.95), (0.0, 1.0)]),
    OpEntry("binary_cross_entropy_with_logits", F.binary_cross_entropy_with_logits,
            (ex((2, 3), (2, 3)), ex((2, 3), (2, 3), pos_weight=_I([1.0, 2.0, 3.0]), reduction="none"),
             ex((4,), (4,), weight=_I([1.0, 2.0, 0.5, 1.0]), reduction="sum")),
            domain=[(-4.0, 4.0), (0.0, 1.0)]),
    OpEntry("nll_loss", F.nll_loss, (ex((3, 4), target=_I([0, 3, 1])), ex((2, 3), target=_I([2, 0]), ignore_index=0,
                                                                              reduction="sum"),
                                     ex((2, 2), target=_I([1, 0]), reduction="none"))),
    OpEntry("mse_loss", F.mse_loss,
            (ex((2, 3), (2, 3)), ex((4,), (4,), reduction="sum"), ex((), (), reduction="none"))),
    OpEntry("embedding", _embedding, (ex((5, 3), indices=_I([[1, 4, 4], [0, 2, 1]])),
                                      ex((4, 2), indices=_I([0, 3, 0, 1]), padding_idx=0))),
    OpEntry("layer_norm", _layer_norm, (ex((2, 4), (4,), (4,), normalized_shape=(4,)),
                                        ex((3, 2, 3), normalized_shape=(2, 3)),
                                        ex((2, 3), (3,), normalized_shape=(3,)))),
    OpEntry("linear", F.linear, (ex((2, 3), (4, 3), (4,)), ex((3,), (2, 3)), ex((2, 1, 3), (2, 3), (2,)))),
    OpEntry("scaled_dot_product_attention", _attention_out,
            (ex((2, 3, 4), (2, 5, 4), (2, 5, 2)),
             ex((3, 2), (4, 2), (4, 3), mask=_I([[True, True, False, False], [False] * 4, [True] * 4])),
             ex((2, 1, 3, 2), (1, 2, 4, 2), (4, 3), is_causal=True, scale=0.5),
             ex((2, 3, 4), (2, 2, 4), (2, 2, 6), mask=_I([[0.5, -1.0], [0.0, -np.inf], [1.0, 2.0]]), num_heads=2))),
    OpEntry("additive_attention", _additive_context,
            (ex((2, 3), (4, 3), (2, 5, 4), (1, 4), (2, 5, 2)),
             ex((1, 2), (3, 2), (1, 4, 3), (1, 3), (1, 4, 3), mask=_I([[True, False, True, False]])))),
    OpEntry("recurrence", _recurrence,
            (ex((3, 2, 9), (9, 3), (9,), (2, 3), cell="gru"),
             ex((2, 3, 8), (8, 2), (8,), (2, 2), (2, 2), cell="lstm", batch_first=True, reverse=True,
                lengths=_I([3, 1])),
             ex((2, 1, 3), (3, 3), (3,), (1, 3), cell="rnn_tanh"))),
    OpEntry("rnn_cell", _rnn_cell, (ex((2, 3), (2, 2), (6, 3), (6, 2), (6,), (6,), cell="gru"),
                                    ex((1, 2), (1, 2), (8, 2), (8, 2), (8,), (8,), (1, 2), cell="lstm"))),
    OpEntry("bahdanau_decoder", _bahdanau_features,
            (ex((2, 3, 2), (2, 3), (9, 5), (9, 3), (9,), (9,), (4, 3), (2, 4, 4), (1, 4), (2, 4, 3), cell="gru",
                mask=_I([[True, True, False, False], [True] * 4])),
             ex((1, 2, 2), (1, 2), (8, 4), (8, 2), (8,), (8,), (3, 2), (1, 3, 3), (1, 3), (1, 3, 2), (1, 2),
                cell="lstm"))),
    OpEntry("dropout", _seeded_dropout, (ex((3, 4), p=0.3), ex((4,), p=0.0), ex((2, 2), p=1.0))),
]

ENTRIES: dict[str, OpEntry] = {entry.name: entry for entry in OPS}

# The backward rule of each entry as a short formula, shown by minigrad.viz and `minigrad trace`.
# Names: inputs x (one) or a, b (two), output y, the gradient reaching the output dy, and what
# is sent to each input dx, da, db (before the engine sums broadcast axes back to the input's shape).
FORMULAS: dict[str, str] = {
    "add": "da = dy;  db = dy",
    "sub": "da = dy;  db = -dy",
    "mul": "da = dy * b;  db = dy * a",
    "div": "da = dy / b;  db = -dy * a / b**2",
    "pow": "da = dy * b * a**(b - 1);  db = dy * y * log(a)",
    "neg": "dx = -dy",
    "matmul": "da = dy @ b.T;  db = a.T @ dy",
    "exp": "dx = dy * y",
    "log": "dx = dy / x",
    "sqrt": "dx = dy / (2 * y)",
    "abs": "dx = dy * sign(x)",
    "tanh": "dx = dy * (1 - y**2)",
    "erf": "dx = dy * 2 / sqrt(pi) * exp(-x**2)",
    "sigmoid": "dx = dy * y * (1 - y)",
    "relu": "dx = dy * (x > 0)",
    "gelu": "dx = dy * d/dx[x * Phi(x)]",
    "sin": "dx = dy * cos(x)",
    "cos": "dx = -dy * sin(x)",
    "tan": "dx = dy * (1 + y**2)",
    "arcsin": "dx = dy / sqrt(1 - x**2)",
    "arccos": "dx = -dy / sqrt(1 - x**2)",
    "arctan": "dx = dy / (1 + x**2)",
    "sinh": "dx = dy * cosh(x)",
    "cosh": "dx = dy * sinh(x)",
    "arcsinh": "dx = dy / sqrt(x**2 + 1)",
    "arccosh": "dx = dy / sqrt(x**2 - 1)",
    "arctanh": "dx = dy / (1 - x**2)",
    "log2": "dx = dy / (x * log(2))",
    "log10": "dx = dy / (x * log(10))",
    "log1p": "dx = dy / (1 + x)",
    "exp2": "dx = dy * y * log(2)",
    "expm1": "dx = dy * (y + 1)",
    "square": "dx = dy * 2 * x",
    "reciprocal": "dx = -dy * y**2",
    "rsqrt": "dx = -dy * y**3 / 2",
    "sign": "dx = 0 * dy",
    "floor": "dx = 0 * dy",
    "ceil": "dx = 0 * dy",
    "trunc": "dx = 0 * dy",
    "round": "dx = 0 * dy",
    "arctan2": "da = dy * b / (a**2 + b**2);  db = -dy * a / (a**2 + b**2)",
    "hypot": "da = dy * a / y;  db = dy * b / y",
    "logaddexp": "da = dy * exp(a - y);  db = dy * exp(b - y)",
    "copysign": "da = dy * sign(a) * sign(b);  db = 0 * dy",
    "fmod": "da = dy;  db = -dy * trunc(a / b)",
    "remainder": "da = dy;  db = -dy * floor(a / b)",
    "leaky_relu": "dx = dy * (1 if x > 0 else negative_slope)",
    "elu": "dx = dy * (1 if x > 0 else y + alpha)",
    "selu": "dx = dy * scale * (1 if x > 0 else alpha * exp(x))",
    "celu": "dx = dy * (1 if x > 0 else exp(x / alpha))",
    "hardtanh": "dx = dy * (min_val < x < max_val)",
    "relu6": "dx = dy * (0 < x < 6)",
    "hardsigmoid": "dx = dy * (-3 < x < 3) / 6",
    "hardswish": "dx = dy * (0 if x < -3 else 1 if x > 3 else (2 * x + 3) / 6)",
    "softplus": "dx = dy * sigmoid(beta * x)",
    "softsign": "dx = dy / (1 + abs(x))**2",
    "silu": "dx = dy * s * (1 + x * (1 - s)), s = sigmoid(x)",
    "mish": "dx = dy * d/dx[x * tanh(softplus(x))]",
    "logsigmoid": "dx = dy * (1 - sigmoid(x))",
    "softmin": "dx = y * (dy - sum(dy * y, axis))",
    "lerp": "dstart = dy * (1 - weight);  dend = dy * weight;  dweight = dy * (end - start)",
    "prod": "dx = dy * (product of the other elements)", "cumsum": "dx = reversed cumsum of dy",
    "cumprod": "dx_i = prod(x_j, j < i) * r_i with r_i = dy_i + x_(i+1) * r_(i+1) (no division)",
    "logcumsumexp": "dx_i = sum over k >= i of dy_k * exp(x_i - y_k)",
    "cummax": "dx = dy summed onto the running argmax", "cummin": "dx = dy summed onto the running argmin",
    "sort": "dx = dy scattered back to the sorted order's positions", "topk": "dx = dy scattered to the top k",
    "maximum": "da = dy * (a > b);  db = dy * (b > a)",
    "minimum": "da = dy * (a < b);  db = dy * (b < a)",
    "clip": "dx = dy * (a_min <= x <= a_max)",
    "where": "da = dy * condition;  db = dy * ~condition",
    "masked_fill": "dx = dy * ~mask",
    "astype": "dx = dy (cast back)",
    "sum": "dx = broadcast(dy)",
    "mean": "dx = broadcast(dy) / n",
    "max": "dx = dy * (x == y)",
    "min": "dx = dy * (x == y)",
    "var": "dx = dy * 2 * (x - mean(x)) / (n - ddof)",
    "std": "dx = dy * (x - mean(x)) / ((n - ddof) * y)",
    "logsumexp": "dx = dy * exp(x - y)",
    "softmax": "dx = y * (dy - sum(dy * y, axis))",
    "log_softmax": "dx = dy - exp(y) * sum(dy, axis)",
    "reshape": "dx = reshape(dy, x.shape)",
    "transpose": "dx = transpose(dy, inverse axes)",
    "permute": "dx = permute(dy, inverse axes)",
    "swapaxes": "dx = swapaxes(dy, axis1, axis2)",
    "squeeze": "dx = reshape(dy, x.shape)",
    "unsqueeze": "dx = reshape(dy, x.shape)",
    "expand": "dx = sum(dy over the expanded axes)",
    "broadcast_to": "dx = sum(dy over the broadcast axes)",
    "flatten": "dx = reshape(dy, x.shape)",
    "getitem": "dx = zeros_like(x); dx[index] += dy",
    "take_along_axis": "dx = zeros_like(x); dx[indices] += dy",
    "concat": "dx_i = dy[the slice of input i]",
    "stack": "dx_i = dy[i along axis]",
    "split": "dx = concat(dy_1, dy_2, ...)",
    "chunk": "dx = concat(dy_1, ...)",
    "pad": "dx = dy[the unpadded region]",
    "flip": "dx = flip(dy)",
    "roll": "dx = roll(dy, -shift)",
    "repeat": "dx = sum of dy over the repeats",
    "tile": "dx = sum of dy over the tiles",
    "moveaxis": "dx = moveaxis(dy, destination, source)",
    "atleast_1d": "dx = reshape(dy, x.shape)",
    "atleast_2d": "dx = reshape(dy, x.shape)",
    "atleast_3d": "dx = reshape(dy, x.shape)",
    "unflatten": "dx = reshape(dy, x.shape)",
    "hstack": "dx_i = dy[the slice of input i]",
    "vstack": "dx_i = dy[the slice of input i]",
    "dstack": "dx_i = dy[the slice of input i]",
    "array_split": "dx = concat(dy_1, dy_2, ...)",
    "meshgrid": "dx_i = sum of dy_i over the other axes",
    "tril": "dx = tril(dy)",
    "triu": "dx = triu(dy)",
    "diagonal": "dx = zeros_like(x); diagonal(dx) = dy",
    "diag": "dx = diag(dy)",
    "trace": "dx = dy * eye",
    "gather": "dx = zeros_like(x); dx[index] += dy",
    "scatter": "da = dy with the scattered places zeroed;  dsrc = dy[index]",
    "scatter_add": "da = dy;  dsrc = dy[index]",
    "put_along_axis": "darr = dy with the put places zeroed;  dvalues = dy[indices]",
    "masked_select": "dx = zeros_like(x); dx[mask] = dy",
    "einsum": "d(operand i) = einsum of dy with the other operands, to the labels of operand i",
    "tensordot": "da = tensordot(dy, b) over b's free axes;  db = tensordot(a, dy) over a's free axes",
    "dot": "da = dy * b;  db = dy * a",
    "inner": "da = dy * b;  db = dy * a",
    "outer": "da = dy @ b;  db = dy.T @ a",
    "kron": "da, db = the blocks of dy summed, weighted by the other input",
    "norm": "dx = dy * x / y (ord 2; the other ords by their own rule)",
    "svdvals": "dx = U diag(dy) Vh (U, Vh of the reduced SVD)",
    "svd": ("dx = U [(skew(U^T dU) S + S skew(V^T dV)) / (S_k^2 - S_j^2) + diag(dS)] Vh"
            " + (I - U U^T) dU S^-1 Vh + U S^-1 dVh (I - V V^T)"),
    "cross_entropy": "dx = dy * (softmax(x) - onehot(target)) / n",
    "nll_loss": "dx = -dy * onehot(target) / n",
    "mse_loss": "da = dy * 2 * (a - b) / n;  db = -da",
    "embedding": "dW = zeros_like(W); dW[indices] += dy",
    "layer_norm": "dx = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / std",
    "linear": "dx = dy @ W;  dW = dy.T @ x;  db = sum(dy, axis=0)",
    "scaled_dot_product_attention": ("dv = w.T @ dy;  dw = dy @ v.T;  ds = w * (dw - sum(dw * w));"
                                     "  dq = ds @ k / sqrt(d);  dk = ds.T @ q / sqrt(d)"),
    "additive_attention": "d(inputs) = backward through e = v . tanh(W q + U k), w = softmax(e), context = w @ values",
    "recurrence": "d(inputs) = backpropagation through time, one cell step at a time from the last",
    "rnn_cell": "d(inputs) = backward through one GRU/LSTM cell's gates",
    "bahdanau_decoder": "d(inputs) = backpropagation through time of the attention decoder, last step first",
    "dropout": "dx = dy * mask / (1 - p)",
    "binary_cross_entropy": ("dx = dy * (x - target) / max(x * (1 - x), 1e-12) / n;"
                             "  dtarget = dy * (log(1 - x) - log(x)) / n"),
    "binary_cross_entropy_with_logits": "dx = dy * (sigmoid(x) - target) / n",
    "conv1d": "dx = conv_transpose(dy, W);  dW = correlate(x, dy);  db = sum(dy over batch and length)",
    "conv2d": "dx = conv_transpose(dy, W);  dW = correlate(x, dy);  db = sum(dy over batch and space)",
    "max_pool1d": "dx = dy routed to the largest element of each window",
    "max_pool2d": "dx = dy routed to the largest element of each window",
    "avg_pool1d": "dx = dy spread evenly over each window",
    "avg_pool2d": "dx = dy spread evenly over each window",
}

# Public ops whose output carries no gradient, listed explicitly (HIPS autograd style).
NON_DIFFERENTIABLE: dict[str, str] = {
    "argmax": "returns integer indices",
    "argmin": "returns integer indices",
    "argsort": "returns integer indices",
    "one_hot": "its input and output are integers",
    "nonzero": "returns integer indices",
}


def get(name: str) -> OpEntry:
    """The entry of op ``name``; KeyError listing the valid names otherwise."""
    try:
        return ENTRIES[name]
    except KeyError:
        raise KeyError(f"no op named {name!r} in the op table; valid names: {', '.join(sorted(ENTRIES))}") from None


# ---------------------------------------------------------------- running the check


@dataclass
class CheckRow:
    """The float64 gradient check of one op over its examples.

    ``max_abs``/``max_rel`` are the worst errors over every example (see
    ``minigrad.gradcheck.GradientErrors``); ``failure`` describes the first failing
    example (None when all passed).
    """

    op: str
    shapes: list[str]
    max_abs: float
    max_rel: float
    passed: bool
    failure: str | None = None


def check(entry: OpEntry, examples: Sequence[Example] | None = None, seed: int = 0, order: int = 1,
          mode: str = "reverse") -> CheckRow:
    """Gradient-check ``entry.fn`` on each example with seeded random float64 inputs: first
    derivatives (``order=1``) or second (``order=2``, as ``gradgradcheck``), by reverse mode or,
    with ``mode="forward"``, by forward mode (a jvp per input element)."""
    if order not in (1, 2) or mode not in ("reverse", "forward"):
        raise ValueError(f"check: order must be 1 or 2 and mode 'reverse' or 'forward', got {order!r}, {mode!r}")
    rng = np.random.default_rng([seed, zlib.crc32(entry.name.encode())])
    row = CheckRow(entry.name, [], 0.0, 0.0, True)
    for example in entry.examples if examples is None else examples:
        row.shapes.append(example.describe())
        try:
            arrays = entry.sample(example, rng)
            inputs = [Tensor(a, requires_grad=True) for a in arrays]
            fn = lambda *ts: entry.fn(*ts, **example.kwargs)  # noqa: E731
            if order == 2:
                fn, inputs = first_derivatives(fn, inputs, seed=seed)
            errors = gradient_errors(fn, inputs, eps=entry.eps, atol=entry.atol, rtol=entry.rtol, seed=seed,
                                     check_forward_ad=mode == "forward")
            if mode == "forward":
                errors.inputs = errors.forward
        except (ArithmeticError, LookupError, TypeError, ValueError, RuntimeError, GradcheckError) as err:
            row.passed = False
            row.failure = row.failure or f"{example.describe()}: {type(err).__name__}: {err}"
            continue
        row.max_abs = max(row.max_abs, errors.max_abs)
        row.max_rel = max(row.max_rel, errors.max_rel)
        if not errors.passed and row.failure is None:
            bad = next(e for e in errors.inputs if not e.passed)
            worst = bad.worst()
            row.failure = (f"{example.describe()}: input {bad.index} at {worst}: analytic {bad.analytic[worst]:.6g}, "
                           f"numeric {bad.numeric[worst]:.6g}")
        row.passed = row.passed and errors.passed
    return row


def check_ops(names: Sequence[str] | None = None, seed: int = 0, order: int = 1, mode: str = "reverse") -> list[CheckRow]:
    """Check every op of the table (or those named), one ``CheckRow`` each, in table order
    (the order of ``names`` when given). Unknown names raise KeyError listing the valid ones."""
    entries = OPS if not names else [get(n) for n in names]
    return [check(entry, seed=seed, order=order, mode=mode) for entry in entries]


def check_function(fn: Callable[[Tensor], Any], shapes: Sequence[Shape], name: str | None = None,
                   domain: Domain = (-2.0, 2.0), atol: float = 1e-5, rtol: float = 1e-3, eps: float = 1e-6,
                   seed: int = 0, order: int = 1, mode: str = "reverse") -> CheckRow:
    """Check a user's function of tensors (one per shape) the same way as a table op."""
    entry = OpEntry(name or getattr(fn, "__name__", "fn"), fn, (Example(tuple(tuple(s) for s in shapes)),),
                    domain=domain, atol=atol, rtol=rtol, eps=eps)
    return check(entry, seed=seed, order=order, mode=mode)
