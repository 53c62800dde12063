"""See inside a computation graph: print it as a tree, export Graphviz DOT, and step
through backward one node at a time.

    >>> import minigrad as mg
    >>> from minigrad import graph
    >>> x = mg.tensor([1.0, 2.0], requires_grad=True); x.name = "x"
    >>> y = (x * x).sum()
    >>> graph.print_graph(y)                     # doctest: +SKIP
    >>> for step in graph.step_backward(y):      # doctest: +SKIP
    ...     print(step.op, step.grad_output, step.input_grads)

Tensors are labelled by their ``name`` attribute when set (``x.name = "x"``), leaves
otherwise as ``leaf0``, ``leaf1``..., and op outputs by the op and its position in
the graph (``Mul#1``).

``gradient_graph(f)`` runs the backward of ``f`` with ``create_graph=True`` and returns the graph
that backward built (its ops are the backward rules' ops), to print and step through the same way:
its backward is the second derivative of ``f``, or a Hessian-vector product.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import numpy as np

from . import autograd
from .tensor import Tensor

_NO_MORE = object()  # what next() returns when a node has no inputs left
_NO_LIMIT = 1 << 30  # columns: wider than any line a graph prints


def _graph_tensors(root: Tensor) -> list[Tensor]:
    """Every tensor reachable from ``root`` through grad_fn links, root first (iterative)."""
    seen: set[int] = set()
    order: list[Tensor] = []
    stack = [root]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        order.append(t)
        if t.grad_fn is not None:
            stack.extend(reversed([p for p in t.grad_fn.parents if isinstance(p, Tensor)]))
    return order


def leaves(root: Tensor) -> list[Tensor]:
    """The leaves of ``root``'s graph that require grad, in the order the tree shows them."""
    return [t for t in _graph_tensors(root) if t.grad_fn is None and t.requires_grad]


def labels(root: Tensor) -> dict[int, str]:
    """A readable, stable label for every tensor in the graph of ``root`` (keyed by id)."""
    out: dict[int, str] = {}
    leaves = ops = 0
    for t in _graph_tensors(root):
        name = getattr(t, "name", None)
        if name:
            out[id(t)] = str(name)
        elif t.grad_fn is None:
            out[id(t)] = f"leaf{leaves}"
            leaves += 1
        else:
            out[id(t)] = f"{t.grad_fn.name}#{ops}"
            ops += 1
    return out


def value_text(array: np.ndarray, values: int = 6) -> str:
    """A tensor's value in a few characters: the number of a scalar, every value of a small
    tensor ('[1, 2.5]'), else min/mean/max."""
    a = np.asarray(array)
    if a.ndim == 0:
        return f"{float(a):.4g}"
    if a.size <= values:
        return "[" + ", ".join(f"{float(v):.4g}" for v in a.reshape(-1)) + "]"
    return f"min {float(a.min()):.4g} mean {float(a.mean()):.4g} max {float(a.max()):.4g}"


def _describe(t: Tensor, label: str, note: str | None = None) -> str:
    kind = "leaf" if t.grad_fn is None else t.grad_fn.name
    text = f"{label}  {kind}{f'  ({note})' if note else ''}  shape={t.shape} dtype={t.dtype}"
    value = f"  value {value_text(t.data)}" if np.issubdtype(np.asarray(t.data).dtype, np.number) else ""
    if t.grad_fn is None:
        text += "  requires_grad" if t.requires_grad else "  constant"
        return text + value
    node = t.grad_fn
    needs = ["yes" if n else "no" for n in node.needs_input_grad]
    text += f"  inputs need grad: [{', '.join(needs)}]"
    if node.freed:
        text += "  saved: (freed by backward)"
    elif node.saved:
        shapes = [str(s.shape) if isinstance(s, np.ndarray) else type(s).__name__ for s in node.saved]
        text += f"  saved: {', '.join(shapes)}"
    return text + value


