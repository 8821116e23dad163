"""State-state networks built from the graph, for a window of years.

Three relations (Newman 2001 calls the first a one-mode *projection* of the
bipartite exercise-participant network):

* ``exercise``: two states are tied when they took part in the same exercise;
  the edge weight is the number of distinct exercises both took part in within
  the window (inclusive, on ``sp:year``). Observers are left out unless
  ``include_observers``. An exercise with an outgoing ``owl:sameAs`` to an
  exercise in the graphs read is a reconciled copy and is skipped, so each
  exercise counts once.
* ``agreement``: two states are tied by each agreement that ties them in at
  least one year of the window, by the one in-force rule of :mod:`kg.inforce`
  (entry into force to end or supersession; memberships and suspensions
  applied; signed-only and under-negotiation agreements never count). The
  weight is the number of such agreements; ``agreement_types`` on the edge
  lists their types.
* ``all``: the multiplex sum: ``weight = exercise_weight + agreement_weight``
  (one shared exercise and one agreement in force weigh the same).

The dyad counts are aggregated in SPARQL (``GROUP BY`` dyad) and the networkx
graph is built from the aggregated rows, never from per-triple loops.

>>> from kg.store import open_store
>>> with open_store("/tmp/st") as store:  # doctest: +SKIP
...     G = build_network(store, relation="exercise", year_from=2015, year_to=2024)
...     G["JPN"]["USA"]["weight"]
"""

from __future__ import annotations

from kg import inforce
from kg.errors import UsageError
from kg.namespaces import ID, SPARQL_PREFIXES, XSD, iso3_of
from kg.sparql import Iri, Lit, term_to_sparql

__all__ = [
    "RELATIONS",
    "count_pairs",
    "year_filter",
    "participants_query",
    "state_attributes",
    "check_states_known",
    "check_graphs_declare_states",
    "AGREEMENT_TYPES",
    "WEIGHTING",
    "build_network",
    "build_networks",
    "build_network_uncached",
    "exercise_years",
    "agreement_type_names",
    "exercise_incidence",
    "window_counts",
    "exercise_arrays",
]

RELATIONS = ("exercise", "agreement", "all")

#: Agreement classes of the ontology (defined in :mod:`kg.inforce`).
AGREEMENT_TYPES = inforce.AGREEMENT_TYPES

#: How edge weights are defined, per relation (quoted in every citation block).
WEIGHTING = {
    "exercise": ("weight = number of distinct exercises (sp:year in the window) in which both "
                 "states took part; observers excluded unless include_observers; an exercise "
                 "with owl:sameAs to another exercise in the graphs read counts once"),
    "agreement": ("weight = number of agreements that tie both states in at least one year of "
                  "the window (" + inforce.RULE + ")"),
    "all": ("weight = exercise weight + agreement weight (multiplex sum; one shared exercise "
            "and one agreement in force weigh the same); both kept on the edge as "
            "exercise_weight and agreement_weight"),
}

_STATE_NS = f"{ID}state/"


#: Check and normalize agreement type names (defined in :mod:`kg.inforce`).
agreement_type_names = inforce.type_names


def _int_term(value: int) -> str:
    """An integer as a SPARQL literal (through the term serializer, never raw text)."""
    return term_to_sparql(Lit(str(int(value)), XSD + "integer"))


def _participant_path(include_observers: bool) -> str:
    return "sp:participant|sp:observer" if include_observers else "sp:participant"


def exercise_incidence(var: str, year_from, year_to, include_observers) -> str:
    """A sub-select of distinct (exercise, participant) pairs counted in the window.

    DISTINCT here makes each (exercise, a, b) solution of the dyad join unique,
    so ``COUNT(*)`` per dyad is the number of distinct exercises even when the
    same triples sit in several graphs (a union default graph repeats them).
    """
    flt = year_filter(year_from, year_to)
    path = _participant_path(include_observers)
    return (
        f"  {{ SELECT DISTINCT ?ex ?{var} WHERE {{\n"
        f"    ?ex sp:year ?year . {flt}\n"
        f"    FILTER NOT EXISTS {{ {_COPY} }}\n"
        f"    ?ex {path} ?{var} .\n"
        "  } }\n"
    )


