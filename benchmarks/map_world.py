"""A generated world for the map's speed test: 1,000 states over 36 years.

Each year 1,000 states, each with a capital somewhere on the globe, hold ties
that mostly persist from the year before (80 %) plus new ones; windows of 3 and
5 years are the unions of their years with summed weights. Used by
``benchmarks/run.py`` (map section) and ``tests/test_map.py``.
"""

from __future__ import annotations

import random


def thousand_state_series(n: int = 1000, years: range = range(1990, 2026),
                          ties_per_year: int = 1500, seed: int = 7):
    """A :class:`kg.map.Series` of ``n`` states over ``years`` (windows 1, 3, 5)."""
    import networkx as nx

    from kg.map import Series

    rng = random.Random(seed)
    names = [f"S{i:04d}" for i in range(n)]
    attrs = {s: {"label": s, "region": f"region {rng.randrange(12)}",
                 "lat": rng.uniform(-55, 70), "lon": rng.uniform(-180, 180)} for s in names}
    yearly: dict = {}
    prev: dict = {}
    for y in years:
        ties = {k: w for k, w in prev.items() if rng.random() < 0.8}
        while len(ties) < ties_per_year:
            a, b = sorted(rng.sample(names, 2))
            ties[(a, b)] = ties.get((a, b), 0) + rng.randint(1, 5)
        yearly[y] = ties
        prev = ties
    series = Series(years=list(years), windows=(1, 3, 5), graphs={})
    for y in years:
        for w in (1, 3, 5):
            G = nx.Graph()
            for yy in range(y - w + 1, y + 1):
                for (a, b), wt in yearly.get(yy, {}).items():
                    old = G[a][b]["weight"] if G.has_edge(a, b) else 0.0
                    G.add_edge(a, b, weight=old + wt)
            G.add_nodes_from(names)
            for s in G:
                G.nodes[s].update(attrs[s])
            series.graphs[(y, w)] = G
    return series