def graph_tree(root: Tensor, notes: dict[int, str] | None = None):
    """The graph of ``root`` as a ``rich.tree.Tree``: op, shape, dtype, which inputs
    require grad and what each node saved for backward. A tensor reached twice is shown in
    full where the tree first prints it; every later occurrence, further down the printed
    tree, is one line "label  (shown above)". ``notes`` (keyed by ``id(tensor)``) adds a word
    in parentheses after a tensor's op, such as ``GradientGraph.made_by``."""
    from rich.text import Text
    from rich.tree import Tree

    names = labels(root)
    notes = notes or {}
    tree = Tree(Text(_describe(root, names[id(root)], notes.get(id(root)))))
    shown = {id(root)}
    # Depth first, each input's whole subtree before the next input: the order the tree prints in.
    stack: list[tuple[Any, Iterator[Any]]] = [(tree, _inputs(root))]
    while stack:
        branch, inputs = stack[-1]
        parent = next(inputs, _NO_MORE)
        if parent is _NO_MORE:
            stack.pop()
        elif not isinstance(parent, Tensor):
            branch.add(Text(f"constant {type(parent).__name__} {np.shape(parent)}"))
        elif id(parent) in shown:
            branch.add(Text(f"{names[id(parent)]}  (shown above)"))
        else:
            shown.add(id(parent))
            described = _describe(parent, names[id(parent)], notes.get(id(parent)))
            stack.append((branch.add(Text(described)), _inputs(parent)))
    return tree


def _inputs(t: Tensor) -> Iterator[Any]:
    """The inputs of the op that made ``t`` (tensors and constants), in order; none for a leaf."""
    return iter(t.grad_fn.parents if t.grad_fn is not None else ())


def format_graph(root: Tensor, width: int = 120) -> str:
    """The tree of ``graph_tree`` rendered as plain text, lines wrapped at ``width``."""
    from rich.console import Console

    buffer = io.StringIO()
    Console(width=width, file=buffer, color_system=None).print(graph_tree(root))
    return buffer.getvalue()


def print_graph(root: Tensor, console=None, notes: dict[int, str] | None = None) -> None:
    """Print the graph of ``root`` as a tree (Rich; ``console`` defaults to standard output;
    ``notes`` as for ``graph_tree``).

    On a terminal long lines wrap at its width. Anywhere else (a pipe, a file) every node
    stays on one line, however long, so no description is split.
    """
    from rich.console import Console

    print_fitted(console or Console(), graph_tree(root, notes))


def print_fitted(console, renderable) -> None:
    """Print a Rich renderable wrapped at the terminal's width, or (a pipe, a file) at the width
    its longest line needs, so that no line is split."""
    if console.is_terminal:
        console.print(renderable)
    else:
        _print_unwrapped(console, renderable)


def _print_unwrapped(console, renderable) -> None:
    """Print ``renderable`` at the width its longest line needs, whatever the console's width."""
    from rich.measure import Measurement
    from rich.segment import Segments

    width = Measurement.get(console, console.options.update_width(_NO_LIMIT), renderable).maximum
    lines = console.render_lines(renderable, console.options.update_width(max(width, 1)), pad=False, new_lines=True)
    console.print(Segments([segment for line in lines for segment in line]), crop=False)


