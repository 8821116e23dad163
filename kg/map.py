"""Interactive HTML network maps: offline, safe with any label, fast to draw.

:func:`render_map` reads the state-state network of a window of years from the
store (:func:`kg.network.build_network`), its node metrics
(:func:`kg.metrics.node_metrics`) and the sources behind the strongest ties,
and writes one self-contained HTML file; :func:`render_graph` draws any
networkx graph (the benchmark draws a generated 1,000-state graph with it);
:func:`screenshot` turns a map into a PNG with headless Chromium.

The page:

* carries vis-network inline, read from the pyvis package on disk (the
  library pyvis ships and drives); there is no CDN link, no Bootstrap and no
  other request: a Content-Security-Policy (``default-src 'none'``, scripts
  allowed only by the SHA-256 hashes of the two inline scripts) makes the
  browser refuse anything else, including inline event handlers;
* is written as UTF-8 with ``<meta charset="utf-8">``, so Japanese (or any)
  names work everywhere;
* never lets data reach HTML unescaped: the title and legend are
  HTML-escaped, the nodes and edges travel as JSON in a
  ``<script type="application/json">`` block with ``<``, ``>`` and ``&``
  escaped, labels are drawn on the canvas as text, and tooltips are DOM
  elements filled with ``textContent`` (pyvis' own template switches to
  ``innerHTML`` when a title contains ``href`` and prints ids raw in its select
  menu; neither is used here);
* opens still: node positions are computed here (``geo``: capital latitude and
  longitude; ``force``: a seeded networkx spring layout), physics is off and
  edges are straight (no smooth dynamic edges);
* exposes the vis Network object as ``window.network`` and ``window.kgMap``
  (node and edge counts, ``ready`` once the first frame is drawn, ``drawMs``).

The same data and parameters give a byte-identical file.

>>> from kg.store import open_store
>>> with open_store("/tmp/st") as store:  # doctest: +SKIP
...     res = render_map(store, out="map.html", year_from=2015, year_to=2024)
>>> res.nodes, res.edges  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from kg.errors import KgError, UsageError

__all__ = [
    "MapResult",
    "BrowserUnavailable",
    "LAYOUTS",
    "SIZE_BY",
    "COLOR_BY",
    "RELATIONS",
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "render_map",
    "render_graph",
    "tie_sources",
    "vis_assets",
    "find_chromium",
    "screenshot",
]

LAYOUTS = ("geo", "force")
SIZE_BY = ("degree", "strength", "betweenness", "pagerank")
COLOR_BY = ("region", "community", "alliance")
RELATIONS = ("exercise", "agreement", "all")

#: Where Debian's chromium lives (``.ci/run`` installs it); ``KG_CHROMIUM`` overrides.
CHROMIUM = "/usr/bin/chromium"
#: Flags for a quiet, offline headless Chromium.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

#: Pixels per degree of latitude/longitude in the geo layout.
GEO_SCALE = 10.0
#: Node radius range in pixels.
SIZE_MIN, SIZE_MAX = 6.0, 28.0
#: Edge width range in pixels.
WIDTH_MIN, WIDTH_MAX = 1.0, 9.0

#: Group colours (Tableau 20 and four more), assigned to groups by size.
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
    "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5", "#393b79", "#637939", "#8c6d31", "#843c39",
)
OTHER_COLOR = "#dddddd"
#: Groups that mean "none": drawn grey, listed last.
NEUTRAL_GROUPS = ("unknown", "no defence treaty")
NEUTRAL_COLOR = "#b4b4b4"
FOCUS_BORDER = "#000000"

#: Edge colours by relation type.
EDGE_COLORS = {
    "exercise": "#4c78a8",
    "agreement": "#e45756",
    "defence treaty": "#7b2d26",
    "exercise + agreement": "#9d5fb5",
}

FONT_FACE = ("system-ui, 'Noto Sans', 'Noto Sans CJK JP', 'Hiragino Sans', 'Yu Gothic', "
             "Meiryo, 'DejaVu Sans', Arial, sans-serif")


class BrowserUnavailable(KgError):
    """No headless Chromium to take a screenshot with (install Debian's ``chromium``)."""


@dataclass
class MapResult:
    """What :func:`render_map` / :func:`render_graph` wrote.

    ``path``: the HTML file; ``nodes``/``edges``: what the page draws;
    ``fingerprint``: SHA-256 of the graphs read (``None`` for a bare graph);
    ``params``: the parameters stated in the page title.
    """

    path: Path
    nodes: int
    edges: int
    fingerprint: str | None = None
    params: dict = field(default_factory=dict)

    def summary(self) -> str:
        """One line: the path and the counts."""
        return f"{self.path}: {self.nodes} nodes, {self.edges} edges"


# ------------------------------------------------------------------ vis-network from pyvis

def vis_assets() -> tuple[str, str, str]:
    """The vis-network JavaScript and CSS shipped inside the pyvis package, and their version.

    pyvis 0.3.2 ships ``templates/lib/vis-9.1.2/vis-network.min.js``; the newest
    ``vis-*`` folder found is used.

    >>> js, css, version = vis_assets()  # doctest: +SKIP
    """
    import pyvis

    base = Path(pyvis.__file__).resolve().parent
    found = []
    for lib in (base / "templates" / "lib", base / "lib"):
        if lib.is_dir():
            for d in lib.glob("vis-*"):
                if (d / "vis-network.min.js").is_file():
                    ver = tuple(int(p) if p.isdigit() else 0 for p in d.name[4:].split("."))
                    found.append((ver, d))
    if not found:
        raise KgError(f"pyvis at {base} ships no vis-network.min.js (pyvis>=0.3.2 needed)")
    ver, d = max(found)
    js = (d / "vis-network.min.js").read_text(encoding="utf-8")
    css_path = d / "vis-network.css"
    css = css_path.read_text(encoding="utf-8") if css_path.is_file() else ""
    return js, css, ".".join(str(v) for v in ver)


# ------------------------------------------------------------------ layout and styling

def _geo_positions(G) -> dict:
    """x = lon * scale, y = -lat * scale (canvas y grows downward); a row below for unknowns."""
    pos = {}
    missing = []
    for n in G.nodes:
        lat, lon = G.nodes[n].get("lat"), G.nodes[n].get("lon")
        if lat is None or lon is None:
            missing.append(n)
        else:
            pos[n] = (float(lon) * GEO_SCALE, -float(lat) * GEO_SCALE)
    per_row = 60
    for i, n in enumerate(sorted(missing, key=str)):
        row, col = divmod(i, per_row)
        pos[n] = (-180 * GEO_SCALE + col * 60.0, (95 + row * 6) * GEO_SCALE)
    return pos


def _force_positions(G, seed: int, radius: dict | None = None) -> dict:
    """A seeded Fruchterman-Reingold layout (networkx ``spring_layout``), scaled to pixels.

    Nodes are then pushed apart until no two discs (``radius`` in pixels) overlap, so
    every node can be seen and hovered.
    """
    import networkx as nx
    import numpy as np

    if len(G) == 0:
        return {}
    nodes = sorted(G.nodes, key=str)
    scale = max(300.0, 80.0 * math.sqrt(len(nodes)))
    H = nx.Graph()
    H.add_nodes_from(nodes)
    H.add_weighted_edges_from((u, v, d.get("weight", 1.0)) for u, v, d in G.edges(data=True))
    xy = _spring(H, nodes, seed, scale)
    if radius:
        r = np.array([float(radius.get(n, SIZE_MIN)) for n in nodes])
        xy = _separate(xy, r)
    return {n: (float(x), float(y)) for n, (x, y) in zip(nodes, xy, strict=True)}


def _spring(H, nodes: list, seed: int, scale: float):
    """``networkx.spring_layout`` positions as an array in ``nodes`` order.

    networkx switches to a scipy sparse solver at 500 nodes; without scipy the
    dense numpy solver networkx uses for smaller graphs is called instead.
    """
    import networkx as nx
    import numpy as np

    try:
        raw = nx.spring_layout(H, seed=seed, weight="weight", scale=scale)
        return np.array([raw[n] for n in nodes], dtype=float)
    except ImportError:
        dense = getattr(nx.drawing.layout, "_fruchterman_reingold", None)
        if dense is None:
            raise KgError(f"the force layout of {len(nodes)} nodes needs scipy "
                          "(pip install scipy), or use --layout geo") from None
    A = nx.to_numpy_array(H, nodelist=nodes, weight="weight")
    pos = dense(A, None, None, None, 50, 1e-4, 2, np.random.RandomState(seed))
    return nx.rescale_layout(pos, scale=scale)


def _separate(xy, r, gap: float = 6.0, rounds: int = 60, inner: int = 15):
    """Push overlapping discs apart (deterministic).

    Each round finds the overlapping pairs from the full distance matrix, then
    relaxes only those pairs a few times; it stops when no pair overlaps.
    """
    import numpy as np

    n = len(xy)
    if n < 2:
        return xy
    # a tiny deterministic spiral offset separates coincident points
    k = np.arange(n, dtype=float)
    spiral = np.stack([np.cos(k * 2.399963), np.sin(k * 2.399963)], axis=1)
    xy = xy + spiral * 1e-3 * (k + 1)[:, None]
    iu, ju = np.triu_indices(n, 1)
    need_all = (r[:, None] + r[None, :] + gap)[iu, ju]
    for _ in range(rounds):
        diff = xy[iu] - xy[ju]
        dist = np.sqrt((diff * diff).sum(axis=1))
        hit = dist < need_all
        if not hit.any():
            break
        i, j, need = iu[hit], ju[hit], need_all[hit] * 1.02
        for _ in range(inner):
            d = xy[i] - xy[j]
            dd = np.sqrt((d * d).sum(axis=1))
            dd = np.where(dd == 0, 1e-6, dd)
            over = need - dd
            mask = over > 0
            if not mask.any():
                break
            push = (np.where(mask, over / (2.0 * dd), 0.0))[:, None] * d
            delta = np.zeros_like(xy)
            np.add.at(delta, i, push)
            np.add.at(delta, j, -push)
            xy = xy + 0.5 * delta
    return xy


def _group_colors(groups: dict) -> tuple[dict, list]:
    """Colour per group (largest groups first); returns (group -> colour, legend rows)."""
    counts: dict = {}
    for g in groups.values():
        counts[g] = counts.get(g, 0) + 1
    order = sorted((g for g in counts if g not in NEUTRAL_GROUPS),
                   key=lambda g: (-counts[g], str(g)))
    colors = {}
    legend = []
    for g in sorted(g for g in counts if g in NEUTRAL_GROUPS):
        colors[g] = NEUTRAL_COLOR
    for i, g in enumerate(order):
        if i < len(PALETTE) - 1 or len(order) == len(PALETTE):
            colors[g] = PALETTE[i]
            legend.append((str(g), PALETTE[i], counts[g]))
        else:
            colors[g] = OTHER_COLOR
    rest = sum(counts[g] for g in order if colors[g] == OTHER_COLOR)
    if rest:
        legend.append(("other", OTHER_COLOR, rest))
    for g in sorted(g for g in counts if g in NEUTRAL_GROUPS):
        legend.append((g, NEUTRAL_COLOR, counts[g]))
    return colors, legend


def _scale(value: float, lo: float, hi: float, out_lo: float, out_hi: float) -> float:
    if hi <= lo:
        return (out_lo + out_hi) / 2
    t = (value - lo) / (hi - lo)
    return out_lo + math.sqrt(max(t, 0.0)) * (out_hi - out_lo)


def _fmt(v) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, int) or (isinstance(v, float) and float(v).is_integer() and abs(v) < 1e12):
        return str(int(v))
    if isinstance(v, float):
        return f"{v:.4f}"
    return str(v)


