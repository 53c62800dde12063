"""Function transforms, named and called as ``torch.func``: they take a function of Tensors and
return a function computing its derivatives, and they compose (``grad(grad(f))``,
``jacfwd(jacrev(f))``, ``jvp`` of a ``grad``).

    >>> import minigrad as mg
    >>> from minigrad.func import grad, hessian
    >>> f = lambda x: (x ** 3).sum()
    >>> x = mg.tensor([1.0, 2.0], dtype=mg.float64)
    >>> grad(f)(x).tolist(), grad(grad(lambda t: t ** 3))(mg.tensor(2.0, dtype=mg.float64)).item()
    ([3.0, 12.0], 12.0)
    >>> hessian(f)(x).tolist()
    [[6.0, 0.0], [0.0, 12.0]]

What each costs, for f: R^n -> R^m (one "pass" is one evaluation of f, forward or backward):

- ``vjp(f, x)``: one forward, then one backward pass per cotangent: rows of the Jacobian (J^T v).
- ``jvp(f, (x,), (u,))``: one forward pass carrying tangents (dual numbers): J u, no graph kept.
- ``grad``/``value_and_grad``: ``vjp`` with the cotangent 1 of a scalar f (the loss case).
- ``jacrev``: m backward passes (one per output); ``jacfwd``: n forward passes (one per input).
  Pick ``jacrev`` when outputs are few (m << n), ``jacfwd`` when inputs are few.
- ``hessian``: ``jacfwd(jacrev(f))``, forward-over-reverse: n forward passes through the gradient.
- ``hvp(f, (x,), (v,))``: H v for the price of about two gradients (a backward that records
  its graph, then a backward through it), without forming H.

Each transform calls ``f`` on new Tensors that alias the arguments, so a transform nested inside
another differentiates with respect to its own argument while the outer one still sees the
dependence on its own. A graph for the gradient is kept only when something outside needs it.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from . import autograd
from .autograd import _State
from .forward_ad import alias, dual_level, make_dual, unpack_dual
from .tensor import Tensor

Argnums = int | tuple[int, ...]


def _argnums(argnums: Argnums, n: int, name: str) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums:
        raise ValueError(f"{name}: argnums must name at least one argument")
    for i in nums:
        if not -n <= i < n:
            raise ValueError(f"{name}: argnums {argnums!r} is out of range for a function called with {n} arguments")
    return tuple(i % n for i in nums)


def _check_tensor(x: Any, name: str, what: str) -> Tensor:
    if not isinstance(x, Tensor) or x.dtype.kind != "f":
        raise TypeError(f"{name}: {what} must be a floating-point Tensor, got {type(x).__name__}")
    return x


def _differentiable_copy(x: Tensor) -> Tensor:
    """A new Tensor to differentiate with respect to: an alias of ``x`` in every graph and level
    ``x`` is part of, and itself requiring grad."""
    copy = alias(x)
    if not copy.requires_grad:
        copy.requires_grad = True
    return copy


def _outer_needs_graph(args: Sequence[Any]) -> bool:
    """True when a reverse-mode transform outside this one will differentiate the result, so the
    gradient must carry a graph: an argument requires grad. (An open forward-mode level needs no
    graph: the reverse pass then runs on Tensors that carry the tangents, by itself.)"""
    return _State.grad_enabled and any(isinstance(a, Tensor) and a.requires_grad for a in args)


def _split_aux(result: Any, has_aux: bool, name: str) -> tuple[Any, Any]:
    if not has_aux:
        return result, None
    if not isinstance(result, tuple) or len(result) != 2:
        raise TypeError(f"{name}(has_aux=True): the function must return a pair (output, aux)")
    return result


def _vjp_core(f: Callable, args: tuple, argnums: tuple[int, ...], has_aux: bool, name: str):
    """Call f on differentiable copies of the chosen arguments: (output, aux, the copies, keep graph)."""
    args = list(args)
    keep = _outer_needs_graph(args)
    for i in argnums:
        args[i] = _differentiable_copy(_check_tensor(args[i], name, f"argument {i}"))
    with autograd.enable_grad():
        out, aux = _split_aux(f(*args), has_aux, name)
    return out, aux, [args[i] for i in argnums], keep


def _pick(values: Sequence, argnums: Argnums) -> Any:
    return values[0] if isinstance(argnums, int) else tuple(values)


def _zeros_if_unused(grads: Sequence, inputs: Sequence[Tensor]) -> list[Tensor]:
    return [Tensor._make(np.zeros(x.shape, x.dtype), False, None) if g is None else g for g, x in zip(grads, inputs)]


def value_and_grad(f: Callable, argnums: Argnums = 0, has_aux: bool = False) -> Callable:
    """A function returning ``(f(*args), grad of f with respect to args[argnums])``; f must return
    a one-element Tensor (or ``(output, aux)`` with ``has_aux``: then ``((output, aux), grad)``)."""

    def wrapper(*args):
        nums = _argnums(argnums, len(args), "value_and_grad")
        out, aux, inputs, keep = _vjp_core(f, args, nums, has_aux, "grad")
        if not isinstance(out, Tensor) or out.size != 1:
            raise ValueError(f"grad: the function must return a one-element Tensor, got "
                             f"{type(out).__name__} of shape {getattr(out, 'shape', None)}")
        if out.requires_grad:
            grads = autograd.grad(out, inputs, create_graph=keep, allow_unused=True)
        else:
            grads = [None] * len(inputs)
        grads = _pick(_zeros_if_unused(grads, inputs), argnums)
        value = _unaliased(out, keep)
        return ((value, aux) if has_aux else value), grads

    return wrapper


def _unaliased(out: Tensor, keep: bool) -> Tensor:
    """The function's output as the transform returns it: cut from this transform's graph unless
    an outer transform needs it, keeping the tangents of open forward-mode levels."""
    if keep or not isinstance(out, Tensor):
        return out
    cut = Tensor._make(out.data, False, None)
    cut._tangents = out._tangents
    return cut


def grad(f: Callable, argnums: Argnums = 0, has_aux: bool = False) -> Callable:
    """A function returning the gradient of scalar f with respect to ``args[argnums]`` (a tuple of
    gradients when ``argnums`` is a tuple; ``(grad, aux)`` with ``has_aux``)."""
    both = value_and_grad(f, argnums, has_aux)

    def wrapper(*args):
        value, grads = both(*args)
        return (grads, value[1]) if has_aux else grads

    return wrapper


def vjp(f: Callable, *primals: Tensor, has_aux: bool = False):
    """``(f(*primals), vjp_fn)``: ``vjp_fn(cotangents)`` gives one gradient per primal, of
    ``<f(*primals), cotangents>`` (cotangents shaped as f's output, a tuple if f returns one).
    ``vjp_fn`` can be called several times. With ``has_aux``: ``(output, vjp_fn, aux)``."""
    out, aux, inputs, keep = _vjp_core(f, primals, tuple(range(len(primals))), has_aux, "vjp")
    outputs = list(out) if isinstance(out, tuple) else [out]

    def vjp_fn(*cotangents):
        if len(cotangents) == 1 and isinstance(cotangents[0], tuple):
            cotangents = cotangents[0]
        if len(cotangents) != len(outputs):
            raise ValueError(f"vjp_fn: {len(cotangents)} cotangents for {len(outputs)} outputs")
        live = [(o, c) for o, c in zip(outputs, cotangents) if o.requires_grad]
        if not live:
            return tuple(_zeros_if_unused([None] * len(inputs), inputs))
        grads = autograd.grad([o for o, _ in live], inputs, [c for _, c in live], retain_graph=True,
                              create_graph=keep or any(isinstance(c, Tensor) and c.requires_grad for _, c in live),
                              allow_unused=True)
        return tuple(_zeros_if_unused(grads, inputs))

    shown = tuple(_unaliased(o, keep) for o in outputs)
    shown = shown if isinstance(out, tuple) else shown[0]
    return (shown, vjp_fn, aux) if has_aux else (shown, vjp_fn)


def jvp(f: Callable, primals: tuple, tangents: tuple, has_aux: bool = False):
    """``(f(*primals), J tangents)`` in one forward pass with dual numbers (true forward mode).
    ``primals`` and ``tangents`` are tuples of Tensors of matching shapes; with ``has_aux``:
    ``(output, tangent_out, aux)``."""
    if not isinstance(primals, tuple) or not isinstance(tangents, tuple):
        raise TypeError("jvp: primals and tangents must be tuples of Tensors, e.g. jvp(f, (x,), (u,))")
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals and {len(tangents)} tangents")
    for i, (p, t) in enumerate(zip(primals, tangents)):
        _check_tensor(p, "jvp", f"primal {i}")
        if np.shape(t.data if isinstance(t, Tensor) else t) != p.shape:
            raise ValueError(f"jvp: tangent {i} has shape {np.shape(t)}, its primal {p.shape}")
    with dual_level() as level:
        duals = [make_dual(p, t, level) for p, t in zip(primals, tangents)]
        out, aux = _split_aux(f(*duals), has_aux, "jvp")
        outputs = list(out) if isinstance(out, tuple) else [out]
        pairs = [unpack_dual(o, level) for o in outputs]
    values = [p.primal for p in pairs]
    tangent_out = [p.tangent if p.tangent is not None else Tensor._make(np.zeros(o.shape, o.dtype), False, None)
                   for p, o in zip(pairs, outputs)]
    if isinstance(out, tuple):
        values, tangent_out = tuple(values), tuple(tangent_out)
    else:
        values, tangent_out = values[0], tangent_out[0]
    return (values, tangent_out, aux) if has_aux else (values, tangent_out)


def _basis(x: Tensor):
    """The one-hot tangents of x's elements, in C order."""
    for j in range(x.size):
        e = np.zeros(x.size, x.dtype)
        e[j] = 1
        yield Tensor._make(e.reshape(x.shape), False, None)


def _stack_jacobian(columns: list[Tensor], out_shape: tuple, in_shape: tuple, rows_first: bool) -> Tensor:
    """Assemble the Jacobian (out_shape + in_shape) from per-output rows or per-input columns."""
    from .ops import reshape, stack

    if not columns:
        return Tensor._make(np.zeros(out_shape + in_shape), False, None)
    if rows_first:  # each entry is d out[i] / d x, of x's shape
        return reshape(stack(columns), out_shape + in_shape)
    # each entry is d out / d x[j], of out's shape: stack them on a last axis
    stacked = stack(columns, axis=-1) if out_shape else stack(columns)
    return reshape(stacked, out_shape + in_shape)


def jacrev(f: Callable, argnums: Argnums = 0, has_aux: bool = False) -> Callable:
    """The Jacobian by reverse mode, one backward pass per output element: shape
    ``output.shape + args[argnums].shape`` (a tuple of them when ``argnums`` is a tuple)."""

    def wrapper(*args):
        nums = _argnums(argnums, len(args), "jacrev")
        out, aux, inputs, keep = _vjp_core(f, args, nums, has_aux, "jacrev")
        _check_tensor(out, "jacrev", "the function's output")
        rows: list[list[Tensor]] = [[] for _ in inputs]
        flat_size = out.size
        for i in range(flat_size):
            cotangent = np.zeros(flat_size, out.dtype)
            cotangent[i] = 1
            if out.requires_grad:
                grads = autograd.grad(out, inputs, cotangent.reshape(out.shape), retain_graph=True, create_graph=keep,
                                      allow_unused=True)
            else:
                grads = [None] * len(inputs)
            for row, g in zip(rows, _zeros_if_unused(grads, inputs)):
                row.append(g)
        jacobians = [_stack_jacobian(r, out.shape, x.shape, rows_first=True) for r, x in zip(rows, inputs)]
        result = _pick(jacobians, argnums)
        return (result, aux) if has_aux else result

    return wrapper


def jacfwd(f: Callable, argnums: Argnums = 0, has_aux: bool = False) -> Callable:
    """The Jacobian by forward mode, one forward pass per input element: shape
    ``output.shape + args[argnums].shape`` (a tuple of them when ``argnums`` is a tuple)."""

    def wrapper(*args):
        nums = _argnums(argnums, len(args), "jacfwd")
        jacobians, aux = [], None
        for i in nums:
            x = _check_tensor(args[i], "jacfwd", f"argument {i}")
            columns, out_shape = [], None

            def along(xi, i=i):
                return f(*args[:i], xi, *args[i + 1:])

            for e in _basis(x):
                result = jvp(along, (x,), (e,), has_aux=has_aux)
                out, tangent = result[0], result[1]
                aux = result[2] if has_aux else aux
                out_shape = out.shape
                columns.append(tangent)
            if out_shape is None:  # x has no elements
                out_shape = _check_tensor(along(x) if not has_aux else along(x)[0], "jacfwd", "the output").shape
            jacobians.append(_stack_jacobian(columns, out_shape, x.shape, rows_first=False))
        result = _pick(jacobians, argnums)
        return (result, aux) if has_aux else result

    return wrapper


def hessian(f: Callable, argnums: Argnums = 0) -> Callable:
    """The Hessian of scalar f, ``jacfwd(jacrev(f))`` (forward-over-reverse): shape x.shape * 2."""
    return jacfwd(jacrev(f, argnums), argnums)


def hvp(f: Callable, primals: tuple, tangents: tuple):
    """``(f(*primals), hvp_out)``: the Hessian of scalar f times the tangents, without forming H.
    ``hvp_out`` is a tuple with one product per primal, as ``torch.autograd.functional.hvp``
    gives.

    Reverse mode over reverse mode: the gradient g(x) is computed keeping its graph, and H v is
    the vector-Jacobian product of g with v (H is symmetric, so v^T H = (H v)^T): one forward,
    one backward that records, and one ordinary backward through that record, the double
    backward of PyTorch. (``jvp`` of the gradient computes the same product by forward over
    reverse mode; the second pass then carries a tangent through every op of the backward.)"""
    if not isinstance(primals, tuple) or not isinstance(tangents, tuple) or len(primals) != len(tangents):
        raise ValueError(f"hvp: primals and tangents must be tuples of one length, got "
                         f"{type(primals).__name__} and {type(tangents).__name__}")
    keep = _outer_needs_graph(primals) or _outer_needs_graph(tangents)

    def gradient_and_value(*xs):
        value, grads = value_and_grad(f, argnums=tuple(range(len(xs))))(*xs)
        return grads, value

    _, vjp_fn, value = vjp(gradient_and_value, *primals, has_aux=True)
    for x, v in zip(primals, tangents):
        _check_tensor(v, "hvp", "each tangent")
        if v.shape != x.shape:
            raise ValueError(f"hvp: a tangent of shape {v.shape} for a primal of shape {x.shape}")
    return _unaliased(value, keep), vjp_fn(tangents)


def functional_call(module, parameters_and_buffers: dict, args: Any = (), kwargs: dict | None = None):
    """Call ``module(*args, **kwargs)`` with its parameters and buffers replaced by the Tensors in
    ``parameters_and_buffers`` (keys as in ``named_parameters()``, e.g. ``"layers.0.weight"``);
    the module is left as it was. Names not given keep the module's own tensors."""
    args = args if isinstance(args, tuple) else (args,)
    swapped = []
    try:
        for name, value in parameters_and_buffers.items():
            owner_name, _, leaf = name.rpartition(".")
            owner = module.get_submodule(owner_name) if owner_name else module
            for kind in ("_parameters", "_buffers"):
                registry = owner.__dict__[kind]
                if leaf in registry:
                    swapped.append((registry, leaf, registry[leaf]))
                    registry[leaf] = value
                    break
            else:
                raise KeyError(f"functional_call: {type(module).__name__} has no parameter or buffer named {name!r}")
        return module(*args, **(kwargs or {}))
    finally:
        for registry, leaf, original in reversed(swapped):
            registry[leaf] = original
