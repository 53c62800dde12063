"""Click classes shared by every command: usage errors are printed as one line."""

from __future__ import annotations

import re

import click
from click.exceptions import NoArgsIsHelpError

INTERRUPTED_EXIT = 130  # 128 + SIGINT, what a shell reports for a command ended by Ctrl-C


def _one_line(err: click.UsageError) -> click.UsageError:
    # Without a context, UsageError.show prints just "Error: <message>" (no usage block).
    if not isinstance(err, NoArgsIsHelpError):
        err.ctx = None
    return err


def _dash_hint(err: click.UsageError, command: click.Command, ctx: click.Context | None) -> click.UsageError:
    """An unknown option that looks like an argument ("-1 2") gets a hint to put ``--`` first.

    Click reads every word that starts with "-" as an option, so ``predict CKPT "-1 2"``
    fails with "No such option '-1'"; the words after ``--`` are always arguments.
    """
    if not isinstance(err, click.NoSuchOption) or not re.match(r"-[^-A-Za-z]", err.option_name):
        return err
    if ctx is None or not any(isinstance(p, click.Argument) for p in command.params):
        return err
    arguments = " ".join(p.make_metavar(ctx) for p in command.params if isinstance(p, click.Argument))
    return click.UsageError(f"{err.format_message()} An argument that starts with '-' goes after --: "
                            f"{ctx.command_path} [OPTIONS] -- {arguments}")


def _check_kernel_backend() -> None:
    """A bad MINIGRAD_KERNELS would fail at the first kernel with a traceback: one line, before any work."""
    from minigrad.cli.errors import CLIError
    from minigrad.kernels import backend

    try:
        backend()
    except ValueError as err:
        if "MINIGRAD_KERNELS" not in str(err):
            raise
        raise CLIError(f"{err} (or unset it)") from None


class MinigradCommand(click.Command):
    """A command whose usage errors (bad option value, missing argument) are one line.

    ``sections``: optional ``[(title, [parameter names])]``; ``--help`` then lists the
    options under those titles (options in no section come last, under "Other options").
    """

    def __init__(self, *args, sections: list[tuple[str, list[str]]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.sections = sections

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        if not self.sections:
            return super().format_options(ctx, formatter)
        records = {p.name: p.get_help_record(ctx) for p in self.get_params(ctx)}
        placed: set[str] = set()
        for title, names in self.sections:
            rows = [records[n] for n in names if records.get(n)]
            placed.update(names)
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)
        rest = [record for name, record in records.items() if name not in placed and record]
        if rest:
            with formatter.section("Other options"):
                formatter.write_dl(rest)

    def make_context(self, info_name, args, parent=None, **extra):  # type: ignore[override]
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as err:
            raise _one_line(_dash_hint(err, self, err.ctx)) from None

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        _check_kernel_backend()
        # A UsageError/BadParameter raised by the command body gets the context attached by
        # Click (and with it a usage block); print it as one line like the parser's own.
        try:
            return super().invoke(ctx)
        except click.UsageError as err:
            raise _one_line(err) from None
        except KeyboardInterrupt:  # Ctrl-C: one line and the shell's status for SIGINT, not Click's "Aborted!"
            click.echo("Interrupted", err=True)
            ctx.exit(INTERRUPTED_EXIT)


class MinigradGroup(click.Group):
    """A group whose own usage errors (unknown command, bad option) are one line."""

    command_class = MinigradCommand

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # The group alone ("minigrad"): its help on stdout and exit status 0, as git does.
        if not args and self.no_args_is_help and not ctx.resilient_parsing:
            click.echo(ctx.get_help(), color=ctx.color)
            ctx.exit(0)
        return super().parse_args(ctx, args)

    def make_context(self, info_name, args, parent=None, **extra):  # type: ignore[override]
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as err:
            raise _one_line(err) from None

    def resolve_command(self, ctx, args):  # type: ignore[override]
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as err:
            raise _one_line(err) from None