def _name(G, n) -> str:
    label = G.nodes[n].get("label") if n in G else None
    return f"{label} ({n})" if label and label != n else str(n)


def _edge_kind(d: dict, relation: str) -> str:
    types = d.get("agreement_types") or []
    ex_w = d.get("exercise_weight", d.get("weight", 0) if relation == "exercise" else 0)
    ag_w = d.get("agreement_weight", d.get("weight", 0) if relation == "agreement" else 0)
    if relation == "all" and ex_w and ag_w:
        return "exercise + agreement"
    if relation == "exercise" or (relation == "all" and ex_w):
        return "exercise"
    if "DefenceTreaty" in types or "AllianceSpell" in types:
        return "defence treaty"
    return "agreement"


_METRIC_ORDER = ("degree", "strength", "betweenness", "closeness", "eigenvector", "pagerank",
                 "community")


def _node_tooltip(G, n, m: dict, sources: dict, relation: str, top: int = 5,
                  strongest: int = 3) -> str:
    lines = [_name(G, n)]
    region = G.nodes[n].get("region")
    if region:
        lines.append(f"Region: {region}")
    parts = [f"{k} {_fmt(m[k])}" for k in _METRIC_ORDER if k in m]
    parts += [f"{k} {_fmt(v)}" for k, v in sorted(m.items()) if k not in _METRIC_ORDER
              and isinstance(v, (int, float, str))]
    if parts:
        lines.append(" · ".join(parts))
    nbrs = sorted(G[n].items(), key=lambda kv: (-kv[1].get("weight", 1.0), str(kv[0])))
    if nbrs:
        tops = [f"{_name(G, p)} {_fmt(d.get('weight', 1.0))}" for p, d in nbrs[:top]]
        more = f" (+{len(nbrs) - top} more)" if len(nbrs) > top else ""
        lines.append(f"Top partners ({relation} weight): " + "; ".join(tops) + more)
    src_lines = []
    for p, _d in nbrs[:strongest]:
        titles = sources.get(_pair(n, p)) or []
        if titles:
            shown = "; ".join(titles[:3])
            more = f" (+{len(titles) - 3} more)" if len(titles) > 3 else ""
            src_lines.append(f"  {G.nodes[p].get('label') or p}: {shown}{more}")
    if src_lines:
        lines.append("Sources behind the strongest ties:")
        lines.extend(src_lines)
    return "\n".join(lines)


