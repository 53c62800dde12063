"""``minigrad trace``: print a graph as a tree, then step through its backward pass.

    minigrad trace --demo scalar            # tanh(x*y + y) * exp(x)
    minigrad trace --demo mlp --dot mlp.dot
    minigrad trace mymodule:loss            # a function of no arguments returning a scalar Tensor
    minigrad trace path/to/file.py:loss --svg graph.svg
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import os
import shutil
import sys
from pathlib import Path
from typing import Any, Callable

import click

from minigrad.cli.core import MinigradCommand
from minigrad.cli.errors import CLIError
from minigrad.cli.files import check_output_file, writing

DEMO_NAMES = ("scalar", "mlp", "attention")


# ---------------------------------------------------------------- user targets: module:fn or file.py:fn


def load_function(target: str) -> Callable[..., Any]:
    """The function named by ``module:function`` or ``path/to/file.py:function``.

    The current directory is importable (as for ``python -m``). Raises ``CLIError``
    (one line, exit 2) when the module cannot be imported or has no such function.
    """
    module_part, sep, name = target.rpartition(":")
    if not sep or not module_part or not name:
        raise CLIError(f"target {target!r} must be module:function or path/to/file.py:function")
    try:
        if module_part.endswith(".py"):
            path = Path(module_part)
            if not path.is_file():
                raise CLIError(f"cannot import {module_part!r}: no such file")
            spec = importlib.util.spec_from_file_location(f"_minigrad_target_{path.stem}", path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module  # as an import would (dataclasses and pickle look it up)
            sys.path.insert(0, str(path.resolve().parent))  # its own imports resolve beside it
            try:
                spec.loader.exec_module(module)
            finally:
                sys.path.remove(str(path.resolve().parent))
        else:
            sys.path.insert(0, os.getcwd())
            try:
                module = importlib.import_module(module_part)
            finally:
                sys.path.remove(os.getcwd())
    except CLIError:
        raise
    except Exception as err:  # any failure while importing the user's module is the user's to fix
        raise CLIError(f"cannot import {module_part!r}: {type(err).__name__}: {err}") from None
    fn = getattr(module, name, None)
    if fn is None:
        raise CLIError(f"{module_part!r} has no function {name!r}")
    if not callable(fn):
        raise CLIError(f"{target!r} is a {type(fn).__name__}, not a function")
    return fn


def call_user(fn: Callable[..., Any], target: str, *args: Any) -> Any:
    """Call the user's function; an exception it raises becomes one line (exit 2)."""
    try:
        return fn(*args)
    except Exception as err:
        raise CLIError(f"{target} raised {type(err).__name__}: {err}") from None


# ---------------------------------------------------------------- built-in demo expressions


def demo_scalar():
    """f = tanh(x*y + y) * exp(x) at x = 0.5, y = -1.25 (examples/01_autodiff_by_hand.py)."""
    import minigrad as mg

    x = mg.tensor(0.5, dtype=mg.float64, requires_grad=True)
    y = mg.tensor(-1.25, dtype=mg.float64, requires_grad=True)
    x.name, y.name = "x", "y"
    return mg.tanh(x * y + y) * mg.exp(x)


def demo_mlp():
    """Mean squared error of a 3-4-1 tanh MLP (nn.Linear) on a batch of two points."""
    import minigrad as mg
    from minigrad import nn

    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    for name, p in model.named_parameters():
        p.name = name  # '0.weight', '0.bias', '2.weight', '2.bias'
    x = mg.tensor([[1.0, -0.5, 2.0], [0.0, 1.5, -1.0]])
    x.name = "x"
    target = mg.tensor([[1.0], [-1.0]])
    target.name = "target"
    return nn.functional.mse_loss(model(x), target)


def demo_attention():
    """One causal self-attention head written with primitive ops, on 3 positions of width 4:
    q, k, v = x Wq, x Wk, x Wv; w = softmax(mask(q k^T / 2)); loss = mean((w v)^2)."""
    import numpy as np

    import minigrad as mg

    gen = np.random.default_rng(0)
    x = mg.tensor(gen.standard_normal((3, 4)).astype(np.float32))  # (T, d)
    x.name = "x"
    weights = {}
    for key in ("Wq", "Wk", "Wv"):
        weights[key] = mg.tensor(0.5 * gen.standard_normal((4, 4)).astype(np.float32), requires_grad=True)
        weights[key].name = key
    q, k, v = x @ weights["Wq"], x @ weights["Wk"], x @ weights["Wv"]  # (T, d) each
    scores = (q @ k.T) * (1.0 / math.sqrt(4))  # (T, T)
    future = ~np.tril(np.ones((3, 3), dtype=bool))  # True above the diagonal: positions not yet seen
    attn = mg.softmax(scores.masked_fill(future, -1e9), axis=-1)
    out = attn @ v  # (T, d)
    return (out * out).mean()


DEMOS: dict[str, Callable[[], Any]] = {"scalar": demo_scalar, "mlp": demo_mlp, "attention": demo_attention}


# ---------------------------------------------------------------- rendering


