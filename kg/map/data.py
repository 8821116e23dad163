"""The map's data from the store: one network per year and window, their metrics, sources.

Every network comes from :func:`kg.network.build_network` (relation ``all``,
which carries the exercise and the agreement weight of each tie; which
agreements are in force in a window is decided there), so a tie the page draws
for a year is the tie ``kg metrics --from Y --to Y`` counts. The metrics in the
tooltips are :func:`kg.metrics.node_metrics` of the network of the chosen
relation in that window; the sources are :func:`tie_sources` per year.
"""

from __future__ import annotations

import os

from kg.errors import UsageError
from kg.map.page import COLOR_BY, LAYOUTS, SIZE_BY, MapResult, Series, render_series
from kg.network import RELATIONS

__all__ = ["RELATIONS", "WINDOWS", "MAX_YEARS", "METRICS_MAX_NODES", "data_years", "project", "build_series",
           "tie_sources", "render_map"]

#: Window widths offered by the slider (a window ends at the slider's year).
WINDOWS = (1, 3, 5)
#: The most years one page holds.
MAX_YEARS = 120
#: Tooltip metrics (betweenness, PageRank, ...) only for networks this small (time).
METRICS_MAX_NODES = 150


def _pair(a, b) -> tuple:
    return (a, b) if str(a) < str(b) else (b, a)


def data_years(store, graphs: list[str] | None = None) -> tuple[int, int]:
    """First and last year of the exercises in the store (the slider's default range)."""
    from kg.namespaces import SPARQL_PREFIXES

    text = SPARQL_PREFIXES + (
        "SELECT (MIN(?y) AS ?lo) (MAX(?y) AS ?hi) WHERE { ?ex a sp:Exercise ; sp:year ?y }")
    rows = store.select(text, graphs=graphs).rows
    lo, hi = rows[0] if rows else (None, None)
    if lo is None or hi is None:
        raise UsageError("no dated exercises in the store: give --from and --to")
    return int(lo.value), int(hi.value)


def project(G, relation: str):
    """The network of one relation inside a ``relation="all"`` network.

    Nodes are the states with an exercise (``exercise``) or an agreement in force
    (``agreement``) in the window, as :func:`kg.network.build_network` makes them;
    edges carry that relation's weight. ``all`` returns ``G`` itself.
    """
    if relation == "all":
        return G
    import networkx as nx

    count, weight = {"exercise": ("exercises", "exercise_weight"),
                     "agreement": ("agreements", "agreement_weight")}[relation]
    H = nx.Graph()
    H.graph.update(G.graph)
    H.add_nodes_from((n, d) for n, d in G.nodes(data=True) if d.get(count, 0) > 0)
    for u, v, d in G.edges(data=True):
        if d.get(weight, 0) > 0:
            extra = {"agreement_types": d["agreement_types"]} if relation == "agreement" else {}
            H.add_edge(u, v, weight=d[weight], **extra)
    return H


def _window_network(yearly: list, agreements):
    """The ``relation="all"`` network of a window from its years' networks.

    Exercise weights and counts are the sums over the years (each exercise has
    exactly one ``sp:year``, ontology/shapes.ttl, so the sum counts each once);
    agreement weights come from ``agreements``, the window's own
    ``build_network(relation="agreement")`` (agreements in force are not additive).
    """
    import networkx as nx

    G = nx.Graph()
    G.graph["params"] = dict(agreements.graph["params"], relation="all",
                             **{"from": yearly[0].graph["params"]["from"]})
    for Y in yearly + [agreements]:
        for n, d in Y.nodes(data=True):
            if n not in G:
                G.add_node(n, **{k: d.get(k) for k in ("label", "region", "lat", "lon")},
                           exercises=0, agreements=0)
    for Y in yearly:
        for n, d in Y.nodes(data=True):
            G.nodes[n]["exercises"] += d.get("exercises", 0)
        for u, v, d in Y.edges(data=True):
            if d["exercise_weight"] > 0:
                old = G[u][v]["exercise_weight"] if G.has_edge(u, v) else 0.0
                G.add_edge(u, v, exercise_weight=old + d["exercise_weight"])
    for n, d in agreements.nodes(data=True):
        G.nodes[n]["agreements"] = d.get("agreements", 0)
    for u, v, d in agreements.edges(data=True):
        G.add_edge(u, v, agreement_weight=d["weight"], agreement_types=d["agreement_types"])
    for _u, _v, d in G.edges(data=True):
        d.setdefault("exercise_weight", 0.0)
        d.setdefault("agreement_weight", 0.0)
        d.setdefault("agreement_types", [])
        d["weight"] = d["exercise_weight"] + d["agreement_weight"]
    return G


