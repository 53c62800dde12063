"""One self-contained HTML page: the style, the data (JSON) and the script all inline, so it
opens from file:// with no server and fetches nothing."""

from __future__ import annotations

import html
import json
from importlib import resources


def asset(name: str) -> str:
    """The text of a file of minigrad/viz/static (the page's script and style)."""
    return resources.files("minigrad.viz").joinpath("static", name).read_text(encoding="utf-8")


def embedded_json(data: dict) -> str:
    """``data`` as JSON safe inside a <script> element (no '</' can end it early)."""
    return json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")


def page(title: str, body: str, data: dict, script: str, style: str) -> str:
    """A whole HTML document: ``body`` markup, then the data and the script that reads it."""
    return (f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}</title>\n'
            f"<style>\n{style}</style>\n</head>\n<body>\n{body}\n"
            f'<script type="application/json" id="minigrad-data">{embedded_json(data)}</script>\n'
            f"<script>\n{script}</script>\n</body>\n</html>\n")


def iframe(document: str, height: int) -> str:
    """The page inside an <iframe srcdoc>, as Jupyter shows it: its script and style stay apart
    from the notebook's."""
    return (f'<iframe srcdoc="{html.escape(document, quote=True)}" style="width: 100%; height: {height}px; '
            f'border: 1px solid #e5e7eb;" sandbox="allow-scripts"></iframe>')
