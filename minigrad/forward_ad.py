"""Forward-mode autodiff: dual numbers.

A dual tensor carries, beside its value ``x``, a tangent ``u`` (the direction in which ``x`` is
moved). Every op that receives a dual input computes its output's tangent ``J u`` in the same
call as its value, with the op's ``jvp`` rule written beside its ``forward`` and ``backward``;
no graph is kept for it. ``minigrad.func.jvp`` is the convenient interface::

    >>> import minigrad as mg
    >>> from minigrad import forward_ad as fwAD
    >>> with fwAD.dual_level():
    ...     x = fwAD.make_dual(mg.tensor(2.0), mg.tensor(1.0))
    ...     y = x * x * x
    ...     value, tangent = fwAD.unpack_dual(y)
    >>> value.item(), tangent.item()
    (8.0, 12.0)

Levels nest: each ``dual_level()`` is a new, independent perturbation, and the tangent an inner
level computes is itself dual in every outer level (so ``jvp`` of ``jvp`` gives mixed second
derivatives, and ``jvp`` of a reverse-mode gradient gives Hessian-vector products). A rule runs
on plain arrays when nothing needs its derivative, and on Tensors (recorded, and dual in the
outer levels) when something does. A fused op without a ``jvp`` of its own takes the tangent of
its ``reference`` composition.
"""

from __future__ import annotations

import itertools
from typing import Any, NamedTuple

import numpy as np

from .autograd import Function, _State
from .errors import BackwardError
from .tensor import Tensor

_level_ids = itertools.count()


class dual_level:
    """A context manager opening a new forward-mode level; ``with dual_level() as level``.

    Tangents attached at this level are visible until the block ends.
    """

    def __enter__(self) -> int:
        self.level = next(_level_ids)
        _State.levels = (*_State.levels, self.level)
        return self.level

    def __exit__(self, *exc) -> bool:
        _State.levels = tuple(level for level in _State.levels if level != self.level)
        return False


def _innermost(level: int | None, what: str) -> int:
    if level is None:
        if not _State.levels:
            raise RuntimeError(f"{what}: no dual level is open; use `with minigrad.forward_ad.dual_level():`")
        return _State.levels[-1]
    if level not in _State.levels:
        raise RuntimeError(f"{what}: level {level} is not open")
    return level


class _Alias(Function):
    """The identity, as an op: a new Tensor in the graph (and in every open level) of its input."""

    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, grad):
        return grad

    @staticmethod
    def jvp(ctx, tangent):
        return tangent


def alias(tensor: Tensor) -> Tensor:
    """A new Tensor holding ``tensor``'s data, connected to it for reverse and forward mode."""
    return _Alias.apply(tensor)


def make_dual(tensor: Tensor, tangent: Any, level: int | None = None) -> Tensor:
    """A Tensor with ``tensor``'s value (and graph) whose tangent at ``level`` (default: the
    innermost open one) is ``tangent``, of the same shape."""
    level = _innermost(level, "make_dual")
    if not isinstance(tensor, Tensor) or tensor.dtype.kind != "f":
        raise TypeError("make_dual: the primal must be a floating-point Tensor")
    shape = np.shape(tangent.data if isinstance(tangent, Tensor) else tangent)
    if shape != tensor.shape:
        raise ValueError(f"make_dual: tangent of shape {shape} for a primal of shape {tensor.shape}")
    dual = alias(tensor)
    dual._tangents = {**(dual._tangents or {}), level: _stored(tangent, tensor.dtype)}
    return dual


def _stored(tangent: Any, dtype: np.dtype) -> Any:
    """A tangent as kept on a tensor: an ndarray, or a Tensor when it carries a graph or tangents."""
    if isinstance(tangent, Tensor):
        if tangent.requires_grad or tangent._tangents:
            return tangent if tangent.dtype == dtype else tangent.astype(dtype)
        tangent = tangent.data
    return np.asarray(tangent, dtype=dtype)


class UnpackedDual(NamedTuple):
    primal: Tensor
    tangent: Tensor | None


def unpack_dual(tensor: Tensor, level: int | None = None) -> UnpackedDual:
    """``(primal, tangent)`` of ``tensor`` at ``level``: the primal without that tangent (still in
    the graph), the tangent as a Tensor, or None when the tensor has none at that level."""
    level = _innermost(level, "unpack_dual")
    tangents = dict(tensor._tangents or {})
    tangent = tangents.pop(level, None)
    primal = Tensor._make(tensor.data, tensor.requires_grad, tensor.grad_fn)
    primal._output_nr = tensor._output_nr
    primal._tangents = tangents or None
    if tangent is not None and not isinstance(tangent, Tensor):
        tangent = Tensor._make(tangent, False, None)
    return UnpackedDual(primal, tangent)


# --------------------------------------------------------------------------- inside apply


def is_zero(tangent: Any) -> bool:
    """True for the zero tangents ``apply`` passes for an input without one (a broadcast zero array,
    or 0.0 for a constant): a rule may skip that term (and must, where the term's factor is NaN)."""
    if isinstance(tangent, float):
        return tangent == 0.0
    return isinstance(tangent, np.ndarray) and tangent.size > 0 and not any(tangent.strides) and tangent.flat[0] == 0


