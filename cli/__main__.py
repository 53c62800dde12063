"""``python -m minigrad.cli``: the ``minigrad`` command group."""

from minigrad.cli.main import cli

cli()