#: An exercise that is a reconciled copy: it has owl:sameAs to an exercise in the graphs read.
_COPY_LINK, _COPY_TARGET = "?ex owl:sameAs ?canon", "?canon a sp:Exercise"
_COPY = f"{_COPY_LINK} . {_COPY_TARGET}"
#: The copies, listed (the link first: the engine would otherwise start from every exercise).
_COPIES = f"SELECT DISTINCT ?ex WHERE {{ {_COPY_LINK} FILTER EXISTS {{ {_COPY_TARGET} }} }}"


def year_filter(year_from: int | None, year_to: int | None) -> str:
    """The ``FILTER(...)`` on ``?year`` of a window (empty when the window is open).

    >>> year_filter(None, None)
    ''
    """
    filters = []
    if year_from is not None:
        filters.append(f"?year >= {_int_term(year_from)}")
    if year_to is not None:
        filters.append(f"?year <= {_int_term(year_to)}")
    return f"FILTER({' && '.join(filters)})" if filters else ""


def _exercise_dyads(store, year_from, year_to, include_observers, graphs):
    """Exercise dyad counts ``{(a, b): (n,)}`` with a < b, and ``{a: exercises of a}``."""
    return count_pairs(exercise_participants(store, year_from, year_to, include_observers,
                                               graphs, by_year=False).get(None, []))


def participants_query(year_from, year_to, include_observers: bool, *, by_year: bool) -> str:
    """The SPARQL of :func:`exercise_participants`: each exercise of the window (and, with
    ``by_year``, its year) with its participants' IRIs in one space-separated string.

    No DISTINCT: a participant stated in two graphs comes twice, and the caller keeps it
    once (DISTINCT cost the engine a tenth of the query). The benchmark times the same
    text on the raw engine (the read that ``kg metrics --by-year`` cannot avoid).

    >>> participants_query(2015, 2015, True, by_year=True).splitlines()[-2:]
    ['  ?ex sp:participant|sp:observer ?p .', '} GROUP BY ?ex ?year']
    """
    group = "?ex ?year" if by_year else "?ex"
    return SPARQL_PREFIXES + (
        f"SELECT {group} (GROUP_CONCAT(STR(?p); separator=\" \") AS ?parts) WHERE {{\n"
        f"  ?ex sp:year ?year . {year_filter(year_from, year_to)}\n"
        f"  ?ex {_participant_path(include_observers)} ?p .\n"
        f"}} GROUP BY {group}"
    )


def exercise_participants(store, year_from, year_to, include_observers, graphs, *,
                           by_year: bool, ids: bool = False) -> dict:
    """The participant states (ISO3, sorted) of each exercise in the window, copies left out.

    One query groups each exercise's participants (``GROUP BY ?ex``, or ``?ex
    ?year`` with ``by_year``); a second lists the reconciled copies to skip (the
    pattern ``_COPY`` that :func:`exercise_incidence` excludes). Returns
    ``{year or None: [states of one exercise, ...]}``. The engine groups a few
    participants per exercise far faster than it joins every pair of them. With
    ``ids``, each entry is ``(exercise IRI, states)`` (the same query text, so a
    run's memo answers it once for both forms).
    """
    text = participants_query(year_from, year_to, include_observers, by_year=by_year)
    from functools import lru_cache

    copies = {row[0].value for row in store.select(SPARQL_PREFIXES + _COPIES, graphs=graphs, own=True).rows}
    iso = lru_cache(maxsize=None)(iso3_of)  # a few hundred states, named many times
    out: dict = {}
    for row in store.select(text, graphs=graphs, own=True).rows:
        ex, parts = row[0], row[-1]
        if ex.value in copies or parts is None:
            continue
        year = int(row[1].value) if by_year else None
        states = sorted({s for s in map(iso, parts.value.split()) if s is not None})
        out.setdefault(year, []).append((ex.value, states) if ids else states)
    return out


