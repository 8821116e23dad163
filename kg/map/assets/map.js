(function () {
  "use strict";
  // kg map: vis-network (shipped by pyvis, inlined above this script) draws the states and
  // ties; this script keeps vis DataSets in step with the year, window and filters, paints
  // the basemap in vis-network's beforeDrawing hook and writes the SVG export. Data arrive
  // as JSON text (never as markup); every string from data reaches the page through
  // textContent or canvas text (vis-network labels), and the SVG export escapes it for XML.
  var T0 = performance.now();
  var D = JSON.parse(document.getElementById("kg-data").textContent);
  var S = D.scale, W360 = 360 * S, N = D.nodes.length;
  var KIND_COLORS = D.edgeColors;
  var SEA = "#eaf1f7", LAND = "#d9d9cf", COAST = "#ffffff";
  var FORCE_SMOOTH = {enabled: true, type: "curvedCW", roundness: 0.15};
  var STRAIGHT = {enabled: true, type: "curvedCW", roundness: 0};
  var box = document.getElementById("kg-view");
  var holder = document.getElementById("kg-net");
  var tip = document.getElementById("kg-tip");
  var $ = function (id) { return document.getElementById(id); };
  var state = {year: D.state.year, window: D.state.window, relation: D.state.relation,
               min: D.state.min, focus: D.state.focus, pin: null, sizeBy: D.state.sizeBy,
               layout: D.state.layout};
  var idx = Object.create(null), geoBend = {};  // no prototype: "__proto__" is no state
  D.nodes.forEach(function (n, i) { idx[n.id] = i; });
  // a tie's bend on the geographic layout: [i, j, bend type, roundness] (no bend: [i, j])
  D.edges.forEach(function (e) {
    if (e.length > 2) { geoBend[e[0] + "|" + e[1]] = {type: D.bendTypes[e[2]], roundness: e[3]}; }
  });
  var cur = null, hover = -1, unit = 1, baseCache = {};
  var network = null, nodesDS = null, edgesDS = null, canvas = null;
  var shownNodes = new Array(N), shownEdges = {}, placedLayout = null;

  // ---------------------------------------------------------------- data of one view
  function frameOf(year, win) {
    var yi = D.years.length ? D.years.indexOf(year) : 0;
    var wi = D.windows.indexOf(win);
    if (yi < 0 || wi < 0) { return null; }
    return D.frames[yi * D.windows.length + wi];
  }
  // A tie's weight under a relation; under one agreement type, the agreements of that type
  // (a frame's "t" lists [k, type, n] where they are not all of the tie's agreements, aw).
  function edgeWeight(ew, aw, mask, rel, typed, k) {
    if (rel === "exercise") { return ew; }
    if (rel === "agreement") { return aw; }
    if (rel === "all") { return ew + aw; }
    var t = D.types.indexOf(rel.slice(10));  // "agreement:Type"
    if (t < 0 || !(mask & (1 << t))) { return 0; }
    var n = typed[k * 32 + t];
    return n === undefined ? aw : n;
  }
  function edgeKind(ew, aw, mask, rel) {
    if (rel === "exercise") { return "exercise"; }
    if (rel === "all" && ew > 0 && aw > 0) { return "exercise + agreement"; }
    if (rel === "all" && ew > 0) { return "exercise"; }
    return (mask & D.treatyMask) ? "defence treaty" : "agreement";
  }
  function compute() {
    var f = frameOf(state.year, state.window);
    var e = f ? f.e : [], edges = [], deg = new Float64Array(N), str = new Float64Array(N);
    var on = new Uint8Array(N), wmax = 0, i, w, typed = {}, t = f && f.t ? f.t : [];
    for (i = 0; i < t.length; i += 3) { typed[t[i] * 32 + t[i + 1]] = t[i + 2]; }
    for (i = 0; i < e.length; i += 5) {
      w = edgeWeight(e[i + 2], e[i + 3], e[i + 4], state.relation, typed, i / 5);
      if (w <= 0 || w < state.min) { continue; }
      edges.push({a: e[i], b: e[i + 1], w: w, ew: e[i + 2], aw: e[i + 3], mask: e[i + 4],
                  kind: edgeKind(e[i + 2], e[i + 3], e[i + 4], state.relation)});
      deg[e[i]] += 1; deg[e[i + 1]] += 1; str[e[i]] += w; str[e[i + 1]] += w;
      on[e[i]] = 1; on[e[i + 1]] = 1;
      if (w > wmax) { wmax = w; }
    }
    edges.sort(function (p, q) { return p.w - q.w || p.a - q.a || p.b - q.b; });
    // metrics (betweenness, PageRank, community) of the network of the relation shown, in
    // this window; none for a single agreement type (or a window left unmeasured): then
    // discs sized by a metric all take one size and communities are grey (legend says so)
    var metrics = {}, rows = f && f.m ? f.m[state.relation] : undefined;
    if (rows) { rows.forEach(function (row) { metrics[row[0]] = row; }); }
    var size = new Float64Array(N), lo = Infinity, hi = -Infinity, v;
    var mcol = D.metricNames.indexOf(state.sizeBy) + 1;
    for (i = 0; i < N; i++) {
      if (!on[i]) { continue; }
      v = state.sizeBy === "degree" ? deg[i] : state.sizeBy === "strength" ? str[i]
        : (rows && metrics[i] && mcol > 0 ? metrics[i][mcol] : 0);
      size[i] = v; if (v < lo) { lo = v; } if (v > hi) { hi = v; }
    }
    for (i = 0; i < N; i++) {
      if (!on[i]) { continue; }
      var t = hi > lo ? Math.sqrt((size[i] - lo) / (hi - lo)) : 0.5;
      size[i] = D.sizeMin + t * (D.sizeMax - D.sizeMin);
    }
    var ego = null, egoCentre = state.pin !== null ? state.pin : (state.focus !== null &&
              idx[state.focus] !== undefined ? idx[state.focus] : null);
    if (egoCentre !== null && on[egoCentre]) {
      ego = new Uint8Array(N); ego[egoCentre] = 1;
      edges.forEach(function (x) {
        if (x.a === egoCentre) { ego[x.b] = 1; } else if (x.b === egoCentre) { ego[x.a] = 1; }
      });
    }
    cur = {frame: f, edges: edges, deg: deg, str: str, on: on, size: size, wmax: wmax,
           metrics: metrics, measured: rows !== undefined, ego: ego, egoCentre: egoCentre};
  }

  // ---------------------------------------------------------------- what vis-network shows
  function pos(i) {
    var n = D.nodes[i];
    return state.layout === "force" && n.fx !== undefined ? [n.fx, n.fy] : [n.x, n.y];
  }
  function isDim(i) { return cur.ego !== null && !cur.ego[i]; }
  function edgeDim(x) {
    return cur.ego !== null && x.a !== cur.egoCentre && x.b !== cur.egoCentre;
  }
  function nodeColor(i) {
    if (D.colorBy === "community") {
      var m = cur.metrics[i], c = m ? m[D.metricNames.indexOf("community") + 1] : null;
      return c === null || c === undefined ? "#b4b4b4" : D.palette[c % D.palette.length];
    }
    return D.nodes[i].color;
  }
  function labelled() {
    var list = [], i;
    for (i = 0; i < N; i++) { if (cur.on[i]) { list.push(i); } }
    list.sort(function (p, q) { return cur.size[q] - cur.size[p] || p - q; });
    var keep = list.slice(0, D.labelTop), seen = {};
    keep.forEach(function (i) { seen[i] = 1; });
    [cur.egoCentre, hover].forEach(function (i) {
      if (i !== null && i >= 0 && cur.on[i] && !seen[i]) { keep.push(i); seen[i] = 1; }
    });
    if (cur.ego) { return keep.filter(function (i) { return cur.ego[i]; }); }
    return keep;
  }
  function r2(v) { return Math.round(v * 100) / 100; }
  // Sizes and widths are given in screen pixels at the fitted view (vis-network draws in
  // canvas units, so they are multiplied by `unit`, canvas units per pixel of that view).
  function nodeItems(all) {  // only what changed since vis last got it (all: everything)
    var out = [], lab = {}, i, k;
    labelled().forEach(function (j) { lab[j] = 1; });
    for (i = 0; i < N; i++) {
      var want, was = all ? null : shownNodes[i], item = {id: D.nodes[i].id}, changed = false;
      if (!cur.on[i]) {
        want = {hidden: true};
      } else {
        var c = nodeColor(i), centre = i === cur.egoCentre, dim = isDim(i);
        // sizes in half pixels: a slider step then leaves most discs as they were
        want = {hidden: false, size: r2(Math.round(2 * cur.size[i]) / 2 * unit),
                label: lab[i] ? D.nodes[i].label : "", opacity: dim ? 0.2 : 1,
                borderWidth: centre ? 3 : 1, color: c + (centre ? "|c" : "")};
      }
      for (k in want) {
        if (Object.prototype.hasOwnProperty.call(want, k) && (!was || was[k] !== want[k])) {
          item[k] = want[k]; changed = true;
        }
      }
      if (!changed) { continue; }
      if (item.color !== undefined) {
        var bg = item.color.split("|")[0];
        item.color = {background: bg, border: want.borderWidth === 3 ? "#000000" : "#555555",
                      highlight: {background: bg, border: "#000000"},
                      hover: {background: bg, border: "#000000"}};
      }
      if (all) { var q = pos(i); item.x = q[0]; item.y = q[1]; }
      if (was && !want.hidden) { for (k in was) { if (want[k] === undefined) { want[k] = was[k]; } } }
      if (want.hidden && was) { for (k in was) { if (k !== "hidden") { want[k] = was[k]; } } }
      shownNodes[i] = want;
      out.push(item);
    }
    return out;
  }
  // vis edges are slots ("e0", "e1", ...): a tie that leaves the view hands its slot to one
  // that enters, a slot left over is hidden for later (one DataSet update for all of it:
  // each DataSet call costs vis-network a pass over every node and edge), and a slot is sent
  // only the fields that differ from what it shows now (vis re-parses every field it is
  // given, and creating an edge costs more still).
  var slotOf = {}, pairOf = {}, slotShows = {}, spare = [], slots = 0;
  function edgeItem(x, width, slot) {
    var pid = x.a + "|" + x.b, color = KIND_COLORS[x.kind], opacity = edgeDim(x) ? 0.07 : D.edgeOpacity;
    var smooth = state.layout === "geo" ? (geoBend[pid] || STRAIGHT) : FORCE_SMOOTH;
    var want = {hidden: false, from: D.nodes[x.a].id, to: D.nodes[x.b].id, width: width,
                color: color + "|" + opacity, smooth: smooth}, was = slotShows[slot];
    var item = {id: slot}, k, changed = false;
    for (k in want) {
      if (Object.prototype.hasOwnProperty.call(want, k) && (!was || was[k] !== want[k])) {
        item[k] = want[k]; changed = true;
      }
    }
    if (item.color !== undefined) {
      item.color = {color: color, highlight: color, hover: color, inherit: false, opacity: opacity};
    }
    slotShows[slot] = want;
    return changed ? item : null;
  }
  function edgeChanges(all) {
    var next = {}, enter = [], update = [], add = [], free = [], id, item;
    var thin = cur.edges.length - D.wideTies;
    if (all) {
      spare.forEach(function (slot) { slotShows[slot] = {hidden: true}; });
      for (id in slotShows) { if (!slotShows[id].hidden) { delete slotShows[id]; } }
    }
    cur.edges.forEach(function (x, k) {
      // only the strongest D.wideTies ties get their width: wide strokes are slow to paint;
      // the others stay just under one pixel, which the canvas paints as fast hairlines
      var px = k < thin || cur.wmax <= 0 ? 1 : Math.round(2 + 10 * Math.sqrt(x.w / cur.wmax)) / 2;
      var pid = x.a + "|" + x.b, sig = [x.kind, edgeDim(x) ? 1 : 0, px, state.layout].join("|");
      var width = px * unit * (px <= 1 ? 0.999 : 1);
      next[pid] = sig;
      if (shownEdges[pid] === undefined) { enter.push([x, width, pid]); }
      else if (all || shownEdges[pid] !== sig) {
        item = edgeItem(x, width, slotOf[pid]);
        if (item) { update.push(item); }
      }
    });
    for (id in shownEdges) {
      if (Object.prototype.hasOwnProperty.call(shownEdges, id) && next[id] === undefined) {
        free.push(slotOf[id]); delete pairOf[slotOf[id]]; delete slotOf[id];
      }
    }
    enter.forEach(function (e) {
      var slot = free.length ? free.pop() : spare.length ? spare.pop() : "e" + (slots++);
      slotOf[e[2]] = slot; pairOf[slot] = e[2];
      item = edgeItem(e[0], e[1], slot);
      if (+slot.slice(1) >= firstNew) { add.push(item); } else if (item) { update.push(item); }
    });
    free.forEach(function (slot) {
      update.push({id: slot, hidden: true}); slotShows[slot] = {hidden: true}; spare.push(slot);
    });
    shownEdges = next;
    firstNew = slots;
    return {add: add, update: update};
  }
  var firstNew = 0;
  // One batch of DataSet changes, then one frame: vis-network redraws after each DataSet
  // event when physics is off, so redraws are held (its own _blockRedraw/_allowRedraw
  // events) until every change is in, and the frame is then drawn at once.
  function push(all) {
    var nodes = nodeItems(all), edges = edgeChanges(all);
    network.body.emitter.emit("_blockRedraw");
    try {
      if (nodes.length) { nodesDS.update(nodes); }
      if (edges.update.length) { edgesDS.update(edges.update); }
      if (edges.add.length) { edgesDS.add(edges.add); }
    } finally {
      network.body.emitter.emit("_allowRedraw");
    }
    network.redraw();
  }

  // ---------------------------------------------------------------- basemap (beforeDrawing)
  var basePath = new Path2D(), baseD = "";
  (function () {
    var d = [];
    D.basemap.forEach(function (ring) {
      var lon = 0, lat = 0, k, x, y, seg = [];
      for (k = 0; k < ring.length; k += 2) {
        lon += ring[k]; lat += ring[k + 1];
        x = (((lon / 10 - D.centre) % 360 + 540) % 360 - 180) * S; y = -lat / 10 * S;
        if (k === 0) { seg.push([x, y]); continue; }
        var px = seg[seg.length - 1][0];
        x += W360 * Math.round((px - x) / W360);  // keep a ring in one piece across the edge
        seg.push([x, y]);
      }
      seg.forEach(function (p, j) {
        if (j === 0) { basePath.moveTo(p[0], p[1]); } else { basePath.lineTo(p[0], p[1]); }
        d.push((j === 0 ? "M" : "L") + Math.round(p[0]) + " " + Math.round(p[1]));
      });
      basePath.closePath(); d.push("Z");
    });
    baseD = d.join("");
  })();
  // vis-network calls this with the context already in canvas units (its pan and zoom
  // applied), the units the node positions are in: x = (lon - centre) * S, y = -lat * S.
  function beforeDrawing(ctx) {
    var m = ctx.getTransform(), w = ctx.canvas.width, h = ctx.canvas.height;
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = SEA; ctx.fillRect(0, 0, w, h);
    if (state.layout === "geo" && D.basemap.length) {
      // painted once per view (pan, zoom, resize) into a bitmap; a slider step reuses it
      var key = [m.a, m.d, m.e, m.f, w, h].join(",");
      if (baseCache.key !== key) {
        var c = baseCache.canvas || document.createElement("canvas"), bx = c.getContext("2d");
        c.width = w; c.height = h;
        bx.setTransform(m); bx.fillStyle = LAND; bx.strokeStyle = COAST;
        bx.lineWidth = 0.6 * (w / ctx.canvas.clientWidth || 1) / m.a;
        [-W360, 0, W360].forEach(function (off) {
          bx.save(); bx.beginPath(); bx.rect(-180 * S, -1e6, W360, 2e6); bx.clip();
          bx.translate(off, 0); bx.fill(basePath, "evenodd"); bx.stroke(basePath);
          bx.restore();
        });
        baseCache = {key: key, canvas: c};
      }
      ctx.drawImage(baseCache.canvas, 0, 0);
    }
    ctx.restore();
  }

  // ---------------------------------------------------------------- view: fit
  function sizeKey() { return box.clientWidth + "x" + box.clientHeight; }
  function fitView() {
    fittedAt = sizeKey();
    var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity, i, q;
    if (state.layout === "geo") { x0 = -180 * S; x1 = 180 * S; y0 = -84 * S; y1 = 72 * S; }
    for (i = 0; i < N; i++) {
      q = pos(i);
      if (q[0] < x0) { x0 = q[0]; } if (q[0] > x1) { x1 = q[0]; }
      if (q[1] < y0) { y0 = q[1]; } if (q[1] > y1) { y1 = q[1]; }
    }
    if (!isFinite(x0)) { x0 = -100; x1 = 100; y0 = -100; y1 = 100; }
    var w = Math.max(box.clientWidth, 50), h = Math.max(box.clientHeight, 50), pad = 30;
    var k = Math.min((w - 2 * pad) / Math.max(x1 - x0, 1), (h - 2 * pad) / Math.max(y1 - y0, 1));
    return {x: (x0 + x1) / 2, y: (y0 + y1) / 2, k: k};
  }
  function fontOptions() {
    return {nodes: {font: {size: r2(12 * unit), strokeWidth: r2(3 * unit)}}};
  }
  function placeView(v) {
    network.moveTo({position: {x: v.x, y: v.y}, scale: v.k, animation: false});
  }
  function relayout() {  // a new layout: new positions, a new fit, sizes in the new units
    var v = fitView();
    moved = false;
    unit = 1 / v.k;
    network.setOptions(fontOptions());
    shownNodes = new Array(N);
    push(true);
    placeView(v);
    placedLayout = state.layout;
    network.redraw();
  }
  function view() {  // canvas units -> CSS pixels of the map, as vis-network draws now
    var o = network.canvasToDOM({x: 0, y: 0}), e = network.canvasToDOM({x: 1, y: 0});
    return {k: e.x - o.x, tx: o.x, ty: o.y};
  }

  // ---------------------------------------------------------------- redraw and SVG export
  function redraw() {
    var t = performance.now();
    compute();
    if (placedLayout !== state.layout) { relayout(); } else { push(false); }
    showStatus(); laterHash();
    canvas.getContext("2d").getImageData(0, 0, 1, 1);  // wait for the pixels: an honest time
    window.kgMap.stepMs = performance.now() - t;
  }
  function xml(s) {
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }
  function n2(v) { return (Math.round(v * 100) / 100).toString(); }
  function toSVG() {  // the current vis-network view, from its DataSets and positions
    var w = canvas.clientWidth, h = canvas.clientHeight, parts = [], v = view();
    var tf = "matrix(" + [v.k, 0, 0, v.k, v.tx, v.ty].map(n2).join(" ") + ")";
    parts.push('<svg xmlns="http://www.w3.org/2000/svg" width="' + w + '" height="' + h +
               '" viewBox="0 0 ' + w + " " + h + '" font-family="' + xml(D.font) + '">');
    parts.push("<title>" + xml(document.title + " · " + periodText()) + "</title>");
    parts.push('<defs><clipPath id="world"><rect x="' + n2(-180 * S) + '" y="-1000000" width="' +
               n2(W360) + '" height="2000000"/></clipPath></defs>');
    parts.push('<rect width="' + w + '" height="' + h + '" fill="' + SEA + '"/>');
    if (state.layout === "geo" && D.basemap.length) {
      parts.push('<g transform="' + tf + '"><g clip-path="url(#world)">');
      [-W360, 0, W360].forEach(function (off) {
        parts.push('<path transform="translate(' + n2(off) + ' 0)" fill="' + LAND + '" fill-rule="evenodd" ' +
                   'stroke="' + COAST + '" stroke-width="' + n2(0.6 / v.k) + '" d="' + baseD + '"/>');
      });
      parts.push("</g></g>");
    }
    var groups = {}, order = [];
    edgesDS.forEach(function (item) {
      var e = network.body.edges[item.id];
      if (item.hidden || !e || !e.from || !e.to) { return; }
      var via = e.edgeType && e.edgeType.getViaNode ? e.edgeType.getViaNode() : null;
      if (!via || via.x === undefined) { via = {x: (e.from.x + e.to.x) / 2, y: (e.from.y + e.to.y) / 2}; }
      var key = [item.color.color, item.color.opacity, n2(item.width * v.k)].join("|");
      if (!groups[key]) { groups[key] = []; order.push(key); }
      groups[key].push("M" + n2(e.from.x * v.k + v.tx) + " " + n2(e.from.y * v.k + v.ty) +
                       "Q" + n2(via.x * v.k + v.tx) + " " + n2(via.y * v.k + v.ty) + " " +
                       n2(e.to.x * v.k + v.tx) + " " + n2(e.to.y * v.k + v.ty));
    });
    order.forEach(function (key) {
      var p = key.split("|");
      parts.push('<path fill="none" stroke="' + xml(p[0]) + '" stroke-opacity="' + xml(p[1]) +
                 '" stroke-width="' + p[2] + '" d="' + groups[key].join("") + '"/>');
    });
    var labels = [];
    nodesDS.forEach(function (item) {
      if (item.hidden) { return; }
      var n = network.body.nodes[item.id], x = n.x * v.k + v.tx, y = n.y * v.k + v.ty;
      parts.push('<circle cx="' + n2(x) + '" cy="' + n2(y) + '" r="' + n2(item.size * v.k) +
                 '" fill="' + xml(item.color.background) + '" fill-opacity="' + item.opacity +
                 '" stroke="' + xml(item.color.border) + '" stroke-opacity="' + item.opacity +
                 '" stroke-width="' + item.borderWidth + '"/>');
      if (item.label) { labels.push([x, y + item.size * v.k + 12 * unit * v.k, item.label]); }
    });
    labels.forEach(function (l) {
      parts.push('<text x="' + n2(l[0]) + '" y="' + n2(l[1]) + '" text-anchor="middle" font-size="' +
                 n2(12 * unit * v.k) + '" stroke="#ffffff" stroke-width="' + n2(3 * unit * v.k) +
                 '" paint-order="stroke" fill="#222222">' + xml(l[2]) + "</text>");
    });
    parts.push('<text x="10" y="' + (h - 10) + '" font-size="13" fill="#222222">' +
               xml(periodText() + " · " + relationText()) + "</text></svg>");
    return parts.join("\n");
  }

  // ---------------------------------------------------------------- pointer: tooltips, pin
  function pointer(ev) {
    var r = holder.getBoundingClientRect();
    return {x: ev.clientX - r.left, y: ev.clientY - r.top};
  }
  function nodeAt(p) {
    var id = network.getNodeAt(p);
    return id === undefined ? -1 : idx[id];
  }
  function edgeAt(p) {
    var id = network.getEdgeAt(p);
    if (id === undefined || pairOf[id] === undefined) { return null; }
    var ab = pairOf[id].split("|").map(Number);
    return cur.edges.filter(function (x) { return x.a === ab[0] && x.b === ab[1]; })[0] || null;
  }
  var dragging = false, moved = false, fittedAt = null;
  box.addEventListener("mousedown", function () { dragging = true; });
  window.addEventListener("mouseup", function () { dragging = false; });
  box.addEventListener("mousemove", function (ev) {
    if (dragging || ev.target !== canvas) { if (ev.target !== canvas) { showTip(-1); } return; }
    var p = pointer(ev), i = nodeAt(p);
    if (i !== hover) { hover = i; push(false); }
    if (i < 0) { showEdgeTip(edgeAt(p), ev); } else { showTip(i, ev); }
  });
  box.addEventListener("mouseleave", function () {
    showTip(-1);
    if (hover >= 0) { hover = -1; push(false); }
  });
  function click(params) {
    var i = nodeAt(params.pointer.DOM);
    state.pin = (i < 0 || i === state.pin) ? null : i;
    redraw();
  }
  function placeTip(ev) {
    var r = box.getBoundingClientRect();
    tip.style.left = Math.min(ev.clientX - r.left + 14, box.clientWidth - 260) + "px";
    tip.style.top = (ev.clientY - r.top + 14) + "px";
    tip.style.visibility = "visible";
  }
  function showEdgeTip(x, ev) {
    if (!x) { showTip(-1); return; }
    var parts = [];
    if (x.ew) { parts.push("exercises " + fmt(x.ew)); }
    if (x.aw) { parts.push("agreements in force " + fmt(x.aw)); }
    var types = D.types.filter(function (t, k) { return x.mask & (1 << k); });
    var lines = [name(x.a) + " – " + name(x.b) + ": weight " + fmt(x.w) + " (" + relationText() + ", " +
                 periodText() + ")", parts.join("; ")];
    if (types.length) { lines.push("Agreement types: " + types.join(", ")); }
    var src = sourcesOf(x.a, x.b);
    if (src.length) { lines.push("Sources: " + src.slice(0, 5).join("; ") +
                                 (src.length > 5 ? " (+" + (src.length - 5) + " more)" : "")); }
    tip.textContent = lines.join("\n");
    placeTip(ev);
  }

  // ---------------------------------------------------------------- text: tooltip, status
  function fmt(v) {
    if (typeof v !== "number") { return String(v); }
    return Math.abs(v - Math.round(v)) < 1e-9 ? String(Math.round(v)) : v.toFixed(4);
  }
  function name(i) {
    var n = D.nodes[i];
    return n.label !== n.id ? n.label + " (" + n.id + ")" : n.id;
  }
  function periodText() {
    if (!D.years.length) { return D.period; }
    return state.window === 1 ? String(state.year)
      : (state.year - state.window + 1) + "–" + state.year;
  }
  function relationText() {
    return state.relation.indexOf("agreement:") === 0 ? "agreements of type " + state.relation.slice(10)
      : {exercise: "exercises", agreement: "agreements", all: "exercises and agreements"}[state.relation];
  }
  function sourcesOf(a, b) {
    var years = D.years.length ? [] : [null], out = [], seen = {};
    for (var y = state.year - state.window + 1; D.years.length && y <= state.year; y++) { years.push(y); }
    years.forEach(function (y) {
      var list = D.sources[y === null ? "all" : String(y)] || [];
      list.forEach(function (row) {
        if ((row[0] === a && row[1] === b) || (row[0] === b && row[1] === a)) {
          row.slice(2).forEach(function (t) { if (!seen[t]) { seen[t] = 1; out.push(D.titles[t]); } });
        }
      });
    });
    return out;
  }
  function tipText(i) {
    var lines = [name(i)], n = D.nodes[i];
    if (n.region) { lines.push("Region: " + n.region); }
    if (state.layout === "geo" && n.lat === undefined) {
      lines.push("Position: no coordinates in the data: drawn in the row below the map, " +
                 "not at its capital");
    }
    lines.push(periodText() + " · " + relationText() + ": " + fmt(cur.deg[i]) + " partners, weight " +
               fmt(cur.str[i]));
    var m = cur.metrics[i];
    if (m) {
      lines.push(D.metricNames.map(function (k, j) { return k + " " + fmt(m[j + 1]); }).join(" · ") +
                 " (" + relationText() + " network of the window)");
    } else if (!cur.measured && D.metricsRelations.length) {
      lines.push("Network metrics: " + unmeasured());
    }
    var nb = cur.edges.filter(function (x) { return x.a === i || x.b === i; })
      .map(function (x) { return {p: x.a === i ? x.b : x.a, w: x.w}; })
      .sort(function (p, q) { return q.w - p.w || (D.nodes[p.p].id < D.nodes[q.p].id ? -1 : 1); });
    if (nb.length) {
      lines.push("Top partners: " + nb.slice(0, 5).map(function (x) { return name(x.p) + " " + fmt(x.w); })
                 .join("; ") + (nb.length > 5 ? " (+" + (nb.length - 5) + " more)" : ""));
      var src = [];
      nb.slice(0, 3).forEach(function (x) {
        var t = sourcesOf(i, x.p);
        if (t.length) {
          src.push("  " + D.nodes[x.p].label + ": " + t.slice(0, 3).join("; ") +
                   (t.length > 3 ? " (+" + (t.length - 3) + " more)" : ""));
        }
      });
      if (src.length) { lines.push("Sources behind the strongest ties:"); lines = lines.concat(src); }
    }
    return lines.join("\n");
  }
  function showTip(i, ev) {
    if (i < 0) { tip.style.visibility = "hidden"; tip.textContent = ""; return; }
    tip.textContent = tipText(i);
    placeTip(ev);
  }
  function unmeasured() {  // why the view shown has no metrics
    var names = {exercise: "exercise", agreement: "agreement (all types)", all: "combined"};
    if (!D.metricsRelations.length) { return "not computed for this map"; }
    var known = D.metricsRelations.map(function (r) { return names[r]; });
    var list = known.length < 2 ? known[0]
      : known.slice(0, -1).join(", ") + " and " + known[known.length - 1];
    return D.metricsRelations.indexOf(state.relation) < 0
      ? "not computed for " + relationText() + " (only for the " + list + " network" +
        (known.length > 1 ? "s" : "") + ")"
      : "not computed for this window";
  }
  function measureText() {  // what disc sizes and colours measure in the view shown
    var net = "the " + relationText() + " network of " + periodText();
    var own = {degree: "partners (degree)", strength: "summed tie weight (strength)"}[state.sizeBy];
    if (!own && !cur.measured && D.colorBy === "community") {
      return "Disc size: one size for all, and colour grey: " + state.sizeBy +
        " and communities are " + unmeasured() + ".";
    }
    var parts = [own ? "Disc size: " + own + " among the ties shown, " + periodText() + "."
      : cur.measured ? "Disc size: " + state.sizeBy + " in " + net + "."
      : "Disc size: one size for all: " + state.sizeBy + " is " + unmeasured() + "."];
    if (D.colorBy === "community") {
      parts.push(cur.measured ? "Colour: communities of " + net + "."
        : "Colour: grey: communities are " + unmeasured() + ".");
    }
    return parts.join(" ");
  }
  function showStatus() {
    var nodes = 0; for (var i = 0; i < N; i++) { nodes += cur.on[i]; }
    $("kg-period").textContent = periodText();
    if ($("kg-measure")) { $("kg-measure").textContent = measureText(); }
    $("kg-status").textContent = periodText() + " · " + relationText() + " · weight ≥ " +
      fmt(state.min) + " · " + nodes + " states, " + cur.edges.length + " ties" +
      (cur.egoCentre !== null ? " · highlighted: " + name(cur.egoCentre) + " and partners" : "");
  }

  // ---------------------------------------------------------------- controls and URL fragment
  function option(sel, value, text) {
    var o = document.createElement("option"); o.value = value; o.textContent = text; sel.appendChild(o);
  }
  function readHash() {
    // a link's fragment is anyone's text: keys without a prototype, a bad %-escape skipped
    var h = location.hash.replace(/^#/, ""), p = Object.create(null);
    h.split("&").forEach(function (kv) {
      var i = kv.indexOf("="); if (i <= 0) { return; }
      try { p[decodeURIComponent(kv.slice(0, i))] = decodeURIComponent(kv.slice(i + 1)); } catch (e) { /* URIError */ }
    });
    // the address is the whole view: a key it leaves out (or gets wrong) takes the page's
    // default, not the value an earlier address set
    var d = D.state;
    state.year = p.year && D.years.indexOf(+p.year) >= 0 ? +p.year : d.year;
    state.window = p.window && D.windows.indexOf(+p.window) >= 0 ? +p.window : d.window;
    state.relation = p.relation && D.relations.indexOf(p.relation) >= 0 ? p.relation : d.relation;
    state.min = p.min !== undefined && p.min !== "" && isFinite(+p.min) && +p.min >= 0 ? +p.min : d.min;
    state.focus = p.focus === undefined ? d.focus : (idx[p.focus] !== undefined ? p.focus : null);
    state.layout = p.layout && D.layouts.indexOf(p.layout) >= 0 ? p.layout : d.layout;
    state.sizeBy = p.size && D.sizeBy.indexOf(p.size) >= 0 ? p.size : d.sizeBy;
    // a pinned state (clicked) is in the address while it is pinned: none there, none pinned
    state.pin = p.pin !== undefined && idx[p.pin] !== undefined ? idx[p.pin] : null;
  }
  function writeHash() {
    // every choice the view depends on, a cleared focus too ("focus=": a page made with
    // --focus would otherwise reopen focused), so that the address reopens this view
    var parts = [];
    if (D.years.length) { parts.push("year=" + state.year, "window=" + state.window); }
    parts.push("relation=" + encodeURIComponent(state.relation), "min=" + state.min,
               "focus=" + (state.focus === null ? "" : encodeURIComponent(state.focus)),
               "size=" + encodeURIComponent(state.sizeBy));
    if (D.layouts.length > 1) { parts.push("layout=" + state.layout); }
    if (state.pin !== null) { parts.push("pin=" + encodeURIComponent(D.nodes[state.pin].id)); }
    var h = "#" + parts.join("&");
    if (location.hash !== h) { try { history.replaceState(null, "", h); } catch (e) { /* ignore */ } }
  }
  var hashTimer = null;
  function laterHash() {  // the address follows right after the frame (one write per burst)
    if (hashTimer === null) { hashTimer = setTimeout(function () { hashTimer = null; writeHash(); }, 0); }
  }
  function syncControls() {
    if (D.years.length) { $("kg-year").value = D.years.indexOf(state.year); }
    $("kg-window").value = String(state.window); $("kg-relation").value = state.relation;
    $("kg-min").value = String(state.min); $("kg-focus").value = state.focus === null ? "" : state.focus;
    $("kg-size").value = state.sizeBy; $("kg-layout").value = state.layout;
  }
  function set(p) {
    for (var k in p) { if (Object.prototype.hasOwnProperty.call(p, k)) { state[k] = p[k]; } }
    syncControls(); redraw();
    return {stepMs: window.kgMap.stepMs};
  }
  function setup() {
    if (D.years.length) {
      $("kg-year").min = 0; $("kg-year").max = D.years.length - 1;
      $("kg-year").addEventListener("input", function () { stop(); set({year: D.years[+this.value]}); });
    } else {
      Array.prototype.forEach.call(document.querySelectorAll(".kg-time"), function (el) { el.hidden = true; });
    }
    D.windows.forEach(function (w) { option($("kg-window"), String(w), w === 1 ? "1 year" : w + " years"); });
    D.relations.forEach(function (r) {
      var text = r.indexOf("agreement:") === 0 ? "agreements: " + r.slice(10)
        : {exercise: "exercises", agreement: "agreements (all types)", all: "both"}[r];
      option($("kg-relation"), r, text);
    });
    option($("kg-focus"), "", "(none)");
    D.nodes.map(function (n, i) { return i; })
      .sort(function (a, b) { return D.nodes[a].label.localeCompare(D.nodes[b].label); })
      .forEach(function (i) { option($("kg-focus"), D.nodes[i].id, name(i)); });
    D.sizeBy.forEach(function (s) { option($("kg-size"), s, s); });
    D.layouts.forEach(function (s) { option($("kg-layout"), s, s); });
    if (D.layouts.length < 2) { $("kg-layout").parentNode.hidden = true; }
    $("kg-window").addEventListener("change", function () { set({window: +this.value}); });
    $("kg-relation").addEventListener("change", function () { set({relation: this.value}); });
    $("kg-min").addEventListener("change", function () {
      var v = +this.value; set({min: isFinite(v) && v >= 0 ? v : 0});
    });
    $("kg-focus").addEventListener("change", function () { set({focus: this.value || null, pin: null}); });
    $("kg-size").addEventListener("change", function () { set({sizeBy: this.value}); });
    $("kg-layout").addEventListener("change", function () { set({layout: this.value}); });
    $("kg-play").addEventListener("click", function () { if (timer) { stop(); } else { play(); } });
    $("kg-png").addEventListener("click", function () { save(canvas.toDataURL("image/png"), "png"); });
    $("kg-svg").addEventListener("click", function () {
      save(URL.createObjectURL(new Blob([toSVG()], {type: "image/svg+xml"})), "svg");
    });
    window.addEventListener("hashchange", function () { readHash(); syncControls(); redraw(); });
  }
  var timer = null;
  function play() {
    if (!D.years.length) { return; }
    $("kg-play").textContent = "❚❚ Pause";
    if (state.year === D.years[D.years.length - 1]) { set({year: D.years[0]}); }
    timer = setInterval(function () {
      var i = D.years.indexOf(state.year);
      if (i >= D.years.length - 1) { stop(); return; }
      set({year: D.years[i + 1]});
      if (i + 1 >= D.years.length - 1) { stop(); }
    }, 700);
  }
  function stop() {
    if (timer) { clearInterval(timer); timer = null; }
    $("kg-play").textContent = "▶ Play";
  }
  function save(url, ext) {
    var a = document.createElement("a");
    a.href = url; a.download = "kg-map-" + periodText().replace(/[^0-9A-Za-z]+/g, "-") + "." + ext;
    document.body.appendChild(a); a.click(); a.remove();
  }

  // ---------------------------------------------------------------- start
  function start() {
    compute();
    var v = fitView();
    unit = 1 / v.k;
    var opts = D.options;
    opts.nodes.font.size = r2(12 * unit); opts.nodes.font.strokeWidth = r2(3 * unit);
    nodesDS = new vis.DataSet(nodeItems(true));
    var first = edgeChanges(true);
    edgesDS = new vis.DataSet(first.add);
    network = new vis.Network(holder, {nodes: nodesDS, edges: edgesDS}, opts);
    canvas = holder.querySelector("canvas");
    network.on("beforeDrawing", beforeDrawing);
    network.on("click", click);
    network.on("zoom", function () { moved = true; });
    network.on("dragEnd", function () { moved = true; });
    // The fitted view follows the map's size (a window resized, the header re-wrapped once
    // its fonts load, a headless screenshot's window grown after loading) until the reader
    // pans or zooms: vis-network takes the new size first (it keeps the old view), then
    // the view a page opened at this size would fit.
    if (window.ResizeObserver) {
      new ResizeObserver(function () {
        if (moved || box.clientWidth === 0 || sizeKey() === fittedAt) { return; }
        network.setSize("100%", "100%");
        relayout();
      }).observe(box);
    }
    placeView(v);
    placedLayout = state.layout;
    network.redraw();
    showStatus(); writeHash();
  }

  window.kgMap = {
    ready: false, readyAt: null, drawMs: null, stepMs: null, state: state, set: set,
    toSVG: toSVG, toPNG: function () { return canvas.toDataURL("image/png"); },
    network: function () { return network; },
    drawn: function () {  // what the vis DataSets hold now
      return {nodes: nodesDS.getIds({filter: function (n) { return !n.hidden; }}),
              edges: edgesDS.get({filter: function (e) { return !e.hidden; }})
                .map(function (e) { return [e.from, e.to].sort().join("|"); })};
    },
    highlighted: function () {
      if (!cur.ego) { return null; }
      return nodesDS.getIds({filter: function (n) { return !n.hidden && n.opacity === 1; }});
    },
    screenOf: function (id) { return network.canvasToDOM(network.getPosition(id)); },
    labelOf: function (id) { return D.nodes[idx[id]].label; },
    edgePoint: function (a, b) {  // screen position of the middle of a drawn tie
      var i = idx[a], j = idx[b], e = network.body.edges[slotOf[Math.min(i, j) + "|" + Math.max(i, j)]];
      return network.canvasToDOM(e.edgeType.getPoint(0.5));
    },
    project: function (lat, lon) {  // screen position of a place on the geo layout
      return network.canvasToDOM({x: (((lon - D.centre) % 360 + 540) % 360 - 180) * S, y: -lat * S});
    },
    pixel: function (x, y) {  // canvas pixel (RGBA) under a screen position
      var dpr = canvas.width / canvas.clientWidth;
      return Array.prototype.slice.call(canvas.getContext("2d")
        .getImageData(Math.round(x * dpr), Math.round(y * dpr), 1, 1).data);
    },
    tipOf: function (id) { return tipText(idx[id]); },
    sizes: function () {  // disc radius (px at the fitted view) of each shown state
      var out = {};
      for (var i = 0; i < N; i++) { if (cur.on[i]) { out[D.nodes[i].id] = cur.size[i]; } }
      return out;
    }
  };
  setup(); readHash(); syncControls(); start();
  canvas.getContext("2d").getImageData(0, 0, 1, 1);
  window.kgMap.readyAt = performance.now();
  window.kgMap.loadMs = window.kgMap.readyAt - T0;
  window.kgMap.drawMs = window.kgMap.loadMs;
  window.kgMap.ready = true;
})();
