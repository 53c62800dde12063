"""Where each node of a graph goes: a layered (Sugiyama) drawing, data flowing top to bottom.

Graphviz's ``dot`` does it when it is on PATH (module groups become clusters); otherwise the
pure-Python ``grandalf`` package does, so a default install needs no system program.
"""

from __future__ import annotations

import shutil
import subprocess

NODE_WIDTH = 170  # pixels
NODE_HEIGHT = {"scalar": 64, "values": 78, "heatmap": 96, None: 64}
GAP_X, GAP_Y = 30, 50


def node_size(node: dict) -> tuple[int, int]:
    """(width, height) in pixels of a node's box: taller for a value list or a heatmap."""
    kind = node["value"]["kind"] if node.get("value") else None
    return NODE_WIDTH, NODE_HEIGHT[kind]


def layout(nodes: list[dict], edges: list[dict], engine: str | None = None) -> str:
    """Set ``x``, ``y`` (top-left corner), ``w`` and ``h`` on every node; return the engine used,
    "dot" or "grandalf". ``engine`` None picks dot when installed."""
    for node in nodes:
        node["w"], node["h"] = node_size(node)
    engine = engine or ("dot" if shutil.which("dot") else "grandalf")
    if engine == "dot":
        _dot_layout(nodes, edges)
    elif engine == "grandalf":
        _grandalf_layout(nodes, edges)
    else:
        raise ValueError(f"layout engine must be 'dot' or 'grandalf', got {engine!r}")
    left = min(n["x"] for n in nodes)
    top = min(n["y"] for n in nodes)
    for node in nodes:  # the drawing starts at (0, 0)
        node["x"], node["y"] = round(node["x"] - left, 1), round(node["y"] - top, 1)
    return engine


def _grandalf_layout(nodes: list[dict], edges: list[dict]) -> None:
    from grandalf.graphs import Edge, Graph, Vertex
    from grandalf.layouts import SugiyamaLayout

    class _Box:  # grandalf reads w and h and writes xy (the centre)
        def __init__(self, w: float, h: float):
            self.w, self.h, self.xy = w, h, (0.0, 0.0)

    vertices = {n["id"]: Vertex(n["id"]) for n in nodes}
    for n in nodes:
        vertices[n["id"]].view = _Box(n["w"], n["h"])
    unique = {(e["src"], e["dst"]) for e in edges}
    g = Graph(list(vertices.values()), [Edge(vertices[a], vertices[b]) for a, b in sorted(unique)])
    offset = 0.0
    for component in g.C:  # each connected piece side by side
        sugiyama = SugiyamaLayout(component)
        sugiyama.xspace, sugiyama.yspace = GAP_X, GAP_Y
        sugiyama.init_all()
        sugiyama.draw()
        xs = [v.view.xy[0] for v in component.sV]
        shift = offset - min(xs) + NODE_WIDTH / 2
        for v in component.sV:
            v.view.xy = (v.view.xy[0] + shift, v.view.xy[1])
        offset = max(v.view.xy[0] for v in component.sV) + NODE_WIDTH / 2 + GAP_X
    for n in nodes:
        cx, cy = vertices[n["id"]].view.xy
        n["x"], n["y"] = cx - n["w"] / 2, cy - n["h"] / 2


def dot_source(nodes: list[dict], edges: list[dict]) -> str:
    """DOT text of the graph with node sizes in inches and one nested cluster per module path."""
    lines = ["digraph g {", "  rankdir=TB; nodesep=0.4; ranksep=0.6;", "  node [shape=box, fixedsize=true];"]
    tree: dict = {}
    for n in nodes:
        path = n["group"].partition(" (")[0]
        branch = tree
        for depth, part in enumerate(path.split(".") if path else []):
            branch = branch.setdefault(".".join(path.split(".")[:depth + 1]), {})
        branch.setdefault("", []).append(n)
    lines += _dot_cluster(tree, "  ")
    lines += [f"  {e['src']} -> {e['dst']};" for e in edges]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_cluster(branch: dict, indent: str) -> list[str]:
    out = [f'{indent}{n["id"]} [width={n["w"] / 72:.3f}, height={n["h"] / 72:.3f}];' for n in branch.get("", [])]
    for path, sub in ((k, v) for k, v in branch.items() if k):
        out.append(f'{indent}subgraph "cluster_{path}" {{')
        out += _dot_cluster(sub, indent + "  ")
        out.append(f"{indent}}}")
    return out


def _dot_layout(nodes: list[dict], edges: list[dict]) -> None:
    """Positions from ``dot -Tplain`` ("node NAME X Y W H ...", inches, y growing upwards)."""
    done = subprocess.run([shutil.which("dot") or "dot", "-Tplain"], input=dot_source(nodes, edges).encode(),
                          capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"Graphviz dot failed: {' '.join(done.stderr.decode(errors='replace').split())}")
    centres = {}
    for line in done.stdout.decode().splitlines():
        parts = line.split()
        if parts and parts[0] == "node":
            centres[parts[1]] = (float(parts[2]) * 72, -float(parts[3]) * 72)
    for n in nodes:
        cx, cy = centres[n["id"]]
        n["x"], n["y"] = cx - n["w"] / 2, cy - n["h"] / 2