def count_pairs(exercises) -> tuple[dict, dict]:
    """The exercise weights from participant lists (the rule :func:`build_network` applies).

    :param exercises: the sorted participant states of each exercise, as
        :func:`exercise_participants` gives them for one year or window.
    :returns: ``({(a, b): (n,)}, {a: n})``: for each pair ``a < b`` the exercises
        both took part in, and for each state its exercises.

    >>> count_pairs([["JPN", "USA"], ["AUS", "JPN", "USA"]])[0][("JPN", "USA")]
    (2,)
    """
    from collections import Counter
    from itertools import combinations

    pairs: Counter = Counter()
    diag: Counter = Counter()
    for states in exercises:  # each list sorted and without repeats: its pairs have a < b
        diag.update(states)
        pairs.update(combinations(states, 2))
    return {k: (w,) for k, w in pairs.items()}, dict(diag)


def check_graphs_declare_states(store, graphs: list[str] | None, reader: str) -> None:
    """Refuse a ``--graph`` selection that declares no state (``--graph mme``): queries that
    find a partner by its ``sp:State`` would count none while the records are there, and
    the empty answer would read as a lack of data.

    :param graphs: the selection (short names); None (every graph) is not checked.
    :param reader: what reads states, for the message ("the claims' queries read partners by").
    :raises UsageError: naming the graphs that declare states, to add.
    """
    if not graphs:
        return
    ask = SPARQL_PREFIXES + "ASK { ?s a sp:State }"
    if store.query(ask, graphs=list(graphs), own=True):
        return
    holders = [g for g in store.graph_names()
               if g not in graphs and store.query(ask, graphs=[g], own=True)]
    raise UsageError(f"--graph {' --graph '.join(graphs)}: these graphs declare no state "
                     f"(sp:State), which {reader}; add "
                     + (" or ".join(f"--graph {g}" for g in holders) or "a graph of states"))


def check_states_known(store, codes, option: str) -> None:
    """Refuse ISO3 codes that no ``sp:State`` in the store bears (any graph).

    A code that is well formed but unknown (a typo) would otherwise give empty tables
    without a word.

    :param codes: ISO3 codes, already checked for their form.
    :param option: the option that named them, for the message (``--focus``).
    :raises UsageError: naming the unknown codes.

    >>> import tempfile
    >>> from kg.namespaces import RDF, SP, graph_iri, state_iri
    >>> from kg.store import open_store
    >>> st = open_store(tempfile.mkdtemp() + "/store", write=True)
    >>> st.write_graphs({graph_iri("x"): f"<{state_iri('JPN')}> <{RDF}type> <{SP}State> .\\n"
    ...                  .encode()}, replace=True)
    >>> check_states_known(st, ["JPN"], "--focus")
    >>> check_states_known(st, ["XQZ", "JPN"], "--focus")
    Traceback (most recent call last):
    kg.errors.UsageError: --focus XQZ: no state with that ISO3 code in the store
    >>> st.close()
    """
    from kg.namespaces import state_iri
    from kg.sparql import iri_values

    codes = sorted(set(codes))
    known: set[str] = set()
    for block in iri_values(state_iri(c) for c in codes):
        rows = store.select(SPARQL_PREFIXES + f"SELECT ?s WHERE {{ VALUES ?s {{ {block} }} "
                            "?s a sp:State }", own=True).rows
        known.update(iso3_of(r[0].value) for r in rows)
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise UsageError(f"{option} {' '.join(unknown)}: no state with that ISO3 code in the "
                         "store")


