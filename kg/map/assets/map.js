(function () {
  "use strict";
  // kg map: one canvas, redrawn in place. Data arrive as JSON text (never as markup);
  // every string from data reaches the page through textContent or canvas fillText,
  // and the SVG export escapes it for XML.
  var T0 = performance.now();
  var D = JSON.parse(document.getElementById("kg-data").textContent);
  var S = D.scale, W360 = 360 * S, N = D.nodes.length;
  var KIND_COLORS = D.edgeColors;
  var canvas = document.getElementById("kg-canvas");
  var box = document.getElementById("kg-view");
  var tip = document.getElementById("kg-tip");
  var ctx = canvas.getContext("2d");
  var $ = function (id) { return document.getElementById(id); };
  var state = {year: D.state.year, window: D.state.window, relation: D.state.relation,
               min: D.state.min, focus: D.state.focus, pin: null, sizeBy: D.state.sizeBy,
               layout: D.state.layout};
  var view = {k: 1, tx: 0, ty: 0};
  var idx = {};
  D.nodes.forEach(function (n, i) { idx[n.id] = i; });
  var cur = null, hover = -1, geoCache = {}, baseCache = {};

  // ---------------------------------------------------------------- data of one view
  function frameOf(year, win) {
    var yi = D.years.length ? D.years.indexOf(year) : 0;
    var wi = D.windows.indexOf(win);
    if (yi < 0 || wi < 0) { return null; }
    return D.frames[yi * D.windows.length + wi];
  }
  function edgeWeight(ew, aw, mask, rel) {
    if (rel === "exercise") { return ew; }
    if (rel === "agreement") { return aw; }
    if (rel === "all") { return ew + aw; }
    var t = D.types.indexOf(rel.slice(10));  // "agreement:Type"
    return (t >= 0 && (mask & (1 << t))) ? aw : 0;
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
    var on = new Uint8Array(N), wmax = 0, i, w;
    for (i = 0; i < e.length; i += 5) {
      w = edgeWeight(e[i + 2], e[i + 3], e[i + 4], state.relation);
      if (w <= 0 || w < state.min) { continue; }
      edges.push({a: e[i], b: e[i + 1], w: w, ew: e[i + 2], aw: e[i + 3], mask: e[i + 4],
                  kind: edgeKind(e[i + 2], e[i + 3], e[i + 4], state.relation)});
      deg[e[i]] += 1; deg[e[i + 1]] += 1; str[e[i]] += w; str[e[i + 1]] += w;
      on[e[i]] = 1; on[e[i + 1]] = 1;
      if (w > wmax) { wmax = w; }
    }
    edges.sort(function (p, q) { return p.w - q.w || p.a - q.a || p.b - q.b; });
    var metrics = {};
    if (f && f.m) { f.m.forEach(function (row) { metrics[row[0]] = row; }); }
    var size = new Float64Array(N), lo = Infinity, hi = -Infinity, v;
    var mcol = D.metricNames.indexOf(state.sizeBy) + 1;
    for (i = 0; i < N; i++) {
      if (!on[i]) { continue; }
      v = state.sizeBy === "degree" ? deg[i] : state.sizeBy === "strength" ? str[i]
        : (metrics[i] && mcol > 0 ? metrics[i][mcol] : 0);
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
           metrics: metrics, ego: ego, egoCentre: egoCentre};
  }

  // ---------------------------------------------------------------- geometry
  function pos(i) {
    var n = D.nodes[i];
    return state.layout === "force" && n.fx !== undefined ? [n.fx, n.fy] : [n.x, n.y];
  }
  function geoEdge(a, b) {  // [ax, ay, cx, cy, bx, by] with b unwrapped the short way
    var key = a * N + b, g = geoCache[key];
    if (g) { return g; }
    var na = D.nodes[a], nb = D.nodes[b], ax = na.x, ay = na.y, bx = nb.x, by = nb.y;
    bx += W360 * Math.round((ax - bx) / W360);
    var cx = (ax + bx) / 2, cy = (ay + by) / 2;
    if (na.lat !== undefined && nb.lat !== undefined) {
      var r = Math.PI / 180, p1 = na.lat * r, l1 = na.lon * r, p2 = nb.lat * r, l2 = nb.lon * r;
      var x = Math.cos(p1) * Math.cos(l1) + Math.cos(p2) * Math.cos(l2);
      var y = Math.cos(p1) * Math.sin(l1) + Math.cos(p2) * Math.sin(l2);
      var z = Math.sin(p1) + Math.sin(p2), len = Math.sqrt(x * x + y * y + z * z);
      if (len > 1e-6) {  // the great circle's midpoint, as a quadratic curve's apex
        var mlat = Math.asin(z / len) / r, mlon = Math.atan2(y, x) / r;
        var mx = (((mlon - D.centre) % 360 + 540) % 360 - 180) * S;
        mx += W360 * Math.round((cx - mx) / W360);
        var ox = 2 * (mx - cx), oy = 2 * (-mlat * S - cy), chord = Math.hypot(bx - ax, by - ay);
        var f = Math.min(1, 0.5 * chord / Math.max(Math.hypot(ox, oy), 1e-9));
        cx += ox * f; cy += oy * f;  // near-antipodal pairs: no loops round the world
      }
    }
    g = [ax, ay, cx, cy, bx, by];
    geoCache[key] = g;
    return g;
  }
  function edgeGeom(x) {
    if (state.layout === "geo") { return geoEdge(x.a, x.b); }
    var pa = pos(x.a), pb = pos(x.b), dx = pb[0] - pa[0], dy = pb[1] - pa[1];
    return [pa[0], pa[1], (pa[0] + pb[0]) / 2 - dy * 0.15, (pa[1] + pb[1]) / 2 + dx * 0.15,
            pb[0], pb[1]];
  }
  function widthOf(w) {
    return cur.wmax > 0 ? 1 + 5 * Math.sqrt(w / cur.wmax) : 1;
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

  // ---------------------------------------------------------------- drawing (canvas and SVG)
  // A tiny drawing interface with two back ends, so the SVG export is the canvas view.
  function scene(out) {
    var world = state.layout === "geo";
    out.background("#eaf1f7");
    if (world && D.basemap.length) { out.basemap(); }
    var groups = {}, order = [], thin = cur.edges.length - D.wideTies;
    cur.edges.forEach(function (x, k) {
      // only the strongest D.wideTies ties get their width: wide strokes are slow to paint
      var key = x.kind + "|" + (edgeDim(x) ? 1 : 0) + "|" + (k < thin ? "1.0" : widthOf(x.w).toFixed(1));
      if (!groups[key]) { groups[key] = []; order.push(key); }
      groups[key].push(edgeGeom(x));
    });
    order.forEach(function (key) {
      var p = key.split("|");
      out.curves(groups[key], KIND_COLORS[p[0]], p[1] === "1" ? 0.07 : D.edgeOpacity,
                 parseFloat(p[2]), world);
    });
    for (var i = 0; i < N; i++) {
      if (!cur.on[i]) { continue; }
      var q = pos(i), special = (i === cur.egoCentre || i === hover);
      out.disc(q[0], q[1], cur.size[i], nodeColor(i), isDim(i) ? 0.2 : 1,
               special ? "#000000" : "#555555", special ? 3 : 1);
    }
    labelled().forEach(function (i) {
      var q = pos(i);
      out.label(q[0], q[1] - cur.size[i] / view.k - 3 / view.k, D.nodes[i].label,
                i === cur.egoCentre);
    });
  }
  function canvasBackEnd() {
    var dpr = window.devicePixelRatio || 1;
    function toScreen() { ctx.setTransform(dpr * view.k, 0, 0, dpr * view.k, dpr * view.tx, dpr * view.ty); }
    return {
      background: function (c) {
        ctx.setTransform(1, 0, 0, 1, 0, 0); ctx.fillStyle = c;
        ctx.fillRect(0, 0, canvas.width, canvas.height);
      },
      basemap: function () {
        // painted once per view (pan, zoom, resize) into a bitmap; a slider step reuses it
        var key = [view.k, view.tx, view.ty, canvas.width, canvas.height].join(",");
        if (baseCache.key !== key) {
          var c = baseCache.canvas || document.createElement("canvas"), bx = c.getContext("2d");
          c.width = canvas.width; c.height = canvas.height;
          bx.setTransform(dpr * view.k, 0, 0, dpr * view.k, dpr * view.tx, dpr * view.ty);
          bx.fillStyle = "#d9d9cf"; bx.strokeStyle = "#ffffff"; bx.lineWidth = 0.6 / view.k;
          [-W360, 0, W360].forEach(function (off) {
            bx.save(); bx.beginPath(); bx.rect(-180 * S, -1e6, W360, 2e6); bx.clip();
            bx.translate(off, 0); bx.fill(basePath, "evenodd"); bx.stroke(basePath);
            bx.restore();
          });
          baseCache = {key: key, canvas: c};
        }
        ctx.setTransform(1, 0, 0, 1, 0, 0); ctx.drawImage(baseCache.canvas, 0, 0);
      },
      curves: function (list, color, alpha, width, wrap) {
        toScreen(); ctx.strokeStyle = color; ctx.globalAlpha = alpha;
        ctx.lineWidth = width / view.k; ctx.lineCap = "butt";
        var edge = 180 * S, inside = [], across = [];
        list.forEach(function (g) {  // ties that cross the map's edge are drawn clipped, twice
          (wrap && (Math.abs(g[0]) > edge || Math.abs(g[2]) > edge || Math.abs(g[4]) > edge)
            ? across : inside).push(g);
        });
        ctx.beginPath();
        inside.forEach(function (g) { ctx.moveTo(g[0], g[1]); ctx.quadraticCurveTo(g[2], g[3], g[4], g[5]); });
        ctx.stroke();
        if (across.length) {
          ctx.save(); ctx.beginPath(); ctx.rect(-edge, -1e6, W360, 2e6); ctx.clip(); ctx.beginPath();
          [0, -W360, W360].forEach(function (off) {
            across.forEach(function (g) {
              ctx.moveTo(g[0] + off, g[1]); ctx.quadraticCurveTo(g[2] + off, g[3], g[4] + off, g[5]);
            });
          });
          ctx.stroke(); ctx.restore();
        }
        ctx.globalAlpha = 1;
      },
      disc: function (x, y, r, fill, alpha, stroke, sw) {
        ctx.setTransform(dpr, 0, 0, dpr, 0, 0); ctx.globalAlpha = alpha;
        ctx.beginPath(); ctx.arc(x * view.k + view.tx, y * view.k + view.ty, r, 0, 2 * Math.PI);
        ctx.fillStyle = fill; ctx.fill(); ctx.lineWidth = sw; ctx.strokeStyle = stroke; ctx.stroke();
        ctx.globalAlpha = 1;
      },
      label: function (x, y, text, bold) {
        ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
        ctx.font = (bold ? "bold " : "") + "12px " + D.font; ctx.textAlign = "center";
        ctx.textBaseline = "bottom"; ctx.lineWidth = 3; ctx.strokeStyle = "#ffffff";
        ctx.fillStyle = "#222222";
        var sx = x * view.k + view.tx, sy = y * view.k + view.ty;
        ctx.strokeText(text, sx, sy); ctx.fillText(text, sx, sy);
      }
    };
  }
  function xml(s) {
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }
  function n2(v) { return (Math.round(v * 100) / 100).toString(); }
  function svgBackEnd(parts, w, h) {
    var tf = "matrix(" + [view.k, 0, 0, view.k, view.tx, view.ty].map(n2).join(" ") + ")";
    parts.push('<defs><clipPath id="world"><rect x="' + n2(-180 * S) + '" y="-1000000" width="' +
               n2(W360) + '" height="2000000"/></clipPath></defs>');
    return {
      background: function (c) { parts.push('<rect width="' + w + '" height="' + h + '" fill="' + c + '"/>'); },
      basemap: function () {
        parts.push('<g transform="' + tf + '"><g clip-path="url(#world)">');
        [-W360, 0, W360].forEach(function (off) {
          parts.push('<path transform="translate(' + n2(off) + ' 0)" fill="#d9d9cf" fill-rule="evenodd" ' +
                     'stroke="#ffffff" stroke-width="' + n2(0.6 / view.k) + '" d="' + baseD + '"/>');
        });
        parts.push("</g></g>");
      },
      curves: function (list, color, alpha, width, wrap) {
        var d = [];
        [0, -W360, W360].forEach(function (off) {
          if (off !== 0 && !wrap) { return; }
          list.forEach(function (g) {
            d.push("M" + n2(g[0] + off) + " " + n2(g[1]) + "Q" + n2(g[2] + off) + " " + n2(g[3]) +
                   " " + n2(g[4] + off) + " " + n2(g[5]));
          });
        });
        parts.push('<g transform="' + tf + '"' + (wrap ? ' clip-path="url(#world)"' : "") +
                   '><path fill="none" stroke="' + color + '" stroke-opacity="' + alpha +
                   '" stroke-width="' + n2(width / view.k) + '" d="' +
                   d.join("") + '"/></g>');
      },
      disc: function (x, y, r, fill, alpha, stroke, sw) {
        parts.push('<circle cx="' + n2(x * view.k + view.tx) + '" cy="' + n2(y * view.k + view.ty) +
                   '" r="' + n2(r) + '" fill="' + fill + '" fill-opacity="' + alpha + '" stroke="' +
                   stroke + '" stroke-opacity="' + alpha + '" stroke-width="' + sw + '"/>');
      },
      label: function (x, y, text, bold) {
        parts.push('<text x="' + n2(x * view.k + view.tx) + '" y="' + n2(y * view.k + view.ty) +
                   '" text-anchor="middle" font-size="12"' + (bold ? ' font-weight="bold"' : "") +
                   ' stroke="#ffffff" stroke-width="3" paint-order="stroke" fill="#222222">' +
                   xml(text) + "</text>");
      }
    };
  }
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

  function draw() {
    var t = performance.now();
    var w = box.clientWidth, h = box.clientHeight, dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
      canvas.style.width = w + "px"; canvas.style.height = h + "px";
    }
    scene(canvasBackEnd());
    window.kgMap.drawMs = performance.now() - t;
  }
  function redraw() {
    var t = performance.now();
    compute(); draw(); showStatus(); writeHash();
    ctx.getImageData(0, 0, 1, 1);  // wait for the canvas to be painted, so the time is honest
    window.kgMap.stepMs = performance.now() - t;
  }
  function toSVG() {
    var w = box.clientWidth, h = box.clientHeight, parts = [];
    parts.push('<svg xmlns="http://www.w3.org/2000/svg" width="' + w + '" height="' + h +
               '" viewBox="0 0 ' + w + " " + h + '" font-family="' + xml(D.font) + '">');
    parts.push("<title>" + xml(document.title + " · " + periodText()) + "</title>");
    scene(svgBackEnd(parts, w, h));
    parts.push('<text x="10" y="' + (h - 10) + '" font-size="13" fill="#222222">' +
               xml(periodText() + " · " + relationText()) + "</text></svg>");
    return parts.join("\n");
  }

  // ---------------------------------------------------------------- view: fit, pan, zoom
  function fit() {
    var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity, i, q;
    if (state.layout === "geo") { x0 = -180 * S; x1 = 180 * S; y0 = -84 * S; y1 = 72 * S; }
    for (i = 0; i < N; i++) {
      q = pos(i);
      if (q[0] < x0) { x0 = q[0]; } if (q[0] > x1) { x1 = q[0]; }
      if (q[1] < y0) { y0 = q[1]; } if (q[1] > y1) { y1 = q[1]; }
    }
    if (!isFinite(x0)) { x0 = -100; x1 = 100; y0 = -100; y1 = 100; }
    var w = box.clientWidth, h = box.clientHeight, pad = 30;
    view.k = Math.min((w - 2 * pad) / Math.max(x1 - x0, 1), (h - 2 * pad) / Math.max(y1 - y0, 1));
    view.tx = w / 2 - view.k * (x0 + x1) / 2; view.ty = h / 2 - view.k * (y0 + y1) / 2;
  }
  var drag = null;
  box.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var r = box.getBoundingClientRect(), mx = ev.clientX - r.left, my = ev.clientY - r.top;
    var f = Math.exp(-ev.deltaY * 0.0015);
    view.tx = mx - (mx - view.tx) * f; view.ty = my - (my - view.ty) * f; view.k *= f;
    draw();
  }, {passive: false});
  box.addEventListener("mousedown", function (ev) {
    drag = {x: ev.clientX, y: ev.clientY, tx: view.tx, ty: view.ty, moved: false};
  });
  window.addEventListener("mouseup", function (ev) {
    if (drag && !drag.moved) { click(ev); }
    drag = null;
  });
  box.addEventListener("mousemove", function (ev) {
    if (drag) {
      var dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) { drag.moved = true; }
      if (drag.moved) { view.tx = drag.tx + dx; view.ty = drag.ty + dy; draw(); return; }
    }
    var i = hit(ev);
    if (i !== hover) { hover = i; draw(); }
    if (i < 0) { showEdgeTip(hitEdge(ev), ev); } else { showTip(i, ev); }
  });
  box.addEventListener("mouseleave", function () { hover = -1; showTip(-1); draw(); });
  function hit(ev) {
    var r = box.getBoundingClientRect(), mx = ev.clientX - r.left, my = ev.clientY - r.top;
    var best = -1, bd = Infinity;
    for (var i = 0; i < N; i++) {
      if (!cur.on[i]) { continue; }
      var q = pos(i), dx = q[0] * view.k + view.tx - mx, dy = q[1] * view.k + view.ty - my;
      var d = dx * dx + dy * dy, rr = cur.size[i] + 3;
      if (d <= rr * rr && d < bd) { bd = d; best = i; }
    }
    return best;
  }
  function hitEdge(ev) {  // the tie under the pointer: its curve sampled at 12 points
    var r = box.getBoundingClientRect(), mx = ev.clientX - r.left, my = ev.clientY - r.top;
    var best = null, bd = 16, offs = state.layout === "geo" ? [0, -W360, W360] : [0];
    cur.edges.forEach(function (x) {
      if (edgeDim(x)) { return; }
      var g = edgeGeom(x);
      offs.forEach(function (off) {
        var px = null, py = null;
        for (var k = 0; k <= 12; k++) {
          var t = k / 12, u = 1 - t;
          var wx = u * u * g[0] + 2 * u * t * g[2] + t * t * g[4] + off;
          var wy = u * u * g[1] + 2 * u * t * g[3] + t * t * g[5];
          if (state.layout === "geo" && Math.abs(wx) > 180 * S) { px = null; continue; }
          var sx = wx * view.k + view.tx, sy = wy * view.k + view.ty;
          if (px !== null) {
            var dx = sx - px, dy = sy - py, l2 = dx * dx + dy * dy;
            var f = l2 > 0 ? Math.max(0, Math.min(1, ((mx - px) * dx + (my - py) * dy) / l2)) : 0;
            var ex = px + f * dx - mx, ey = py + f * dy - my, d = ex * ex + ey * ey;
            if (d < bd) { bd = d; best = x; }
          }
          px = sx; py = sy;
        }
      });
    });
    return best;
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
    var r = box.getBoundingClientRect();
    tip.style.left = Math.min(ev.clientX - r.left + 14, box.clientWidth - 260) + "px";
    tip.style.top = (ev.clientY - r.top + 14) + "px";
    tip.style.visibility = "visible";
  }
  function click(ev) {
    if (ev.target !== canvas) { return; }
    var i = hit(ev);
    state.pin = (i < 0 || i === state.pin) ? null : i;
    redraw();
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
    lines.push(periodText() + " · " + relationText() + ": " + fmt(cur.deg[i]) + " partners, weight " +
               fmt(cur.str[i]));
    var m = cur.metrics[i];
    if (m) {
      lines.push(D.metricNames.map(function (k, j) { return k + " " + fmt(m[j + 1]); }).join(" · ") +
                 " (" + D.metricsRelation + " network of the window)");
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
    var r = box.getBoundingClientRect();
    tip.style.left = Math.min(ev.clientX - r.left + 14, box.clientWidth - 260) + "px";
    tip.style.top = (ev.clientY - r.top + 14) + "px";
    tip.style.visibility = "visible";
  }
  function showStatus() {
    var nodes = 0; for (var i = 0; i < N; i++) { nodes += cur.on[i]; }
    $("kg-period").textContent = periodText();
    $("kg-status").textContent = periodText() + " · " + relationText() + " · weight ≥ " +
      fmt(state.min) + " · " + nodes + " states, " + cur.edges.length + " ties" +
      (cur.egoCentre !== null ? " · highlighted: " + name(cur.egoCentre) + " and partners" : "");
  }

  // ---------------------------------------------------------------- controls and URL fragment
  function option(sel, value, text) {
    var o = document.createElement("option"); o.value = value; o.textContent = text; sel.appendChild(o);
  }
  function readHash() {
    var h = location.hash.replace(/^#/, ""), p = {};
    h.split("&").forEach(function (kv) {
      var i = kv.indexOf("="); if (i > 0) { p[decodeURIComponent(kv.slice(0, i))] = decodeURIComponent(kv.slice(i + 1)); }
    });
    if (p.year && D.years.indexOf(+p.year) >= 0) { state.year = +p.year; }
    if (p.window && D.windows.indexOf(+p.window) >= 0) { state.window = +p.window; }
    if (p.relation && D.relations.indexOf(p.relation) >= 0) { state.relation = p.relation; }
    if (p.min !== undefined && isFinite(+p.min) && +p.min >= 0) { state.min = +p.min; }
    if (p.focus !== undefined) { state.focus = idx[p.focus] !== undefined ? p.focus : null; }
    if (p.layout && D.layouts.indexOf(p.layout) >= 0) { state.layout = p.layout; }
    if (p.size && D.sizeBy.indexOf(p.size) >= 0) { state.sizeBy = p.size; }
  }
  function writeHash() {
    var parts = [];
    if (D.years.length) { parts.push("year=" + state.year, "window=" + state.window); }
    parts.push("relation=" + encodeURIComponent(state.relation), "min=" + state.min);
    if (state.focus !== null) { parts.push("focus=" + encodeURIComponent(state.focus)); }
    if (D.layouts.length > 1) { parts.push("layout=" + state.layout); }
    var h = "#" + parts.join("&");
    if (location.hash !== h) { try { history.replaceState(null, "", h); } catch (e) { /* ignore */ } }
  }
  function syncControls() {
    if (D.years.length) { $("kg-year").value = D.years.indexOf(state.year); }
    $("kg-window").value = String(state.window); $("kg-relation").value = state.relation;
    $("kg-min").value = String(state.min); $("kg-focus").value = state.focus === null ? "" : state.focus;
    $("kg-size").value = state.sizeBy; $("kg-layout").value = state.layout;
  }
  function set(p) {
    var layout = state.layout;
    for (var k in p) { if (Object.prototype.hasOwnProperty.call(p, k)) { state[k] = p[k]; } }
    if (state.layout !== layout) { fit(); }
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
    window.addEventListener("resize", function () { fit(); draw(); });
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

  window.kgMap = {
    ready: false, readyAt: null, drawMs: null, stepMs: null, state: state, set: set,
    toSVG: toSVG, toPNG: function () { return canvas.toDataURL("image/png"); },
    drawn: function () {
      var nodes = [];
      for (var i = 0; i < N; i++) { if (cur.on[i]) { nodes.push(D.nodes[i].id); } }
      return {nodes: nodes, edges: cur.edges.map(function (x) {
        return [D.nodes[x.a].id, D.nodes[x.b].id].sort().join("|"); })};
    },
    highlighted: function () {
      if (!cur.ego) { return null; }
      var out = []; for (var i = 0; i < N; i++) { if (cur.ego[i]) { out.push(D.nodes[i].id); } }
      return out;
    },
    screenOf: function (id) {
      var q = pos(idx[id]); return {x: q[0] * view.k + view.tx, y: q[1] * view.k + view.ty};
    },
    labelOf: function (id) { return D.nodes[idx[id]].label; },
    edgePoint: function (a, b) {  // screen position of the middle of a drawn tie
      var x = cur.edges.filter(function (e) {
        return (D.nodes[e.a].id === a && D.nodes[e.b].id === b) || (D.nodes[e.a].id === b && D.nodes[e.b].id === a);
      })[0], g = edgeGeom(x), wx = 0.25 * g[0] + 0.5 * g[2] + 0.25 * g[4], wy = 0.25 * g[1] + 0.5 * g[3] + 0.25 * g[5];
      return {x: wx * view.k + view.tx, y: wy * view.k + view.ty};
    },
    project: function (lat, lon) {  // screen position of a place on the geo layout
      var x = (((lon - D.centre) % 360 + 540) % 360 - 180) * S, y = -lat * S;
      return {x: x * view.k + view.tx, y: y * view.k + view.ty};
    },
    pixel: function (x, y) {  // canvas pixel (RGBA) under a screen position
      var dpr = window.devicePixelRatio || 1;
      return Array.prototype.slice.call(ctx.getImageData(Math.round(x * dpr), Math.round(y * dpr), 1, 1).data);
    },
    tipOf: function (id) { return tipText(idx[id]); }
  };
  setup(); readHash(); syncControls(); fit(); redraw();
  window.kgMap.readyAt = performance.now();
  window.kgMap.loadMs = window.kgMap.readyAt - T0;
  window.kgMap.ready = true;
})();
