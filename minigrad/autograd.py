"""Reverse-mode autodiff: grad mode, the ``Function`` base class and the backward engine.

A forward call ``MyOp.apply(x, y)`` creates one ``Function`` instance (the graph
node, also called ``ctx``) that remembers its inputs and whatever the op saved.
``Tensor.backward`` sorts the nodes reachable from the output topologically
(iteratively, so deep graphs do not hit Python's recursion limit), then walks
them from the output back to the leaves, calling each node's ``backward`` once
with the sum of the gradients that reached it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

import numpy as np

from .errors import AnomalyError, BackwardError
from .kernels.memory import tune_malloc

tune_malloc()  # reuse freed array memory instead of re-faulting it every step (see kernels/memory.py)

_Tensor: Any = None  # set by minigrad.tensor once the class exists (avoids an import cycle)


# --------------------------------------------------------------------------- grad mode


class _State:
    grad_enabled = True
    anomaly = False
    levels: tuple = ()  # the forward-mode levels open now (minigrad.forward_ad), outermost first


def is_grad_enabled() -> bool:
    """True unless inside ``no_grad()``."""
    return _State.grad_enabled


class _GradModeContext(contextlib.ContextDecorator):
    """Base for ``no_grad``/``enable_grad``: usable as ``with`` and as a decorator."""

    enabled = True

    def _recreate_cm(self):  # a fresh instance per decorated call keeps nesting correct
        return type(self)()

    def __enter__(self):
        self._previous = _State.grad_enabled
        _State.grad_enabled = self.enabled
        return self

    def __exit__(self, *exc):
        _State.grad_enabled = self._previous
        return False


class _BareDecoratorMixin:
    """Lets ``@no_grad`` work without parentheses, as ``@no_grad()`` does."""

    def __new__(cls, func=None):
        instance = super().__new__(cls)
        if func is not None:
            if not callable(func):
                raise TypeError(f"{cls.__name__}() takes no arguments (got {func!r})")
            return instance(func)
        return instance

    def __init__(self, func=None):
        pass


class no_grad(_BareDecoratorMixin, _GradModeContext):
    """Within this context (or decorated function) ops record no graph."""

    enabled = False


class enable_grad(_BareDecoratorMixin, _GradModeContext):
    """Re-enable graph recording inside a ``no_grad`` region."""

    enabled = True


class set_grad_enabled(_GradModeContext):
    """Switch graph recording on or off, as ``torch.set_grad_enabled``.

    As a plain call (``set_grad_enabled(False)``) it takes effect at once and stays; as a
    context manager or decorator it behaves like ``no_grad()`` (False) or ``enable_grad()``
    (True) and restores the previous mode on exit.
    """

    def __init__(self, mode: bool = True):
        self.enabled = bool(mode)
        self._previous = _State.grad_enabled
        _State.grad_enabled = self.enabled

    def __enter__(self):
        _State.grad_enabled = self.enabled
        return self

    def __call__(self, func):
        _State.grad_enabled = self._previous  # decorating a function must not switch the mode now
        return super().__call__(func)

    def _recreate_cm(self):  # per decorated call: remembers the caller's mode, then switches
        return type(self)(self.enabled)


class detect_anomaly(contextlib.ContextDecorator):
    """Raise ``AnomalyError`` at the first op whose forward or backward makes NaN/Inf.

    The error names the op and the line of user code that created it. Checking
    every array costs time, so use it while hunting a NaN, not for training.
    """

    def __init__(self, enabled: bool = True):
        self.enabled = enabled

    def _recreate_cm(self):
        return type(self)(self.enabled)

    def __enter__(self):
        # a stack, so one instance can be entered again inside itself
        self._previous = [*getattr(self, "_previous", []), _State.anomaly]
        _State.anomaly = self.enabled
        return self

    def __exit__(self, *exc):
        _State.anomaly = self._previous.pop()
        return False


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _user_location() -> str:
    """'file:line in function' of the innermost caller outside the minigrad package."""
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"


def _check_finite(array: np.ndarray, what: str, node: "Function") -> None:
    if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
        kind = "NaN" if np.isnan(array).any() else "Inf"
        where = (f"op created at {node.created_at}" if node.created_at is not None else
                 "op created outside detect_anomaly(): run the forward pass inside it too to see where")
        raise AnomalyError(f"{node.name} {what} produced {kind} ({where})")


# --------------------------------------------------------------------------- Function


def _as_input_array(x: Any) -> Any:
    """Tensors give their data; lists become arrays; Python scalars stay weakly typed."""
    if isinstance(x, _Tensor):
        return x.data
    if isinstance(x, (list, tuple)):
        from .dtypes import as_array

        return as_array(x)
    return x


def _typed_scalars(arrays: list) -> list:
    """Python scalars among ``arrays`` as 0-d arrays of the library's defaults (float32, int64,
    bool), as PyTorch does, when no input has a dtype of its own; otherwise they stay weak
    and NumPy 2 promotes them to the arrays' dtype."""
    if any(isinstance(x, (np.ndarray, np.generic)) for x in arrays):
        return arrays
    kinds = {type(x) for x in arrays}
    dtype = np.float32 if float in kinds else np.int64 if int in kinds else np.bool_
    return [np.asarray(x, dtype=dtype) if type(x) in (bool, int, float) else x for x in arrays]