def state_attributes(store, graphs) -> dict[str, dict]:
    """Label, region and coordinates of every state in ``graphs``: ``{ISO3: {...}}``."""
    text = SPARQL_PREFIXES + (
        "SELECT ?s (MIN(?l) AS ?label) (MIN(?r) AS ?region) (MIN(?la) AS ?lat) (MIN(?lo) AS ?lon)"
        " WHERE {\n"
        "  ?s a sp:State .\n"
        "  OPTIONAL { ?s rdfs:label ?l }\n"
        "  OPTIONAL { ?s sp:region ?r }\n"
        "  OPTIONAL { ?s sp:lat ?la }\n"
        "  OPTIONAL { ?s sp:lon ?lo }\n"
        "} GROUP BY ?s"
    )
    rs = store.select(text, graphs=graphs, own=True)
    out = {}
    for s, label, region, lat, lon in rs.rows:
        iso = iso3_of(s.value)
        if iso is None:
            continue
        out[iso] = {
            "label": label.value if label is not None else None,
            "region": region.value if region is not None else None,
            "lat": float(lat.value) if lat is not None else None,
            "lon": float(lon.value) if lon is not None else None,
        }
    return out


def check_year_window(year_from: int | None, year_to: int | None) -> None:
    """Refuse a ``--from``/``--to`` outside 1800-2100 (:func:`kg.namespaces.is_plausible_year`) or reversed."""
    from kg.namespaces import YEAR_MAX, YEAR_MIN, is_plausible_year

    for option, year in (("--from", year_from), ("--to", year_to)):
        if year is not None and not is_plausible_year(year):
            raise UsageError(f"{option} {year}: a year from {YEAR_MIN} to {YEAR_MAX}")
    if year_from is not None and year_to is not None and year_from > year_to:
        raise UsageError(f"--from {year_from} is after --to {year_to}")


def build_network(store, *, relation: str = "exercise", year_from: int | None = None,
                  year_to: int | None = None, include_observers: bool = False,
                  agreement_types: list[str] | None = None, graphs: list[str] | None = None,
                  include_pending: bool = False):
    """The undirected state-state network for a window of years.

    :param store: an open store (local or remote).
    :param relation: ``exercise``, ``agreement`` or ``all`` (see the module docstring).
    :param year_from: first year of the window (inclusive), or None for open.
    :param year_to: last year of the window (inclusive), or None for open.
    :param include_observers: count exercise observers as participants.
    :param agreement_types: only these agreement types (e.g. ``ReciprocalAccessAgreement``).
    :param graphs: dataset graphs to read (short names); None reads all.
    :param include_pending: count signed-but-not-in-force agreements from their signing
        year (:mod:`kg.inforce`); off by default.
    :returns: a ``networkx.Graph`` with ISO3 nodes (attributes ``label``, ``region``,
        ``lat``, ``lon``), edge ``weight`` (float), and ``G.graph["params"]``.

    >>> G = build_network(store, relation="exercise", year_from=2015, year_to=2024)  # doctest: +SKIP
    >>> G.degree("JPN")  # doctest: +SKIP

    Within a run that has a run cache (:func:`kg.cache.run_cache` on this
    store), the network is built once and shared: treat it as read-only.
    """
    cache = getattr(store, "network_cache", None)
    if cache is not None:
        return cache.network(relation=relation, year_from=year_from, year_to=year_to,
                             include_observers=include_observers,
                             agreement_types=agreement_types, graphs=graphs,
                             include_pending=include_pending)
    return build_network_uncached(store, relation=relation, year_from=year_from, year_to=year_to,
                                  include_observers=include_observers,
                                  agreement_types=agreement_types, graphs=graphs,
                                  include_pending=include_pending)


