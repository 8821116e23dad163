"""The map's data from the store: one network per year and window, their metrics, sources.

Every window's network is the one :func:`kg.network.build_network` makes for
it (relation ``all``, which carries the exercise and the agreement weight of
each tie; which agreements are in force is decided by :mod:`kg.inforce`), so a
tie the page draws for a year is the tie ``kg metrics --from Y --to Y`` counts.
:func:`build_series` makes them all in bulk (one grouped query for every year's
exercises, one pass over the agreements for every window, no networkx graph per
window); the tests check each window against ``build_network``. The metrics
(tooltips, disc sizes by betweenness or PageRank, community colours) are
:func:`kg.metrics.node_metrics` of the network of each relation (exercises,
agreements, both) in that window, and the page reads those of the relation it
shows; the sources are those :func:`tie_sources` gives for each year's ties,
read for all years at once.

In a run (:func:`kg.cache.run_cache`, as :func:`render_map` has it) the engine
reads the exercises, the lifecycles, the states and the titles in background
threads (:meth:`kg.cache.RunCache.prefetch`; pyoxigraph releases the GIL while it
evaluates), side by side with each other and with the Python work that needs
them first; the page makes the sources last. The tests check the series of such
a run against the one read a query at a time.
"""

from __future__ import annotations

import math
import os
from collections import Counter

from kg.cache import collector_paused
from kg.errors import UsageError
from kg.map.page import (
                         COLOR_BY,
                         LAYOUTS,
                         SIZE_BY,
                         MapResult,
                         Series,
                         check_out,
                         render_series,
)
from kg.network import RELATIONS

__all__ = ["RELATIONS", "WINDOWS", "MAX_YEARS", "METRICS_MAX_NODES", "data_years",
           "project", "build_series", "tie_sources", "render_map"]

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
    rows = store.select(text, graphs=graphs, own=True).rows
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


def build_series(store, year_from: int, year_to: int, *, relation: str = "exercise",
                 windows=WINDOWS, graphs: list[str] | None = None,
                 metrics: bool = True, sources: bool = True) -> Series:
    """Networks (and their metrics and sources) for every year and window width.

    Each window's network is the ``relation="all"`` network
    :func:`kg.network.build_network` makes for it (the tests check it window by
    window), built in bulk without a networkx graph per window: the exercise
    dyads of every year from one grouped query
    (:func:`kg.network.exercise_participants`, counted by
    :func:`kg.network.count_pairs`), each window summing its years (each
    exercise has exactly one ``sp:year``, ontology/shapes.ttl, so the sum counts
    each once), and the agreement dyads of every window from one pass over the
    lifecycles (:func:`kg.inforce.dyads_by_window`; agreements in force are not
    additive), with each tie's count of agreements per type from the same pass
    (``by_type``: what ``kg export --agreement-type TYPE`` counts for the pair, the
    weight the page gives a tie under one agreement type). They are held as
    ``series.ties``, ``series.members`` and
    ``series.attrs`` (:class:`kg.map.page.Series`). Metrics are computed for the
    network of each relation (``exercise``, ``agreement``, ``all``:
    ``series.metrics_by_relation``; ``series.metrics`` is that of ``relation``) of at
    most :data:`METRICS_MAX_NODES` states (the others are left out), so the page's
    disc sizes and communities follow the relation it shows; sources as
    :func:`tie_sources` gives them for each year's
    ties (:func:`_sources_by_year`). In a run (:func:`kg.cache.run_cache`) the
    queries go to the engine from background threads (see the module's docstring).

    :param relation: the relation whose metrics are ``series.metrics`` (the page's
        tooltips name the relation each set measures).
    :returns: a :class:`kg.map.page.Series`.
    """
    return _build_series(store, year_from, year_to, relation=relation, windows=windows,
                         graphs=graphs, metrics=metrics, sources=sources, later=False)


