"""Click classes shared by every command: usage errors are printed as one line."""

from __future__ import annotations

import click
from click.exceptions import NoArgsIsHelpError


def _one_line(err: click.UsageError) -> click.UsageError:
    # Without a context, UsageError.show prints just "Error: <message>" (no usage block).
    if not isinstance(err, NoArgsIsHelpError):
        err.ctx = None
    return err


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
            raise _one_line(err) from None


class MinigradGroup(click.Group):
    """A group whose own usage errors (unknown command, bad option) are one line."""

    command_class = MinigradCommand

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