def build_series(store, year_from: int, year_to: int, *, relation: str = "exercise",
                 windows=WINDOWS, graphs: list[str] | None = None,
                 metrics: bool = True, sources: bool = True) -> Series:
    """Networks (and their metrics and sources) for every year and window width.

    One :func:`kg.network.build_network` of relation ``all`` per year, and one of
    relation ``agreement`` per longer window (:func:`_window_network` adds the
    years' exercises). Metrics are computed for networks of at most
    :data:`METRICS_MAX_NODES` states (``series.metrics`` lacks the others).

    :param relation: the relation whose network the metrics measure.
    :returns: a :class:`kg.map.page.Series`.
    """
    from kg.metrics import node_metrics
    from kg.network import build_network

    years = list(range(year_from, year_to + 1))
    series = Series(years=years, windows=tuple(windows), graphs={})
    yearly = {y: build_network(store, relation="all", year_from=y, year_to=y, graphs=graphs)
              for y in range(year_from - max(series.windows) + 1, year_to + 1)}
    for y in years:
        for w in series.windows:
            if w == 1:
                G = yearly[y]
            else:
                A = build_network(store, relation="agreement", year_from=y - w + 1, year_to=y,
                                  graphs=graphs)
                G = _window_network([yearly[x] for x in range(y - w + 1, y + 1)], A)
            series.graphs[(y, w)] = G
            P = project(G, relation)
            if metrics and 0 < len(P) <= METRICS_MAX_NODES:
                series.metrics[(y, w)] = node_metrics(P)
        if sources:
            series.sources[y] = tie_sources(store, [(u, v) for u, v in yearly[y].edges],
                                            relation="all", year_from=y, year_to=y,
                                            graphs=graphs)
    return series