def _build_series(store, year_from: int, year_to: int, *, relation: str, windows, graphs,
                  metrics: bool, sources: bool, later: bool) -> Series:
    """:func:`build_series`; with ``later``, ``series.sources`` is a function that gives
    them (the page calls it last, while the titles are still read in the background)."""
    from kg.inforce import dyads_by_window, lifecycles, prefetch_lifecycles
    from kg.network import check_year_window, count_pairs, exercise_participants, state_attributes

    windows = tuple(windows)
    years = list(range(year_from, year_to + 1))
    check_year_window(year_from, year_to)
    # the windows of the first years reach back before year_from: to 1796 for --from 1800
    # and a five-year window, years that hold no record (ingest refuses them), not a refusal
    first = year_from - max(windows) + 1
    graph_list = sorted(graphs) if graphs else None
    # In a run (kg.cache.run_cache) the engine reads the exercises (then the exercises'
    # titles), the lifecycles (then the agreements' titles) and the states in background
    # threads (it releases the GIL), side by side with each other and with the Python
    # work here; the titles are needed last.
    cache = getattr(store, "network_cache", None)
    key = (year_from, year_to, windows, tuple(graph_list or ()))
    want_sources = sources and bool(years)

    keys = [(y, w) for y in years for w in windows]
    # each year's own ties too (their sources), when the slider has no one-year window
    extra = [] if 1 in windows else [(y, 1) for y in years]

    def read_exercises():
        """Each year's exercises, every exercise pair, each window's exercise sums."""
        found = exercise_participants(store, first, year_to, False, graph_list, by_year=True,
                                      ids=True)
        if want_sources and cache is not None:
            cache.prefetch(("map exercise titles",) + key, read_exercise_titles)
        counted = {y: count_pairs([states for _, states in found.get(y, ())])
                   for y in range(first, year_to + 1)}
        sums: dict = {}
        for y, w in keys + extra:
            if (y, w) not in sums:
                sums.update(_window_sums(counted, y, sorted({w} | set(windows))))
        return found, {pair for pairs, _ in counted.values() for pair in pairs}, sums

    def read_exercise_titles():
        return _exercise_titles(store, year_from, year_to, graph_list)

    def read_agreement_titles():
        if cache is not None:
            lifecycles(store, graphs=graph_list)  # in the background: after them (needed first)
        return _agreement_titles(store, graph_list)

    if cache is not None:
        cache.prefetch(("map exercises",) + key, read_exercises)
        prefetch_lifecycles(store, graphs=graph_list)
        cache.prefetch(("map states",) + key, lambda: state_attributes(store, graph_list))
        if want_sources:
            cache.prefetch(("map agreement titles",) + key, read_agreement_titles)
        _warm_imports()  # meanwhile (the page's libraries are needed anyway)
    per_year, ex_pairs, sums = _prefetched(cache, ("map exercises",) + key, read_exercises)
    agreed = dyads_by_window(store, [(y - w + 1, y) for y, w in keys + extra], graphs=graph_list,
                             by_type=True)
    series = Series(years=years, windows=windows, graphs={})
    attrs = _prefetched(cache, ("map states",) + key, lambda: state_attributes(store, graph_list))
    year_ties = _fill_windows(series, keys, extra, ex_pairs, sums, agreed, attrs,
                              relation if metrics else None)

    def read_sources():
        """The store's part of the sources (the titles, the agreements tying each year's
        pairs), read here; returns the rest, pure Python, to be called anywhere."""
        from functools import partial

        from kg.inforce import pairs_by_year

        titles = dict(_prefetched(cache, ("map exercise titles",) + key, read_exercise_titles))
        for item, found in _prefetched(cache, ("map agreement titles",) + key,
                                       read_agreement_titles).items():
            titles[item] = titles[item] | found if item in titles else found
        agreed = pairs_by_year(store, years[0], years[-1], graphs=graph_list)
        return partial(_sources_by_year, per_year, year_ties, agreed, titles)

    if want_sources:
        series.sources = read_sources if later else read_sources()()
    return series


def _prefetched(cache, key: tuple, fn):
    """``fn()``, or the run cache's value of ``key`` (waited for when it is prefetched)."""
    return fn() if cache is None else cache.remember(key, fn)


def _warm_imports() -> None:
    """Import the libraries the page is made with (while the engine reads the store)."""
    import networkx  # noqa: F401
    import numpy  # noqa: F401
    import pyvis.network  # noqa: F401

    import kg.metrics  # noqa: F401