class Function:
    """One differentiable op. Subclass it with two static methods side by side::

        class Square(Function):
            @staticmethod
            def forward(ctx, x):            # ndarrays in, ndarray out
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, grad):        # grad has the output's shape
                (x,) = ctx.saved
                return 2 * x * grad         # one gradient per input (None if not needed)

        y = Square.apply(t)

    ``backward`` may return a gradient with the output's broadcast shape; the engine
    sums it back to each input's shape (``unbroadcast``), so ops never do that.
    The instance is the graph node: ``ctx.needs_input_grad[i]`` says whether input
    ``i`` requires grad (already set when ``forward`` runs, as in PyTorch), and
    ``ctx.saved`` holds what ``save_for_backward`` got.

    Several outputs: ``forward`` returns a tuple of arrays, ``apply`` returns a tuple of
    Tensors, and ``backward(ctx, *grads)`` gets one gradient per output. An output that
    received no gradient (unused, or used only outside the graph) arrives as zeros of its
    shape, as in PyTorch; after ``ctx.set_materialize_grads(False)`` it arrives as None.
    ``ctx.mark_non_differentiable(*outputs)`` (inside forward, with the arrays it returns)
    makes those outputs constants: they do not require grad, and their gradient is never
    asked for (integer and bool outputs are always constants)::

        class MinMax(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x.min(), x.max()

            @staticmethod
            def backward(ctx, grad_min, grad_max):
                (x,) = ctx.saved
                return grad_min * (x == x.min()) + grad_max * (x == x.max())

        low, high = MinMax.apply(t)
    """

    # Class-level defaults: a node only stores what differs (creating nodes is on the hot path).
    parents: tuple = ()
    needs_input_grad: tuple = ()
    saved: tuple | None = ()
    freed: bool = False
    created_at: str | None = None
    n_outputs: int = 1
    outputs_meta: tuple = ()  # ((shape, dtype), ...) of a node with several outputs, for zero gradients
    materialize_grads: bool = True
    non_differentiable: tuple = ()
    output_ids: tuple = ()  # id() of each output array, to recognise a saved output (create_graph)
    apply_kwargs: dict = {}  # the keyword arguments of apply, kept for ``reference`` (never mutated)
    output_tangents: tuple = ()  # the outputs' forward-mode tangents, when a level was open
    # A fused op's plain composition of primitive ops on Tensors, ``reference(*inputs, **kwargs)``:
    # its documentation, what tests hold the op equal to, and what higher derivatives differentiate.
    reference = None
    # True for a fused op whose ``backward`` is written with operations that also run on Tensors
    # (``@``, ``reshape``, ``sum``): higher derivatives then run that backward on the saved values
    # as Tensors, recording its few ops, instead of differentiating ``reference`` afresh. What it
    # saves must be the input and output arrays themselves (not views of them), which the engine
    # swaps for their Tensors.
    backward_on_tensors: bool = False
    # The forward-mode rule, ``jvp(ctx, *tangents)``: one tangent per positional input (zeros for a
    # floating input without one, 0.0 for a constant array or number, None for None and other
    # values), returning the output's tangent (a tuple: one per output).
    jvp = None

    # --- used inside forward
    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays (or anything) for backward; freed after backward runs."""
        self.saved = arrays

    def mark_non_differentiable(self, *outputs: np.ndarray) -> None:
        """Declare some of the arrays forward returns to be constants (indices, counts, masks)."""
        self.non_differentiable = outputs

    def set_materialize_grads(self, value: bool) -> None:
        """False: an output that received no gradient reaches backward as None instead of zeros."""
        self.materialize_grads = bool(value)

    @property
    def saved_tensors(self) -> tuple:
        """PyTorch's name for ``saved``."""
        return self.saved

    @property
    def name(self) -> str:
        """The op's name, e.g. 'Mul'."""
        return type(self).__name__

    # --- to be overridden
    @staticmethod
    def forward(ctx: "Function", *args: Any, **kwargs: Any) -> np.ndarray:
        raise NotImplementedError(f"{type(ctx).__name__} does not define forward")

    @staticmethod
    def backward(ctx: "Function", grad: np.ndarray) -> Any:
        raise NotImplementedError(f"{type(ctx).__name__} does not define backward")

    # --- the entry point
    @classmethod
    def apply(cls, *inputs: Any, **kwargs: Any):
        """Run ``forward`` on the inputs' arrays and, if grad is on, record a node."""
        ctx = cls()
        # Tensors (the common case) inline; lists and scalars through the helper
        arrays = [x.data if isinstance(x, _Tensor) else _as_input_array(x) for x in inputs]
        if not isinstance(arrays[0] if arrays else None, np.ndarray):
            arrays = _typed_scalars(arrays)
        needs = tuple(isinstance(x, _Tensor) and x._requires_grad for x in inputs)
        ctx.needs_input_grad = needs  # forward may use it to decide what to save
        record = _State.grad_enabled and True in needs
        if _State.anomaly:
            ctx.created_at = _user_location()
        out = raw = cls.forward(ctx, *arrays, **kwargs)
        if type(out) is tuple:
            result = _multiple_outputs(ctx, inputs, out, record, kwargs)
        else:
            if type(out) is not np.ndarray and not isinstance(out, np.ndarray):
                out = np.asarray(out)  # a NumPy scalar (ufuncs of 0-d arrays give them) or a list
            if _State.anomaly:
                _check_finite(out, "forward", ctx)
            if record and out.dtype.kind == "f" and not ctx.non_differentiable:
                ctx.parents = inputs
                ctx.output_ids = (id(raw),)  # what forward returned: the object it may have saved
                if kwargs:
                    ctx.apply_kwargs = kwargs
                result = _Tensor._make(out, True, ctx)
            else:
                result = _Tensor._make(out, False, None)
        if _State.levels:  # forward mode: the tangents flow with the values, in this same call
            from .forward_ad import push_tangents

            push_tangents(ctx, inputs, raw, result, kwargs)
        return result