def tie_sources(store, pairs, *, relation: str = "exercise", year_from: int | None = None,
                year_to: int | None = None, graphs: list[str] | None = None) -> dict:
    """Titles of the sources (``sp:source`` / ``dcterms:title``) behind the given ties.

    For each state pair, the exercises both took part in (relation ``exercise``),
    the agreements both are party to in force in the window (``agreement``), or
    both (``all``), counted as :func:`kg.network.build_network` counts them; the
    titles are ordered by how many of those exercises or agreements cite them.
    The exercise window is kg.network's own pattern and agreements are those that
    tie the pair in some year of the window by the in-force rule
    (:func:`kg.inforce.agreements_in_force`), so the sources belong to exactly the
    ties drawn.

    :returns: ``{(a, b): [title, ...]}`` with ``a < b``.

    >>> tie_sources(store, [("JPN", "USA")], year_from=2019, year_to=2019)  # doctest: +SKIP
    """
    from kg.inforce import agreements_in_force
    from kg.namespaces import ID, SPARQL_PREFIXES, iso3_of
    from kg.network import exercise_incidence

    wanted = {_pair(a, b) for a, b in pairs}
    if not wanted:
        return {}
    states = {s for p in wanted for s in p}
    state_ns = f"{ID}state/"
    shared: dict = {}  # pair -> set of exercises and agreements behind its tie
    titles: dict = {}  # item -> set of titles
    if relation in ("exercise", "all"):
        block = exercise_incidence("s", year_from, year_to, False)
        q_members = SPARQL_PREFIXES + (
            f"SELECT DISTINCT ?ex ?s WHERE {{\n{block}"
            f"  FILTER(STRSTARTS(STR(?s), \"{state_ns}\"))\n}}")
        q_titles = SPARQL_PREFIXES + (
            f"SELECT DISTINCT ?ex ?title WHERE {{\n{exercise_incidence('p', year_from, year_to, False)}"
            "  ?ex sp:source ?src .\n  ?src dcterms:title ?title .\n}")
        members: dict = {}  # state -> set of exercises
        for item, s in store.select(q_members, graphs=graphs).rows:
            iso = iso3_of(s.value)
            if iso in states:
                members.setdefault(iso, set()).add(item.value)
        for a, b in wanted:
            shared.setdefault((a, b), set()).update(members.get(a, set()) & members.get(b, set()))
        for item, t in store.select(q_titles, graphs=graphs).rows:
            titles.setdefault(item.value, set()).add(t.value)
    if relation in ("agreement", "all"):
        # the in-force rule (kg.inforce): pairs tied in some year of the window
        for row in agreements_in_force(store, year_from, year_to, graphs=graphs):
            for pair in wanted.intersection(row.pairs):
                shared.setdefault(pair, set()).add(row.agreement)
        q_titles = SPARQL_PREFIXES + (
            "SELECT DISTINCT ?ag ?title WHERE {\n  ?ag sp:party ?party ; sp:source ?src .\n"
            "  ?src dcterms:title ?title .\n}")
        for item, t in store.select(q_titles, graphs=graphs).rows:
            titles.setdefault(item.value, set()).add(t.value)

    out = {}
    for a, b in sorted(wanted):
        counts: dict = {}
        for item in shared.get((a, b), ()):
            for t in titles.get(item, ()):
                counts[t] = counts.get(t, 0) + 1
        out[(a, b)] = sorted(counts, key=lambda t: (-counts[t], t))
    return out


def _alliance_groups(store, nodes, year_from, year_to, graphs) -> dict:
    """Alliance bloc of each node: connected components of defence-treaty ties in the range."""
    import networkx as nx

    from kg.network import build_network

    T = build_network(store, relation="agreement", year_from=year_from, year_to=year_to,
                      agreement_types=["DefenceTreaty", "AllianceSpell"], graphs=graphs)
    groups = {}
    for comp in nx.connected_components(T):
        if len(comp) < 2:
            continue
        hub = max(comp, key=lambda n: (T.degree(n), str(n) == "USA", str(n)))
        name = f"treaty bloc around {T.nodes[hub].get('label') or hub}"
        for n in comp:
            groups[n] = name
    return {n: groups.get(n, "no defence treaty") for n in nodes}


def _check(relation, layout, size_by, color_by, focus, min_weight) -> None:
    from kg.namespaces import check_iso3

    for value, allowed, what in ((relation, RELATIONS, "relation"), (layout, LAYOUTS, "layout"),
                                 (size_by, SIZE_BY, "--size-by"),
                                 (color_by, COLOR_BY, "--color-by")):
        if value not in allowed:
            raise UsageError(f"unknown {what} {value!r} (one of: {', '.join(allowed)})")
    if focus is not None:
        check_iso3(focus)
    if min_weight is None or min_weight < 0:
        raise UsageError("--min-weight must be 0 or more")


