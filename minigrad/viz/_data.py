"""The data an autodiff page embeds: every tensor of a graph with its value, and every step of
the forward and backward passes, taken from the engine (``autograd.backward_steps``).

Node ids are ``"n0"``, ``"n1"``... in forward (topological) order: every input before the
op that consumes it, the root last.
"""

from __future__ import annotations

import math
import weakref
from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np

from .. import autograd, graph
from ..graph import formula, with_numbers
from ..errors import BackwardError
from ..tensor import Tensor

VALUES_SHOWN = 12  # a tensor of at most this many elements shows every value
HEATMAP_CELLS = 16  # a larger one shows a heatmap of at most this many rows and columns

# The module that created each op node (a Function -> its dotted path), filled by ``modules()``.
_MODULE_OF: "weakref.WeakKeyDictionary[Any, str]" = weakref.WeakKeyDictionary()


# ---------------------------------------------------------------- which module made a node


@contextmanager
def modules(model) -> Iterator[None]:
    """Record which submodule of ``model`` creates each op of the graphs built inside the block.

        with viz.modules(model):
            loss = loss_fn(model(x), y)
        viz.graph(loss)             # nodes grouped by module, e.g. "0 (Linear)"

    An op belongs to the innermost module whose ``forward`` call created it: every node
    between that call's outputs and its inputs that no inner module claimed first.
    """
    patched = []
    for path, module in model.named_modules():
        if not path:
            continue  # the model itself: everything it makes is ungrouped
        original = module.forward
        module.forward = _recording(original, f"{path} ({type(module).__name__})")
        patched.append(module)
    try:
        yield
    finally:
        for module in patched:
            del module.forward  # the class's forward shows through again


def _recording(forward, group: str):
    def recorded(*args, **kwargs):
        out = forward(*args, **kwargs)
        inputs = {id(a) for a in list(args) + list(kwargs.values()) if isinstance(a, Tensor)}
        _claim(out, inputs, group)
        return out

    return recorded


def _claim(out: Any, inputs: set[int], group: str) -> None:
    """Tag with ``group`` every untagged op node from ``out`` back to ``inputs`` (or leaves)."""
    stack = [t for t in (out if isinstance(out, (tuple, list)) else [out]) if isinstance(t, Tensor)]
    seen: set[int] = set()
    while stack:
        t = stack.pop()
        if id(t) in seen or id(t) in inputs or t.grad_fn is None or t.grad_fn in _MODULE_OF:
            continue
        seen.add(id(t))
        _MODULE_OF[t.grad_fn] = group
        stack.extend(p for p in t.grad_fn.parents if isinstance(p, Tensor))


# ---------------------------------------------------------------- how a value is shown


def number(v: float) -> float | str:
    """A JSON-safe number: finite floats as they are, inf and nan as text."""
    v = float(v)
    return v if math.isfinite(v) else str(v)


def view(array: np.ndarray | None) -> dict | None:
    """How the page shows an array: ``scalar`` (the number), ``values`` (every value, flat,
    at most VALUES_SHOWN) or ``heatmap`` (a grid of block means, at most HEATMAP_CELLS square,
    with min/mean/max). None stays None (no gradient)."""
    if array is None:
        return None
    a = np.asarray(array, dtype=np.float64)
    out: dict[str, Any] = {"shape": list(a.shape)}
    if a.size == 1 and a.ndim == 0:
        return {**out, "kind": "scalar", "v": number(a)}
    if a.size <= VALUES_SHOWN:
        return {**out, "kind": "values", "v": [number(v) for v in a.reshape(-1)]}
    finite = a[np.isfinite(a)]
    stats = (finite.min(), finite.mean(), finite.max()) if finite.size else (math.nan,) * 3
    return {**out, "kind": "heatmap", "grid": _grid(a), "min": number(stats[0]), "mean": number(stats[1]),
            "max": number(stats[2])}


