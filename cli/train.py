"""``minigrad-train``: the standalone training command (same options as ``minigrad train``)."""

from __future__ import annotations

from minigrad.cli.commands.train import make_train_command

main = make_train_command("minigrad-train")

if __name__ == "__main__":
    main()
