"""Rewrite one "## " section of benchmarks/RESULTS.md, leaving the others as they are.

Shared by the benchmark scripts. A section runs from its heading to the next "## "
heading *outside* a fenced code block (a generated text sample may well contain lines
starting with "## ").
"""

from __future__ import annotations

import os
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def _section_bounds(lines: list[str], heading: str) -> tuple[int, int] | None:
    """(start, end) line indices of the section under ``heading``, or None."""
    start = None
    fenced = False
    for i, line in enumerate(lines):
        if line.startswith("```"):
            fenced = not fenced
            continue
        if fenced or not line.startswith("## "):
            continue
        if start is not None:
            return start, i
        if line.rstrip("\n") == heading:
            start = i
    return None if start is None else (start, len(lines))


def replace_section(text: str, section: str, heading: str) -> str:
    """``text`` with the ``heading`` section replaced by ``section`` (which starts with the
    heading), or ``section`` appended at the end when there is none."""
    body = section.rstrip("\n") + "\n"
    lines = text.splitlines(keepends=True)
    bounds = _section_bounds(lines, heading)
    if bounds is None:
        return text.rstrip("\n") + "\n\n" + body
    start, end = bounds
    tail = "".join(lines[end:])
    return "".join(lines[:start]) + body + ("\n" + tail if tail else "")


def write_section(section: str, heading: str, path: Path = RESULTS) -> None:
    """Replace the section in ``path`` (read just before writing, swapped in atomically)."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(replace_section(text, section, heading), encoding="utf-8")
    os.replace(tmp, path)
