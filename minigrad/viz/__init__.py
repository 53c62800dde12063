"""See autodiff and attention: pages that open in a browser or inline in Jupyter.

    >>> from minigrad import viz
    >>> page = viz.graph(loss)          # doctest: +SKIP
    >>> page                            # in Jupyter: the graph, stepped with the buttons or arrow keys
    >>> page.save("graph.html")         # one self-contained file; opens from file://

``viz.graph`` draws the computation graph of a scalar (laid out by Graphviz ``dot`` when it is
installed, else by the ``grandalf`` package), shows each node's op, shape, dtype and value, and
steps through the forward pass and then the engine's backward steps (``autograd.backward_steps``,
as ``graph.step_backward`` yields them): the gradient reaching each node, the op table's rule
(with the numbers for scalars), what it sends to each input and the sums where a tensor is used
twice. Build the graph inside ``with viz.modules(model):`` to group its nodes by module.
The graph of a gradient (``graph.gradient_graph(f).root``) shows the same way, its nodes framed
by the backward rule that made them.
"""

from __future__ import annotations

from pathlib import Path

from ._attention import AttentionMap, alignment_map, model_maps
from ._data import graph_data, modules, view
from ..graph import formula
from ._layout import layout
from ._page import asset, iframe, page

__all__ = ["GraphPage", "AttentionPage", "AttentionMap", "graph", "attention", "alignment", "modules", "formula",
           "view"]

_GRAPH_BODY = """<header>
<h1>{title}</h1>
<button id="btn-first" title="back to the start (Home)">start</button>
<button id="btn-prev" title="previous (←)">◀ prev</button>
<button id="btn-next" title="next (→)">next ▶</button>
<button id="btn-last" title="to the end (End)">end</button>
<button id="btn-fit" title="the whole graph">fit</button>
<span id="phase"></span> <span id="counter"></span>
<span style="color:#6b7280">arrow keys step · click a module frame to fold it · drag and wheel to pan and zoom</span>
</header>
<main><div id="canvas"><svg id="graph" xmlns="http://www.w3.org/2000/svg"></svg></div><aside id="panel"></aside></main>
<footer id="stats"></footer>"""


class Page:
    """An HTML page: shown inline by Jupyter (``_repr_html_``), written by ``save``."""

    height = 640  # pixels of the inline frame in a notebook

    def __init__(self, title: str, body: str, data: dict, script: str, style: str):
        self.title, self.data = title, data
        self.html = page(title, body, data, script, style)

    def save(self, path: str | Path) -> Path:
        """Write the page as one HTML file (UTF-8) and return its path."""
        path = Path(path)
        path.write_text(self.html, encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        return iframe(self.html, self.height)


class GraphPage(Page):
    """The autodiff page of one graph; ``data`` holds what it embeds (nodes, edges, groups,
    forward order, backward steps, layout engine)."""


def graph(root, title: str | None = None, engine: str | None = None, groups: dict[int, str] | None = None) -> GraphPage:
    """The autodiff page of the graph of ``root`` (a one-element Tensor that requires grad).

    ``engine`` picks the layout: "dot" (Graphviz, must be on PATH) or "grandalf"; None uses dot
    when it is installed. ``groups`` maps ``id(tensor)`` of op nodes to a frame title for the nodes
    no ``modules()`` block claimed: the graph a ``create_graph=True`` backward built shows each
    backward rule's ops framed by ``{id: f"backward of {label}" for id, label in
    graph.gradient_graph(f).rule_of.items()}``. The leaves' ``.grad`` are left as they were.
    """
    import html as _html

    data = graph_data(root, groups)
    data["layout"] = layout(data["nodes"], data["edges"], engine)
    title = title or f"graph of {data['nodes'][-1]['label']}"
    body = _GRAPH_BODY.format(title=_html.escape(title))
    return GraphPage(title, body, data, asset("graph.js"), asset("graph.css"))


_ATTENTION_BODY = """<header><h1>{title}</h1>
<span id="selected"></span>
<span style="color:#6b7280">click a head to select it · hover a token to see where it looks</span>
</header>
<main><div id="grid"></div><div id="lines-view"><svg id="lines" xmlns="http://www.w3.org/2000/svg"></svg></div></main>
<footer id="stats"></footer>"""


class AttentionPage(Page):
    """The attention page; ``data["maps"]`` holds each layer's weights (heads, queries, keys)."""


def attention_page(maps: list[AttentionMap], title: str) -> AttentionPage:
    """The page of ``maps``: one row of head heatmaps per layer, lines for the selected head."""
    import html as _html

    if not maps:
        raise ValueError("no attention maps to show")
    data = {"maps": [m.to_json() for m in maps]}
    body = _ATTENTION_BODY.format(title=_html.escape(title))
    return AttentionPage(title, body, data, asset("attention.js"), asset("attention.css"))


def attention(model, src, tgt=None, src_tokens=None, tgt_tokens=None, title: str | None = None) -> AttentionPage:
    """The attention page of ``model(src)`` or ``model(src, tgt)`` (token ids, (T,) or (1, T)): every
    module that keeps ``last_weights`` (B, H, Tq, Tk) after its forward, each head a heatmap.
    ``src_tokens``/``tgt_tokens`` label the positions (default: the ids). Runs without gradients
    in evaluation mode and leaves the training flags as they were."""
    maps = model_maps(model, src, tgt, src_tokens, tgt_tokens)
    return attention_page(maps, title or f"attention of {type(model).__name__}")


def alignment(matrix, queries, keys, title: str = "decoder alignment") -> AttentionPage:
    """The page of a recurrent decoder's alignment matrix (output tokens, source tokens)."""
    return attention_page([alignment_map(matrix, queries, keys)], title)