def _fill_windows(series: Series, keys: list, extra: list, ex_pairs: set, sums: dict,
                  agreed: list, attrs: dict, relation: str | None) -> dict:
    """Put each window's ties, members (and, unless ``relation`` is None, the metrics of
    each relation's network, ``series.metrics_by_relation``, those of ``relation`` also as
    ``series.metrics``) in ``series``; return each year's own ties ``{year: [(a, b),
    ...]}`` (their sources).

    ``keys`` are the slider's ``(year, window)`` keys, ``extra`` the one-year windows
    needed only for the sources; ``ex_pairs`` every pair of any year's
    :func:`kg.network.count_pairs`; ``sums`` each window's :func:`_window_sums`;
    ``agreed`` :func:`kg.inforce.dyads_by_window` of ``keys + extra``; ``attrs``
    :func:`kg.network.state_attributes`.
    """
    from kg.metrics import node_metrics, parallel_map

    if relation is not None:  # series.metrics: the metrics of relation (filled below)
        series.metrics = series.metrics_by_relation.setdefault(relation, {})
    measured = {} if relation is None else {
        rel: series.metrics_by_relation.setdefault(rel, {}) for rel in RELATIONS}
    projections: list = []  # (relation, key, index into unique) to measure at the end
    unique: dict = {}  # a network's nodes and weighted edges (in order) -> index
    graphs: list = []
    wanted = set(keys)
    empty = {"label": None, "region": None, "lat": None, "lon": None}
    year_ties = {}
    # every tied pair of any window, sorted once: each window's ties in that order
    order = sorted(ex_pairs | {key for ag, _ in agreed for key in ag})
    for (y, w), (ag, n_ag) in zip(keys + extra, agreed, strict=True):
        ex, n_ex = sums[(y, w)]
        ties = _window_ties(ex, ag, order)
        if w == 1:
            year_ties[y] = list(ties)
        if (y, w) not in wanted:
            continue
        nodes = set(n_ex) | set(n_ag)
        for a, b in ties:
            nodes.add(a)
            nodes.add(b)
        series.members[(y, w)] = members = sorted(nodes)
        series.ties[(y, w)] = ties
        for n in members:
            if n not in series.attrs:
                series.attrs[n] = dict(attrs.get(n, empty))
        for rel in measured:
            P = _projection(members, ties, n_ex, n_ag, rel)
            if P is not None:
                # the same network (often the agreements' in successive years, or the
                # exercises' and both's in a window without agreements), built in the same
                # order, has the same metrics: measured once
                sig = (tuple(P), tuple(P.edges(data="weight")))
                k = unique.get(sig)
                if k is None:
                    k = unique[sig] = len(graphs)
                    graphs.append(P)
                projections.append((rel, (y, w), k))
    # three relations' networks per window: spread over the cores when they are many
    values = parallel_map(node_metrics, graphs)
    for rel, key, k in projections:
        measured[rel][key] = values[k]
    return year_ties


def _window_ties(ex: dict, ag: dict, order: list) -> dict:
    """A window's ties ``{(a, b): (exercise weight, agreement weight, types)}`` in the order
    of ``order`` (every tied pair of any window, sorted), from its exercise weights and
    its :func:`kg.inforce.dyads_by_window` pairs (``by_type``: the types are ``{type: n}``,
    the agreements of each type tying the pair; ``[]`` for a tie of exercises only), in
    one pass down ``order`` (no sort per window)."""
    ties = {}
    exg, agg = ex.get, ag.get
    for key in order:
        found = agg(key)
        if found is not None:
            n = exg(key)
            ties[key] = (0 if n is None else n, found[0], found[1])
        else:
            n = exg(key)
            if n is not None:
                ties[key] = (n, 0, [])
    return ties


def _window_sums(counted: dict, y: int, widths: list) -> dict:
    """The exercise weights ``{(a, b): n}`` and counts ``{a: n}`` of each window ending at
    ``y`` (widths ascending): sums of its years' ``counted`` (:func:`kg.network.count_pairs`),
    each wider window adding its further years to the narrower one's sums."""
    ex: dict = {}
    n_ex: dict = {}
    out = {}
    done = 0
    for w in widths:
        for x in range(y - done, y - w, -1):
            pairs, diag = counted[x]
            for key, (n,) in pairs.items():
                ex[key] = ex.get(key, 0) + n
            for a, n in diag.items():
                n_ex[a] = n_ex.get(a, 0) + n
        done = w
        out[(y, w)] = (dict(ex), dict(n_ex))
    return out


