"""One module per ``minigrad`` subcommand; each defines ``command`` (registered in cli/main.py)."""
