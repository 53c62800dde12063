// The autodiff page: draws the graph embedded as JSON (positions from the Python layout) and
// steps through it. Position 0 is before the forward pass; positions 1..F show the forward pass
// one node at a time (topological order); positions F+1..F+B show the engine's backward steps.
(function () {
  "use strict";
  const started = performance.now();
  const SVG = "http://www.w3.org/2000/svg";
  const data = JSON.parse(document.getElementById("minigrad-data").textContent);
  const byId = {};
  data.nodes.forEach(function (n) { byId[n.id] = n; });
  const F = data.forward.length;
  const B = data.steps.length;
  const forwardIndex = {};
  data.forward.forEach(function (id, i) { forwardIndex[id] = i; });
  const stepOf = {};  // op node id -> the backward step that ran its rule
  data.steps.forEach(function (s, i) { s.outputs.forEach(function (id) { stepOf[id] = i; }); });
  const elements = {};  // node id -> its <g>
  const groupElements = {};  // module path -> its <g>
  const folded = new Set();
  let position = 0;

  // ------------------------------------------------------------ formatting of numbers and arrays
  function fmt(v) {
    if (typeof v === "string") return v;  // inf, nan
    if (v === null) return "–";
    const text = Math.abs(v) >= 1e-3 && Math.abs(v) < 1e5 || v === 0 ? String(Number(v.toPrecision(4))) : v.toExponential(3);
    return text;
  }
  function shapeText(view) { return "(" + view.shape.join(", ") + (view.shape.length === 1 ? ",)" : ")"); }
  function numbersText(view) {
    if (!view) return "none";
    if (view.kind === "scalar") return fmt(view.v);
    if (view.kind === "values") return "[" + view.v.map(fmt).join(", ") + "]";
    return "min " + fmt(view.min) + "  mean " + fmt(view.mean) + "  max " + fmt(view.max);
  }
  function viewElement(view) {  // a <span> for the panel: the shape (if any) and the numbers
    const span = document.createElement("span");
    if (view && view.kind !== "scalar") {
      const shape = document.createElement("span");
      shape.className = "shape";
      shape.textContent = shapeText(view) + " ";
      span.appendChild(shape);
    }
    const nums = document.createElement("span");
    nums.className = "nums";
    nums.textContent = numbersText(view);
    span.appendChild(nums);
    return span;
  }
  const heatmapCache = new Map();
  function heatmapURL(view) {  // blue (negative) - white - red (positive), scaled by the largest |value|
    if (heatmapCache.has(view)) return heatmapCache.get(view);
    const rows = view.grid.length, cols = view.grid[0].length;
    const canvas = document.createElement("canvas");
    canvas.width = cols; canvas.height = rows;
    const ctx = canvas.getContext("2d");
    const image = ctx.createImageData(cols, rows);
    let scale = 0;
    view.grid.forEach(function (row) { row.forEach(function (v) { if (v !== null) scale = Math.max(scale, Math.abs(v)); }); });
    view.grid.forEach(function (row, r) {
      row.forEach(function (v, c) {
        const t = v === null || scale === 0 ? 0 : v / scale;
        const k = 4 * (r * cols + c);
        image.data[k] = t < 0 ? Math.round(255 * (1 + t)) : 255;
        image.data[k + 1] = Math.round(255 * (1 - Math.abs(t)));
        image.data[k + 2] = t > 0 ? Math.round(255 * (1 - t)) : 255;
        image.data[k + 3] = v === null ? 40 : 255;
      });
    });
    ctx.putImageData(image, 0, 0);
    const url = canvas.toDataURL();
    heatmapCache.set(view, url);
    return url;
  }

  // ------------------------------------------------------------ drawing (once)
  function svg(tag, attrs, parent) {
    const el = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(el);
    return el;
  }
  function text(parent, x, y, cls, content) {
    const t = svg("text", { x: x, y: y, class: cls }, parent);
    t.textContent = content;
    return t;
  }
  const root = document.getElementById("graph");
  const defs = svg("defs", {}, root);
  const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7,
                                 orient: "auto-start-reverse" }, defs);
  svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#9ca3af" }, marker);
  const scene = svg("g", {}, root);
  const groupLayer = svg("g", {}, scene), edgeLayer = svg("g", {}, scene), nodeLayer = svg("g", {}, scene);

  function groupBox(group) {
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    group.members.forEach(function (id) {
      const n = byId[id];
      x0 = Math.min(x0, n.x); y0 = Math.min(y0, n.y); x1 = Math.max(x1, n.x + n.w); y1 = Math.max(y1, n.y + n.h);
    });
    const pad = 8 + 4 * (3 - Math.min(3, group.path.split(".").length));
    return { x: x0 - pad, y: y0 - pad - 16, w: x1 - x0 + 2 * pad, h: y1 - y0 + 2 * pad + 16 };
  }
  data.groups.forEach(function (group) {
    const box = group.box = groupBox(group);
    const g = svg("g", { class: "group", "data-path": group.path }, groupLayer);
    svg("rect", { class: "frame", x: box.x, y: box.y, width: box.w, height: box.h }, g);
    const label = text(g, box.x + 8, box.y + 13, "", "");
    g.addEventListener("click", function (event) { event.stopPropagation(); toggle(group.path); });
    group.label = label;
    groupElements[group.path] = g;
  });

  data.nodes.forEach(function (n) {
    const g = svg("g", { class: "node " + n.kind, "data-id": n.id, transform: "translate(" + n.x + "," + n.y + ")" },
                  nodeLayer);
    svg("rect", { class: "box", width: n.w, height: n.h }, g);
    const title = n.label + (n.op !== "leaf" && n.label.indexOf(n.op) !== 0 ? "  " + n.op : "");
    text(g, 6, 14, "title", title.length > 26 ? title.slice(0, 25) + "…" : title);
    text(g, 6, 27, "meta", shapeText(n.value) + " " + n.dtype + (n.constants ? "  +" + n.constants + " const" : ""));
    const value = svg("g", { class: "value" }, g);
    if (n.value.kind === "heatmap") {
      svg("image", { href: heatmapURL(n.value), x: 6, y: 32, width: 40, height: 40, preserveAspectRatio: "none",
                     style: "image-rendering: pixelated" }, value);
      text(value, 52, 44, "", "min " + fmt(n.value.min));
      text(value, 52, 56, "", "mean " + fmt(n.value.mean));
      text(value, 52, 68, "", "max " + fmt(n.value.max));
    } else {
      const shown = numbersText(n.value);
      text(value, 6, 42, "", (n.value.kind === "scalar" ? "value " : "") + (shown.length > 30 ? shown.slice(0, 29) + "…" : shown));
    }
    const grad = text(g, 6, n.h - 7, "grad", "");
    const full = svg("title", {}, g);
    full.textContent = n.label + " (" + n.op + ")\nvalue " + numbersText(n.value) + (n.group ? "\ngroup " + n.group : "");
    g.addEventListener("click", function () { showNode(n.id); });
    elements[n.id] = { g: g, value: value, grad: grad };
  });

  const edgeElements = data.edges.map(function (e) {
    const path = svg("path", { class: "edge" }, edgeLayer);
    return { edge: e, path: path };
  });

  // ------------------------------------------------------------ folding module groups
  function foldedOwner(id) {  // the outermost folded group holding node id, or null
    let owner = null;
    data.groups.forEach(function (group) {
      if (!owner && folded.has(group.path) && group.members.indexOf(id) >= 0) owner = group;
    });
    return owner;
  }
  function anchor(id, bottom) {  // where an edge leaves (bottom) or enters (top) node id as drawn now
    const owner = foldedOwner(id);
    const box = owner ? owner.box : byId[id];
    return { x: box.x + box.w / 2, y: bottom ? box.y + box.h : box.y, owner: owner };
  }
  function drawEdges() {
    edgeElements.forEach(function (item) {
      const a = anchor(item.edge.src, true), b = anchor(item.edge.dst, false);
      const inside = a.owner && a.owner === b.owner;
      item.path.classList.toggle("hidden", inside);
      if (inside) return;
      const mid = (a.y + b.y) / 2;
      item.path.setAttribute("d", "M " + a.x + " " + a.y + " C " + a.x + " " + mid + ", " + b.x + " " + mid + ", " + b.x + " " + b.y);
    });
  }
  function drawGroups() {
    data.groups.forEach(function (group) {
      const g = groupElements[group.path];
      const hiddenByParent = data.groups.some(function (other) {
        return other !== group && folded.has(other.path) && group.path.indexOf(other.path + ".") === 0;
      });
      g.classList.toggle("hidden", hiddenByParent);
      g.classList.toggle("folded", folded.has(group.path));
      group.label.textContent = (folded.has(group.path) ? "▸ " : "▾ ") + group.title + "  (" + group.members.length + " nodes)";
    });
    data.nodes.forEach(function (n) { elements[n.id].g.classList.toggle("hidden", foldedOwner(n.id) !== null); });
    drawEdges();
  }
  function toggle(path) {
    if (folded.has(path)) folded.delete(path); else folded.add(path);
    drawGroups();
    update();
  }

  // ------------------------------------------------------------ stepping
  function leafGradAt(id, backwardDone) {  // a leaf's accumulated .grad after that many backward steps
    let latest = null;
    for (let i = 0; i < backwardDone; i++) if (data.steps[i].leaf_totals[id]) latest = data.steps[i].leaf_totals[id];
    return latest;
  }
  function update() {
    const done = Math.max(0, position - F);  // backward steps done
    const current = position === 0 ? null : position <= F ? [data.forward[position - 1]] : data.steps[position - F - 1].outputs;
    const sentTo = position > F ? data.steps[position - F - 1].sends.filter(function (s) { return s.grad; })
      .map(function (s) { return s.to; }) : [];
    data.nodes.forEach(function (n) {
      const el = elements[n.id];
      el.value.classList.toggle("pending", forwardIndex[n.id] >= position);
      const grad = n.op === "leaf" ? leafGradAt(n.id, done) : (stepOf[n.id] !== undefined && stepOf[n.id] < done ? n.grad : null);
      const shown = grad ? numbersText(grad) : "";
      el.grad.textContent = grad ? "grad " + (shown.length > 28 ? shown.slice(0, 27) + "…" : shown) : "";
      el.g.classList.toggle("current", !!current && current.indexOf(n.id) >= 0);
      el.g.classList.toggle("sent-to", sentTo.indexOf(n.id) >= 0);
    });
    data.groups.forEach(function (group) {
      const holds = !!current && current.some(function (id) { return foldedOwner(id) === group; });
      groupElements[group.path].classList.toggle("current", holds);
    });
    edgeElements.forEach(function (item) {
      item.path.classList.toggle("active", !!current && current.indexOf(item.edge.dst) >= 0 && position > F &&
                                 sentTo.indexOf(item.edge.src) >= 0);
    });
    document.getElementById("phase").textContent = position === 0 ? "start" : position <= F ? "forward" : "backward";
    document.getElementById("counter").textContent = position === 0 ? "0 / " + (F + B) :
      position <= F ? "forward " + position + "/" + F : "backward " + (position - F) + "/" + B;
    document.getElementById("btn-prev").disabled = document.getElementById("btn-first").disabled = position === 0;
    document.getElementById("btn-next").disabled = document.getElementById("btn-last").disabled = position === F + B;
    document.body.dataset.position = String(position);
    document.body.dataset.current = current ? current.join(" ") : "";
    follow(current);
    renderPanel(done);
  }

  function row(panel, key, content, id) {
    const div = document.createElement("div");
    div.className = "row";
    if (id) div.id = id;
    const k = document.createElement("span");
    k.className = "key";
    k.textContent = key;
    div.appendChild(k);
    if (typeof content === "string") {
      const c = document.createElement("code");
      c.textContent = content;
      div.appendChild(c);
    } else {
      div.appendChild(content);
    }
    panel.appendChild(div);
    return div;
  }
  function heading(panel, content, id) {
    const h = document.createElement("h2");
    h.id = id;
    h.textContent = content;
    panel.appendChild(h);
  }
  function renderPanel(done) {
    const panel = document.getElementById("panel");
    panel.textContent = "";
    if (position === 0) {
      heading(panel, "Press → (or next) to run the forward pass", "step-node");
      row(panel, "graph", data.nodes.length + " tensors, " + B + " backward steps; result " + fmt(data.value));
      return;
    }
    if (position <= F) {
      const n = byId[data.forward[position - 1]];
      heading(panel, n.label + (n.op === "leaf" ? " (" + n.kind + ")" : " = " + n.op + "(" + inputsOf(n.id).join(", ") + ")"),
              "step-node");
      row(panel, "value " + shapeText(n.value) + " " + n.dtype, viewElement(n.value), "node-value");
      if (n.group) row(panel, "group", n.group);
      return;
    }
    const step = data.steps[position - F - 1];
    heading(panel, step.labels.join(", ") + "  (" + step.op + ".backward)", "step-node");
    step.outputs.forEach(function (id, k) {
      row(panel, "gradient that reached " + step.labels[k], viewElement(step.grad_out[k]), k === 0 ? "grad-in" : undefined);
      const parts = step.received[k];
      if (parts.length > 1) {
        const ul = document.createElement("ul");
        parts.forEach(function (p) {
          const li = document.createElement("li");
          li.textContent = "from " + byId[p.from].label + ": " + numbersText(p.grad);
          ul.appendChild(li);
        });
        row(panel, "the sum of " + parts.length + " gradients (it is used " + parts.length + " times)", ul, "grad-parts");
      }
    });
    row(panel, "rule", step.formula || "(no formula in the op table for " + step.op + ")", "rule");
    if (step.numbers) row(panel, "with the numbers", step.numbers, "rule-numbers");
    const ul = document.createElement("ul");
    step.sends.forEach(function (s) {
      const li = document.createElement("li");
      li.className = "send";
      li.dataset.to = s.to || "";
      li.appendChild(document.createTextNode("→ " + s.label + ": "));
      li.appendChild(s.grad ? viewElement(s.grad) : document.createTextNode("nothing (needs no gradient)"));
      if (s.to && byId[s.to].op === "leaf" && step.leaf_totals[s.to]) {
        const count = contributionsTo(s.to, done);
        const total = document.createElement("div");
        total.textContent = "  " + s.label + ".grad = " + (count.length > 1 ? count.map(numbersText).join(" + ") + " = " : "") +
          numbersText(step.leaf_totals[s.to]);
        if (count.length > 1) total.className = "leaf-sum";
        li.appendChild(total);
      }
      ul.appendChild(li);
    });
    row(panel, "sends to each input", ul, "sends");
  }
  function inputsOf(id) {
    return data.edges.filter(function (e) { return e.dst === id; })
      .sort(function (a, b) { return a.input - b.input; }).map(function (e) { return byId[e.src].label; });
  }
  function contributionsTo(id, done) {
    const parts = [];
    for (let i = 0; i < done; i++) data.steps[i].sends.forEach(function (s) { if (s.to === id && s.grad) parts.push(s.grad); });
    return parts;
  }
  function showNode(id) {
    if (position === 0) return;
    position = Math.max(position, forwardIndex[id] + 1);
    if (stepOf[id] !== undefined && position > F) position = F + stepOf[id] + 1;
    update();
  }

  function go(to) { position = Math.max(0, Math.min(F + B, to)); update(); }
  document.getElementById("btn-first").addEventListener("click", function () { go(0); });
  document.getElementById("btn-prev").addEventListener("click", function () { go(position - 1); });
  document.getElementById("btn-next").addEventListener("click", function () { go(position + 1); });
  document.getElementById("btn-last").addEventListener("click", function () { go(F + B); });
  document.addEventListener("keydown", function (event) {
    const moves = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };
    if (event.key in moves) { go(position + moves[event.key]); event.preventDefault(); }
    else if (event.key === "Home") go(0);
    else if (event.key === "End") go(F + B);
  });

  // ------------------------------------------------------------ pan and zoom (drag, wheel)
  let width = 0, height = 0;
  data.nodes.forEach(function (n) { width = Math.max(width, n.x + n.w); height = Math.max(height, n.y + n.h); });
  const canvas = document.getElementById("canvas");
  const whole = { x: -30, y: -40, w: width + 60, h: height + 80 };
  // The whole graph when it fits at 60% or more; else 1:1 from its top, panning to follow the steps.
  const pixels = canvas.getBoundingClientRect();
  const fits = Math.min(pixels.width / whole.w, pixels.height / whole.h) >= 0.6;
  let view = fits ? whole : { x: whole.x, y: whole.y, w: pixels.width, h: pixels.height };
  function applyView() { root.setAttribute("viewBox", [view.x, view.y, view.w, view.h].join(" ")); }
  function follow(ids) {  // pan (keeping the zoom) so the current node is in sight
    if (!ids || !ids.length) return;
    const n = foldedOwner(ids[0]) ? foldedOwner(ids[0]).box : byId[ids[0]];
    if (n.x >= view.x && n.y >= view.y && n.x + n.w <= view.x + view.w && n.y + n.h <= view.y + view.h) return;
    view = { x: n.x + n.w / 2 - view.w / 2, y: n.y + n.h / 2 - view.h / 2, w: view.w, h: view.h };
    applyView();
  }
  document.getElementById("btn-fit").addEventListener("click", function () { view = whole; applyView(); });
  canvas.addEventListener("wheel", function (event) {
    event.preventDefault();
    const factor = event.deltaY > 0 ? 1.15 : 1 / 1.15;
    const box = canvas.getBoundingClientRect();
    const fx = (event.clientX - box.left) / box.width, fy = (event.clientY - box.top) / box.height;
    const nw = view.w * factor, nh = view.h * factor;
    view = { x: view.x + (view.w - nw) * fx, y: view.y + (view.h - nh) * fy, w: nw, h: nh };
    applyView();
  }, { passive: false });
  let drag = null;
  canvas.addEventListener("mousedown", function (event) { drag = { x: event.clientX, y: event.clientY, view: view }; });
  window.addEventListener("mouseup", function () { drag = null; });
  window.addEventListener("mousemove", function (event) {
    if (!drag) return;
    const box = canvas.getBoundingClientRect();
    const scale = Math.max(drag.view.w / box.width, drag.view.h / box.height);
    view = { x: drag.view.x - (event.clientX - drag.x) * scale, y: drag.view.y - (event.clientY - drag.y) * scale,
             w: drag.view.w, h: drag.view.h };
    applyView();
  });

  // Large graphs open with their outermost module groups folded.
  if (data.nodes.length > 80) data.groups.forEach(function (g) { if (g.path.indexOf(".") < 0) folded.add(g.path); });
  applyView();
  drawGroups();
  update();
  document.body.getBoundingClientRect();  // force style and layout, so the time includes them
  const renderMs = performance.now() - started;
  document.getElementById("stats").textContent = data.nodes.length + " nodes, " + data.edges.length + " edges, layout by " +
    data.layout + "; drawn in " + renderMs.toFixed(0) + " ms";
  window.minigradGraph = { renderMs: renderMs, total: F + B, forward: F, backward: B, go: go,
                           position: function () { return position; }, fold: toggle };
})();
