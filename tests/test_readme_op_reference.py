"""The README's op reference names every op of the op table and every non-differentiable op."""

from __future__ import annotations

import re
from pathlib import Path

from minigrad import optable

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _reference_names() -> set[str]:
    section = README.split("## Op reference", 1)[1].split("\n## ", 1)[0]
    return {name.split(".")[-1] for name in re.findall(r"`([\w.]+)`", section)}


def test_the_op_reference_lists_every_op():
    missing = (set(optable.ENTRIES) | set(optable.NON_DIFFERENTIABLE)) - _reference_names()
    assert not missing, f"ops missing from the README's op reference: {sorted(missing)}"