def _multiple_outputs(ctx: Function, inputs: tuple, outs: tuple, record: bool, kwargs: dict) -> tuple:
    """The Tensors of a forward that returned a tuple: output i has ``_output_nr`` i."""
    raw, outs = outs, tuple(o if isinstance(o, np.ndarray) else np.asarray(o) for o in outs)
    constant = [o.dtype.kind != "f" or any(o is c for c in ctx.non_differentiable) for o in outs]
    if _State.anomaly:
        for o in outs:
            _check_finite(o, "forward", ctx)
    if not record or all(constant):
        return tuple(_Tensor._make(o, False, None) for o in outs)
    ctx.parents = inputs
    ctx.output_ids = tuple(id(o) for o in raw)
    if kwargs:
        ctx.apply_kwargs = kwargs
    ctx.n_outputs = len(outs)
    ctx.outputs_meta = tuple((o.shape, o.dtype) for o in outs)
    tensors = []
    for i, (o, const) in enumerate(zip(outs, constant)):
        t = _Tensor._make(o, False, None) if const else _Tensor._make(o, True, ctx)
        t._output_nr = i
        tensors.append(t)
    ctx.non_differentiable = ()  # the arrays themselves are not needed after this
    return tuple(tensors)


# --------------------------------------------------------------------------- engine