def build_network_uncached(store, *, relation: str = "exercise", year_from: int | None = None,
                           year_to: int | None = None, include_observers: bool = False,
                           agreement_types: list[str] | None = None,
                           graphs: list[str] | None = None, include_pending: bool = False):
    """:func:`build_network` without the run cache: always sends its queries (same arguments)."""
    if relation not in RELATIONS:
        raise UsageError(f"unknown relation {relation!r} (one of: {', '.join(RELATIONS)})")
    check_year_window(year_from, year_to)
    types = agreement_type_names(agreement_types)
    graph_list = sorted(graphs) if graphs else None

    ex: dict = {}
    ag: dict = {}
    n_ex: dict = {}
    n_ag: dict = {}
    if relation in ("exercise", "all"):
        ex, n_ex = _exercise_dyads(store, year_from, year_to, include_observers, graph_list)
    if relation in ("agreement", "all"):
        ag, n_ag = inforce.dyads(store, year_from, year_to, types=types, graphs=graph_list,
                                 include_pending=include_pending)
    attrs = state_attributes(store, graph_list)
    params = _params(relation, year_from, year_to, include_observers, types, graph_list,
                     include_pending)
    return _assemble(relation, ex, n_ex, ag, n_ag, attrs, params)


def _params(relation, year_from, year_to, include_observers, types, graph_list,
            include_pending=False) -> dict:
    params = {
        "relation": relation,
        "from": year_from,
        "to": year_to,
        "include_observers": bool(include_observers),
        "agreement_types": types,
        "graphs": graph_list,
        "weighting": WEIGHTING[relation],
    }
    if include_pending:  # only when set, so default outputs stay byte-identical
        params["include_pending"] = True
    return params


def _assemble(relation, ex, n_ex, ag, n_ag, attrs, params):
    """The networkx graph from aggregated dyads (the one place a network is put together)."""
    import networkx as nx

    nodes = set(n_ex) | set(n_ag)
    for a, b in list(ex) + list(ag):
        nodes.add(a)
        nodes.add(b)
    G = nx.Graph()
    G.graph["params"] = params
    empty = {"label": None, "region": None, "lat": None, "lon": None}
    for n in sorted(nodes):
        extra = {}
        if relation in ("exercise", "all"):
            extra["exercises"] = n_ex.get(n, 0)
        if relation in ("agreement", "all"):
            extra["agreements"] = n_ag.get(n, 0)
        G.add_node(n, **attrs.get(n, empty), **extra)
    if relation == "exercise":  # the common case, in one call
        G.add_edges_from((a, b, {"weight": float(ex[(a, b)][0])}) for a, b in sorted(ex))
        return G
    for key in sorted(set(ex) | set(ag)):
        a, b = key
        if relation == "agreement":
            w, names = ag[key]
            G.add_edge(a, b, weight=float(w), agreement_types=names)
        else:
            ew = ex.get(key, (0,))[0]
            aw, names = ag.get(key, (0, []))
            G.add_edge(a, b, weight=float(ew + aw), exercise_weight=float(ew),
                       agreement_weight=float(aw), agreement_types=names)
    return G


def _exercise_dyads_by_year(store, year_from, year_to, include_observers, graphs):
    """Exercise dyad counts per year, from one grouped query: ``{year: (pairs, diag)}``.

    The same counts :func:`_exercise_dyads` gives for the one-year window of
    each year (an exercise counts in every year it is dated).
    """
    per_year = exercise_participants(store, year_from, year_to, include_observers, graphs,
                                      by_year=True)
    return {y: count_pairs(exs) for y, exs in sorted(per_year.items())}


