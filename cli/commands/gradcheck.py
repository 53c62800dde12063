"""``minigrad gradcheck``: the float64 gradient check over the op table, as a table.

    minigrad gradcheck                      # every differentiable op
    minigrad gradcheck matmul softmax       # some of them
    minigrad gradcheck --order 2            # second derivatives (gradgradcheck)
    minigrad gradcheck --mode forward       # forward mode: a jvp per input element
    minigrad gradcheck --function mymodule:f --shape 3,4
"""

from __future__ import annotations

import click

from minigrad.cli.core import MinigradCommand
from minigrad.cli.errors import CLIError
from minigrad.cli.loading import call_user, load_function


def parse_shape(text: str) -> tuple[int, ...]:
    """'3,4' -> (3, 4); '3' -> (3,); '' or '()' -> () (a 0-d tensor)."""
    stripped = text.strip().strip("()").replace(" ", "")
    if not stripped:
        return ()
    try:
        shape = tuple(int(part) for part in stripped.split(",") if part)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a shape; write sizes separated by commas, e.g. 3,4") from None
    if any(s < 1 for s in shape):
        raise click.BadParameter(f"{text!r}: every size must be at least 1")
    return shape


def _shape_option(ctx, param, values):
    return [parse_shape(v) for v in values]


def _guarded(fn, target: str):
    """``fn`` raising CLIError (exit 2, not a FAIL row: the op table's check lets it through) when it
    raises or returns something that is not a Tensor or a sequence of Tensors."""
    from minigrad import Tensor

    def call(*tensors):
        out = call_user(fn, target, *tensors)
        if not isinstance(out, Tensor) and not (isinstance(out, (list, tuple)) and out
                                                and all(isinstance(o, Tensor) for o in out)):
            raise CLIError(f"{target} returned {type(out).__name__}, not a minigrad Tensor")
        return out

    return call


def _resolve_ops(names: tuple[str, ...]) -> list[str]:
    from minigrad import optable

    unknown = [n for n in names if n not in optable.ENTRIES]
    if not unknown:
        return list(names)
    bad = unknown[0]
    valid = ", ".join(sorted(optable.ENTRIES))
    if bad in optable.NON_DIFFERENTIABLE:
        raise CLIError(f"op {bad!r} is not differentiable ({optable.NON_DIFFERENTIABLE[bad]}); valid names: {valid}")
    raise CLIError(f"unknown op {bad!r}; valid names: {valid}")


def _table(rows, order: int, mode: str):
    from rich.table import Table

    what = {(1, "reverse"): "analytic backward", (2, "reverse"): "second derivatives (backward of backward)",
            (1, "forward"): "forward mode (jvp)", (2, "forward"): "forward mode over the backward"}[order, mode]
    table = Table(title=f"float64 gradient check: {what} vs central differences", title_justify="left")
    table.add_column("op", style="bold")
    table.add_column("shapes tried")
    table.add_column("max abs err", justify="right")
    table.add_column("max rel err", justify="right")
    table.add_column("pass", justify="center")
    for row in rows:
        verdict = "[green]pass[/green]" if row.passed else "[bold red]FAIL[/bold red]"
        table.add_row(row.op, "\n".join(row.shapes), f"{row.max_abs:.2e}", f"{row.max_rel:.2e}", verdict)
    return table


@click.command(name="gradcheck", cls=MinigradCommand)
@click.argument("ops", nargs=-1, metavar="[OP ...]")
@click.option("--function", "target", default=None, metavar="MODULE:FN",
              help="Also check a function of your own (module:function or file.py:function), one Tensor per --shape.")
@click.option("--shape", "shapes", multiple=True, callback=_shape_option, metavar="3,4",
              help="Shape of an input of --function (repeat for more inputs; default one input of shape 3,4).")
@click.option("--order", type=click.IntRange(1, 2), default=1, show_default=True,
              help="1: first derivatives; 2: second derivatives (the gradient of the gradient, as gradgradcheck).")
@click.option("--mode", type=click.Choice(["reverse", "forward"]), default="reverse", show_default=True,
              help="reverse: backward rules; forward: jvp rules (one per input element).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the random inputs and projection.")
@click.option("--atol", type=click.FloatRange(min=0), default=1e-5, show_default=True,
              help="Absolute tolerance (--function).")
@click.option("--rtol", type=click.FloatRange(min=0), default=1e-3, show_default=True,
              help="Relative tolerance (--function).")
@click.option("--eps", type=click.FloatRange(min=0, min_open=True), default=1e-6, show_default=True,
              help="Finite-difference step (--function).")
@click.pass_context
def command(ctx: click.Context, ops: tuple[str, ...], target: str | None, shapes: list, order: int, mode: str,
            seed: int, atol: float, rtol: float, eps: float) -> None:
    """Check every op's backward against central differences in float64.

    With no OP, every differentiable op of the table runs on a few fixed input shapes
    (broadcasting, size-1 and 0-d cases); name ops to run only those. Prints each op's
    worst absolute and relative error; exits with status 1 if any check fails.
    """
    from rich.console import Console

    from minigrad import optable

    if shapes and target is None:
        raise CLIError("--shape describes the inputs of --function; give --function MODULE:FN too")
    names = _resolve_ops(ops)
    rows = optable.check_ops(names, seed=seed, order=order, mode=mode) if names or target is None else []
    if target is not None:
        fn = _guarded(load_function(target), target)
        rows.append(optable.check_function(fn, shapes or [(3, 4)], name=target, atol=atol, rtol=rtol, eps=eps,
                                           seed=seed, order=order, mode=mode))

    console = Console(highlight=False)
    console.print(_table(rows, order, mode))
    failed = [row for row in rows if not row.passed]
    for row in failed:
        console.print(f"[red]{row.op}[/red]: {row.failure}")
    if failed:
        console.print(f"[bold red]{len(failed)} of {len(rows)} checks FAILED[/bold red]")
    else:
        console.print(f"[green]all {len(rows)} checks pass[/green]")
    if failed:
        ctx.exit(1)
