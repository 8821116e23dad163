"""Where the states sit and what colour they get: geographic and force layouts, palettes.

* ``geo``: an equirectangular projection of the capital's latitude and
  longitude, ``x = wrap(lon - centre) * GEO_SCALE``, ``y = -lat * GEO_SCALE``
  (canvas y grows downward). The centre meridian is chosen so that as few
  (weighted) ties as possible cross the map's edge (:func:`centre_meridian`);
  ties bend toward the short great circle (``kg.map.page._geo_smooth``).
* ``force``: a seeded Fruchterman-Reingold layout (networkx ``spring_layout``)
  of all the ties of all the years, so a state keeps its place while the year
  changes; discs are then pushed apart so that none overlap.

>>> wrap_lon(190.0), wrap_lon(-181.0)
(-170.0, 179.0)
"""

from __future__ import annotations

import math

from kg.errors import KgError

__all__ = ["GEO_SCALE", "SIZE_MIN", "SIZE_MAX", "PALETTE", "NEUTRAL_GROUPS", "wrap_lon",
           "centre_meridian", "meridian_costs", "geo_positions", "force_positions", "group_colors"]

#: Pixels per degree of latitude/longitude in the geo layout.
GEO_SCALE = 10.0
#: Node radius range in pixels.
SIZE_MIN, SIZE_MAX = 3.5, 14.0

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


def wrap_lon(lon: float) -> float:
    """A longitude in [-180, 180)."""
    return (float(lon) + 180.0) % 360.0 - 180.0


def centre_meridian(coords: dict, ties) -> float:
    """The centre meridian (a multiple of 10 degrees) that splits the least tie weight.

    A tie is split when the short way between its two capitals crosses the map's
    edge (the meridian opposite the centre). Ties are ``(a, b, weight)``; ``coords``
    is ``{node: (lat, lon)}``; ties without coordinates are ignored. Of the
    meridians with the least cost, the middle of the longest run of them is taken,
    so the network sits in the middle of the map; with no tie it is 0.

    >>> centre_meridian({"JPN": (35.7, 139.7), "USA": (38.9, -77.0)}, [("JPN", "USA", 1)])
    -150.0
    >>> centre_meridian({}, [])
    0.0
    """
    centres = [float(c) for c in range(-180, 180, 10)]
    cost = meridian_costs(coords, ties, centres)
    best = min(round(c, 9) for c in cost)
    ok = [round(c, 9) == best for c in cost]
    if all(ok):
        return 0.0
    n = len(centres)
    first = ok.index(False)  # runs are read starting just after a non-minimal meridian
    runs, run = [], []
    for step in range(1, n + 1):
        k = (first + step) % n
        if ok[k]:
            run.append(k)
        elif run:
            runs.append(run)
            run = []
    if run:
        runs.append(run)
    longest = max(runs, key=len)
    return centres[longest[(len(longest) - 1) // 2]]


def meridian_costs(coords: dict, ties, centres: list) -> list:
    """For each centre meridian, the weight of the ties it splits (see :func:`centre_meridian`).

    Every tie against every meridian at once (numpy), with the float operations of
    :func:`wrap_lon`, and each meridian's cost summed tie by tie in the order of
    ``ties`` (a cumulative sum), so the costs equal a loop's to the last bit.

    >>> meridian_costs({"JPN": (35.7, 139.7), "USA": (38.9, -77.0)}, [("JPN", "USA", 2)],
    ...                [-150.0, 0.0])
    [0.0, 2.0]
    """
    import numpy as np

    la, d, w = [], [], []
    for a, b, weight in ties:
        if a not in coords or b not in coords:
            continue
        la.append(coords[a][1])
        d.append(wrap_lon(coords[b][1] - coords[a][1]))  # the short way, signed
        w.append(float(weight))
    if not w:
        return [0.0] * len(centres)
    start = ((np.array(la, dtype=float)[:, None] - np.array(centres, dtype=float)[None, :]
              - 180.0) + 180.0) % 360.0 - 180.0  # a's place east of the seam (wrap_lon)
    end = start + np.array(d, dtype=float)[:, None]
    hit = (start == 0) | ((start < 0) & (0 <= end)) | ((end < 0) & (0 <= start))
    return np.cumsum(np.where(hit, np.array(w)[:, None], 0.0), axis=0)[-1].tolist()


def geo_positions(coords: dict, nodes, centre: float = 0.0) -> dict:
    """Pixel positions of ``nodes`` from ``coords`` ``{node: (lat, lon)}``.

    States without coordinates sit in rows below the map. States sharing a capital
    (SUN and RUS, YUG and SRB) are nudged apart by a few pixels.
    """
    import numpy as np

    pos = {}
    missing = []
    for n in nodes:
        if n in coords:
            lat, lon = coords[n]
            pos[n] = (wrap_lon(lon - centre) * GEO_SCALE, -float(lat) * GEO_SCALE)
        else:
            missing.append(n)
    for i, n in enumerate(sorted(missing, key=str)):
        row, col = divmod(i, 60)
        pos[n] = (-180 * GEO_SCALE + col * 60.0, (95 + row * 6) * GEO_SCALE)
    if len(pos) > 1:
        order = sorted(pos, key=str)
        xy = _separate(np.array([pos[n] for n in order], dtype=float), np.full(len(order), 3.0))
        pos = {n: (float(x), float(y)) for n, (x, y) in zip(order, xy, strict=True)}
    return pos


def force_positions(G, seed: int, radius: float = SIZE_MAX / 2) -> dict:
    """A seeded spring layout of ``G`` scaled to pixels, discs of ``radius`` not overlapping."""
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
    xy = _separate(xy, np.full(len(nodes), float(radius)))
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


def group_colors(groups: dict) -> tuple[dict, list]:
    """Colour per group (largest groups first); returns (group -> colour, legend rows).

    >>> group_colors({"a": "Asia", "b": "Asia", "c": "unknown"})[1]
    [('Asia', '#1f77b4', 2), ('unknown', '#b4b4b4', 1)]
    """
    counts: dict = {}
    for g in groups.values():
        counts[g] = counts.get(g, 0) + 1
    order = sorted((g for g in counts if g not in NEUTRAL_GROUPS),
                   key=lambda g: (-counts[g], str(g)))
    colors = {g: NEUTRAL_COLOR for g in counts if g in NEUTRAL_GROUPS}
    legend = []
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