def _projection(nodes, ties: dict, n_ex: dict, n_ag: dict, relation: str):
    """The network of one relation in a window as :func:`kg.metrics.node_metrics` reads it.

    The nodes and edge weights of :func:`project` of the window's ``relation="all"``
    network (its nodes with an exercise, or an agreement, in the window; its ties
    of that relation); None when it has no node or more than
    :data:`METRICS_MAX_NODES` (no metrics then, so no graph is built).
    """
    import networkx as nx

    keep = {"exercise": n_ex, "agreement": n_ag}.get(relation)
    chosen = nodes if keep is None else [n for n in nodes if keep.get(n, 0) > 0]
    if not 0 < len(chosen) <= METRICS_MAX_NODES:
        return None
    part = {"exercise": 0, "agreement": 1}.get(relation)
    P = nx.Graph()
    P.add_nodes_from(chosen)
    for (a, b), t in ties.items():
        w = t[0] + t[1] if part is None else t[part]
        if w > 0:
            P.add_edge(a, b, weight=float(w))
    return P


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
        for item, s in store.select(q_members, graphs=graphs, own=True).rows:
            iso = iso3_of(s.value)
            if iso in states:
                members.setdefault(iso, set()).add(item.value)
        for a, b in wanted:
            shared.setdefault((a, b), set()).update(members.get(a, set()) & members.get(b, set()))
        for item, t in store.select(q_titles, graphs=graphs, own=True).rows:
            titles.setdefault(item.value, set()).add(t.value)
    if relation in ("agreement", "all"):
        # the in-force rule (kg.inforce): pairs tied in some year of the window
        for row in agreements_in_force(store, year_from, year_to, graphs=graphs):
            for pair in wanted.intersection(row.pairs):
                shared.setdefault(pair, set()).add(row.agreement)
        _read_titles(store, SPARQL_PREFIXES + _AGREEMENT_TITLES, graphs, titles)
    return {pair: _ranked(shared.get(pair, ()), titles) for pair in sorted(wanted)}


#: The titles of the sources of every agreement that has a party (one that can tie a pair).
_AGREEMENT_TITLES = ("SELECT DISTINCT ?ag ?title WHERE {\n"
                    "  { SELECT DISTINCT ?ag WHERE { ?ag sp:party ?party } }\n"
                    "  ?ag sp:source ?src .\n  ?src dcterms:title ?title .\n}")


def _read_titles(store, text: str, graphs, titles: dict) -> None:
    """Add the ``(item, title)`` rows of ``text`` to ``titles`` (item -> set of titles)."""
    for item, t in store.select(text, graphs=graphs, own=True).rows:
        titles.setdefault(item.value, set()).add(t.value)


def _ranked(items, titles: dict) -> list:
    """The titles of ``items`` (exercises, agreements), most cited first, then by text."""
    if len(items) == 1:  # the common case: each title cited once
        return sorted(titles.get(next(iter(items)), ()))
    found = [t for item in items for t in titles.get(item, ())]
    unique = set(found)
    if len(unique) == len(found):  # each cited once: by text
        return sorted(unique)
    counts = Counter(found)
    # by text, then (a stable sort) by count, most first
    return sorted(sorted(counts), key=counts.__getitem__, reverse=True)


def _exercise_titles(store, year_from: int, year_to: int, graphs) -> dict:
    """The source titles of the exercises of ``year_from``..``year_to``:
    ``{exercise IRI: {title, ...}}``."""
    from kg.namespaces import SPARQL_PREFIXES
    from kg.network import year_filter

    titles: dict = {}
    _read_titles(store, SPARQL_PREFIXES + (
        f"SELECT DISTINCT ?ex ?title WHERE {{\n  ?ex sp:year ?year . {year_filter(year_from, year_to)}\n"
        "  ?ex sp:source ?src .\n  ?src dcterms:title ?title .\n}"), graphs, titles)
    return titles


def _agreement_titles(store, graphs) -> dict:
    """The source titles of every agreement with a party: ``{agreement IRI: {title, ...}}``."""
    from kg.namespaces import SPARQL_PREFIXES

    titles: dict = {}
    _read_titles(store, SPARQL_PREFIXES + _AGREEMENT_TITLES, graphs, titles)
    return titles


def _sources_by_year(per_year: dict, year_ties: dict, agreed: dict, titles: dict) -> dict:
    """:func:`tie_sources` of each year's ties (relation ``all``), for all years at once.

    ``year_ties`` maps each year to its tied pairs (``a < b``); ``per_year`` holds
    each year's exercises with their participants (``ids=True`` form of
    :func:`kg.network.exercise_participants`), so the exercises behind a tie are
    read from the same rows as its weight; ``agreed`` holds the agreements tying each
    pair in each year (:func:`kg.inforce.pairs_by_year` of the years of ``year_ties``,
    the in-force rule). ``titles`` are :func:`_exercise_titles` of those years and
    :func:`_agreement_titles` (two queries for all years). No store is read here. The
    tests check the result against :func:`tie_sources` year by year.

    :returns: ``{year: {(a, b): [title, ...]}}``.
    """
    years = sorted(year_ties)
    if not years:
        return {}
    from collections import defaultdict
    from itertools import combinations

    shared: dict = {y: defaultdict(list) for y in years}  # year -> pair -> exercises, agreements
    for y in years:
        mine = shared[y]
        for ex, states in per_year.get(y, ()):
            if ex not in titles:
                continue  # no source to show
            for pair in combinations(states, 2):  # states sorted: a < b
                mine[pair].append(ex)
    for y, tied in agreed.items():
        mine = shared.get(y)
        if mine is None:
            continue
        for pair, agreements in tied.items():
            for ag in agreements:
                if ag in titles:
                    mine[pair].append(ag)
    ranked: dict = {}  # the titles of one exercise or agreement, for all its pairs
    out = {}
    for y in years:
        mine = shared[y]
        out[y] = ours = {}
        for pair in sorted(year_ties[y]):
            items = mine.get(pair)
            if items is None:
                ours[pair] = []
                continue
            if len(items) > 1:  # these sets rarely repeat
                ours[pair] = _ranked(set(items), titles)
                continue
            got = ranked.get(items[0])
            if got is None:
                got = ranked[items[0]] = _ranked(items, titles)
            ours[pair] = list(got)
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


