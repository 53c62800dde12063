"""``--config FILE.yaml``: a flat mapping of option names to values, used as defaults.

    # copy.yaml
    task: reverse
    model: transformer
    d-model: 32          # "d_model" works too
    steps: 400

Keys are the long option names without the dashes in front (``hidden-dim`` or
``hidden_dim``). Values are checked like the command line's (``lr: abc`` is an error naming
the key and its line). An unknown key, a file that is not a mapping, or malformed YAML is an
error naming the file and the line, as is a key given twice (also as "hidden-dim" and
"hidden_dim").
"""

from __future__ import annotations

import difflib
from typing import Any

import click
from click.core import ParameterSource

from minigrad.cli.errors import CLIError
from minigrad.cli.options import BY_NAME, NOT_IN_FILE

EXPLICIT_SOURCES = (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT, ParameterSource.PROMPT)


def _line_of_keys(node: Any, path: str) -> dict[str, int]:
    """1-based line number of each top-level key of a composed YAML mapping node.

    A key given twice is a CLIError naming it and both lines (YAML loaders keep the last
    value silently, which hides a typo'd copy-paste).
    """
    lines: dict[str, int] = {}
    for key_node, _ in getattr(node, "value", []) or []:
        if hasattr(key_node, "value") and isinstance(key_node.value, str):
            line = key_node.start_mark.line + 1
            if key_node.value in lines:
                raise CLIError(f"{path}:{line}: duplicate key '{key_node.value}' (first given on line "
                               f"{lines[key_node.value]})")
            lines[key_node.value] = line
    return lines


def read_config_file(path: str) -> tuple[dict[str, Any], dict[str, int]]:
    """The mapping in ``path`` and each key's line; CLIError naming file (and line) otherwise."""
    import yaml

    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise CLIError(f"config file {path} does not exist") from None
    except IsADirectoryError:
        raise CLIError(f"config file {path} is a directory") from None
    except UnicodeDecodeError as err:
        raise CLIError(f"config file {path} is not UTF-8 text (byte offset {err.start})") from None
    except OSError as err:
        raise CLIError(f"cannot read config file {path}: {err.strerror or err}") from None
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else path
        problem = getattr(err, "problem", None) or str(err)
        raise CLIError(f"{where}: malformed YAML: {problem}") from None
    if data is None:
        return {}, {}
    if not isinstance(data, dict):
        raise CLIError(f"{path}: expected a mapping of option names to values, got a {type(data).__name__}")
    return data, _line_of_keys(node, path)


def _param_name(key: Any, path: str, line: int | None) -> str:
    where = f"{path}:{line}" if line else path
    if not isinstance(key, str):
        raise CLIError(f"{where}: config keys must be option names, got {key!r}")
    name = key.strip().lstrip("-").replace("-", "_")
    if name in NOT_IN_FILE:
        raise CLIError(f"{where}: '{key}' cannot be set in a config file; give --{name.replace('_', '-')} on the command line")
    if name not in BY_NAME:
        valid = sorted(n.replace("_", "-") for n in BY_NAME if n not in NOT_IN_FILE)
        close = difflib.get_close_matches(name.replace("_", "-"), valid, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise CLIError(f"{where}: unknown config key '{key}'{hint}")
    return name


def apply_config_file(ctx: click.Context, values: dict[str, Any], path: str) -> dict[str, Any]:
    """``values`` with every parameter that was not given explicitly taken from ``path``.

    A parameter counts as given when it came from the command line, the environment or a
    prompt (``ctx.get_parameter_source``); file values are converted and range-checked by
    the parameter's own Click type.
    """
    data, lines = read_config_file(path)
    params = {p.name: p for p in ctx.command.params}
    merged = dict(values)
    from_file: set[str] = set()
    seen: dict[str, str] = {}  # parameter name -> the key that set it ("hidden-dim" and "hidden_dim" are one)
    for key, value in data.items():
        line = lines.get(key) if isinstance(key, str) else None
        name = _param_name(key, path, line)
        if name in seen:
            where = f"{path}:{line}" if line else path
            raise CLIError(f"{where}: key '{key}' sets the same option as '{seen[name]}' (line {lines.get(seen[name])})")
        seen[name] = key
        if ctx.get_parameter_source(name) in EXPLICIT_SOURCES:
            continue
        param = params[name]
        where = f"{path}:{line}" if line else path
        if value is None:
            merged[name] = None
            continue
        if isinstance(param, click.Option) and param.is_flag and not isinstance(value, bool):
            raise CLIError(f"{where}: key '{key}' must be true or false, got {value!r}")
        if isinstance(value, (dict, list)):
            raise CLIError(f"{where}: key '{key}' must be a single value, got a {type(value).__name__}")
        if isinstance(param.type, click.types.IntParamType) and isinstance(value, float) and not value.is_integer():
            raise CLIError(f"{where}: key '{key}': {value!r} is not a valid integer")
        try:
            merged[name] = param.type_cast_value(ctx, value)
        except click.BadParameter as err:
            raise CLIError(f"{where}: key '{key}': {err.format_message()}") from None
        from_file.add(name)
    # An explicit --steps on the command line replaces the file's --epochs, and vice versa.
    for a, b in (("steps", "epochs"), ("epochs", "steps")):
        if ctx.get_parameter_source(a) in EXPLICIT_SOURCES and b in from_file:
            merged[b] = None
    return merged