def render_map(store, *, out: str | os.PathLike = "map.html", focus: str | None = None,
               year_from: int | None = None, year_to: int | None = None,
               relation: str = "exercise", layout: str = "geo", size_by: str = "degree",
               color_by: str = "region", min_weight: float = 1,
               graphs: list[str] | None = None, csp: bool = True, year: int | None = None,
               window: int | None = None) -> MapResult:
    """Write the interactive map of the state network for every year of a range.

    :param store: an open store (local or remote).
    :param out: the HTML file to write.
    :param focus: ISO3 code of a state highlighted with its partners when the page opens.
    :param year_from: first year of the slider (default: the first year of the exercises).
    :param year_to: last year of the slider (default: the last year of the exercises).
    :param relation: ``exercise``, ``agreement`` or ``all``: shown first, and measured by
        the tooltip metrics.
    :param layout: ``geo`` (capitals over Natural Earth outlines) or ``force``.
    :param size_by: ``degree``, ``strength``, ``betweenness`` or ``pagerank``.
    :param color_by: ``region``, ``community`` or ``alliance`` (defence-treaty blocs).
    :param min_weight: smallest tie weight drawn when the page opens.
    :param graphs: dataset graphs to read (short names); None reads all.
    :param csp: keep the Content-Security-Policy.
    :param year: year shown first (default the last); :param window: its width (1, 3, 5).
    :returns: a :class:`MapResult` (path, counts drawn when the page opens, fingerprint).

    >>> render_map(store, out="jpn.html", focus="JPN", year_from=1990)  # doctest: +SKIP
    """
    from kg.cache import run_cache

    _check(relation, layout, size_by, color_by, focus, min_weight)
    run_cache(store)  # one run: every year's networks share one reading of the agreements
    if year_from is None or year_to is None:
        lo, hi = data_years(store, graphs)
        year_from = lo if year_from is None else year_from
        year_to = hi if year_to is None else year_to
    if year_from > year_to:
        raise UsageError(f"--from {year_from} is after --to {year_to}")
    if year_to - year_from + 1 > MAX_YEARS:
        raise UsageError(f"{year_from}–{year_to} is more than {MAX_YEARS} years: "
                         "give a shorter --from/--to")
    series = build_series(store, year_from, year_to, relation=relation, graphs=graphs)
    fingerprint = store.fingerprint(graphs=graphs)["all"]
    nodes = {n for G in series.graphs.values() for n in G.nodes}
    if focus is not None and focus not in nodes:
        raise UsageError(f"{focus} has no ties in {year_from}–{year_to}")
    groups = (_alliance_groups(store, nodes, year_from, year_to, graphs)
              if color_by == "alliance" else None)
    names = ", ".join(graphs) if graphs else "all graphs"
    what = {"exercise": "Exercise network", "agreement": "Agreement network",
            "all": "Exercise and agreement network"}[relation]
    title = f"{what}, {year_from}–{year_to}"
    if focus is not None:
        label = next((G.nodes[focus].get("label") for G in series.graphs.values()
                      if focus in G), None)
        title += f": {label or focus} and its partners"
    subtitle = (f"Years {year_from}–{year_to} · relation: {relation} · data: {names}"
                f" · dataset fingerprint sha256:{fingerprint[:16]}")
    notes = [f"Weighting: {w}" for w in _weightings()]
    notes.append("Relation 'agreements: TYPE' shows the ties with at least one agreement of "
                 "that type in force in the window; their weight counts all agreements in force.")
    notes.append(f"Tooltip metrics: kg.metrics.node_metrics of the {relation} network of the "
                 f"shown window (for windows of at most {METRICS_MAX_NODES} states); disc size "
                 "by degree or strength follows the ties shown.")
    params = {"relation": relation, "from": year_from, "to": year_to, "focus": focus,
              "layout": layout, "size_by": size_by, "color_by": color_by,
              "min_weight": min_weight, "graphs": graphs, "windows": list(WINDOWS)}
    return render_series(series, out, title, relation=relation, layout=layout,
                         size_by=size_by, color_by=color_by, groups=groups, focus=focus,
                         year=year, window=window, min_weight=min_weight, subtitle=subtitle,
                         fingerprint=fingerprint, notes=notes, csp=csp,
                         metrics_relation=relation, params=params)


def _weightings() -> list[str]:
    from kg.network import WEIGHTING

    return [f"{rel}: {WEIGHTING[rel]}" for rel in ("exercise", "agreement")]
