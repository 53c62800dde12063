"""``minigrad trace``: print a graph as a tree, then step through its backward pass.

    minigrad trace --demo scalar            # tanh(x*y + y) * exp(x)
    minigrad trace --demo mlp --dot mlp.dot
    minigrad trace mymodule:loss            # a function of no arguments returning a scalar Tensor
    minigrad trace path/to/file.py:loss --svg graph.svg
    minigrad trace --demo scalar --html graph.html --open   # step through it in the browser
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
import sys
from pathlib import Path
from typing import Any, Callable

import click

from minigrad.cli.core import MinigradCommand
from minigrad.cli.errors import CLIError
from minigrad.cli.files import check_output_file, open_in_browser, writing
from minigrad.viz import demos

DEMO_NAMES = tuple(demos.DEMOS)


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

DEMOS: dict[str, Callable[[], Any]] = demos.DEMOS  # the expressions live in the library: minigrad.viz.demos


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
    if step.formula:
        tree.add(Text.assemble(("rule      ", "dim"), (step.numbers or step.formula, "magenta")))
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


def _write_page(root, label: str, path: str, open_page: bool, console) -> None:
    """Write the autodiff page of ``root`` to ``path`` and, with ``open_page``, open it in a browser."""
    from minigrad import viz

    page = viz.graph(root, title=f"minigrad trace {label}")
    with writing(path, "--html"):
        page.save(path)
    console.print(f"wrote {path} ({len(page.data['nodes'])} nodes, laid out by {page.data['layout']})", soft_wrap=True)
    if open_page:
        open_in_browser(path)


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
@click.option("--html", "html_path", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Write the graph as one self-contained web page to step through (opens from file://).")
@click.option("--open", "open_page", is_flag=True, help="Open the --html page in the default browser.")
@click.option("--values", type=click.IntRange(min=0), default=4, show_default=True,
              help="How many values of each gradient to show.")
def command(target: str | None, demo: str | None, dot_path: str | None, png_path: str | None, svg_path: str | None,
            html_path: str | None, open_page: bool, values: int) -> None:
    """Print a graph and step through its backward pass node by node.

    TARGET names a function of no arguments that returns a scalar Tensor, as
    module:function or path/to/file.py:function; --demo picks a built-in one. Each
    step shows the gradient reaching a node, the op's rule, what it passes to each
    input, and the accumulated .grad of the leaves it reached. --html FILE writes
    the same steps as a web page to click through. Name tensors (x.name = "x") to
    see their names here.
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
    if open_page and not html_path:
        raise CLIError("--open opens the --html page: give --html FILE too")
    for path, option in ((dot_path, "--dot"), (png_path, "--png"), (svg_path, "--svg"), (html_path, "--html")):
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

    if html_path:
        _write_page(root, label, html_path, open_page, console)  # before the backward below frees the graph

    names = graph.labels(root)
    leaves = [(names[id(t)], t) for t in _leaves(root)]
    steps = list(graph.step_backward(root))
    console.print()
    console.print(f"[bold]backward of {label}[/bold]: {len(steps)} nodes, from the output to the leaves")
    for step in steps:  # like the graph: one line per item into a pipe or a file
        graph.print_fitted(console, _step_tree(step, len(steps), values))
    graph.print_fitted(console, _leaf_table(leaves, values))