def _leaves(root) -> list:
    """The leaves of ``root``'s graph that require grad, in the order the tree shows them."""
    from minigrad import Tensor

    seen, leaves, stack = set(), [], [root]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        if t.grad_fn is None:
            if t.requires_grad:
                leaves.append(t)
            continue
        stack.extend(reversed([p for p in t.grad_fn.parents if isinstance(p, Tensor)]))
    return leaves


def _step_tree(step, total: int, values: int):
    from rich.text import Text
    from rich.tree import Tree

    from minigrad.graph import summarize

    tree = Tree(Text.assemble((f"step {step.index + 1}/{total}  ", "bold"), (step.output, "bold cyan"),
                              f"  ({step.op}.backward)"))
    tree.add(Text.assemble(("grad in   ", "dim"), summarize(step.grad_output, values)))
    for label, g in step.input_grads:
        tree.add(Text.assemble(("→ ", "green"), (label, "cyan"), ("  ", ""), summarize(g, values)))
    for label, g in step.leaf_grads.items():
        tree.add(Text.assemble(("leaf ", "yellow"), (label, "cyan"), (".grad = ", ""), summarize(g, values)))
    return tree


def _leaf_table(leaves: list, values: int):
    from rich.table import Table

    from minigrad.graph import summarize

    table = Table(title="accumulated .grad of the leaves", title_justify="left")
    table.add_column("leaf", style="cyan")
    table.add_column("shape")
    table.add_column(".grad")
    for label, t in leaves:
        table.add_row(label, str(t.shape), summarize(t.grad, values))
    return table


@click.command(name="trace", cls=MinigradCommand)
@click.argument("target", required=False, metavar="[MODULE:FN | FILE.py:FN]")
@click.option("--demo", type=click.Choice(DEMO_NAMES), default=None,
              help="Trace a built-in expression instead: a scalar chain, a small MLP or one attention head.")
@click.option("--dot", "dot_path", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Write the graph as Graphviz DOT text.")
@click.option("--png", "png_path", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Render the graph to PNG (needs the Graphviz 'dot' program).")
@click.option("--svg", "svg_path", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Render the graph to SVG (needs the Graphviz 'dot' program).")
@click.option("--values", type=click.IntRange(min=0), default=4, show_default=True,
              help="How many values of each gradient to show.")
def command(target: str | None, demo: str | None, dot_path: str | None, png_path: str | None, svg_path: str | None,
            values: int) -> None:
    """Print a graph and step through its backward pass node by node.

    TARGET names a function of no arguments that returns a scalar Tensor, as
    module:function or path/to/file.py:function; --demo picks a built-in one. Each
    step shows the gradient reaching a node, what it passes to each input, and the
    accumulated .grad of the leaves it reached. Name tensors (x.name = "x") to see
    their names here.
    """
    from rich.console import Console

    from minigrad import Tensor, graph

    if target is not None and demo is not None:
        raise CLIError("give a TARGET or --demo, not both")
    if target is None and demo is None:
        raise CLIError(f"nothing to trace: give a TARGET (module:function or file.py:function) or --demo "
                       f"{'|'.join(DEMO_NAMES)}")
    if (png_path or svg_path) and shutil.which("dot") is None:
        raise CLIError("--png/--svg need the Graphviz 'dot' program (e.g. apt-get install graphviz); "
                       "--dot FILE writes the DOT text without it")
    for path, option in ((dot_path, "--dot"), (png_path, "--png"), (svg_path, "--svg")):
        check_output_file(path, option)
    label = f"--demo {demo}" if demo else target
    fn = DEMOS[demo] if demo else load_function(target)
    root = call_user(fn, label)
    if not isinstance(root, Tensor):
        raise CLIError(f"{label} returned {type(root).__name__}, not a minigrad Tensor")
    if root.ndim != 0:
        raise CLIError(f"{label} returned a Tensor of shape {root.shape}; trace needs a scalar "
                       "(reduce it, e.g. .sum())")
    if not root.requires_grad:
        raise CLIError(f"{label} returned a Tensor that does not require grad: no graph to trace "
                       "(create its inputs with requires_grad=True)")

    console = Console(highlight=False)
    console.print(f"[bold]graph of {label}[/bold]  value {root.item():.6g}", soft_wrap=True)
    graph.print_graph(root, console)  # into a pipe or a file: one line per node, never split
    dot_text = graph.to_dot(root)
    if dot_path:
        with writing(dot_path, "--dot"):
            Path(dot_path).write_text(dot_text)
        console.print(f"wrote {dot_path}")
    for path, fmt in ((png_path, "png"), (svg_path, "svg")):
        if path:
            try:
                graph.render_dot(dot_text, path, fmt)
            except Exception as err:
                raise CLIError(f"could not render --{fmt} {path}: {err}") from None
            console.print(f"wrote {path}")

    names = graph.labels(root)
    leaves = [(names[id(t)], t) for t in _leaves(root)]
    steps = list(graph.step_backward(root))
    console.print()
    console.print(f"[bold]backward of {label}[/bold]: {len(steps)} nodes, from the output to the leaves")
    for step in steps:
        console.print(_step_tree(step, len(steps), values))
    console.print(_leaf_table(leaves, values))