def unbroadcast(grad: np.ndarray, shape: tuple, op_name: str = "op") -> np.ndarray:
    """Sum ``grad`` down to ``shape``, undoing NumPy broadcasting (the one shared helper)."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, size in enumerate(shape) if size == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if grad.shape != shape:
        raise BackwardError(f"{op_name}.backward returned a gradient of shape {grad.shape} for an input of shape {shape}")
    return grad


def topological_order(*roots: Function) -> list[Function]:
    """Nodes reachable from the ``roots``, each after every node that consumes its output."""
    post_order: list[Function] = []
    visited: set[int] = set()
    stack: list[tuple[Function, bool]] = [(root, False) for root in reversed(roots)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            post_order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for parent in node.parents:
            if isinstance(parent, _Tensor) and parent.grad_fn is not None and id(parent.grad_fn) not in visited:
                stack.append((parent.grad_fn, False))
    post_order.reverse()
    return post_order


def _call_backward(node: Function, grad) -> tuple:
    if node.n_outputs == 1:
        grads = type(node).backward(node, grad)
    else:  # one gradient per output: zeros (or None) where none arrived
        if node.materialize_grads:
            grad = [_zeros(shape, dtype) if g is None else g for g, (shape, dtype) in zip(grad, node.outputs_meta)]
        grads = type(node).backward(node, *grad)
    if not isinstance(grads, (tuple, list)):
        grads = (grads,)
    if len(grads) != len(node.parents):
        raise BackwardError(
            f"{node.name}.backward returned {len(grads)} gradients for {len(node.parents)} inputs"
        )
    return grads


def _zeros(shape: tuple, dtype) -> np.ndarray:
    return np.zeros(shape, dtype)


# ------------------------------------------------ differentiable backward (create_graph=True)
#
# To differentiate a gradient, the backward pass itself must be recorded. The same rule runs for
# that, on Tensors instead of arrays: the gradient it receives is a Tensor, and what forward
# saved is handed to it as the graph's own Tensors (an input array as that input Tensor, the
# output array as a Tensor produced by this very node), so the ops the rule applies record a
# graph that leads back to the inputs. Saved arrays that are neither (masks, indices, shapes)
# stay constants. A fused op whose backward runs kernels has a ``reference``: its composition
# of primitive ops, whose graph is differentiated instead.


def _graph_tensor(x) -> Any:
    """An ndarray gradient (a constant a rule returned) as a Tensor; Tensors and None as they are."""
    return _Tensor._make(np.asarray(x), False, None) if x is not None and not isinstance(x, _Tensor) else x


def _saved_as_tensors(node: Function) -> tuple:
    """``node.saved`` with its input and output arrays replaced by the graph's Tensors."""
    tensors = {id(p.data): p for p in node.parents if isinstance(p, _Tensor)}
    for i, output_id in enumerate(node.output_ids):
        tensors.setdefault(output_id, (i,))

    def convert(item):
        found = tensors.get(id(item)) if isinstance(item, (np.ndarray, np.generic)) else None
        if type(found) is tuple:  # an output: a Tensor made by this node, routed to its output number
            t = _Tensor._make(np.asarray(item), True, node)
            t._output_nr = found[0]
            if node.output_tangents:  # and dual as the output was (forward mode over reverse mode)
                t._tangents = node.output_tangents[found[0]]
            return t
        if found is not None:
            return found
        if isinstance(item, (tuple, list)):
            return type(item)(convert(x) for x in item)
        return item

    return tuple(convert(x) for x in node.saved)


def _call_backward_graph(node: Function, grad, record: bool) -> tuple:
    """The node's gradients as Tensors, their ops recorded when ``record`` (``create_graph=True``)
    and dual in the open forward-mode levels."""
    if node.n_outputs != 1:
        grad = tuple(_Tensor._make(_zeros(shape, dtype), False, None) if g is None else g
                     for g, (shape, dtype) in zip(grad, node.outputs_meta))
    with set_grad_enabled(record):
        if type(node).reference is not None and not type(node).backward_on_tensors:
            return _reference_vjp(node, grad, record)
        saved = node.saved
        node.saved = _saved_as_tensors(node)
        try:
            grads = _call_backward(node, grad)
        finally:
            node.saved = saved
    return tuple(_graph_tensor(g) for g in grads)