def _grid(a: np.ndarray) -> list[list[float | None]]:
    """``a`` as rows x columns (last axis as columns), block-averaged down to HEATMAP_CELLS."""
    rows = a.reshape(-1, a.shape[-1]) if a.ndim >= 2 else a.reshape(1, -1)
    rows = np.where(np.isfinite(rows), rows, np.nan)
    for axis in (0, 1):
        n = rows.shape[axis]
        if n > HEATMAP_CELLS:
            edges = np.linspace(0, n, HEATMAP_CELLS + 1).astype(int)
            rows = np.stack([np.nanmean(np.take(rows, range(lo, hi), axis=axis), axis=axis)
                             for lo, hi in zip(edges[:-1], edges[1:])], axis=axis)
    return [[None if not math.isfinite(v) else float(v) for v in row] for row in rows]


# ---------------------------------------------------------------- the whole graph


def _forward_order(root: Tensor) -> list[Tensor]:
    """Every tensor of the graph, each after all of its inputs (iterative post-order), root last."""
    order: list[Tensor] = []
    done: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        t, expanded = stack.pop()
        if id(t) in done:
            continue
        if expanded:
            done.add(id(t))
            order.append(t)
            continue
        stack.append((t, True))
        if t.grad_fn is not None:
            stack.extend((p, False) for p in reversed(t.grad_fn.parents) if isinstance(p, Tensor) and id(p) not in done)
    return order