def _edge_tooltip(G, u, v, d: dict, relation: str) -> str:
    text = f"{_name(G, u)} – {_name(G, v)}: weight {_fmt(d.get('weight', 1.0))}"
    extra = []
    if "exercise_weight" in d:
        extra.append(f"exercises {_fmt(d['exercise_weight'])}")
    if "agreement_weight" in d:
        extra.append(f"agreements {_fmt(d['agreement_weight'])}")
    if d.get("agreement_types"):
        extra.append("types: " + ", ".join(str(t) for t in d["agreement_types"]))
    if extra:
        text += " (" + "; ".join(extra) + ")"
    return text


def _pair(a, b) -> tuple:
    return (a, b) if str(a) < str(b) else (b, a)


# ------------------------------------------------------------------ HTML

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="__CSP__">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="kg map (vis-network __VISVER__ via pyvis __PYVISVER__)">
<title>__TITLE__</title>
<style>__VISCSS__</style>
<style>
html, body { margin: 0; padding: 0; height: 100%; font-family: __FONT__; color: #222; }
body { display: flex; flex-direction: column; }
header { padding: 8px 14px 4px 14px; border-bottom: 1px solid #ddd; }
header h1 { font-size: 18px; margin: 0 0 2px 0; }
header p { margin: 0; font-size: 12px; color: #555; overflow-wrap: anywhere; }
main { flex: 1; display: flex; min-height: 0; }
#mynetwork { flex: 1; min-width: 0; position: relative; background: #fff; }
#legend { width: 250px; padding: 8px 12px; border-left: 1px solid #ddd; font-size: 12px;
          overflow-y: auto; }
#legend h2 { font-size: 13px; margin: 8px 0 4px 0; }
#legend p { margin: 6px 0; color: #444; overflow-wrap: anywhere; }
#legend ul { list-style: none; margin: 0; padding: 0; }
#legend li { margin: 2px 0; display: flex; align-items: center; gap: 6px; }
.sw { display: inline-block; width: 12px; height: 12px; border-radius: 6px;
      border: 1px solid #999; flex: none; }
.ln { display: inline-block; width: 22px; height: 4px; flex: none; }
div.vis-tooltip { white-space: pre-line; max-width: 520px; font-family: __FONT__;
                  font-size: 12px; line-height: 1.35; }
</style>
</head>
<body>
<header>
<h1>__TITLE__</h1>
<p>__SUBTITLE__</p>
</header>
<main>
<div id="mynetwork"></div>
<aside id="legend">
__LEGEND__
</aside>
</main>
<script type="application/json" id="kg-data">__DATA__</script>
<script>__VISJS__</script>
<script>__APPJS__</script>
</body>
</html>
"""

_APP_JS = """(function () {
  "use strict";
  var t0 = performance.now();
  var data = JSON.parse(document.getElementById("kg-data").textContent);
  function tip(text) {
    var el = document.createElement("div");
    el.className = "kg-tip";
    el.textContent = text;
    return el;
  }
  var i, item;
  for (i = 0; i < data.nodes.length; i++) {
    item = data.nodes[i];
    if (typeof item.tip === "string") { item.title = tip(item.tip); }
    delete item.tip;
  }
  for (i = 0; i < data.edges.length; i++) {
    item = data.edges[i];
    if (typeof item.tip === "string") { item.title = tip(item.tip); }
    delete item.tip;
  }
  window.kgMap = {nodes: data.nodes.length, edges: data.edges.length, ready: false,
                  drawMs: null, readyAt: null, focus: data.focus};
  var container = document.getElementById("mynetwork");
  var network = new vis.Network(container,
    {nodes: new vis.DataSet(data.nodes), edges: new vis.DataSet(data.edges)}, data.options);
  window.network = network;
  network.once("afterDrawing", function () {
    window.kgMap.drawMs = performance.now() - t0;
    window.kgMap.readyAt = performance.now();
    window.kgMap.ready = true;
  });
  if (data.focus !== null) { network.selectNodes([data.focus]); }
})();
"""


def _json_for_script(obj) -> str:
    """JSON safe inside a ``<script type="application/json">`` element."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True,
                      allow_nan=False)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _sha256_b64(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def _legend_html(sections: list[tuple[str, list]]) -> str:
    """Legend HTML: a heading per section with swatch rows; a section without rows is a note."""
    out = []
    for heading, rows in sections:
        if not rows:
            out.append(f"<p>{html.escape(heading)}</p>")
            continue
        out.append(f"<h2>{html.escape(heading)}</h2>")
        out.append("<ul>")
        for kind, label, color in rows:
            cls = "ln" if kind == "line" else "sw"
            sw = f'<span class="{cls}" style="background:{color}"></span>' if color else ""
            out.append(f"<li>{sw}<span>{html.escape(str(label))}</span></li>")
        out.append("</ul>")
    return "\n".join(out)


def render_graph(G, metrics: dict | None, out: str | os.PathLike, title: str, *,
                 layout: str = "force", size_by: str = "degree", color_by: str = "region",
                 focus: str | None = None, subtitle: str = "", relation: str = "exercise",
                 sources: dict | None = None, fingerprint: str | None = None,
                 notes: list[str] | None = None, seed: int = 42, csp: bool = True,
                 params: dict | None = None) -> MapResult:
    """Draw a networkx graph as a self-contained, offline, escaped vis-network HTML page.

    :param G: an undirected graph; node attributes ``label``, ``region``, ``lat``, ``lon``
        (and any ``color_by`` attribute), edge attribute ``weight``.
    :param metrics: per node, a dict of metrics (as :func:`kg.metrics.node_metrics`);
        ``None`` or missing values fall back to degree and strength computed here.
    :param out: the HTML file to write (UTF-8).
    :param title: the page title (escaped).
    :param layout: ``geo`` (lat/lon) or ``force`` (seeded spring layout); physics off.
    :param size_by: the metric that sizes nodes (``degree``, ``strength``, ...).
    :param color_by: a metric (``community``) or node attribute (``region``, ``alliance``).
    :param focus: a node to mark and select.
    :param subtitle: a line under the title (escaped).
    :param relation: the relation the weights count, for tooltips and edge colours.
    :param sources: ``{(a, b): [source titles]}`` with ``a < b``, shown in node tooltips.
    :param fingerprint: the dataset fingerprint, shown in the legend.
    :param notes: extra legend lines (escaped).
    :param seed: seed of the force layout.
    :param csp: add the Content-Security-Policy (on by default; tests turn it off to
        show that escaping alone is safe).
    :param params: parameters recorded in the result.
    :returns: a :class:`MapResult`.

    >>> import networkx as nx
    >>> G = nx.path_graph(3)  # doctest: +SKIP
    >>> render_graph(G, None, "g.html", "A path").nodes  # doctest: +SKIP
    3
    """
    from pyvis import __version__ as pyvis_version
    from pyvis.network import Network

    if layout not in LAYOUTS:
        raise UsageError(f"unknown layout {layout!r} (one of: {', '.join(LAYOUTS)})")
    metrics = metrics or {}
    sources = sources or {}
    out = Path(out)

    degree = dict(G.degree())
    strength = dict(G.degree(weight="weight"))

    def metric(n, name):
        v = (metrics.get(n) or {}).get(name)
        if v is None:
            v = {"degree": degree, "strength": strength}.get(name, {}).get(n)
        return v

    size_vals = {n: float(metric(n, size_by) or 0.0) for n in G.nodes}
    lo = min(size_vals.values(), default=0.0)
    hi = max(size_vals.values(), default=0.0)

    groups = {}
    for n in G.nodes:
        g = metric(n, color_by) if color_by not in ("region", "alliance") else None
        if g is None:
            g = G.nodes[n].get(color_by)
        groups[n] = "unknown" if g is None or g == "" else g
    if color_by == "community":
        groups = {n: f"community {g}" if isinstance(g, int) else g for n, g in groups.items()}
    colors, color_legend = _group_colors(groups)

    radius = {n: _scale(size_vals[n], lo, hi, SIZE_MIN, SIZE_MAX) for n in G.nodes}
    if layout == "geo":
        pos = _geo_positions(G)
        if len(pos) > 1:  # nudge apart states that share a capital (SUN/RUS, YUG/SRB ...)
            import numpy as np

            order = sorted(pos, key=str)
            xy = _separate(np.array([pos[n] for n in order], dtype=float),
                           np.full(len(order), 3.0))
            pos = {n: (float(x), float(y)) for n, (x, y) in zip(order, xy, strict=True)}
    else:
        pos = _force_positions(G, seed, radius)

    nodes = []
    for n in sorted(G.nodes, key=str):
        x, y = pos[n]
        color = colors[groups[n]]
        node = {
            "id": n,
            "label": str(G.nodes[n].get("label") or n),
            "x": round(x, 1),
            "y": round(y, 1),
            "size": round(radius[n], 2),
            "color": {"background": color, "border": "#555555",
                      "highlight": {"background": color, "border": FOCUS_BORDER},
                      "hover": {"background": color, "border": FOCUS_BORDER}},
            "tip": _node_tooltip(G, n, metrics.get(n) or {"degree": degree[n],
                                                           "strength": strength[n]},
                                 sources, relation),
        }
        if n == focus:
            node["borderWidth"] = 4
            node["color"]["border"] = FOCUS_BORDER
            node["font"] = {"size": 34 if layout == "geo" else 20, "bold": True}
        nodes.append(node)

    weights = [d.get("weight", 1.0) for _, _, d in G.edges(data=True)]
    wmax = max(weights, default=1.0)
    edges = []
    opacity = 0.55 if G.number_of_edges() < 300 else 0.3
    kinds_used: dict = {}
    for u, v, d in sorted(G.edges(data=True), key=lambda e: _pair(str(e[0]), str(e[1]))):
        a, b = _pair(u, v)
        kind = _edge_kind(d, relation)
        kinds_used[kind] = kinds_used.get(kind, 0) + 1
        edges.append({
            "id": f"{a}|{b}",
            "from": a,
            "to": b,
            "width": round(_scale(d.get("weight", 1.0), 0.0, wmax, WIDTH_MIN, WIDTH_MAX), 2),
            "color": {"color": EDGE_COLORS[kind], "opacity": opacity,
                      "highlight": EDGE_COLORS[kind], "hover": EDGE_COLORS[kind]},
            "tip": _edge_tooltip(G, a, b, d, relation),
        })

    big = len(nodes) > 300
    options = {
        "autoResize": True,
        "physics": {"enabled": False},
        "layout": {"improvedLayout": False, "randomSeed": seed},
        "edges": {"smooth": False, "selectionWidth": 1.5, "hoverWidth": 1.0},
        "nodes": {"shape": "dot", "borderWidth": 1, "borderWidthSelected": 3,
                  "scaling": {"label": {"drawThreshold": 3}},
                  "font": {"size": 24 if layout == "geo" else 14, "face": FONT_FACE,
                           "strokeWidth": 3,
                           "strokeColor": "#ffffff"}},
        "interaction": {"hover": True, "tooltipDelay": 100, "hideEdgesOnDrag": big,
                        "hideEdgesOnZoom": big, "navigationButtons": False, "keyboard": False,
                        "multiselect": False},
    }

    # pyvis is the library that holds the network data and ships vis-network; nodes and
    # edges are filled directly (Network.add_edge and from_nx are quadratic in the edges).
    net = Network(height="100%", width="100%", directed=False, cdn_resources="in_line",
                  heading="")
    net.nodes = nodes
    net.edges = edges
    net.node_ids = [nd["id"] for nd in nodes]
    net.node_map = {nd["id"]: nd for nd in nodes}
    net.options = options
    vis_nodes, vis_edges, _heading, _h, _w, options_json = net.get_network_data()

    js, css, vis_version = vis_assets()
    focus_value = focus if focus in G else None
    data_json = _json_for_script({"nodes": vis_nodes, "edges": vis_edges,
                                  "options": json.loads(options_json), "focus": focus_value})

    layout_note = ("geo: capital latitude/longitude (states without coordinates in a row "
                   "below the map; states sharing a capital nudged apart)" if layout == "geo"
                   else f"force: networkx spring layout, seed {seed}")
    legend_rows: list[tuple[str, list]] = [
        (f"Node colour: {color_by}",
         [("dot", f"{label} ({count})", color) for label, color, count in color_legend]),
        (f"Node size: {size_by}", [("dot", f"{_fmt(lo)} … {_fmt(hi)}", None)]),
        ("Edges (width: weight)",
         [("line", f"{k} ({kinds_used[k]})", EDGE_COLORS[k]) for k in EDGE_COLORS
          if k in kinds_used]),
        (f"Layout: {layout_note}", []),
        (f"{len(nodes)} nodes, {len(edges)} edges", []),
    ]
    if focus_value is not None:
        legend_rows.append((f"Focus: {_name(G, focus_value)} (black border)", []))
    for note in notes or []:
        legend_rows.append((note, []))
    if fingerprint:
        legend_rows.append((f"Dataset fingerprint (SHA-256): {fingerprint}", []))
    legend_rows.append(("Hover a node or edge for details; drag to pan, scroll to zoom.", []))

    app_js = _APP_JS
    if csp:
        csp_value = ("default-src 'none'; "
                     f"script-src 'sha256-{_sha256_b64(js)}' 'sha256-{_sha256_b64(app_js)}'; "
                     "style-src 'unsafe-inline'; img-src data:; font-src data:; "
                     "base-uri 'none'; form-action 'none'")
    else:
        csp_value = "default-src * 'unsafe-inline' 'unsafe-eval' data: blob: file:"

    # Inline scripts must not contain "</script" (vis-network does not; check anyway).
    for text in (js, app_js):
        if "</script" in text.lower():
            raise KgError("vis-network JavaScript contains '</script' and cannot be inlined")
    css = css.replace("</", "<\\/")

    page = _TEMPLATE
    replacements = [
        ("__CSP__", html.escape(csp_value, quote=True)),
        ("__VISVER__", html.escape(vis_version)),
        ("__PYVISVER__", html.escape(str(pyvis_version))),
        ("__FONT__", FONT_FACE),
        ("__TITLE__", html.escape(title)),
        ("__SUBTITLE__", html.escape(subtitle)),
        ("__LEGEND__", _legend_html(legend_rows)),
        ("__VISCSS__", css),
        ("__DATA__", data_json),
        ("__APPJS__", app_js),
        ("__VISJS__", js),
    ]
    # One pass, so that no replacement text is ever searched for placeholders again.
    table = dict(replacements)
    page = re.sub("|".join(re.escape(k) for k in table), lambda m: table[m.group(0)], page)

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(page, encoding="utf-8", newline="\n")
    os.replace(tmp, out)
    return MapResult(path=out, nodes=len(nodes), edges=len(edges), fingerprint=fingerprint,
                     params=dict(params or {}))


# ------------------------------------------------------------------ from the store

def tie_sources(store, pairs, *, relation: str = "exercise", year_from: int | None = None,
                year_to: int | None = None, graphs: list[str] | None = None) -> dict:
    """Titles of the sources (``sp:source`` / ``dcterms:title``) behind the given ties.

    For each state pair, the exercises both took part in (relation ``exercise``),
    the agreements both are party to in force in the window (``agreement``), or
    both (``all``), counted as :func:`kg.network.build_network` counts them; the
    titles are ordered by how many of those exercises or agreements cite them.
    The window patterns are kg.network's own, so the sources belong to exactly the
    ties drawn; their year bounds are serialized as xsd:integer terms.

    :returns: ``{(a, b): [title, ...]}`` with ``a < b``.

    >>> tie_sources(store, [("JPN", "USA")], year_from=2019, year_to=2019)  # doctest: +SKIP
    """
    from kg.namespaces import ID, SP, XSD, iso3_of
    from kg.network import agreement_window, exercise_incidence

    wanted = {_pair(a, b) for a, b in pairs}
    if not wanted:
        return {}
    states = {s for p in wanted for s in p}
    state_ns = f"{ID}state/"
    prefixes = (f"PREFIX sp: <{SP}>\nPREFIX xsd: <{XSD}>\n"
                "PREFIX owl: <http://www.w3.org/2002/07/owl#>\n"
                "PREFIX dcterms: <http://purl.org/dc/terms/>\n")
    # The same window patterns kg.network.build_network counts ties with.
    ag_block = agreement_window(year_from, year_to, None)
    blocks = []
    if relation in ("exercise", "all"):
        blocks.append(("ex", exercise_incidence("s", year_from, year_to, False), "",
                       exercise_incidence("p", year_from, year_to, False)))
    if relation in ("agreement", "all"):
        blocks.append(("ag", ag_block, "  ?ag sp:party ?s .\n", ag_block))

    members: dict = {}  # state -> set of items
    titles: dict = {}  # item -> set of titles
    for var, block, members_of, title_block in blocks:
        q_members = prefixes + (
            f"SELECT DISTINCT ?{var} ?s WHERE {{\n{block}{members_of}"
            f"  FILTER(STRSTARTS(STR(?s), \"{state_ns}\"))\n}}"
        )
        q_titles = prefixes + (
            f"SELECT DISTINCT ?{var} ?title WHERE {{\n{title_block}"
            f"  ?{var} sp:source ?src .\n  ?src dcterms:title ?title .\n}}"
        )
        for item, s in store.select(q_members, graphs=graphs).rows:
            iso = iso3_of(s.value)
            if iso in states:
                members.setdefault(iso, set()).add(item.value)
        for item, t in store.select(q_titles, graphs=graphs).rows:
            titles.setdefault(item.value, set()).add(t.value)

    out = {}
    for a, b in sorted(wanted):
        shared = members.get(a, set()) & members.get(b, set())
        counts: dict = {}
        for item in shared:
            for t in titles.get(item, ()):
                counts[t] = counts.get(t, 0) + 1
        out[(a, b)] = sorted(counts, key=lambda t: (-counts[t], t))
    return out


def _alliance_groups(store, G, year_from, year_to, graphs) -> dict:
    """Alliance bloc of each node: connected components of defence-treaty ties in the window."""
    import networkx as nx

    from kg.network import build_network

    T = build_network(store, relation="agreement", year_from=year_from, year_to=year_to,
                      agreement_types=["DefenceTreaty", "AllianceSpell"], graphs=graphs)
    groups = {}
    for comp in nx.connected_components(T):
        if len(comp) < 2:
            continue
        hub = max(comp, key=lambda n: (T.degree(n), str(n) == "USA", str(n)))
        label = T.nodes[hub].get("label") or hub
        name = f"treaty bloc around {label}"
        for n in comp:
            groups[n] = name
    return {n: groups.get(n, "no defence treaty") for n in G.nodes}


def _window_text(year_from, year_to) -> str:
    if year_from is None and year_to is None:
        return "all years"
    if year_from is None:
        return f"up to {year_to}"
    if year_to is None:
        return f"{year_from} onwards"
    return f"{year_from}–{year_to}" if year_from != year_to else str(year_from)


def render_map(store, *, out: str | os.PathLike = "map.html", focus: str | None = None,
               year_from: int | None = None, year_to: int | None = None,
               relation: str = "exercise", layout: str = "geo", size_by: str = "degree",
               color_by: str = "region", min_weight: float = 1,
               graphs: list[str] | None = None, csp: bool = True) -> MapResult:
    """Write the interactive map of the state network in a window of years.

    Metrics (:func:`kg.metrics.node_metrics`) are computed on the whole network of
    the window; ``min_weight`` and ``focus`` then choose what is drawn: ties of at
    least ``min_weight``, and with ``focus`` only the focal state, its partners and
    the ties among them. States without a drawn tie are left out.

    :param store: an open store (local or remote).
    :param out: the HTML file to write.
    :param focus: ISO3 code of a focal state (its ego network is drawn).
    :param year_from: first year of the window (inclusive), or None.
    :param year_to: last year of the window (inclusive), or None.
    :param relation: ``exercise``, ``agreement`` or ``all``.
    :param layout: ``geo`` or ``force``.
    :param size_by: ``degree``, ``strength``, ``betweenness`` or ``pagerank``.
    :param color_by: ``region``, ``community`` or ``alliance`` (defence-treaty blocs).
    :param min_weight: smallest tie weight drawn.
    :param graphs: dataset graphs to read (short names); None reads all.
    :param csp: keep the Content-Security-Policy (tests turn it off to show that the
        escaping alone keeps data from running).
    :returns: a :class:`MapResult` (path, node and edge counts, fingerprint).

    >>> render_map(store, out="jpn.html", focus="JPN", year_from=2015)  # doctest: +SKIP
    """
    from kg.metrics import node_metrics
    from kg.namespaces import is_iso3
    from kg.network import build_network

    if relation not in RELATIONS:
        raise UsageError(f"unknown relation {relation!r} (one of: {', '.join(RELATIONS)})")
    if layout not in LAYOUTS:
        raise UsageError(f"unknown layout {layout!r} (one of: {', '.join(LAYOUTS)})")
    if size_by not in SIZE_BY:
        raise UsageError(f"unknown --size-by {size_by!r} (one of: {', '.join(SIZE_BY)})")
    if color_by not in COLOR_BY:
        raise UsageError(f"unknown --color-by {color_by!r} (one of: {', '.join(COLOR_BY)})")
    if focus is not None and not is_iso3(focus):
        raise UsageError(f"--focus {focus!r} is not an ISO3 code (three upper-case letters)")
    if min_weight is None or min_weight < 0:
        raise UsageError("--min-weight must be 0 or more")

    G = build_network(store, relation=relation, year_from=year_from, year_to=year_to,
                      graphs=graphs)
    metrics = node_metrics(G) if len(G) else {}
    fingerprint = store.fingerprint(graphs=graphs)["all"]

    H = G.__class__()
    H.graph.update(G.graph)
    H.add_edges_from((u, v, d) for u, v, d in G.edges(data=True)
                     if d.get("weight", 1.0) >= min_weight)
    if focus is not None:
        if focus not in H:
            raise UsageError(f"{focus} has no {relation} ties of weight >= {_fmt(min_weight)} "
                             f"in {_window_text(year_from, year_to)}")
        keep = {focus} | set(H[focus])
        H = H.subgraph(keep).copy()
    for n in H.nodes:
        H.nodes[n].update(G.nodes[n])
    if color_by == "alliance":
        for n, g in _alliance_groups(store, H, year_from, year_to, graphs).items():
            H.nodes[n]["alliance"] = g

    strongest = set()
    for n in H.nodes:
        nbrs = sorted(H[n].items(), key=lambda kv: (-kv[1].get("weight", 1.0), str(kv[0])))
        strongest.update(_pair(n, p) for p, _ in nbrs[:3])
    sources = tie_sources(store, strongest, relation=relation, year_from=year_from,
                          year_to=year_to, graphs=graphs)

    names = ", ".join(graphs) if graphs else "all graphs"
    window = _window_text(year_from, year_to)
    title = {"exercise": "Exercise network", "agreement": "Agreement network",
             "all": "Exercise and agreement network"}[relation] + f", {window}"
    if focus is not None:
        title += f": {G.nodes[focus].get('label') or focus} and its partners"
    subtitle = (f"Window: {window} · relation: {relation} · ties of weight >= {_fmt(min_weight)}"
                f" · data: {names} · dataset fingerprint sha256:{fingerprint[:16]}")
    notes = [f"Weighting: {G.graph.get('params', {}).get('weighting', '')}",
             "Metrics are computed on the whole network of the window."]
    params = {"relation": relation, "from": year_from, "to": year_to, "focus": focus,
              "layout": layout, "size_by": size_by, "color_by": color_by,
              "min_weight": min_weight, "graphs": graphs}
    return render_graph(H, metrics, out, title, layout=layout, size_by=size_by,
                        color_by=color_by, focus=focus, subtitle=subtitle, relation=relation,
                        sources=sources, fingerprint=fingerprint, notes=notes, params=params,
                        csp=csp)


# ------------------------------------------------------------------ screenshots

def find_chromium() -> str | None:
    """Path of the Chromium binary (``$KG_CHROMIUM``, ``/usr/bin/chromium``, or on PATH)."""
    env = os.environ.get("KG_CHROMIUM")
    for cand in (env, CHROMIUM, shutil.which("chromium"), shutil.which("chromium-browser")):
        if cand and os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    return None


def screenshot(html_path: str | os.PathLike, png_path: str | os.PathLike, width: int = 1600,
               height: int = 1000, *, timeout: float = 30.0) -> Path:
    """Save a PNG of an HTML map, drawn by headless Chromium through Playwright.

    Every request that does not stay on ``file:`` or ``data:`` is aborted.

    :raises BrowserUnavailable: when Chromium or Playwright is missing.
    :returns: the PNG path.

    >>> screenshot("map.html", "map.png")  # doctest: +SKIP
    """
    exe = find_chromium()
    if exe is None:
        raise BrowserUnavailable("no Chromium found for the screenshot "
                                 f"(install Debian's chromium at {CHROMIUM} or set KG_CHROMIUM)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - playwright is a test dependency
        raise BrowserUnavailable("the screenshot needs the playwright package "
                                 "(pip install playwright; no browser download needed)") from exc
    html_path = Path(html_path).resolve()
    png_path = Path(png_path)
    if not html_path.is_file():
        raise UsageError(f"no such map: {html_path}")
    png_path.parent.mkdir(parents=True, exist_ok=True)

    def shoot() -> None:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": int(width), "height": int(height)})
                page.route("**/*", lambda route: route.continue_()
                           if route.request.url.startswith(("file:", "data:"))
                           else route.abort())
                page.goto(html_path.as_uri(), timeout=timeout * 1000)
                try:
                    page.wait_for_function("window.kgMap && window.kgMap.ready === true",
                                           timeout=timeout * 1000)
                except Exception:  # a page that is not a kg map: take it as it is
                    pass
                page.screenshot(path=str(png_path), full_page=False)
            finally:
                browser.close()

    # Playwright's sync API refuses to run inside an asyncio loop or a second sync
    # session in the same thread; a worker thread of its own works from anywhere.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(shoot).result()
    return png_path