def _reference_vjp(node: Function, grad, record: bool) -> tuple:
    """Gradients of a fused op through its reference composition (recorded when ``record``)."""
    # The reference reads a recorded alias (x + 0) of each input: gradients stop at the aliases, so
    # each input gets its partial derivative even when one input depends on another in the outer
    # graph (that path is the outer backward's to follow), and the aliases link to the inputs.
    with enable_grad():  # the reference's own graph, to differentiate
        inputs = [p + 0.0 if isinstance(p, _Tensor) and need else p
                  for p, need in zip(node.parents, node.needs_input_grad)]
        outputs = type(node).reference(*inputs, **node.apply_kwargs)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    grad = grad if isinstance(grad, tuple) else (grad,)
    wanted = [i for i, (p, need) in enumerate(zip(node.parents, node.needs_input_grad)) if need]
    pairs = [(o, g) for o, g in zip(outputs, grad) if o.requires_grad]
    found = _grad([o for o, _ in pairs], [inputs[i] for i in wanted], [g for _, g in pairs],
                    retain_graph=record, create_graph=record, allow_unused=True) if pairs else [None] * len(wanted)
    result: list = [None] * len(node.parents)
    for i, g in zip(wanted, found):
        result[i] = g
    return tuple(result)


# --------------------------------------------------------------------------- the engine


def _accumulate_leaf(tensor, grad: np.ndarray) -> None:
    # A fresh array each time: gradients may alias each other (add passes one array to both inputs).
    if tensor.grad is None:
        tensor.grad = np.array(grad, dtype=tensor.data.dtype, copy=True)
    else:  # asarray: the sum of two 0-d arrays is a NumPy scalar, and .grad is always an ndarray
        tensor.grad = np.asarray(tensor.grad + grad, dtype=tensor.data.dtype)


def _add_pending(pending: dict, tensor, grad) -> None:
    """Add ``grad`` to what has reached ``tensor``'s output of its node so far."""
    node = tensor.grad_fn
    key = id(node)
    if node.n_outputs == 1:
        previous = pending.get(key)
        pending[key] = grad if previous is None else previous + grad
        return
    slots = pending.setdefault(key, [None] * node.n_outputs)
    i = tensor._output_nr
    slots[i] = grad if slots[i] is None else slots[i] + grad


def _leading_to(order: list[Function], targets: dict) -> set[int]:
    """ids of the nodes in ``order`` from which some target tensor is reached going backward."""
    useful: set[int] = set()
    for node in reversed(order):  # inputs before the nodes that consume them
        for parent in node.parents:
            if isinstance(parent, _Tensor) and (id(parent) in targets or
                                               (parent.grad_fn is not None and id(parent.grad_fn) in useful)):
                useful.add(id(node))
                break
    return useful


def _backprop(roots: list, grads: list, retain_graph: bool, create_graph: bool, targets: dict | None,
              tensors: bool = False):
    """Back-propagate ``grads`` from the ``roots`` tensors, yielding after each node.

    With ``targets`` None, every leaf that requires grad accumulates into ``.grad`` (and so does
    every tensor that called ``retain_grad``). Otherwise ``targets`` maps ``id(tensor)`` to a
    list that receives each gradient reaching that tensor, and no ``.grad`` changes. With
    ``create_graph`` the gradients are Tensors whose ops are recorded; with ``tensors`` (and no
    ``create_graph``) they are Tensors whose ops are not recorded, which is how a reverse pass
    carries the tangents of the open forward-mode levels.
    Yields ``(node, grad_out, grads_in)`` as ``backward_steps`` documents.
    """
    tensors = create_graph or tensors
    pending: dict[int, Any] = {}
    for tensor, grad in zip(roots, grads):
        if targets is not None and id(tensor) in targets:
            targets[id(tensor)].append(grad)
        if tensor.grad_fn is not None:
            _add_pending(pending, tensor, grad)
        elif targets is None:
            _accumulate_leaf(tensor, grad)
    order = topological_order(*{id(t.grad_fn): t.grad_fn for t in roots if t.grad_fn is not None}.values())
    useful = _leading_to(order, targets) if targets is not None else None
    for node in order:
        grad_out = pending.pop(id(node), None)
        if grad_out is None or (useful is not None and id(node) not in useful):
            continue
        if node.freed:
            raise BackwardError(
                f"backward through {node.name} a second time: its saved arrays were freed by the first backward; "
                "pass retain_graph=True to the first backward() to keep them"
            )
        if node.n_outputs != 1:
            grad_out = tuple(grad_out)
        grads_in = _call_backward_graph(node, grad_out, create_graph) if tensors else _call_backward(node, grad_out)
        passed = []
        for parent, g, needed in zip(node.parents, grads_in, node.needs_input_grad):
            if not needed or g is None:
                passed.append(None)
                continue
            if not tensors and type(g) is not np.ndarray:
                g = np.asarray(g)
            data = parent.data
            if g.shape != data.shape:
                g = unbroadcast(g, data.shape, node.name)
            if g.dtype != data.dtype:
                g = g.astype(data.dtype)
            if _State.anomaly:
                _check_finite(g.data if tensors else g, "backward", node)
            passed.append(g)
            if targets is not None:
                if id(parent) in targets:
                    targets[id(parent)].append(g)
                if parent.grad_fn is not None:
                    _add_pending(pending, parent, g)
            elif parent.grad_fn is None:
                _accumulate_leaf(parent, g)
            else:
                _add_pending(pending, parent, g)
                if parent._retains_grad:
                    _accumulate_leaf(parent, g)
        if not retain_graph:
            node.saved = None
            node.freed = True
        yield node, grad_out, tuple(passed)


