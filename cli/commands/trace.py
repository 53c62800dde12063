"""``minigrad trace``: print a graph as a tree, then step through its backward pass.

    minigrad trace --demo scalar            # tanh(x*y + y) * exp(x)
    minigrad trace --demo mlp --dot mlp.dot
    minigrad trace mymodule:loss            # a function of no arguments returning a scalar Tensor
    minigrad trace path/to/file.py:loss --svg graph.svg
    minigrad trace --demo scalar --html graph.html --open   # step through it in the browser
    minigrad trace --demo scalar --order 2  # the graph its backward builds, and the backward of that
"""

from __future__ import annotations

import collections
import shutil
from pathlib import Path

import click

from minigrad.cli.core import MinigradCommand
from minigrad.cli.errors import CLIError
from minigrad.cli.files import check_open, check_output_file, open_in_browser, page_options, writing
from minigrad.cli.loading import call_user, load_function
from minigrad.viz import demos

DEMO_NAMES = tuple(demos.DEMOS)

# ---------------------------------------------------------------- rendering


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

    table = Table()
    table.add_column("leaf", style="cyan")
    table.add_column("shape")
    table.add_column(".grad")
    for label, t in leaves:
        table.add_row(label, str(t.shape), summarize(t.grad, values))
    return table


def _write_page(root, title: str, path: str, open_page: bool, console, groups: dict | None = None) -> None:
    """Write the autodiff page of ``root`` to ``path`` and, with ``open_page``, open it in a browser."""
    from minigrad import viz

    page = viz.graph(root, title=title, groups=groups)
    with writing(path, "--html"):
        page.save(path)
    console.print(f"wrote {path} ({len(page.data['nodes'])} nodes, laid out by {page.data['layout']})", soft_wrap=True)
    if open_page:
        open_in_browser(path)


def _gradient_graph(root, label: str):
    """The graph the first backward of ``root`` builds (``--order 2``); CLIError when there is none."""
    from minigrad import graph

    try:
        return graph.gradient_graph(root)
    except ValueError:
        raise CLIError(f"{label} is linear in every input, so its gradient is a constant: --order 2 has no "
                       "graph to trace") from None


def _print_gradient_graph(gg, values: int, console) -> None:
    """The first backward's gradients, then the graph it built with each op's maker."""
    from minigrad import graph

    console.print("first backward, create_graph=True (the gradients carry a graph):", soft_wrap=True)
    for g in gg.grads:
        console.print(f"  {g.name} = {graph.summarize(g.data, values)}", soft_wrap=True)
    made = collections.Counter("rule" if id_ in gg.rule_of else text for id_, text in gg.made_by.items())
    parts = [f"{n} {what}" for n, what in ((made["rule"], "made by the backward rules"),
                                           (made[graph.GRADIENT_SUM], "adding the gradients that reach one tensor"),
                                           (made[graph.CONTRACTION], "combining them into s"),
                                           (made[graph.FORWARD], "of the forward graph, which the rules read")) if n]
    console.print(f"[bold]graph of s = {gg.expression}[/bold], built by that backward: {len(gg.made_by)} ops, "
                  f"{', '.join(parts)}", soft_wrap=True)
    graph.print_graph(gg.root, console, notes=gg.made_by)


def _check_request(target, demo, dot_path, png_path, svg_path, html_path, open_page) -> None:
    """Refuse a bad combination of options before anything runs (one line, exit 2)."""
    if target is not None and demo is not None:
        raise CLIError("give a TARGET or --demo, not both")
    if target is None and demo is None:
        raise CLIError(f"nothing to trace: give a TARGET (module:function or file.py:function) or --demo "
                       f"{'|'.join(DEMO_NAMES)}")
    if (png_path or svg_path) and shutil.which("dot") is None:
        raise CLIError("--png/--svg need the Graphviz 'dot' program (e.g. apt-get install graphviz); "
                       "--dot FILE writes the DOT text without it")
    check_open(open_page, html_path)
    for path, option in ((dot_path, "--dot"), (png_path, "--png"), (svg_path, "--svg"), (html_path, "--html")):
        check_output_file(path, option)


