"""Interactive HTML network maps through time: offline, safe with any label, fast to draw.

One page holds the network of every year of a range (a year slider, a play
button, windows of 1, 3 or 5 years), states at their capitals over Natural
Earth country outlines (or a force layout), filters for tie weight, relation
and focus, and PNG/SVG export. The package:

* :mod:`kg.map.data`: the networks, metrics and sources from the store
  (:func:`render_map`, :func:`tie_sources`);
* :mod:`kg.map.page`: the page itself (:func:`render_series`,
  :func:`render_graph` for any networkx graph), drawn by vis-network as pyvis
  ships it, with the data assembled through pyvis' ``Network``;
* :mod:`kg.map.layout`: geographic and force positions, colours;
* :mod:`kg.map.basemap`: the vendored Natural Earth outlines and their decoder;
* :mod:`kg.map.browser`: headless Chromium for screenshots and exports.

>>> from kg.store import open_store
>>> with open_store("/tmp/st") as store:  # doctest: +SKIP
...     res = render_map(store, out="map.html", year_from=1990, year_to=2025)
"""

from __future__ import annotations

from kg.map.browser import (
                            CHROMIUM,
                            CHROMIUM_ARGS,
                            BrowserUnavailable,
                            export_view,
                            find_chromium,
                            screenshot,
)
from kg.map.data import RELATIONS, WINDOWS, build_series, render_map, tie_sources
from kg.map.layout import GEO_SCALE
from kg.map.page import (
                            COLOR_BY,
                            LAYOUTS,
                            SIZE_BY,
                            MapResult,
                            Series,
                            check_out,
                            render_graph,
                            render_series,
)

__all__ = [
    "MapResult", "Series", "BrowserUnavailable", "LAYOUTS", "SIZE_BY", "COLOR_BY", "RELATIONS",
    "WINDOWS", "GEO_SCALE", "CHROMIUM", "CHROMIUM_ARGS", "render_map", "render_series",
    "render_graph", "check_out", "build_series", "tie_sources", "find_chromium", "screenshot", "export_view",
]