def _dot_escape(text: str) -> str:
    """``text`` inside a DOT double-quoted string: backslashes and quotes escaped, line breaks as \\n."""
    return str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def to_dot(root: Tensor) -> str:
    """Graphviz DOT text of the graph: tensors as boxes, ops as ellipses, data flowing
    from the leaves to ``root``. No graphviz dependency: this is plain text."""
    names = labels(root)
    lines = ["digraph minigrad {", "  rankdir=BT;", '  node [fontname="Helvetica"];']
    for t in _graph_tensors(root):
        tid = f"t{id(t)}"
        style = ', style=filled, fillcolor="#dbeafe"' if t.grad_fn is None and t.requires_grad else ""
        lines.append(f'  {tid} [shape=box, label="{_dot_escape(names[id(t)])}\\n{t.shape} {t.dtype}"{style}];')
        if t.grad_fn is None:
            continue
        oid = f"op{id(t)}"
        lines.append(f'  {oid} [shape=ellipse, label="{_dot_escape(t.grad_fn.name)}"];')
        lines.append(f"  {oid} -> {tid};")
        for i, parent in enumerate(t.grad_fn.parents):
            if isinstance(parent, Tensor):
                lines.append(f"  t{id(parent)} -> {oid};")
            else:
                cid = f"c{id(t)}_{i}"
                lines.append(f'  {cid} [shape=plaintext, label="const {np.shape(parent)}"];')
                lines.append(f"  {cid} -> {oid};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_dot(dot_text: str, path: str, fmt: str | None = None) -> None:
    """Render DOT text to an image with the Graphviz ``dot`` program (PNG/SVG by suffix).

    Raises RuntimeError saying how to install Graphviz when ``dot`` is not on PATH, and
    RuntimeError carrying Graphviz's own message (one line) when ``dot`` fails.
    """
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError("rendering needs the Graphviz 'dot' program (e.g. apt-get install graphviz); "
                           "the DOT text itself needs nothing")
    fmt = fmt or path.rsplit(".", 1)[-1].lower()
    if fmt not in ("png", "svg", "pdf"):
        raise ValueError(f"render_dot: unsupported format {fmt!r}; use png, svg or pdf")
    done = subprocess.run([exe, f"-T{fmt}", "-o", path], input=dot_text.encode(), capture_output=True)
    if done.returncode != 0:
        message = " ".join(done.stderr.decode(errors="replace").split()) or f"exit status {done.returncode}"
        raise RuntimeError(f"render_dot: Graphviz could not write {path}: {message}")


# Function class names whose op-table entry is not their lower-cased name.
_ENTRY_OF_FUNCTION = {"cast": "astype", "broadcastto": "broadcast_to"}


def formula(op_name: str) -> str | None:
    """The op table's backward rule for a Function class name ('Tanh' -> 'dx = dy * (1 - y**2)');
    None for an op the table does not list."""
    from . import optable  # the op table imports the ops; graph is imported before them

    key = op_name.lower()
    key = _ENTRY_OF_FUNCTION.get(key, key)
    by_squashed = {name.replace("_", ""): name for name in optable.FORMULAS}
    entry = key if key in optable.FORMULAS else by_squashed.get(key)
    return optable.FORMULAS.get(entry) if entry else None


def with_numbers(rule: str, inputs: list, output: np.ndarray, grad_out: np.ndarray, sent: list) -> str | None:
    """The rule with the scalars put in, each clause ending in the engine's result (``sent``):
    'dx = dy * (1 - y**2) = 0.5 * (1 - (-0.2)**2) = 0.48'. The rule names the inputs by its
    clauses ('dx = ...' is input x), the output y and the incoming gradient dy. None unless every
    array is one number and the rule has one clause per input."""
    clauses = [c.strip() for c in rule.split(";")]
    arrays = [*inputs, output, grad_out, *[g for g in sent if g is not None]]
    if any(np.size(a) != 1 for a in arrays) or len(clauses) != len(inputs):
        return None
    bindings = {c.partition("=")[0].strip()[1:]: x for c, x in zip(clauses, inputs)}  # 'da = ...' -> a
    bindings.update({"y": output, "dy": grad_out})
    done = []
    for clause, result in zip(clauses, sent):
        left, _, right = (part.strip() for part in clause.partition("="))
        filled = re.sub(r"\b[A-Za-z_]\w*\b",
                        lambda m: _number(bindings[m.group()]) if m.group() in bindings else m.group(), right)
        value = "no gradient" if result is None else f"{float(np.asarray(result).reshape(-1)[0]):.4g}"
        same = filled.strip("()") == value  # 'da = dy': nothing to compute
        done.append(f"{left} = {right} = {value}" if same else f"{left} = {right} = {filled} = {value}")
    return ";  ".join(done)


def _number(a: Any) -> str:
    """A number as the formulas show it: 4 significant digits, negatives in parentheses."""
    v = float(np.asarray(a).reshape(-1)[0])
    return f"({v:.4g})" if v < 0 else f"{v:.4g}"


@dataclass
class BackwardStep:
    """What one node of the backward pass did.

    ``grad_output`` is the gradient that reached the node's output; ``input_grads``
    pairs each input's label with what the node passed to it (None: nothing, because
    that input needs no gradient); ``leaf_grads`` holds the accumulated ``.grad`` of
    every leaf that received something in this step. ``formula`` is the op table's rule for the
    op (None when it has none) and ``numbers`` the rule with the scalars put in (None unless the
    node's inputs, output and gradients are all one number).
    """

    index: int
    op: str
    output: str
    grad_output: np.ndarray
    input_grads: list[tuple[str, np.ndarray | None]]
    leaf_grads: dict[str, np.ndarray] = field(default_factory=dict)
    formula: str | None = None
    numbers: str | None = None


def step_backward(root: Tensor, grad: Any = None, retain_graph: bool = False) -> Iterator[BackwardStep]:
    """Run ``root.backward(grad)`` one node at a time, yielding a ``BackwardStep`` after each.

    Exhausting the iterator leaves exactly the gradients ``backward()`` would.
    """
    start = root._initial_grad(grad)
    names = labels(root)
    output_of = {id(t.grad_fn): t for t in _graph_tensors(root) if t.grad_fn is not None}
    for index, (node, grad_out, passed) in enumerate(autograd.backward_steps(root, start, retain_graph)):
        inputs = []
        leaves = {}
        for parent, g in zip(node.parents, passed):
            label = names.get(id(parent), "constant") if isinstance(parent, Tensor) else "constant"
            inputs.append((label, g))
            if g is not None and parent.grad_fn is None:
                leaves[label] = parent.grad.copy()
        rule = formula(node.name)
        numbers = None
        if rule and node.n_outputs == 1:
            values = [p.data if isinstance(p, Tensor) else p for p in node.parents]
            numbers = with_numbers(rule, values, output_of[id(node)].data, grad_out, list(passed))
        yield BackwardStep(index, node.name, names[id(output_of[id(node)])], grad_out, inputs, leaves, rule, numbers)


def summarize(array: np.ndarray | None, values: int = 4) -> str:
    """'shape (2, 3) norm 1.234 [0.1, 0.2, ...]': a one-line view of a gradient."""
    if array is None:
        return "none"
    flat = np.asarray(array).reshape(-1)
    head = ", ".join(f"{v:.4g}" for v in flat[:values]) + (", ..." if flat.size > values else "")
    return f"shape {tuple(np.shape(array))} norm {float(np.linalg.norm(flat)):.4g} [{head}]"


# ---------------------------------------------------------------- the graph a create_graph backward builds

FORWARD = "forward"  # made_by of a node of the function's own graph
GRADIENT_SUM = "sum of gradients"  # made_by of the engine's additions of the gradients reaching one tensor
CONTRACTION = "s = g . v"  # made_by of the ops that combine the gradients into the scalar s


@dataclass
class GradientGraph:
    """The graph that the backward of a scalar ``output`` builds with ``create_graph=True``.

    ``leaves`` are the leaves of ``output``'s graph that require grad (in the order its tree shows
    them) and ``grads[i]`` is d output / d ``leaves[i]``, of that leaf's shape, carrying the graph of
    the ops the backward rules applied (a constant when ``output`` is linear in that leaf).
    ``root`` is the scalar s = sum over i of sum(grads[i] * directions[i]), written out in
    ``expression`` (``"df/dx + sum(df/dw)"``; ``root`` is named "s" unless it is one gradient):
    the backward of s leaves in each leaf's ``.grad`` the Hessian-vector product (H v)_i, the
    second derivative when ``output`` has one scalar input and v = 1.
    ``made_by[id(t)]`` says which part of the computation made each op output ``t`` of s's graph:
    ``FORWARD`` (a node of ``output``'s own graph, reached through what the rules saved),
    ``"backward of <label>"`` (the backward rule of that forward node), ``GRADIENT_SUM`` or
    ``CONTRACTION``; ``rule_of[id(t)]`` is that ``<label>`` for the ops a rule made.
    """

    output: Tensor
    leaves: list[Tensor]
    grads: list[Tensor]
    directions: list[np.ndarray]
    root: Tensor
    expression: str
    made_by: dict[int, str]
    rule_of: dict[int, str]


def gradient_graph(output: Tensor, directions: Sequence[Any] | None = None) -> GradientGraph:
    """Run the backward of the one-element ``output`` with ``create_graph=True`` (as
    ``autograd.grad``) and return the graph it built, ready for ``print_graph`` and ``step_backward``.

    ``directions`` holds one array v_i per leaf (``leaves(output)``, each of that leaf's shape);
    None means ones. No ``.grad`` changes. To give the two graphs the same labels, every unnamed
    tensor of ``output``'s graph is named (``t.name``) with its ``labels(output)`` label and the
    new tensors are numbered after them; each gradient is named ``df/d<leaf>``. Raises ValueError
    for an ``output`` that is not a one-element Tensor requiring grad, for directions of the wrong
    number or shapes, and when every gradient is a constant (``output`` is linear in its leaves:
    there is no graph to differentiate again).
    """
    if not isinstance(output, Tensor) or output.size != 1 or not output.requires_grad:
        raise ValueError("gradient_graph needs a one-element Tensor that requires grad, got "
                         + (f"shape {output.shape} with requires_grad={output.requires_grad}"
                            if isinstance(output, Tensor) else type(output).__name__))
    forward = _graph_tensors(output)
    counts = {"leaf": sum(t.grad_fn is None and not t.name for t in forward),
              "op": sum(t.grad_fn is not None and not t.name for t in forward)}
    forward_labels = labels(output)
    for t in forward:
        t.name = forward_labels[id(t)]  # the labels the function's own tree shows, kept in the gradient's graph
    output_name = {(id(t.grad_fn), t._output_nr): t.name for t in forward if t.grad_fn is not None}
    node_name = {node: name for (node, _), name in reversed(output_name.items())}  # the first of its outputs the tree shows
    xs = leaves(output)
    vs = _directions(directions, xs)

    seed = Tensor._make(np.ones_like(output.data), False, None)
    seed.name = "grad_output"
    rule_by_node: dict[int, str] = {}  # id(Function) -> made_by, for the nodes the backward creates
    targets: dict[int, list] = {id(t): [] for t in xs}
    for node, grad_out, passed in autograd._backprop([output], [seed], True, True, targets):
        _claim(grad_out, GRADIENT_SUM, node_name, rule_by_node)  # the engine summed them before the rule ran
        _claim(passed, f"backward of {node_name[id(node)]}", node_name, rule_by_node)
    grads = []
    for t in xs:  # a leaf reached along several paths gets the sum of what each path sent
        found = targets[id(t)] or [Tensor._make(np.zeros_like(t.data), False, None)]
        total = found[0]
        for g in found[1:]:
            total = total + g
        grads.append(total)
    _claim(grads, GRADIENT_SUM, node_name, rule_by_node)

    terms, texts = [], []
    for x, g, v in zip(xs, grads, vs):
        if g.name is None:
            g.name = f"df/d{x.name}"
        if not g.requires_grad:
            continue  # a constant: output is linear in x, this term has no second derivative
        if directions is None:
            terms.append(g if g.ndim == 0 else g.sum())
            texts.append(g.name if g.ndim == 0 else f"sum({g.name})")
        else:
            direction = Tensor._make(v, False, None)
            direction.name = f"v_{x.name}"
            terms.append((g * direction).sum())
            texts.append(f"sum({g.name} * {direction.name})")
    if not terms:
        raise ValueError("gradient_graph: the gradient is a constant (the output is linear in every leaf), "
                         "so its backward has no graph to trace")
    root = terms[0]
    for term in terms[1:]:
        root = root + term
    if root.name is None:
        root.name = "s"
    _claim([root], CONTRACTION, node_name, rule_by_node)

    made_by, rule_of = {}, {}
    for t in _graph_tensors(root):
        if t.grad_fn is None:
            continue
        made_by[id(t)] = FORWARD if id(t.grad_fn) in node_name else rule_by_node[id(t.grad_fn)]
        if made_by[id(t)].startswith("backward of "):
            rule_of[id(t)] = made_by[id(t)][len("backward of "):]
    _name_new_tensors(root, output_name, node_name, counts)
    return GradientGraph(output, xs, grads, vs, root, " + ".join(texts), made_by, rule_of)


def _directions(directions: Sequence[Any] | None, xs: list[Tensor]) -> list[np.ndarray]:
    """One float array per leaf, of its shape and dtype: ones when ``directions`` is None."""
    if directions is None:
        return [np.ones_like(x.data) for x in xs]
    if len(directions) != len(xs):
        raise ValueError(f"gradient_graph: {len(directions)} directions for {len(xs)} leaves "
                         f"({', '.join(str(x.name) for x in xs)})")
    out = []
    for x, v in zip(xs, directions):
        v = np.asarray(v.data if isinstance(v, Tensor) else v, dtype=x.data.dtype)
        if v.shape != x.shape:
            raise ValueError(f"gradient_graph: the direction of {x.name} has shape {v.shape}, the leaf {x.shape}")
        out.append(v)
    return out


def _claim(tensors: Any, made_by: str, forward: dict, claimed: dict[int, str]) -> None:
    """Record ``made_by`` for every node behind ``tensors`` that is neither a forward node
    (its id a key of ``forward``) nor claimed yet: the ops made since the previous claim."""
    items = tensors if isinstance(tensors, (tuple, list)) else [tensors]
    stack = [t for t in items if isinstance(t, Tensor)]
    while stack:
        t = stack.pop()
        node = t.grad_fn
        if node is None or id(node) in forward or id(node) in claimed:
            continue
        claimed[id(node)] = made_by
        stack.extend(p for p in node.parents if isinstance(p, Tensor))


def _name_new_tensors(root: Tensor, output_name: dict, node_name: dict, counts: dict[str, int]) -> None:
    """Name the unnamed tensors of ``root``'s graph: an output of a forward node (a Tensor a rule
    made of what the node saved) as that output (``Op#3:1`` for an output the forward graph never
    used), other leaves and ops numbered after the forward graph's own ``leafN`` and ``Op#N``
    labels, in the order the tree shows them."""
    for t in _graph_tensors(root):
        if t.name:
            continue
        if t.grad_fn is not None and id(t.grad_fn) in node_name:
            t.name = output_name.get((id(t.grad_fn), t._output_nr), f"{node_name[id(t.grad_fn)]}:{t._output_nr}")
        elif t.grad_fn is None:
            t.name = f"leaf{counts['leaf']}"
            counts["leaf"] += 1
        else:
            t.name = f"{t.grad_fn.name}#{counts['op']}"
            counts["op"] += 1