def _scalar_root(fn, label: str):
    """Call the user's function; its result must be a 0-d Tensor that requires grad."""
    from minigrad import Tensor

    root = call_user(fn, label)
    if not isinstance(root, Tensor):
        raise CLIError(f"{label} returned {type(root).__name__}, not a minigrad Tensor")
    if root.ndim != 0:
        raise CLIError(f"{label} returned a Tensor of shape {root.shape}; trace needs a scalar "
                       "(reduce it, e.g. .sum())")
    if not root.requires_grad:
        raise CLIError(f"{label} returned a Tensor that does not require grad: no graph to trace "
                       "(create its inputs with requires_grad=True)")
    return root


def _write_graph_files(root, dot_path, png_path, svg_path, console) -> None:
    """--dot writes the DOT text; --png and --svg render it with Graphviz."""
    from minigrad import graph

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
@page_options("Write the graph as one self-contained web page to step through (opens from file://).")
@click.option("--values", type=click.IntRange(min=0), default=4, show_default=True,
              help="How many values of each gradient to show.")
@click.option("--order", type=click.IntRange(1, 2), default=1, show_default=True,
              help="1: the function's graph and its backward. 2: the graph its backward builds with "
                   "create_graph=True (the gradient's: the backward rules' ops), then the backward of that: "
                   "second derivatives.")
def command(target: str | None, demo: str | None, dot_path: str | None, png_path: str | None, svg_path: str | None,
            html_path: str | None, open_page: bool, values: int, order: int) -> None:
    """Print a graph and step through its backward pass node by node.

    TARGET names a function of no arguments that returns a scalar Tensor, as
    module:function or path/to/file.py:function; --demo picks a built-in one. Each
    step shows the gradient reaching a node, the op's rule, what it passes to each
    input, and the accumulated .grad of the leaves it reached. --html FILE writes
    the same steps as a web page to click through. Name tensors (x.name = "x") to
    see their names here.

    --order 2 runs the first backward with create_graph=True and shows the graph
    it built instead: each op marked with the backward rule that made it, or
    "forward" for a node of the function's graph the rules read. Its root is
    s = sum(df/dx * v) over the leaves x, v = 1, and stepping through its backward
    leaves H v in each leaf's .grad (H the Hessian): the second derivative of a
    function of one number. --dot, --png, --svg and --html show that graph too.
    """
    from rich.console import Console

    from minigrad import graph

    _check_request(target, demo, dot_path, png_path, svg_path, html_path, open_page)
    label = f"--demo {demo}" if demo else target
    root = _scalar_root(demos.DEMOS[demo] if demo else load_function(target), label)

    console = Console(highlight=False)
    if order == 1:
        console.print(f"[bold]graph of {label}[/bold]  value {root.item():.6g}", soft_wrap=True)
        graph.print_graph(root, console)  # into a pipe or a file: one line per node, never split
        shown, title, groups = root, f"minigrad trace {label}", None
        names = graph.labels(root)
        leaves = [(names[id(t)], t) for t in graph.leaves(root)]
        table_title = "accumulated .grad of the leaves"
    else:
        gg = _gradient_graph(root, label)
        console.print(f"[bold]function {label}[/bold]  value {root.item():.6g}", soft_wrap=True)
        _print_gradient_graph(gg, values, console)
        shown, title = gg.root, f"minigrad trace {label} --order 2: the graph of s = {gg.expression}"
        groups = {id_: f"backward of {forward}" for id_, forward in gg.rule_of.items()}
        leaves = [(t.name, t) for t in gg.leaves]
        one_number = len(leaves) == 1 and leaves[0][1].size == 1
        what = "the second derivative" if one_number else "H v, the Hessian of the function times v = 1"
        table_title = f"accumulated .grad of the leaves: d s / d leaf, {what}"

    _write_graph_files(shown, dot_path, png_path, svg_path, console)
    if html_path:  # before the backward below frees the graph
        _write_page(shown, title, html_path, open_page, console, groups)

    steps = list(graph.step_backward(shown))
    console.print()
    console.print(f"[bold]backward of {label if order == 1 else shown.name}[/bold]: {len(steps)} nodes, "
                  "from the output to the leaves", soft_wrap=True)
    for step in steps:  # like the graph: one line per item into a pipe or a file
        graph.print_fitted(console, _step_tree(step, len(steps), values))
    console.print(table_title, soft_wrap=True)
    graph.print_fitted(console, _leaf_table(leaves, values))
