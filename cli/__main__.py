"""``python -m cli``: the ``minigrad`` command group."""

from cli.main import cli

cli()