def backward_steps(root_tensor, grad: np.ndarray, retain_graph: bool = False):
    """Back-propagate ``grad`` from ``root_tensor``, yielding after each node.

    Yields ``(node, grad_out, grads_in)``: the node, the gradient that reached its
    output (for a node with several outputs, a tuple with None for an output that got
    none), and what it passed to each input (None where nothing was passed). The
    leaves' ``.grad`` are already updated when a step is yielded. ``run_backward``
    simply exhausts this generator; the graph tools step through it.
    """
    yield from _backprop([root_tensor], [grad], retain_graph, False, None)


def run_backward(root_tensor, grad: np.ndarray, retain_graph: bool = False) -> None:
    """Back-propagate ``grad`` from ``root_tensor`` to every leaf that requires grad."""
    for _ in backward_steps(root_tensor, grad, retain_graph):
        pass


# --------------------------------------------------------------------------- autograd.grad


def _as_tensor_list(value, what: str) -> list:
    items = [value] if isinstance(value, _Tensor) else list(value)
    for item in items:
        if not isinstance(item, _Tensor):
            raise TypeError(f"grad: {what} must be Tensors, got {type(item).__name__}")
    return items


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None, create_graph: bool = False,
         allow_unused: bool = False) -> tuple:
    """The gradients of ``outputs`` with respect to ``inputs``, as a tuple of Tensors (PyTorch's
    ``torch.autograd.grad``); no ``.grad`` changes.

    ``outputs`` and ``inputs`` are Tensors or sequences of them; ``grad_outputs`` gives one
    gradient per output (a Tensor or ndarray of its shape; None means 1 for a one-element
    output). The result for input i is sum over outputs o of ``grad_outputs[o] . d o / d inputs[i]``,
    of ``inputs[i]``'s shape. With ``create_graph=True`` the results carry a graph, so they can
    be differentiated again, to any order. ``retain_graph`` defaults to ``create_graph``. An input
    that no output depends on is an error unless ``allow_unused=True`` (then its entry is None).
    """
    outputs = _as_tensor_list(outputs, "outputs")
    inputs = _as_tensor_list(inputs, "inputs")
    if grad_outputs is None or isinstance(grad_outputs, (_Tensor, np.ndarray)):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    grad_outputs = list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    retain = create_graph if retain_graph is None else retain_graph
    return _grad(outputs, inputs, grad_outputs, retain, create_graph, allow_unused)


def _grad(outputs: list, inputs: list, grad_outputs: list, retain_graph: bool, create_graph: bool,
          allow_unused: bool) -> tuple:
    tensors = create_graph or bool(_State.levels)  # Tensors: recorded, or carrying tangents
    starts = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not out.requires_grad:
            raise BackwardError(f"grad: output {i} does not require grad and has no grad_fn")
        checked = out._initial_grad(g)  # an ndarray of the output's shape and dtype
        if tensors:  # a Tensor given as grad_output stays in the graph (it may require grad)
            checked = g if isinstance(g, _Tensor) else _Tensor._make(checked, False, None)
        starts.append(checked)
    targets: dict[int, list] = {id(t): [] for t in inputs}
    for _ in _backprop(outputs, starts, retain_graph, create_graph, targets, tensors):
        pass
    results = []
    for i, t in enumerate(inputs):
        found = targets[id(t)]
        if not found:
            if not allow_unused:
                raise BackwardError(
                    f"grad: input {i} (shape {t.shape}) is not used by the outputs; pass allow_unused=True "
                    "to get None for it")
            results.append(None)
            continue
        total = found[0]
        for g in found[1:]:
            total = total + g
        results.append(total if tensors else _Tensor._make(np.asarray(total, dtype=t.data.dtype), False, None))
    return tuple(results)

