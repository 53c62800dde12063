"""The import rule of the layers (ARCHITECTURE.md), checked on the source: data is the lowest layer.

``tasks`` imports nothing of minigrad but itself (not the tensor library, not ``models``);
the tensor library (``minigrad/``) never imports ``models``, ``tasks`` or ``cli``; ``models``
never imports ``cli``.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
# folder -> (the minigrad modules it may import, or None: any but the forbidden; the ones it must not)
RULES = {
    "tasks": (("minigrad.tasks",), ()),
    "models": (None, ("minigrad.cli",)),
    "minigrad": (None, ("minigrad.models", "minigrad.tasks", "minigrad.cli")),
}


def _imports(path: pathlib.Path) -> list[tuple[int, str]]:
    """``(line, module)`` of every absolute import in ``path`` (a relative import stays in its package)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


@pytest.mark.parametrize("folder", sorted(RULES))
def test_a_layer_imports_only_the_layers_below_it(folder):
    allowed, forbidden = RULES[folder]
    bad = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for line, module in _imports(path):
            if not _under(module, "minigrad"):
                continue
            if (allowed is not None and not any(_under(module, p) for p in allowed)) or any(_under(module, p) for p in forbidden):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert not bad, "\n".join(bad)
