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
    bool), as torch does, when no input has a dtype of its own; otherwise they stay weak
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
        out = cls.forward(ctx, *arrays, **kwargs)
        if type(out) is tuple:
            return _multiple_outputs(ctx, inputs, out, record)
        if type(out) is not np.ndarray and not isinstance(out, np.ndarray):
            out = np.asarray(out)
        if _State.anomaly:
            _check_finite(out, "forward", ctx)
        if record and out.dtype.kind == "f" and not ctx.non_differentiable:
            ctx.parents = inputs
            return _Tensor._make(out, True, ctx)
        return _Tensor._make(out, False, None)


def _multiple_outputs(ctx: Function, inputs: tuple, outs: tuple, record: bool) -> tuple:
    """The Tensors of a forward that returned a tuple: output i has ``_output_nr`` i."""
    outs = tuple(o if isinstance(o, np.ndarray) else np.asarray(o) for o in outs)
    constant = [o.dtype.kind != "f" or any(o is c for c in ctx.non_differentiable) for o in outs]
    if _State.anomaly:
        for o in outs:
            _check_finite(o, "forward", ctx)
    if not record or all(constant):
        return tuple(_Tensor._make(o, False, None) for o in outs)
    ctx.parents = inputs
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


def topological_order(root: Function) -> list[Function]:
    """Nodes reachable from ``root``, each after every node that consumes its output."""
    post_order: list[Function] = []
    visited: set[int] = set()
    stack: list[tuple[Function, bool]] = [(root, False)]
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
            grad = [np.zeros(shape, dtype) if g is None else g for g, (shape, dtype) in zip(grad, node.outputs_meta)]
        grads = type(node).backward(node, *grad)
    if not isinstance(grads, (tuple, list)):
        grads = (grads,)
    if len(grads) != len(node.parents):
        raise BackwardError(
            f"{node.name}.backward returned {len(grads)} gradients for {len(node.parents)} inputs"
        )
    return grads


def _accumulate_leaf(tensor, grad: np.ndarray) -> None:
    # A fresh array each time: gradients may alias each other (add passes one array to both inputs).
    if tensor.grad is None:
        tensor.grad = np.array(grad, dtype=tensor.data.dtype, copy=True)
    else:  # asarray: the sum of two 0-d arrays is a NumPy scalar, and .grad is always an ndarray
        tensor.grad = np.asarray(tensor.grad + grad, dtype=tensor.data.dtype)


def _add_pending(pending: dict, tensor, grad: np.ndarray) -> None:
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


def backward_steps(root_tensor, grad: np.ndarray, retain_graph: bool = False):
    """Back-propagate ``grad`` from ``root_tensor``, yielding after each node.

    Yields ``(node, grad_out, grads_in)``: the node, the gradient that reached its
    output (for a node with several outputs, a tuple with None for an output that got
    none), and what it passed to each input (None where nothing was passed). The
    leaves' ``.grad`` are already updated when a step is yielded. ``run_backward``
    simply exhausts this generator; the graph tools step through it.
    """
    root = root_tensor.grad_fn
    if root is None:
        _accumulate_leaf(root_tensor, grad)
        return
    pending: dict[int, Any] = {}
    _add_pending(pending, root_tensor, grad)
    for node in topological_order(root):
        grad_out = pending.pop(id(node), None)
        if grad_out is None:
            continue
        if node.freed:
            raise BackwardError(
                f"backward through {node.name} a second time: its saved arrays were freed by the first backward; "
                "pass retain_graph=True to the first backward() to keep them"
            )
        if node.n_outputs != 1:
            grad_out = tuple(grad_out)
        grads_in = _call_backward(node, grad_out)
        passed = []
        for parent, g, needed in zip(node.parents, grads_in, node.needs_input_grad):
            if not needed or g is None:
                passed.append(None)
                continue
            if type(g) is not np.ndarray:
                g = np.asarray(g)
            data = parent.data
            if g.shape != data.shape:
                g = unbroadcast(g, data.shape, node.name)
            if g.dtype != data.dtype:
                g = g.astype(data.dtype)
            if _State.anomaly:
                _check_finite(g, "backward", node)
            passed.append(g)
            if parent.grad_fn is None:
                _accumulate_leaf(parent, g)
            else:
                _add_pending(pending, parent, g)
                if parent._retains_grad:
                    _accumulate_leaf(parent, g)
        if not retain_graph:
            node.saved = None
            node.freed = True
        yield node, grad_out, tuple(passed)


def run_backward(root_tensor, grad: np.ndarray, retain_graph: bool = False) -> None:
    """Back-propagate ``grad`` from ``root_tensor`` to every leaf that requires grad."""
    for _ in backward_steps(root_tensor, grad, retain_graph):
        pass