def _check(relation, layout, size_by, color_by, focus, min_weight, *, store=None,
           out=None) -> None:
    """Refuse a bad option before the map's work (with ``store``, a focus it lacks; with
    ``out``, a file that cannot be written: :func:`check_out`)."""
    from kg.namespaces import check_iso3

    for value, allowed, what in ((relation, RELATIONS, "relation"), (layout, LAYOUTS, "layout"),
                                 (size_by, SIZE_BY, "--size-by"),
                                 (color_by, COLOR_BY, "--color-by")):
        if value not in allowed:
            raise UsageError(f"unknown {what} {value!r} (one of: {', '.join(allowed)})")
    if focus is not None:
        check_iso3(focus)
    if min_weight is None or not math.isfinite(min_weight) or min_weight < 0:
        raise UsageError(f"--min-weight {min_weight}: a finite number, 0 or more")
    if out is not None:
        check_out(out)
    if focus is not None and store is not None:
        from kg.network import check_states_known

        check_states_known(store, [focus], "--focus")


@collector_paused()
def render_map(store, *, out: str | os.PathLike = "map.html", focus: str | None = None,
               year_from: int | None = None, year_to: int | None = None,
               relation: str = "exercise", layout: str = "geo", size_by: str = "degree",
               color_by: str = "region", min_weight: float = 1,
               graphs: list[str] | None = None, csp: bool = True, year: int | None = None,
               window: int | None = None) -> MapResult:
    """Write the interactive map of the state network for every year of a range.

    :param store: an open store (local or remote).
    :param out: the HTML file to write.
    :param focus: ISO3 code of a state highlighted with its partners when the page opens
        (the other states and ties dimmed, not removed) and named in the title.
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

    _check(relation, layout, size_by, color_by, focus, min_weight, store=store, out=out)
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
    # the sources are made last, by the page (their titles are read meanwhile)
    series = _build_series(store, year_from, year_to, relation=relation, windows=WINDOWS,
                           graphs=graphs, metrics=True, sources=True, later=True)
    fingerprint = store.fingerprint(graphs=graphs)["all"]
    attrs = series.node_attrs()
    nodes = set(attrs)
    if focus is not None and focus not in nodes:
        raise UsageError(f"{focus} has no ties in {year_from}–{year_to}")
    groups = (_alliance_groups(store, nodes, year_from, year_to, graphs)
              if color_by == "alliance" else None)
    names = ", ".join(graphs) if graphs else "all graphs"
    what = {"exercise": "Exercise network", "agreement": "Agreement network",
            "all": "Exercise and agreement network"}[relation]
    title = f"{what}, {year_from}–{year_to}"
    if focus is not None:
        label = attrs[focus].get("label")
        title += f": {label or focus} and its partners"
    subtitle = (f"Years {year_from}–{year_to} · relation: {relation} · data: {names}"
                f" · dataset fingerprint sha256:{fingerprint[:16]}")
    notes = [f"Weighting: {w}" for w in _weightings()]
    notes.append("Relation 'agreements: TYPE' shows the ties with at least one agreement of "
                 "that type in force in the window; their weight counts the agreements of that "
                 "type (as kg export --agreement-type TYPE does).")
    notes.append("Metrics (tooltips, disc size by betweenness or PageRank, community colours): "
                 "kg.metrics.node_metrics of the network of the relation shown (exercises, "
                 "agreements, or both) in the shown window, for windows of at most "
                 f"{METRICS_MAX_NODES} states. None are computed for a single agreement type: "
                 "discs then take one size and communities are grey. Disc size by degree or "
                 "strength follows the ties shown.")
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