def build_networks(store, windows, *, relation: str = "exercise", include_observers: bool = False,
                   agreement_types: list[str] | None = None, graphs: list[str] | None = None,
                   include_pending: bool = False):
    """One network per window ``(year_from, year_to)`` (closed years), in one pass.

    Equal to ``[build_network(store, relation=relation, year_from=a, year_to=b, ...)
    for a, b in windows]`` (the tests check it year by year), but the exercise
    dyads of every year come from one grouped query and each window sums the years
    it covers (an exercise has one year, ``ExerciseYear-maxCount`` in the shapes),
    and the state attributes are read once. Agreement dyads are read per window
    (their in-force rule spans years).

    >>> Gs = build_networks(store, [(y, y) for y in range(1990, 2026)])  # doctest: +SKIP
    """
    if relation not in RELATIONS:
        raise UsageError(f"unknown relation {relation!r} (one of: {', '.join(RELATIONS)})")
    windows = [(int(a), int(b)) for a, b in windows]
    for a, b in windows:
        check_year_window(a, b)
    types = agreement_type_names(agreement_types)
    graph_list = sorted(graphs) if graphs else None
    if not windows:
        return []
    years: dict = {}
    if relation in ("exercise", "all"):
        years = _exercise_dyads_by_year(store, min(a for a, _ in windows),
                                        max(b for _, b in windows), include_observers, graph_list)
    attrs = state_attributes(store, graph_list)
    out = []
    for a, b in windows:
        ag: dict = {}
        n_ag: dict = {}
        ex, n_ex = window_counts(years, a, b)
        if relation in ("agreement", "all"):
            ag, n_ag = inforce.dyads(store, a, b, types=types, graphs=graph_list,
                                     include_pending=include_pending)
        params = _params(relation, a, b, include_observers, types, graph_list, include_pending)
        out.append(_assemble(relation, ex, n_ex, ag, n_ag, attrs, params))
    return out


def window_counts(years: dict, year_from: int, year_to: int) -> tuple[dict, dict]:
    """The exercise counts of a window (closed years) from per-year counts.

    :param years: ``{year: (pairs, diag)}`` as :func:`count_pairs` gives them per year.
    :returns: ``(pairs, diag)`` of the window: each year's counts summed (an exercise
        has one year), as :func:`build_networks` uses them.

    >>> years = {2001: count_pairs([["JPN", "USA"]]), 2002: count_pairs([["JPN", "USA"]])}
    >>> window_counts(years, 2001, 2002)[0]
    {('JPN', 'USA'): (2,)}
    """
    a, b = year_from, year_to
    if a == b:  # one year: its counts as they are
        pairs, diag = years.get(a, ({}, {}))
        return dict(pairs), dict(diag)
    ex: dict = {}
    n_ex: dict = {}
    for y in range(a, b + 1):
        pairs, diag = years.get(y, ({}, {}))
        for key, (w,) in pairs.items():
            ex[key] = (ex.get(key, (0,))[0] + w,)
        for n, w in diag.items():
            n_ex[n] = n_ex.get(n, 0) + w
    return ex, n_ex


