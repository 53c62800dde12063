// The attention page: a grid of heads (one heatmap each, white 0 to dark blue 1), and for the
// selected head a line from each query token (left) to each key token (right), as opaque as
// the weight. Hovering a query token keeps only its lines and shades the keys by weight.
(function () {
  "use strict";
  const started = performance.now();
  const SVG = "http://www.w3.org/2000/svg";
  const data = JSON.parse(document.getElementById("minigrad-data").textContent);
  let selected = { map: data.maps.length - 1, head: 0 };
  let lines = [];  // [query][key] -> <line>

  function svg(tag, attrs, parent) {
    const el = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(el);
    return el;
  }
  function paint(canvas, weights) {
    const rows = weights.length, cols = weights[0].length;
    canvas.width = cols; canvas.height = rows;
    const ctx = canvas.getContext("2d");
    const image = ctx.createImageData(cols, rows);
    weights.forEach(function (row, r) {
      row.forEach(function (v, c) {
        const t = typeof v === "number" ? Math.max(0, Math.min(1, v)) : 0;
        const k = 4 * (r * cols + c);
        image.data[k] = Math.round(255 - 225 * t);
        image.data[k + 1] = Math.round(255 - 190 * t);
        image.data[k + 2] = Math.round(255 - 60 * t);
        image.data[k + 3] = 255;
      });
    });
    ctx.putImageData(image, 0, 0);
  }

  const grid = document.getElementById("grid");
  data.maps.forEach(function (map, m) {
    const layer = document.createElement("div");
    layer.className = "layer";
    const name = document.createElement("div");
    name.className = "name";
    name.textContent = map.name;
    const kind = document.createElement("span");
    kind.className = "kind";
    kind.textContent = map.kind + " · " + map.queries.length + " × " + map.keys.length;
    name.appendChild(kind);
    layer.appendChild(name);
    const heads = document.createElement("div");
    heads.className = "heads";
    for (let h = 0; h < map.heads; h++) {
      const cell = document.createElement("div");
      cell.className = "head";
      cell.dataset.map = String(m);
      cell.dataset.head = String(h);
      const canvas = document.createElement("canvas");
      paint(canvas, map.weights[h]);
      cell.appendChild(canvas);
      cell.appendChild(document.createTextNode(map.heads > 1 ? "head " + h : ""));
      cell.title = map.name + (map.heads > 1 ? " head " + h : "");
      cell.addEventListener("click", function () { select(m, h); });
      heads.appendChild(cell);
    }
    layer.appendChild(heads);
    grid.appendChild(layer);
  });

  function select(m, h) {
    selected = { map: m, head: h };
    document.querySelectorAll(".head").forEach(function (el) {
      el.classList.toggle("selected", Number(el.dataset.map) === m && Number(el.dataset.head) === h);
    });
    const map = data.maps[m];
    document.getElementById("selected").textContent = map.name + (map.heads > 1 ? ", head " + h : "");
    drawLines(map, map.weights[h]);
  }

  function drawLines(map, weights) {
    const root = document.getElementById("lines");
    root.textContent = "";
    const row = 22, left = 120, right = 300, top = 24;
    const height = top + row * Math.max(map.queries.length, map.keys.length) + 10;
    root.setAttribute("width", 420);
    root.setAttribute("height", height);
    svg("text", { x: left - 8, y: 12, "text-anchor": "end", fill: "#6b7280" }, root).textContent = "queries";
    svg("text", { x: right + 8, y: 12, fill: "#6b7280" }, root).textContent = "keys";
    const shades = map.keys.map(function (_, j) {
      return svg("rect", { class: "key-weight", x: right + 4, y: top + row * j - 14, width: 100, height: 18, opacity: 0 }, root);
    });
    lines = weights.map(function (ws, i) {
      return ws.map(function (w, j) {
        const v = typeof w === "number" ? w : 0;
        return svg("line", { x1: left, y1: top + row * i - 4, x2: right, y2: top + row * j - 4, "stroke-width": 1 + 3 * v,
                             "stroke-opacity": v.toFixed(4), "data-query": i, "data-key": j }, root);
      });
    });
    map.keys.forEach(function (token, j) {
      svg("text", { x: right + 8, y: top + row * j, class: "key" }, root).textContent = token;
    });
    map.queries.forEach(function (token, i) {
      const t = svg("text", { x: left - 8, y: top + row * i, "text-anchor": "end", class: "query", "data-query": i }, root);
      t.textContent = token;
      t.addEventListener("mouseenter", function () {
        t.classList.add("active");
        lines.forEach(function (ls, q) { ls.forEach(function (l) { l.classList.toggle("dim", q !== i); }); });
        shades.forEach(function (s, j) { s.setAttribute("opacity", (0.6 * (weights[i][j] || 0)).toFixed(4)); });
      });
      t.addEventListener("mouseleave", function () {
        t.classList.remove("active");
        lines.forEach(function (ls) { ls.forEach(function (l) { l.classList.remove("dim"); }); });
        shades.forEach(function (s) { s.setAttribute("opacity", 0); });
      });
    });
  }

  select(selected.map, selected.head);
  const renderMs = performance.now() - started;
  const heads = data.maps.reduce(function (n, m) { return n + m.heads; }, 0);
  document.getElementById("stats").textContent = data.maps.length + " attention layers, " + heads + " heads; drawn in " +
    renderMs.toFixed(0) + " ms";
  window.minigradAttention = { renderMs: renderMs, select: select, selected: function () { return selected; } };
})();