def _tangent_at(x: Any, level: int, as_tensor: bool) -> Any:
    """Input ``x``'s tangent at ``level``: zeros for a floating Tensor without one, 0.0 for any other
    array or number (a constant: masks and indices too), None for anything else (None, shapes)."""
    if not isinstance(x, Tensor):
        return 0.0 if isinstance(x, (int, float, np.ndarray, np.generic)) else None
    if x.dtype.kind != "f":
        return 0.0
    t = x._tangents.get(level) if x._tangents else None
    if t is None:
        t = np.broadcast_to(np.zeros((), x.dtype), x.shape)  # no memory for a zero tangent
    if as_tensor:
        return t if isinstance(t, Tensor) else Tensor._make(t, False, None)
    return t.data if isinstance(t, Tensor) else t


def _needs_tensors(inputs: tuple, level: int) -> bool:
    """True when the level's tangent must itself be differentiable: a graph is recorded through
    it, or an outer level sees it, or its input tangents are Tensors carrying either."""
    if _State.grad_enabled and any(isinstance(x, Tensor) and x.requires_grad for x in inputs):
        return True
    for x in inputs:
        if isinstance(x, Tensor) and x._tangents:
            if any(other < level and other in _State.levels for other in x._tangents):
                return True
            if isinstance(x._tangents.get(level), Tensor):
                return True
    return False


def push_tangents(ctx: Function, inputs: tuple, raw: Any, result: Any, kwargs: dict) -> None:
    """Give each floating output of the op that ``ctx`` just ran its tangent at every open level
    among its inputs (outermost first, each computed with only the levels outside it open)."""
    levels = sorted({level for x in inputs if isinstance(x, Tensor) and x._tangents for level in x._tangents
                     if level in _State.levels})
    if not levels:
        return
    outputs = result if isinstance(result, tuple) else (result,)
    cls = type(ctx)
    if cls.reference is not None and (cls.jvp is None or any(_needs_tensors(inputs, level) for level in levels)):
        _tangents_from_reference(cls, inputs, kwargs, outputs)  # a fused op's jvp may run kernels: arrays only
        _remember(ctx, outputs)
        return
    if cls.jvp is None:
        raise BackwardError(f"{ctx.name} has no forward-mode rule (jvp), so it cannot take a dual tensor")
    raws = raw if isinstance(raw, tuple) else (raw,)
    for level in levels:
        tensor_mode = _needs_tensors(inputs, level)
        tangents = [_tangent_at(x, level, tensor_mode) for x in inputs]
        if tensor_mode:
            out_tangents = _jvp_on_tensors(ctx, inputs, raws, outputs, tangents, level)
        else:
            out_tangents = cls.jvp(ctx, *tangents)
        out_tangents = out_tangents if isinstance(out_tangents, tuple) else (out_tangents,)
        for out, t in zip(outputs, out_tangents):
            if t is not None and out.dtype.kind == "f":
                out._tangents = {**(out._tangents or {}), level: _stored(t, out.dtype)}
    _remember(ctx, outputs)


def _remember(ctx: Function, outputs: tuple) -> None:
    """Keep the outputs' tangents on the node, for a reverse pass that hands the rule its saved
    output as a Tensor (which must carry them: forward mode over reverse mode)."""
    ctx.output_tangents = tuple(o._tangents for o in outputs)


def _jvp_on_tensors(ctx: Function, inputs: tuple, raws: tuple, outputs: tuple, tangents: list, level: int):
    """The jvp rule on Tensors, with the input and output arrays it saved given as the Tensors
    themselves and only the levels outside ``level`` open (so the rule's own ops are dual there)."""
    by_id = {id(x.data): x for x in inputs if isinstance(x, Tensor)}
    by_id.update({id(r): o for r, o in zip(raws, outputs)})

    def convert(item):
        if isinstance(item, (np.ndarray, np.generic)) and id(item) in by_id:
            return by_id[id(item)]
        if isinstance(item, (tuple, list)):
            return type(item)(convert(x) for x in item)
        return item

    saved, levels = ctx.saved, _State.levels
    ctx.saved = tuple(convert(x) for x in saved) if saved else saved
    _State.levels = tuple(other for other in levels if other < level)
    try:
        return type(ctx).jvp(ctx, *tangents)
    finally:
        ctx.saved, _State.levels = saved, levels


def _tangents_from_reference(cls: type, inputs: tuple, kwargs: dict, outputs: tuple) -> None:
    """A fused op without a jvp: its reference composition, run on the dual inputs, gives the
    outputs' tangents at every level (its primal values equal the fused op's)."""
    reference = cls.reference(*inputs, **kwargs)
    reference = reference if isinstance(reference, tuple) else (reference,)
    for out, ref in zip(outputs, reference):
        if ref._tangents and out.dtype.kind == "f":
            out._tangents = {**(out._tangents or {}), **ref._tangents}