def exercise_arrays(exercises) -> tuple[list, dict, dict, tuple]:
    """The exercise network of these exercises as :func:`build_network` assembles it, as
    plain dicts and arrays, without networkx: ``(nodes, adj, n_ex, (us, vs, ws))``.

    ``nodes`` sorted; ``adj[u]`` = ``{v: float weight}``, each adjacency sorted (the
    order of the networkx graph's nodes and adjacencies); ``n_ex`` each state's
    exercises; ``us < vs`` the positions of each edge's ends in ``nodes`` and ``ws``
    its weight, in the order of the adjacency (as :func:`kg.metrics._edge_arrays`
    reads the graph). The counts are those of :func:`count_pairs` (summed over the
    lists given), computed as the co-participation matrix ``B^T B`` of the exercises'
    incidence matrix ``B``; the tests check all of it against the assembled graph.

    :param exercises: the sorted participant states of each exercise, as
        :func:`exercise_participants` gives them for one year (the lists of several
        years for a window).

    >>> nodes, adj, n_ex, _ = exercise_arrays([["JPN", "USA"], ["AUS", "JPN", "USA"]])
    >>> nodes, adj["JPN"], n_ex["JPN"]
    (['AUS', 'JPN', 'USA'], {'AUS': 1.0, 'USA': 2.0}, 2)
    """
    from itertools import chain

    import numpy as np
    from scipy.sparse import csr_matrix

    nodes = sorted({s for states in exercises for s in states})
    n = len(nodes)
    at = {v: i for i, v in enumerate(nodes)}
    sizes = [len(states) for states in exercises]
    cols = np.fromiter(map(at.__getitem__, chain.from_iterable(exercises)), dtype=np.intp,
                       count=sum(sizes))
    rows = np.repeat(np.arange(len(exercises), dtype=np.intp), sizes)
    incidence = csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(len(exercises), n))
    both = (incidence.T @ incidence).tocsr()  # exact integer counts, as floats
    both.sum_duplicates()
    both.sort_indices()
    diag = both.diagonal()
    starts = np.repeat(np.arange(n, dtype=np.intp), np.diff(both.indptr))
    ends = both.indices.astype(np.intp)
    off = ends != starts
    starts, ends, weights = starts[off], ends[off], both.data[off]
    bounds = np.searchsorted(starts, np.arange(n + 1)).tolist()
    names = np.array(nodes, dtype=object)[ends].tolist()
    values = weights.tolist()
    adj = {u: dict(zip(names[bounds[i]:bounds[i + 1]], values[bounds[i]:bounds[i + 1]],
                       strict=True))
           for i, u in enumerate(nodes)}
    n_ex = dict(zip(nodes, (int(x) for x in diag.tolist()), strict=True))
    upper = ends > starts
    return nodes, adj, n_ex, (starts[upper], ends[upper], weights[upper])


def exercise_years(store, focus: str, graphs: list[str] | None = None, *,
                   include_observers: bool = False) -> dict[int, dict]:
    """Per year, the focal state's exercises: count, count with the United States, partners.

    :param focus: ISO3 code of the focal state.
    :returns: ``{year: {"exercises": int, "with_us": int, "partners": set[str]}}``, years
        sorted; only years in which the focal state took part in an exercise.

    >>> exercise_years(store, "JPN")[2019]["with_us"]  # doctest: +SKIP
    """
    from kg.namespaces import check_iso3, state_iri

    check_iso3(focus)
    path = _participant_path(include_observers)
    graph_list = sorted(graphs) if graphs else None
    block = (
        "  ?ex sp:participant ?focus ; sp:year ?year .\n"
        f"  FILTER NOT EXISTS {{ {_COPY} }}\n"
    )
    q_counts = SPARQL_PREFIXES + (
        "SELECT ?year (COUNT(DISTINCT ?ex) AS ?n) (COUNT(DISTINCT ?exus) AS ?nus) WHERE {\n"
        + block
        + "  OPTIONAL { ?ex sp:participant ?usa . BIND(?ex AS ?exus) }\n"
        "} GROUP BY ?year"
    )
    q_partners = SPARQL_PREFIXES + (
        "SELECT DISTINCT ?year ?p WHERE {\n"
        + block
        + f"  ?ex {path} ?p .\n"
        f"  FILTER(?p != ?focus && STRSTARTS(STR(?p), \"{_STATE_NS}\"))\n"
        "}"
    )
    bind = {"focus": Iri(state_iri(focus)), "usa": Iri(state_iri("USA"))}
    out: dict[int, dict] = {}
    for year, n, nus in store.select(q_counts, bindings=bind, graphs=graph_list, own=True).rows:
        out[int(year.value)] = {"exercises": int(n.value), "with_us": int(nus.value),
                                "partners": set()}
    for year, p in store.select(q_partners, bindings={"focus": bind["focus"]}, graphs=graph_list,
                                own=True).rows:
        out.setdefault(int(year.value), {"exercises": 0, "with_us": 0, "partners": set()})
        out[int(year.value)]["partners"].add(iso3_of(p.value))
    return dict(sorted(out.items()))
