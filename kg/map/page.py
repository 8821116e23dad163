"""The map page: networks of many years in one offline HTML file, drawn by vis-network.

:func:`render_series` writes the page for a :class:`Series` (one network per
year and window width); :func:`render_graph` is the same for one networkx graph.

The page (``assets/page.html``, ``assets/map.css``, ``assets/map.js``):

* is drawn by vis-network as the installed pyvis package ships it
  (:func:`vis_assets`); the states and the vis options are assembled with
  pyvis' ``Network`` (:func:`_vis_network`), and the script
  keeps vis DataSets in step with the year, window and filters (the network
  is built once and never rebuilt), paints the basemap in vis-network's
  ``beforeDrawing`` hook and serializes the vis view for the SVG export;
* makes no request of any kind: vis-network, the script, the styles and the
  Natural Earth basemap are inline, and a Content-Security-Policy
  (``default-src 'none'``, the one script allowed by its SHA-256 hash) makes
  the browser refuse anything else, including inline event handlers;
* is UTF-8 with ``<meta charset="utf-8">``;
* never lets data reach HTML unescaped: title, subtitle and legend are
  HTML-escaped here (:func:`kg.escape.html`); nodes, edges and sources travel as JSON in a
  ``<script type="application/json">`` block with ``<``, ``>`` and ``&``
  escaped (:func:`kg.escape.script_json`); in both, a bidirectional control from data
  (U+202E...) is shown as ``\\u202e``, so it cannot reverse the rest of a title,
  legend line, menu entry or tooltip; vis-network draws labels on its canvas (no
  ``title`` is given to vis, so its HTML popups are never used); the script fills the
  tooltip and the menus with ``textContent`` and escapes text for XML in the SVG export;
* redraws in place when the year, the window, the relation, the minimum
  weight, the focus, the size measure, the layout or the pinned (clicked) state
  change, and keeps that state in the URL fragment, a cleared focus included, so
  that the address reopens the view
  (``#year=2019&window=5&relation=exercise&min=1&focus=JPN&size=degree&layout=geo&pin=AUS``);
* exposes ``window.kgMap`` (``ready``, ``loadMs``, ``stepMs``, ``set()``,
  ``drawn()`` (what the vis DataSets hold), ``sizes()`` (each shown disc's radius),
  ``tipOf(id)``, ``toSVG()``, ``toPNG()``, ``network()`` (the vis Network)) for
  tests and exports.

The same data and parameters give a byte-identical file.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from kg.basestore import Forked
from kg.cache import collector_paused
from kg.errors import KgError, UsageError
from kg.escape import html as _html
from kg.escape import script_json
from kg.map.basemap import load as load_basemap
from kg.map.layout import (
    GEO_SCALE,
    PALETTE,
    SIZE_MAX,
    SIZE_MIN,
    centre_meridian,
    force_positions,
    geo_positions,
    group_colors,
    wrap_lon,
)
from kg.network import RELATIONS

__all__ = ["Series", "MapResult", "LAYOUTS", "SIZE_BY", "COLOR_BY", "EDGE_COLORS", "FONT_FACE",
           "METRIC_NAMES", "render_series", "render_graph", "json_for_script", "vis_assets"]

LAYOUTS = ("geo", "force")
SIZE_BY = ("degree", "strength", "betweenness", "pagerank")
COLOR_BY = ("region", "community", "alliance")
#: Metrics the tooltip shows (from :func:`kg.metrics.node_metrics`), in this order.
METRIC_NAMES = ("degree", "strength", "betweenness", "closeness", "eigenvector", "pagerank",
                "community")
#: Edge colours by kind.
EDGE_COLORS = {
    "exercise": "#4c78a8",
    "agreement": "#e45756",
    "defence treaty": "#7b2d26",
    "exercise + agreement": "#9d5fb5",
}
TREATY_TYPES = ("DefenceTreaty", "AllianceSpell")
FONT_FACE = ("system-ui, 'Noto Sans', 'Noto Sans CJK JP', 'Hiragino Sans', 'Yu Gothic', "
             "Meiryo, 'DejaVu Sans', Arial, sans-serif")
#: Only this many of the strongest ties in view are drawn wider than 1 px (speed).
WIDE_TIES = 200
#: Force positions are computed (besides geo) up to this many states.
FORCE_TOO = 400
ASSETS = Path(__file__).resolve().parent / "assets"


@dataclass
class Series:
    """The networks a map can show: one per (year, window width).

    ``years``: the slider's years (empty for a single network); ``windows``: the
    window widths (a window ends at the slider's year); ``graphs``:
    ``{(year, window): networkx.Graph}`` (key ``(None, 1)`` for a single
    network), with edge ``weight`` or ``exercise_weight``/``agreement_weight``
    and ``agreement_types`` as :func:`kg.network.build_network` makes them;
    ``metrics``: the same keys to :func:`kg.metrics.node_metrics` results of the network of
    one relation (``render_series``'s ``metrics_relation``);
    ``metrics_by_relation``: ``{relation: {(year, window): node_metrics}}``, the metrics of
    the network of each relation the page can show (``exercise``, ``agreement``, ``all``;
    :func:`kg.map.data.build_series` fills it; when given, the page reads it instead of
    ``metrics``): disc sizes by betweenness or PageRank, community colours and the
    tooltips' metrics follow the relation shown, and where it has none (a single
    agreement type, or a window left out) discs take one size and colours are grey;
    ``sources``: ``{year or None: {(a, b): [titles]}}`` for the tooltips, or a function
    of no arguments that reads what they need from the store and returns a function of
    no arguments giving them (:func:`kg.map.data.render_map` hands over sources whose
    titles are still being read; the page reads them first and makes them beside the
    rest, :func:`_sources_job`);
    ``period``: the text of a single network's window.

    The networks may instead be given in bulk, without a networkx graph each
    (:func:`kg.map.data.build_series` does so): ``ties``: ``{(year, window):
    {(a, b): (exercise_weight, agreement_weight, agreement_types)}}`` (``a < b``,
    the tie's weight is the sum; ``agreement_types`` a list, or ``{type: n}``, the
    agreements of each type among them, which the page then weighs the tie by when it
    shows one agreement type; with a list it can only weigh it by all of them);
    ``members``: ``{(year, window): [node, ...]}``
    (every node of the window, tied or not); ``attrs``: ``{node: {"label",
    "region", "lat", "lon"}}``. A key is read from ``graphs`` when it is there.
    """

    years: list
    windows: tuple
    graphs: dict
    metrics: dict = field(default_factory=dict)
    metrics_by_relation: dict = field(default_factory=dict)
    sources: dict = field(default_factory=dict)
    period: str = "all years"
    ties: dict = field(default_factory=dict)
    members: dict = field(default_factory=dict)
    attrs: dict = field(default_factory=dict)

    def keys(self) -> list:
        """The ``(year, window)`` keys that hold a network, in the order they were added."""
        return list(self.graphs) + [k for k in self.ties if k not in self.graphs]

    def node_attrs(self) -> dict:
        """Every node of every network with its attributes (as first seen, years in order)."""
        attrs: dict = {}
        for key in sorted(self.keys(), key=lambda k: (k[0] is None, k[0] or 0, k[1])):
            G = self.graphs.get(key)
            if G is not None:
                for n in G.nodes:
                    if n not in attrs:
                        attrs[n] = dict(G.nodes[n])
                continue
            for n in self.members.get(key, ()):
                if n not in attrs:
                    attrs[n] = dict(self.attrs.get(n) or {})
        return attrs


@dataclass
class MapResult:
    """What a map page holds: ``path``; ``nodes``/``edges`` drawn when it opens;
    ``fingerprint`` of the graphs read (``None`` for a bare graph); ``params``."""

    path: Path
    nodes: int
    edges: int
    fingerprint: str | None = None
    params: dict = field(default_factory=dict)

    def summary(self) -> str:
        """One line: the path and the counts."""
        return f"{self.path}: {self.nodes} nodes, {self.edges} edges"


def json_for_script(obj) -> str:
    """JSON safe inside a ``<script type="application/json">`` element, bidirectional
    controls in strings shown as ``\\uNNNN`` text (:func:`kg.escape.script_json`).

    >>> json_for_script({"a": "</script>&"})
    '{"a":"\\\\u003c/script\\\\u003e\\\\u0026"}'
    """
    return script_json(obj)


def _num(v: float):
    """A weight or metric for the page: an int when whole, else 5 significant digits."""
    if type(v) is int and -10**12 < v < 10**12:  # noqa: E721 - exactly int (not bool): as is
        return v
    v = float(v)
    return int(v) if v.is_integer() and abs(v) < 1e12 else float(f"{v:.5g}")


def _ties(series: Series, key, relation: str) -> list | None:
    """The ties of one network as ``(u, v, weight, exercise weight, agreement weight, types)``.

    From a networkx graph: ``weight`` (default 1) and ``exercise_weight``/
    ``agreement_weight`` when the edge has them, else the weight counts
    ``relation`` (``agreement``, or exercises); from bulk ties the weight is
    their sum. None when the series has no network for ``key``.
    """
    G = series.graphs.get(key)
    if G is None:
        bulk = series.ties.get(key)
        if bulk is None:
            return None
        return [(a, b, float(ew + aw), ew, aw, types) for (a, b), (ew, aw, types) in bulk.items()]
    out = []
    for u, v, d in G.edges(data=True):
        types = d.get("agreement_types") or ()
        w = d.get("weight", 1.0)
        if "exercise_weight" in d or "agreement_weight" in d:
            out.append((u, v, float(w), d.get("exercise_weight", 0), d.get("agreement_weight", 0),
                        types))
        elif relation == "agreement":
            out.append((u, v, float(w), 0, w, types))
        else:
            out.append((u, v, float(w), w, 0, types))
    return out


def _nodes(series: Series) -> tuple[list, dict]:
    """Every node of every network, sorted, with its attributes (first seen)."""
    attrs = series.node_attrs()
    return sorted(attrs, key=str), attrs


def _positions(series: Series, ties: dict, order: list, attrs: dict, layout: str,
               seed: int) -> tuple:
    """(geo positions or None, force positions or None, centre meridian, layouts offered).

    Both layouts read the union of the first window width's ties, weights summed
    over the years (ties in the order they first appear, as the force layout reads them).
    """
    import networkx as nx

    weights: dict = {}
    for (_, win), found in ties.items():
        if win != series.windows[0]:
            continue
        for u, v, w, _ew, _aw, _types in found:
            key = (u, v) if (v, u) not in weights else (v, u)
            weights[key] = weights.get(key, 0.0) + w
    union = nx.Graph()
    union.add_nodes_from(order)
    union.add_weighted_edges_from((u, v, w) for (u, v), w in weights.items())
    coords = {n: (float(a["lat"]), float(a["lon"])) for n, a in attrs.items()
              if a.get("lat") is not None and a.get("lon") is not None}
    centre = centre_meridian(coords, ((u, v, d["weight"]) for u, v, d in
                                          sorted(union.edges(data=True))))
    offered = [x for x in LAYOUTS if x == layout or (x == "geo" and coords)
               or (x == "force" and len(order) <= FORCE_TOO)]
    geo = geo_positions(coords, order, centre) if "geo" in offered else None
    force = force_positions(union, seed) if "force" in offered else None
    return geo, force, centre, offered


def _geo_smooth(a: dict, b: dict, centre: float) -> dict:
    """vis-network's ``smooth`` for a geo tie: its curve bends toward the great circle.

    The tie's quadratic curve should pass through the great circle's midpoint
    (its control point twice as far off the chord), bent at most half a chord
    (near-antipodal pairs). vis-network's static ``curvedCW``/``curvedCCW``
    curves put the control point at ``s * chord`` from the first node, turned
    ``s * pi`` from the chord, with ``s = (1 + roundness) / 2``; its offset across
    the chord is ``-s * cos(s * pi) * chord``, which grows with ``s`` on [0.5, 1],
    so the roundness that gives the wanted offset is found by bisection. A tie
    whose short way crosses the map's edge cannot wrap in vis-network; it is
    drawn the long way round with a gentle bend. The bisection stops as soon as
    its answer, rounded to 3 decimals, can no longer change.

    >>> _geo_smooth({"x": 0, "y": 0, "lat": 0, "lon": 0}, {"x": 900, "y": 0, "lat": 0, "lon": 90}, 0)
    {'roundness': 0.0, 'type': 'curvedCW'}
    """
    import math

    ax, ay, bx, by = a["x"], a["y"], b["x"], b["y"]
    dx, dy = bx - ax, by - ay
    chord = math.hypot(dx, dy)
    if chord < 1e-9 or "lat" not in a or "lat" not in b:
        return {"roundness": 0.0, "type": "curvedCW"}
    if abs(dx) > 180 * GEO_SCALE:  # the short way wraps round the map's edge
        return {"roundness": 0.15, "type": "curvedCW"}
    r = math.pi / 180
    p1, l1, p2, l2 = a["lat"] * r, a["lon"] * r, b["lat"] * r, b["lon"] * r
    x = math.cos(p1) * math.cos(l1) + math.cos(p2) * math.cos(l2)
    y = math.cos(p1) * math.sin(l1) + math.cos(p2) * math.sin(l2)
    z = math.sin(p1) + math.sin(p2)
    norm = math.sqrt(x * x + y * y + z * z)
    if norm < 1e-6:
        return {"roundness": 0.15, "type": "curvedCW"}
    mlat, mlon = math.asin(z / norm) / r, math.atan2(y, x) / r
    cx, cy = (ax + bx) / 2, (ay + by) / 2
    mx = wrap_lon(mlon - centre) * GEO_SCALE
    mx += 360 * GEO_SCALE * round((cx - mx) / (360 * GEO_SCALE))
    ox, oy = 2 * (mx - cx), 2 * (-mlat * GEO_SCALE - cy)
    f = min(1.0, 0.5 * chord / max(math.hypot(ox, oy), 1e-9))
    h = (ox * -dy + oy * dx) * f / chord  # signed offset across the chord (along (-dy, dx))
    want = min(abs(h) / chord, 0.5)
    lo, hi = 0.5, 1.0
    for _ in range(40):
        # once both ends round alike, so does every later lo (rounding is monotone): the
        # answer of all 40 steps is known
        if hi - lo < 1e-3 and round(2 * lo - 1, 3) == round(2 * hi - 1, 3):
            break
        mid = (lo + hi) / 2
        if -mid * math.cos(mid * math.pi) < want:
            lo = mid
        else:
            hi = mid
    return {"roundness": round(2 * lo - 1, 3), "type": "curvedCCW" if h > 0 else "curvedCW"}


#: Depth of the grid of bisection midpoints :func:`_geo_smooths` evaluates once.
_BEND_DEPTH = 14
_GRID: dict = {}


def _bend_grid():
    """``-m * cos(m * pi)`` (the bisection's test in :func:`_geo_smooth`) at each point
    ``m = 0.5 + k / 2**(D+1)``, ``k = 0 .. 2**D``: every midpoint the first ``D``
    steps can meet, each an exact float, computed as that loop computes it."""
    import math

    import numpy as np

    cached = _GRID.get(_BEND_DEPTH)
    if cached is None:
        step = 0.5 / (1 << _BEND_DEPTH)
        cached = _GRID[_BEND_DEPTH] = np.array(
            [-m * math.cos(m * math.pi) for m in (0.5 + k * step
                                                  for k in range((1 << _BEND_DEPTH) + 1))])
    return cached


def _grid_thousandths(k):
    """``round(2 * m - 1, 3) * 1000`` as integers for grid points ``k`` (an array).

    ``2 * m - 1`` is exactly ``k / 2**D``; Python's ``round`` gives the nearest multiple
    of 0.001 to it (ties to even), which integer arithmetic finds exactly, and the float
    it returns is the double nearest that decimal, i.e. ``thousandths / 1000``.

    >>> int(_grid_thousandths(__import__("numpy").array([1 << (_BEND_DEPTH - 1)]))[0])
    500
    """
    import numpy as np

    q, rem = np.divmod(1000 * k, 1 << _BEND_DEPTH)
    half = 1 << (_BEND_DEPTH - 1)
    return q + ((rem > half) | ((rem == half) & (q % 2 == 1)))


def _geo_smooths(nodes: list, pairs: list, centre: float) -> list:
    """:func:`_geo_smooth` of many ties at once, equal to it tie by tie (the tests check).

    ``nodes`` are the vis nodes (``x``, ``y`` and, when known, ``lat``/``lon``),
    ``pairs`` ``(i, j)`` indexes into them. The arithmetic is numpy's, operation by
    operation as :func:`_geo_smooth` does it in IEEE doubles (so the same bits);
    the functions whose numpy versions may round differently (cos and sin of each
    capital, asin, atan2, hypot) are Python's ``math``, and the bisection walks the
    grid of :func:`_bend_grid` ``_BEND_DEPTH`` steps deep for every tie at once. A
    tie whose two ends then still round apart (a few in a hundred) is finished by
    :func:`_geo_smooth` itself.
    """
    import math

    import numpy as np

    if not pairs:
        return []
    r = math.pi / 180
    has = np.array([("lat" in n) for n in nodes])
    nx_ = np.array([float(n["x"]) for n in nodes])
    ny_ = np.array([float(n["y"]) for n in nodes])
    trig = [(math.cos(n["lat"] * r), math.cos(n["lon"] * r), math.sin(n["lon"] * r),
             math.sin(n["lat"] * r)) if "lat" in n else (0.0,) * 4 for n in nodes]
    cp, cl, sl, sp = (np.array(col) for col in zip(*trig, strict=True))
    cx_node, cy_node = cp * cl, cp * sl
    ii = np.array([i for i, _ in pairs])
    jj = np.array([j for _, j in pairs])
    ax, ay, bx, by = nx_[ii], ny_[ii], nx_[jj], ny_[jj]
    dx, dy = bx - ax, by - ay
    chord = np.array(list(map(math.hypot, dx.tolist(), dy.tolist())))
    flat = (chord < 1e-9) | ~(has[ii] & has[jj])
    wraps = ~flat & (np.abs(dx) > 180 * GEO_SCALE)
    x = cx_node[ii] + cx_node[jj]
    y = cy_node[ii] + cy_node[jj]
    z = sp[ii] + sp[jj]
    norm = np.sqrt(x * x + y * y + z * z)
    wraps |= ~flat & ~wraps & (norm < 1e-6)
    bend = ~flat & ~wraps
    safe = np.where(bend, norm, 1.0)
    mlat = np.array(list(map(math.asin, np.where(bend, z / safe, 0.0).tolist()))) / r
    mlon = np.array(list(map(math.atan2, y.tolist(), x.tolist()))) / r
    cx, cy = (ax + bx) / 2, (ay + by) / 2
    mx = ((mlon - centre) + 180.0) % 360.0 - 180.0  # wrap_lon
    mx = mx * GEO_SCALE
    mx = mx + 360 * GEO_SCALE * np.rint((cx - mx) / (360 * GEO_SCALE))
    ox, oy = 2 * (mx - cx), 2 * (-mlat * GEO_SCALE - cy)
    off = np.array(list(map(math.hypot, ox.tolist(), oy.tolist())))
    safe_chord = np.where(bend, chord, 1.0)
    f = np.minimum(1.0, 0.5 * safe_chord / np.maximum(off, 1e-9))
    h = (ox * -dy + oy * dx) * f / safe_chord
    want = np.minimum(np.abs(h) / safe_chord, 0.5)
    values = _bend_grid()
    lo = np.zeros(len(pairs), dtype=np.int64)
    hi = np.full(len(pairs), 1 << _BEND_DEPTH, dtype=np.int64)
    for _ in range(_BEND_DEPTH):
        mid = (lo + hi) >> 1
        below = values[mid] < want
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    rounded = _grid_thousandths(lo)
    done = rounded == _grid_thousandths(hi)  # every later step rounds alike (monotone)
    out = []
    for k, (i, j) in enumerate(pairs):
        if flat[k]:
            out.append({"roundness": 0.0, "type": "curvedCW"})
        elif wraps[k]:
            out.append({"roundness": 0.15, "type": "curvedCW"})
        elif done[k]:
            out.append({"roundness": int(rounded[k]) / 1000,
                        "type": "curvedCCW" if h[k] > 0 else "curvedCW"})
        else:
            out.append(_geo_smooth(nodes[i], nodes[j], centre))
    return out


def _vis_network(order, attrs, geo, force, colors, groups, pairs, centre, *, big: bool):
    """The nodes, ties and options handed to vis-network; nodes and options assembled with
    pyvis' ``Network``.

    Each state is a pyvis node (``add_node``: id, label, colour, the position of
    the opening layout, and the page's own fields ``region``, ``lat``/``lon``,
    ``fx``/``fy``); the options (physics off, nodes not draggable, ...) are pyvis'
    ``Options``. Each tie of any year is ``[i, j]`` (node indexes), with its
    great-circle bend in the geo layout as ``[i, j, bend, roundness]`` (``bend`` an
    index into :data:`BEND_TYPES`): the script makes the vis edges itself, as slots
    it reuses from year to year, so a tie needs no more (pyvis' edge dicts, repeating
    both states' ids and the field names, were 8% of the bundled map's page). The
    page changes sizes, visibility and widths per year in vis DataSets.
    """
    from pyvis.network import Network

    net = Network(height="100%", width="100%", heading="")
    for n in order:
        a = attrs[n]
        extra = {"region": a.get("region") or ""}
        if geo is not None:
            extra["x"], extra["y"] = round(geo[n][0], 1), round(geo[n][1], 1)
            if a.get("lat") is not None and a.get("lon") is not None:
                extra["lat"], extra["lon"] = round(float(a["lat"]), 3), round(float(a["lon"]), 3)
        if force is not None:
            extra["fx"], extra["fy"] = round(force[n][0], 1), round(force[n][1], 1)
            if geo is None:
                extra["x"], extra["y"] = extra["fx"], extra["fy"]
        net.add_node(str(n), label=str(a.get("label") or n), shape="dot",
                     color=colors[groups[n]], **extra)
    pairs = sorted(pairs)
    if geo is None:
        ties = [[i, j] for i, j in pairs]
    else:
        ties = [[i, j, BEND_TYPES.index(b["type"]), b["roundness"]]
                for (i, j), b in zip(pairs, _geo_smooths(net.nodes, pairs, centre), strict=True)]
    net.toggle_physics(False)
    net.toggle_drag_nodes(False)
    net.toggle_stabilization(False)
    net.options.edges.inherit_colors(False)
    net.options.edges.toggle_smoothness("curvedCW")
    net.options.edges.smooth.roundness = 0.15
    net.options.edges.selectionWidth = 0
    net.options.edges.hoverWidth = 0
    net.options.interaction.hideEdgesOnDrag = big
    net.options.interaction.hideEdgesOnZoom = big
    for key, value in (("hover", True), ("selectable", False), ("keyboard", False),
                       ("navigationButtons", False), ("multiselect", False)):
        setattr(net.options.interaction, key, value)
    net.options.layout = {"improvedLayout": False}
    net.options.nodes = {"shape": "dot", "borderWidth": 1, "borderWidthSelected": 1,
                         "labelHighlightBold": False,
                         "font": {"face": FONT_FACE, "color": "#222222",
                                  "strokeColor": "#ffffff"},
                         "scaling": {"label": {"drawThreshold": 1}}}
    vis_nodes, _edges, _heading, _h, _w, options = net.get_network_data()
    return vis_nodes, ties, json.loads(options)


#: The bends a tie is drawn with on the geographic layout (:func:`_geo_smooths`), by index.
BEND_TYPES = ("curvedCW", "curvedCCW")


def _frames(series: Series, ties: dict, index: dict, types: list,
            metrics: dict) -> tuple[list, set, set]:
    """Per (year, window), edges as flat ``[i, j, ew, aw, mask, ...]`` (sorted by ``i, j``),
    the weights of single types that differ from ``aw`` as flat ``t``: ``[k, type index, n,
    ...]`` (``k``: the edge's place in the frame; a tie whose types are ``{type: n}`` and
    hold another type too), and metric rows ``m``: ``{relation: rows}`` from ``metrics``
    (``{relation: {(year, window): node_metrics}}``) for the relations measured in that
    window; also the edge kinds present and every tied index pair."""
    bit = {t: 1 << k for k, t in enumerate(types)}
    frames, kinds, pairs = [], set(), set()
    # each weight and each set of types once: _num of equal numbers is one value (1 and
    # 1.0 both give 1), and a tie of exercises only has no types
    nums: dict = {}
    masks: dict = {(): 0}
    for year in series.years or [None]:
        for win in series.windows:
            found = ties.get((year, win))
            flat: list = []
            typed: list = []
            rows: dict = {}
            if found is not None:
                edges = []
                counted = {}  # (i, j) -> {type: n} of ties with more than one type
                for u, v, _w, ew, aw, names in found:
                    i, j = index[u], index[v]
                    if type(names) is dict and len(names) > 1:  # noqa: E721 - counts given
                        counted[(i, j) if i < j else (j, i)] = names
                    e = nums.get(ew)
                    if e is None:
                        e = nums[ew] = _num(ew)
                    a = nums.get(aw)
                    if a is None:
                        a = nums[aw] = _num(aw)
                    names = tuple(names)
                    mask = masks.get(names)
                    if mask is None:
                        mask = 0
                        for t in names:
                            mask |= bit[t]
                        masks[names] = mask
                    edges.append((i, j, e, a, mask) if i < j else (j, i, e, a, mask))
                edges.sort()  # pairs are unique: by i, j
                flat = [x for e in edges for x in e]
                if counted:
                    for k, e in enumerate(edges):
                        by_type = counted.get((e[0], e[1]))
                        if by_type is None:
                            continue
                        for t, n in by_type.items():
                            if n != e[3]:
                                typed += [k, types.index(t), _num(n)]
                if any(e[2] for e in edges):
                    kinds.add("exercise")
                if any(e[3] for e in edges):
                    kinds.add("agreement")
                pairs.update((e[0], e[1]) for e in edges)
                for rel, by_key in metrics.items():
                    measured = by_key.get((year, win))
                    if measured is None:
                        continue
                    rows[rel] = [[index[n]] + [None if m.get(k) is None else _num(m[k])
                                               for k in METRIC_NAMES]
                                 for n, m in sorted(measured.items())]
            frame = {"e": flat, "m": rows}
            if typed:
                frame["t"] = typed
            frames.append(frame)
    return frames, kinds, pairs


def _sources(sources: dict, index: dict) -> tuple[dict, list]:
    """Sources per year as ``{year: [[i, j, title index, ...]]}`` and the title list."""
    titles: list = []
    tid: dict = {}
    out = {}
    for year in sorted(sources, key=lambda y: (y is None, y or 0)):
        rows = []
        for (a, b), ts in sorted(sources[year].items()):
            if a not in index or b not in index or not ts:
                continue
            for t in ts:
                if t not in tid:
                    tid[t] = len(titles)
                    titles.append(t)
            rows.append([index[a], index[b]] + [tid[t] for t in ts])
        out["all" if year is None else str(year)] = rows
    return out, titles


#: Ties (summed over a series' networks) from which the sources are made in a forked child.
FORK_MIN_TIES = 20_000


def _sources_json(make, index: dict) -> tuple[str, str]:
    """The page's ``sources`` and ``titles`` as JSON (:func:`_sources` of ``make()``)."""
    found, titles = _sources(make(), index)
    return json_for_script(found), json_for_script(titles)


def _sources_job(series: Series, index: dict) -> Forked:
    """Start making the page's sources (:func:`_sources_json`): in a forked child beside
    the rest of the page when the series holds at least :data:`FORK_MIN_TIES` ties, else
    here when asked. What they need from the store is read first, here (the child reads
    no store and starts no thread)."""
    if callable(series.sources):
        make = series.sources()
    else:
        given = series.sources
        make = lambda: given  # noqa: E731 - the form the store's reader gives
    ties = (sum(len(t) for t in series.ties.values())
            + sum(G.number_of_edges() for G in series.graphs.values()))
    return Forked(lambda: _sources_json(make, index), fork=ties >= FORK_MIN_TIES)


def _json_object(parts: dict) -> str:
    """The JSON object of ``{key: value already in JSON}``, keys sorted: the text
    :func:`json_for_script` gives for the whole object.

    >>> obj = {"b": ["</x>"], "a": {"y": 1}}
    >>> _json_object({k: json_for_script(v) for k, v in obj.items()}) == json_for_script(obj)
    True
    """
    return "{" + ",".join(f"{json_for_script(k)}:{parts[k]}" for k in sorted(parts)) + "}"


def _initial_counts(frames, series, state, types) -> tuple[int, int]:
    """Nodes and edges the page draws when it opens (the script's own rule)."""
    yi = series.years.index(state["year"]) if series.years else 0
    f = frames[yi * len(series.windows) + series.windows.index(state["window"])]
    e, rel, nodes, edges = f["e"], state["relation"], set(), 0
    t = f.get("t", [])
    typed = {(t[k], t[k + 1]): t[k + 2] for k in range(0, len(t), 3)}
    for k in range(0, len(e), 5):
        ew, aw, mask = e[k + 2], e[k + 3], e[k + 4]
        if rel.startswith("agreement:"):
            bit = types.index(rel[10:])
            w = typed.get((k // 5, bit), aw) if mask & (1 << bit) else 0
        else:
            w = {"exercise": ew, "agreement": aw, "all": ew + aw}[rel]
        if w > 0 and w >= state["min"]:
            edges += 1
            nodes.update((e[k], e[k + 1]))
    return len(nodes), edges


def _legend_html(sections: list[tuple[str, list]]) -> str:
    """Legend HTML: a heading per section with swatch rows; a section without rows is a note."""
    out = []
    for heading, rows in sections:
        if not rows:
            out.append(f"<p>{_html(heading)}</p>")
            continue
        out.append(f"<h2>{_html(heading)}</h2>")
        out.append("<ul>")
        for kind, label, color in rows:
            cls = "ln" if kind == "line" else "sw"
            sw = f'<span class="{cls}" style="background:{color}"></span>' if color else ""
            out.append(f"<li>{sw}<span>{_html(str(label))}</span></li>")
        out.append("</ul>")
    return "\n".join(out)


HOW_TO_READ = (
    "How to read this: each disc is a state, placed at its capital (geo) or by a spring "
    "layout of all years (force); each line is a tie in the window that ends at the slider's "
    "year (1, 3 or 5 years). A tie's width grows with its weight (shared exercises, or "
    "agreements in force); geo ties bend toward the short great circle (a tie whose short way "
    "crosses the map's edge is drawn the long way round, gently bent); when more than {wide} "
    "ties are shown, only the {wide} strongest are drawn wider than a "
    "hairline. Disc size follows the chosen measure in the network of the relation shown, in "
    "the shown window (the next line says which). Pick a focus, or click "
    "a state, to highlight it and its partners (click again or on the background to release). "
    "Hover for details and sources; drag to pan, scroll to zoom. The address keeps the view, "
    "so a link shows the same thing.")


def _unplaced(order: list, attrs: dict) -> list[str]:
    """The states without coordinates (no capital to place them at), as ``label (ISO3)``."""
    out = []
    for n in order:
        a = attrs[n]
        if a.get("lat") is None or a.get("lon") is None:
            label = str(a.get("label") or n)
            out.append(f"{label} ({n})" if label != str(n) else str(n))
    return out


def _legend(color_by, color_legend, kinds_note, notes, fingerprint, offered,
            unplaced=()) -> str:
    rows: list[tuple[str, list]] = [(HOW_TO_READ.format(wide=WIDE_TIES), [])]
    if "geo" in offered and unplaced:
        rows.append((f"States without coordinates in the data ({len(unplaced)}), drawn in a row "
                     "below the map in the geo layout, not at their capitals: "
                     + "; ".join(unplaced) + ".", []))
    if color_by == "community":
        rows.append(("Node colour: community (Louvain, kg.metrics) in the network of the "
                     "relation shown, in the shown window; grey where none is computed (the "
                     "note above says when).", []))
    else:
        rows.append((f"Node colour: {color_by}",
                     [("dot", f"{label} ({count})", color) for label, color, count in color_legend]))
    rows.append(("Ties (width: weight)",
                 [("line", k, EDGE_COLORS[k]) for k in EDGE_COLORS if k in kinds_note]))
    if "geo" in offered:
        rows.append(("Basemap: Natural Earth 1:110m country outlines (public domain), from the "
                     "world-atlas package (ISC licence).", []))
    rows += [(note, []) for note in notes or []]
    if fingerprint:
        rows.append((f"Dataset fingerprint (SHA-256): {fingerprint}", []))
    # what the discs and colours measure in the view shown: filled by the script
    return "\n".join((_legend_html(rows[:1]), '<p id="kg-measure"></p>', _legend_html(rows[1:])))


def _relations(kinds: set, types: list) -> list:
    rel = [r for r in ("exercise", "agreement") if r in kinds]
    if "agreement" in kinds:
        rel += [f"agreement:{t}" for t in types]
    if len(kinds) == 2:
        rel.append("all")
    return rel


def _page_data(series, order, attrs, *, layout, color_by, groups, relation, state, seed,
               metrics_relation) -> tuple[dict, list, set]:
    """The JSON the script reads (but its ``sources`` and ``titles``: :func:`_sources_job`),
    the legend colours, and the edge kinds present."""
    index = {n: i for i, n in enumerate(order)}
    ties = {key: _ties(series, key, relation) for key in series.keys()}
    types = sorted({t for found in ties.values() for e in found for t in e[5]})
    metrics = series.metrics_by_relation or (
        {metrics_relation: series.metrics} if series.metrics else {})
    frames, kinds, pairs = _frames(series, ties, index, types, metrics)
    geo, force, centre, offered = _positions(series, ties, order, attrs, layout, seed)
    colors, color_legend = group_colors(groups)
    vis_nodes, vis_edges, vis_options = _vis_network(
        order, attrs, geo, force, colors, groups, pairs, centre,
        big=len(order) > 300 or len(pairs) > 3000)
    relations = _relations(kinds, types) or [relation]
    if state["relation"] not in relations:
        if relation in ("exercise", "agreement"):  # asked for, but none: not the other one
            span = f"{series.years[0]}–{series.years[-1]}" if series.years else "the years asked"
            raise UsageError(f"--relation {relation}: no {relation} ties in {span} (ties "
                             f"there: {', '.join(r for r in relations if ':' not in r)})")
        state["relation"] = relations[0]
    data = {
        "nodes": vis_nodes, "edges": vis_edges, "bendTypes": list(BEND_TYPES), "options": vis_options,
        "years": list(series.years), "windows": list(series.windows), "frames": frames,
        "types": types, "treatyMask": sum(1 << types.index(t) for t in TREATY_TYPES if t in types),
        "relations": relations, "metricNames": list(METRIC_NAMES),
        "metricsRelations": [r for r in RELATIONS if r in metrics],
        "sizeBy": [s for s in SIZE_BY if s in ("degree", "strength")
                   or any(metrics.values())],
        "layouts": offered, "colorBy": color_by, "palette": list(PALETTE),
        "edgeColors": EDGE_COLORS, "scale": GEO_SCALE, "centre": centre,
        "basemap": [list(r) for r in load_basemap()] if "geo" in offered else [],
        "period": series.period, "font": FONT_FACE,
        "sizeMin": SIZE_MIN, "sizeMax": SIZE_MAX, "labelTop": 40, "wideTies": WIDE_TIES,
        "edgeOpacity": 0.55 if max((len(f["e"]) for f in frames), default=0) < 1500 else 0.3,
        "state": state,
    }
    kinds_drawn = set()
    if "exercise" in kinds:
        kinds_drawn.add("exercise")
    if "agreement" in kinds:
        kinds_drawn.update(("agreement", "defence treaty"))
    if len(kinds) == 2:
        kinds_drawn.add("exercise + agreement")
    return data, color_legend, kinds_drawn


def _sha256_b64(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def vis_assets() -> tuple[str, str, str, str]:
    """vis-network's JavaScript and CSS as the installed pyvis package ships them.

    pyvis 0.3.2 ships ``templates/lib/vis-9.1.2/vis-network.min.js`` (the
    standalone build, with vis-data's ``DataSet``) and ``vis-network.css``; the
    newest ``vis-*`` folder found is used. Returns (js, css, vis version, pyvis version).

    >>> js, css, vis_version, pyvis_version = vis_assets()
    >>> "vis-network" in js[:200], vis_version.count(".")
    (True, 2)
    """
    import pyvis

    base = Path(pyvis.__file__).resolve().parent
    found = []
    for lib in (base / "templates" / "lib", base / "lib"):
        if lib.is_dir():
            for d in lib.glob("vis-*"):
                if (d / "vis-network.min.js").is_file():
                    ver = tuple(int(p) if p.isdigit() else 0 for p in d.name[4:].split("."))
                    found.append((ver, str(d), d))
    if not found:
        raise KgError(f"pyvis at {base} ships no vis-network.min.js (pyvis>=0.3.2 needed)")
    ver, _, d = max(found)
    js = (d / "vis-network.min.js").read_text(encoding="utf-8")
    css_path = d / "vis-network.css"
    css = css_path.read_text(encoding="utf-8") if css_path.is_file() else ""
    return js, css, ".".join(str(v) for v in ver), str(getattr(pyvis, "__version__", ""))


def _write_page(out: Path, *, title: str, subtitle: str, legend: str, data_json: str,
                csp: bool) -> None:
    """Fill the template (one pass, so no inserted text is searched again) and write it.

    vis-network and the page's own script share one inline ``<script>`` (vis-network
    first), its CSS and the page's one ``<style>``.
    """
    vis_js, vis_css, vis_version, pyvis_version = vis_assets()
    app_js = (ASSETS / "map.js").read_text(encoding="utf-8")
    script = vis_js + "\n;\n" + app_js
    if "</script" in script.lower() or "<!--" in script:
        raise KgError("vis-network or map.js contains '</script' or '<!--' and cannot be inlined")
    if csp:
        csp_value = (f"default-src 'none'; script-src 'sha256-{_sha256_b64(script)}'; "
                     "style-src 'unsafe-inline'; img-src data: blob:; base-uri 'none'; "
                     "form-action 'none'")
    else:
        csp_value = "default-src * 'unsafe-inline' 'unsafe-eval' data: blob: file:"
    css = vis_css + "\n" + (ASSETS / "map.css").read_text(encoding="utf-8").replace("__FONT__", FONT_FACE)
    table = {"__CSP__": _html(csp_value), "__TITLE__": _html(title),
             "__SUBTITLE__": _html(subtitle), "__LEGEND__": legend,
             "__VISVER__": _html(vis_version), "__PYVISVER__": _html(pyvis_version),
             "__CSS__": css.replace("</", "<\\/"), "__DATA__": data_json, "__APPJS__": script}
    template = (ASSETS / "page.html").read_text(encoding="utf-8")
    page = re.sub("|".join(re.escape(k) for k in table), lambda m: table[m.group(0)], template)
    check_out(out)
    tmp = out.with_name(out.name + ".tmp")
    try:
        tmp.write_text(page, encoding="utf-8", newline="\n")
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def check_out(out, option: str = "--out") -> None:
    """Refuse a file to write that names a folder, or whose folder does not exist.

    Checked before the work, so a mistyped path costs nothing, and again when writing.

    :param out: the file's path.
    :param option: the option that named it, for the message.

    >>> check_out("/")
    Traceback (most recent call last):
    kg.errors.UsageError: --out /: is a folder, not a file
    >>> check_out("/no/such/folder/x.svg", "--svg")
    Traceback (most recent call last):
    kg.errors.UsageError: --svg /no/such/folder/x.svg: no folder /no/such/folder
    """
    out = Path(out)
    if out.is_dir():
        raise UsageError(f"{option} {out}: is a folder, not a file")
    if not out.parent.is_dir():
        raise UsageError(f"{option} {out}: no folder {out.parent}")


@collector_paused()
def render_series(series: Series, out: str | os.PathLike, title: str, *,
                  relation: str = "exercise", layout: str = "geo", size_by: str = "degree",
                  color_by: str = "region", groups: dict | None = None,
                  focus: str | None = None, year: int | None = None, window: int | None = None,
                  min_weight: float = 1, subtitle: str = "", fingerprint: str | None = None,
                  notes: list[str] | None = None, seed: int = 42, csp: bool = True,
                  metrics_relation: str | None = None, params: dict | None = None) -> MapResult:
    """Write the page for a :class:`Series`.

    :param relation: what the edges count when they carry only ``weight``
        (``exercise`` or ``agreement``), and the relation shown when the page opens
        (``all`` shows both).
    :param layout: ``geo`` or ``force`` (the other is offered too when it can be made).
    :param size_by: ``degree``, ``strength``, ``betweenness`` or ``pagerank``.
    :param color_by: ``region``, ``community`` (per window) or ``alliance`` (from ``groups``).
    :param groups: ``{node: group}`` for ``color_by="alliance"`` (else node attributes).
    :param focus: a state highlighted with its partners when the page opens.
    :param year: the year shown first (default the last); ``window``: its width (default
        the first of ``series.windows``).
    :param min_weight: the smallest tie weight drawn when the page opens.
    :param csp: keep the Content-Security-Policy (tests turn it off to show that the
        escaping alone keeps data inert).
    :returns: a :class:`MapResult` with the counts drawn when the page opens.
    """
    if layout not in LAYOUTS:
        raise UsageError(f"unknown layout {layout!r} (one of: {', '.join(LAYOUTS)})")
    if size_by not in SIZE_BY:
        raise UsageError(f"unknown --size-by {size_by!r} (one of: {', '.join(SIZE_BY)})")
    if color_by not in COLOR_BY:
        raise UsageError(f"unknown --color-by {color_by!r} (one of: {', '.join(COLOR_BY)})")
    out = Path(out)
    order, attrs = _nodes(series)
    if year is None:
        year = series.years[-1] if series.years else None
    if series.years and year not in series.years:
        raise UsageError(f"--year {year} is outside {series.years[0]}–{series.years[-1]}")
    window = series.windows[0] if window is None else window
    if window not in series.windows:
        raise UsageError(f"--window {window} is not one of {list(series.windows)}")
    if groups is None or color_by != "alliance":
        groups = {n: attrs[n].get(color_by) for n in order}
    groups = {n: "unknown" if groups.get(n) in (None, "") else groups[n] for n in order}
    state = {"year": year, "window": window, "relation": relation, "min": _num(min_weight),
             "focus": focus if focus in attrs else None, "sizeBy": size_by, "layout": layout}
    sources = _sources_job(series, {n: i for i, n in enumerate(order)})
    try:
        data, color_legend, kinds = _page_data(
            series, order, attrs, layout=layout, color_by=color_by, groups=groups,
            relation=relation, state=state, seed=seed,
            metrics_relation=metrics_relation or relation)
        if size_by not in data["sizeBy"]:
            state["sizeBy"] = "degree"
        parts = {k: json_for_script(v) for k, v in data.items()}
        parts["sources"], parts["titles"] = sources.result()
    finally:
        sources.close()
    legend = _legend(color_by, color_legend, kinds, notes, fingerprint, data["layouts"],
                     _unplaced(order, attrs))
    _write_page(out, title=title, subtitle=subtitle, legend=legend,
                data_json=_json_object(parts), csp=csp)
    nodes, edges = _initial_counts(data["frames"], series, state, data["types"])
    return MapResult(path=out, nodes=nodes, edges=edges, fingerprint=fingerprint,
                     params=dict(params or {}))


def render_graph(G, metrics: dict | None, out: str | os.PathLike, title: str, *,
                 layout: str = "force", size_by: str = "degree", color_by: str = "region",
                 focus: str | None = None, subtitle: str = "", relation: str = "exercise",
                 sources: dict | None = None, fingerprint: str | None = None,
                 notes: list[str] | None = None, seed: int = 42, csp: bool = True,
                 params: dict | None = None) -> MapResult:
    """Draw one networkx graph as a map page (no slider).

    :param G: an undirected graph; node attributes ``label``, ``region``, ``lat``,
        ``lon``; edge attribute ``weight`` (counting ``relation``).
    :param metrics: per node, :func:`kg.metrics.node_metrics` output, or None.
    :param sources: ``{(a, b): [source titles]}`` with ``a < b``, for the tooltips.
    Other parameters as :func:`render_series`.

    >>> import networkx as nx
    >>> render_graph(nx.path_graph(3), None, "g.html", "A path").nodes  # doctest: +SKIP
    3
    """
    series = Series(years=[], windows=(1,), graphs={(None, 1): G},
                    metrics={(None, 1): metrics} if metrics else {},
                    sources={None: sources} if sources else {})
    return render_series(series, out, title, relation=relation, layout=layout,
                         size_by=size_by, color_by=color_by, focus=focus, min_weight=0,
                         subtitle=subtitle, fingerprint=fingerprint, notes=notes, seed=seed,
                         csp=csp, params=params)