def graph_data(root: Tensor, groups: dict[int, str] | None = None) -> dict:
    """Nodes, edges, module groups, forward order and backward steps of ``root``'s graph.

    ``groups`` (keyed by ``id(tensor)``) frames the op nodes that no module claimed (``modules()``)
    under the given titles, such as the rules of ``graph.GradientGraph.rule_of``. Runs backward
    through the engine (keeping the graph) and puts every leaf's ``.grad`` back as
    it was, so showing a graph changes nothing. Raises ValueError for a root that is not a
    scalar requiring grad, and for a graph whose saved arrays a backward() already freed.
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"viz.graph needs a minigrad Tensor, got {type(root).__name__}")
    if root.size != 1 or not root.requires_grad:
        raise ValueError(f"viz.graph needs a one-element Tensor that requires grad, got shape {root.shape} "
                         f"with requires_grad={root.requires_grad}")
    tensors = _forward_order(root)
    ids = {id(t): f"n{i}" for i, t in enumerate(tensors)}
    names = graph.labels(root)
    groups = groups or {}
    nodes = [_node(t, ids[id(t)], names[id(t)], groups.get(id(t), "")) for t in tensors]
    edges = [{"src": ids[id(p)], "dst": ids[id(t)], "input": i}
             for t in tensors if t.grad_fn is not None
             for i, p in enumerate(t.grad_fn.parents) if isinstance(p, Tensor)]
    steps, leaf_grads = _backward(root, tensors, ids, names)
    by_id = {n["id"]: n for n in nodes}
    for step in steps:
        for out_id, g in zip(step["outputs"], step["grad_out"]):
            by_id[out_id]["grad"] = g
    for node_id, g in leaf_grads.items():
        by_id[node_id]["grad"] = g
    return {"nodes": nodes, "edges": edges, "forward": [ids[id(t)] for t in tensors], "steps": steps,
            "groups": _groups(nodes), "root": ids[id(root)], "value": number(np.asarray(root.data).reshape(-1)[0])}


def _node(t: Tensor, node_id: str, label: str, group: str = "") -> dict:
    op = "leaf" if t.grad_fn is None else t.grad_fn.name
    kind = ("parameter" if t.requires_grad else "constant") if t.grad_fn is None else "op"
    return {"id": node_id, "label": label, "op": op, "kind": kind, "shape": list(t.shape), "dtype": str(t.dtype),
            "value": view(t.data), "grad": None, "group": _MODULE_OF.get(t.grad_fn, group) if t.grad_fn else "",
            "constants": 0 if t.grad_fn is None else sum(not isinstance(p, Tensor) for p in t.grad_fn.parents)}


def _backward(root: Tensor, tensors: list[Tensor], ids: dict[int, str], names: dict[int, str]):
    """The engine's steps, one dict each: the node, the gradient that reached it (and the parts
    it summed), the rule, what it sent to each input, and each leaf's accumulated .grad after
    the step; and the final .grad of each leaf (by node id)."""
    leaves = [t for t in tensors if t.grad_fn is None and t.requires_grad]
    saved = {id(t): t.grad for t in leaves}
    outputs_of: dict[int, list[Tensor]] = {}
    for t in tensors:
        if t.grad_fn is not None:
            outputs_of.setdefault(id(t.grad_fn), []).append(t)
    received: dict[int, list[dict]] = {}  # tensor id -> the gradients sent to it so far, in order
    steps = []
    for t in leaves:
        t.grad = None
    try:
        for node, grad_out, passed in autograd.backward_steps(root, root._initial_grad(None), retain_graph=True):
            steps.append(_step(len(steps), node, grad_out, passed, outputs_of[id(node)], ids, names, received))
            for parent, g in zip(node.parents, passed):  # the leaves reached in this step
                if g is not None and parent.grad_fn is None:
                    steps[-1]["leaf_totals"][ids[id(parent)]] = view(parent.grad)
    except BackwardError as err:
        raise ValueError(f"viz.graph: {err} (show the graph before calling backward(), or build it again)") from None
    finally:
        final = {ids[id(t)]: view(t.grad) for t in leaves if t.grad is not None}
        for t in leaves:
            t.grad = saved[id(t)]
    return steps, final


def _step(index: int, node, grad_out, passed, outputs: list[Tensor], ids, names, received) -> dict:
    outputs = sorted(outputs, key=lambda t: t._output_nr)
    grads = list(grad_out) if isinstance(grad_out, tuple) else [grad_out]
    rule = formula(node.name)
    inputs = [p.data if isinstance(p, Tensor) else np.asarray(p) for p in node.parents]
    numbers = None
    if rule and len(outputs) == 1:
        numbers = with_numbers(rule, inputs, outputs[0].data, grads[0], list(passed))
    sends = []
    for parent, g in zip(node.parents, passed):
        target = ids.get(id(parent)) if isinstance(parent, Tensor) else None
        label = names.get(id(parent), "constant") if isinstance(parent, Tensor) else "constant"
        sends.append({"to": target, "label": label, "grad": view(g)})
        if g is not None and target is not None:
            received.setdefault(id(parent), []).append({"from": ids[id(outputs[0])], "grad": view(g)})
    parts = [list(received.get(id(t), [])) for t in outputs]
    return {"index": index, "op": node.name, "outputs": [ids[id(t)] for t in outputs],
            "labels": [names[id(t)] for t in outputs], "grad_out": [view(g) for g in grads], "received": parts,
            "formula": rule, "numbers": numbers, "sends": sends, "leaf_totals": {}}


def _groups(nodes: list[dict]) -> list[dict]:
    """Every module path with its ancestors ('0.attn' also makes '0'), members listed by node id,
    outermost first."""
    paths: dict[str, str] = {}
    for n in nodes:
        if not n["group"]:
            continue
        path, _, kind = n["group"].partition(" (")
        paths.setdefault(path, n["group"])
        parts = path.split(".")
        for depth in range(1, len(parts)):
            paths.setdefault(".".join(parts[:depth]), ".".join(parts[:depth]))
    groups = []
    for path in sorted(paths, key=lambda p: (p.count("."), p)):
        members = [n["id"] for n in nodes if n["group"] and (n["group"].partition(" (")[0] == path or
                                                                n["group"].startswith(path + "."))]
        groups.append({"path": path, "title": paths[path], "members": members})
    return groups
