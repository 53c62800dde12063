"""Helpers of the CLI tests: tiny training arguments and the one-line-error assertion."""

from __future__ import annotations

from cli_runs import assert_usage_error  # noqa: F401  (shared with the other CLI test folder)

from click.testing import CliRunner

# A copy task small enough to train in a second or two.
TINY_TASK = ["--task", "copy", "--vocab-size", "5", "--min-len", "1", "--max-len", "4",
             "--train-size", "300", "--valid-size", "24", "--test-size", "24"]
TINY_MODEL = ["--model", "rnn-attn", "--embed-dim", "8", "--hidden-dim", "16"]
TINY_RUN = ["--batch-size", "16", "--steps", "30", "--eval-interval", "10", "--lr", "0.01", "--quiet"]
TINY = TINY_TASK + TINY_MODEL + TINY_RUN


def without(args: list[str], *flags: str) -> list[str]:
    """``args`` minus each of ``flags`` and the value after it (a flag without value: just it)."""
    out, skip = [], False
    for i, arg in enumerate(args):
        if skip:
            skip = False
            continue
        if arg in flags:
            skip = i + 1 < len(args) and not args[i + 1].startswith("--")
            continue
        out.append(arg)
    return out


def run(runner: CliRunner, command, args, **kwargs):
    """Invoke ``command`` (the group or minigrad-train) and return the Result."""
    return runner.invoke(command, [str(a) for a in args], catch_exceptions=False, **kwargs)


def edit_checkpoint_json(directory, filename: str, edit) -> None:
    """Apply ``edit(dict)`` to a JSON file of a checkpoint and update the manifest in state.json,
    as a crafted (or older) checkpoint would have it: the checkpoint stays intact."""
    import hashlib
    import json
    from pathlib import Path

    path, state_path = Path(directory) / filename, Path(directory) / "state.json"
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))
    data = path.read_bytes()
    state = json.loads(state_path.read_text())
    state["files"][filename] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    state_path.write_text(json.dumps(state))
