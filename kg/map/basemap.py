"""Country outlines under the geographic layout: Natural Earth 1:110m, decoded from TopoJSON.

The outlines are the ``countries`` object of ``countries-110m.json`` from the
``world-atlas`` npm package (Natural Earth data, public domain; package ISC;
see ``assets/PROVENANCE.md``), vendored unchanged next to this module. This
module decodes TopoJSON itself (quantized, delta-encoded arcs; ``Polygon`` and
``MultiPolygon`` geometries; a negative arc index ``~i`` is arc ``i`` reversed),
following the TopoJSON format specification
(https://github.com/topojson/topojson-specification).

The page gets the rings as delta-encoded integers in tenths of a degree
(:func:`page_rings`), which it draws in its own projection.

>>> topo = {"type": "Topology", "transform": {"scale": [1, 1], "translate": [0, 0]},
...         "arcs": [[[0, 0], [2, 0], [0, 2]], [[2, 2], [-2, 0], [0, -2]]],
...         "objects": {"sq": {"type": "GeometryCollection", "geometries": [
...             {"type": "Polygon", "arcs": [[0, 1]]}]}}}
>>> rings(topo, "sq")
[[(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0), (0.0, 0.0)]]
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

__all__ = ["BASEMAP_FILE", "decode_arcs", "rings", "page_rings", "load"]

#: The vendored TopoJSON file (world-atlas 2.0.2, ``countries-110m.json``).
BASEMAP_FILE = Path(__file__).resolve().parent / "assets" / "countries-110m.json"


def decode_arcs(topo: dict) -> list[list[tuple[float, float]]]:
    """Absolute (longitude, latitude) points of every arc of a topology.

    Quantized topologies (with ``transform``) store each arc as a first position
    and then deltas; unquantized ones store plain positions.

    >>> decode_arcs({"transform": {"scale": [0.5, 2], "translate": [10, 20]},
    ...              "arcs": [[[0, 0], [2, 1], [-1, 0]]]})
    [[(10.0, 20.0), (11.0, 22.0), (10.5, 22.0)]]
    >>> decode_arcs({"arcs": [[[1, 2], [3, 4]]]})
    [[(1.0, 2.0), (3.0, 4.0)]]
    """
    tr = topo.get("transform")
    out = []
    for arc in topo["arcs"]:
        if tr is None:
            out.append([(float(p[0]), float(p[1])) for p in arc])
            continue
        (sx, sy), (tx, ty) = tr["scale"], tr["translate"]
        x = y = 0
        pts = []
        for p in arc:
            x += p[0]
            y += p[1]
            pts.append((float(x * sx + tx), float(y * sy + ty)))
        out.append(pts)
    return out


def _ring(arcs: list, indexes: list[int]) -> list[tuple[float, float]]:
    """Join arcs into one ring; each arc after the first drops its first point (shared)."""
    pts: list[tuple[float, float]] = []
    for k, i in enumerate(indexes):
        arc = arcs[i] if i >= 0 else arcs[~i][::-1]
        pts.extend(arc if k == 0 else arc[1:])
    return pts


def rings(topo: dict, name: str) -> list[list[tuple[float, float]]]:
    """Every ring (outer and holes) of the polygons in object ``name``, in file order.

    :raises KeyError: when the topology has no such object.
    """
    arcs = decode_arcs(topo)
    obj = topo["objects"][name]
    geoms = obj["geometries"] if obj.get("type") == "GeometryCollection" else [obj]
    out = []
    for g in geoms:
        if g.get("type") == "Polygon":
            polys = [g["arcs"]]
        elif g.get("type") == "MultiPolygon":
            polys = g["arcs"]
        else:
            continue
        for poly in polys:
            out.extend(_ring(arcs, r) for r in poly)
    return out


def page_rings(ring_list: list[list[tuple[float, float]]]) -> list[list[int]]:
    """Rings for the page: tenths of a degree, first point absolute, then deltas.

    Consecutive points that round to the same position are dropped.

    >>> page_rings([[(0.0, 0.0), (1.0, 0.5), (1.01, 0.5), (0.0, 0.0)]])
    [[0, 0, 10, 5, -10, -5]]
    """
    out = []
    for ring in ring_list:
        flat: list[int] = []
        px = py = None
        for lon, lat in ring:
            x, y = round(lon * 10), round(lat * 10)
            if (x, y) == (px, py):
                continue
            if px is None:
                flat += [x, y]
            else:
                flat += [x - px, y - py]
            px, py = x, y
        if len(flat) >= 6:
            out.append(flat)
    return out


@lru_cache(maxsize=1)
def load() -> tuple[tuple[int, ...], ...]:
    """The vendored country rings in page form (cached; the file is read once)."""
    topo = json.loads(BASEMAP_FILE.read_text(encoding="utf-8"))
    return tuple(tuple(r) for r in page_rings(rings(topo, "countries")))
