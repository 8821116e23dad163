"""kg.network: state-state networks from RDF, on a hand-made world with known dyad counts."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def world(network_world) -> Path:
    return network_world


def _edges(G, attr="weight"):
    return {tuple(sorted((u, v))): d[attr] for u, v, d in G.edges(data=True)}


def test_exercise_network_counts_distinct_exercises_once(world):
    from kg.network import build_network
    from kg.store import open_store

    with open_store(world) as store:
        G = build_network(store, relation="exercise", year_from=2015, year_to=2024)
    # one-2016 is also in graph "copy" (owl:sameAs) and two-2018 has a duplicated triple:
    # each still counts once; NATO is not a state; ex four-2010 is outside the window
    assert _edges(G) == {("AAA", "BBB"): 2.0, ("AAA", "USA"): 1.0, ("BBB", "USA"): 1.0,
                         ("AAA", "CCC"): 1.0}
    assert sorted(G.nodes) == ["AAA", "BBB", "CCC", "USA"]
    assert G.nodes["AAA"]["exercises"] == 3
    assert G.nodes["AAA"]["label"] == "Aland"
    assert G.nodes["AAA"]["region"] == "Region One"
    assert G.nodes["AAA"]["lat"] == 10.5 and G.nodes["AAA"]["lon"] == 20.25
    assert G.nodes["BBB"]["lat"] is None
    assert all(isinstance(w, float) for w in _edges(G).values())
    p = G.graph["params"]
    assert (p["relation"], p["from"], p["to"], p["include_observers"]) == ("exercise", 2015, 2024,
                                                                         False)
    assert "distinct exercises" in p["weighting"]


def test_window_is_inclusive_and_open_ended(world):
    from kg.network import build_network
    from kg.store import open_store

    with open_store(world) as store:
        all_years = build_network(store)
        only_2016 = build_network(store, year_from=2016, year_to=2016)
        upto_2016 = build_network(store, year_to=2016)
    assert _edges(all_years)[("AAA", "BBB")] == 3.0  # 2010, 2016, 2018
    assert _edges(only_2016) == {("AAA", "BBB"): 1.0, ("AAA", "USA"): 1.0, ("BBB", "USA"): 1.0}
    assert _edges(upto_2016)[("AAA", "BBB")] == 2.0


def test_observers_only_when_asked(world):
    from kg.network import build_network
    from kg.store import open_store

    with open_store(world) as store:
        G = build_network(store, year_from=2015, year_to=2024, include_observers=True)
    e = _edges(G)
    assert e[("AAA", "DDD")] == 1.0 and e[("BBB", "DDD")] == 1.0 and e[("DDD", "USA")] == 1.0
    assert e[("AAA", "BBB")] == 2.0


def test_graph_subset_keeps_the_copy_when_its_canonical_record_is_not_read(world):
    from kg.network import build_network
    from kg.store import open_store

    with open_store(world) as store:
        G = build_network(store, graphs=["copy"])
    assert _edges(G) == {("AAA", "BBB"): 1.0, ("AAA", "USA"): 1.0, ("BBB", "USA"): 1.0}


def test_agreement_network_in_force_years_and_types(world):
    from kg.network import build_network
    from kg.store import open_store

    with open_store(world) as store:
        G = build_network(store, relation="agreement", year_from=2015, year_to=2024)
        G_all = build_network(store, relation="agreement")
        G_old = build_network(store, relation="agreement", year_from=2005, year_to=2012)
        G_gap = build_network(store, relation="agreement", year_from=2013, year_to=2016)
        G_typed = build_network(store, relation="agreement", agreement_types=["sp:DefenceTreaty"])
        G_pending = build_network(store, relation="agreement", year_from=2015, year_to=2024,
                                  include_pending=True)
    # the SOFA signed in 2019 and not in force counts only when pending agreements are asked for
    assert _edges(G) == {("AAA", "BBB"): 1.0}
    assert _edges(G_pending) == {("AAA", "BBB"): 1.0, ("BBB", "CCC"): 1.0}
    assert G["AAA"]["BBB"]["agreement_types"] == ["LogisticsAgreement"]
    assert G_pending["BBB"]["CCC"]["agreement_types"] == ["StatusOfForcesAgreement"]
    # the RAA under negotiation never counts
    assert ("AAA", "CCC") not in _edges(G_all)
    assert _edges(G_all) == {("AAA", "BBB"): 1.0, ("AAA", "DDD"): 1.0}
    assert _edges(G_old) == {("AAA", "DDD"): 1.0}
    assert _edges(G_gap) == {}
    assert _edges(G_typed) == {("AAA", "DDD"): 1.0}


def test_multiplex_all_sums_both_relations(world):
    from kg.network import build_network
    from kg.store import open_store

    with open_store(world) as store:
        G = build_network(store, relation="all", year_from=2015, year_to=2024, include_pending=True)
    e = G["AAA"]["BBB"]
    assert (e["weight"], e["exercise_weight"], e["agreement_weight"]) == (3.0, 2.0, 1.0)
    assert G["BBB"]["CCC"]["weight"] == 1.0 and G["BBB"]["CCC"]["exercise_weight"] == 0.0
    assert "exercise weight + agreement weight" in G.graph["params"]["weighting"]


def test_exercise_years_for_a_focal_state(world):
    from kg.network import exercise_years
    from kg.store import open_store

    with open_store(world) as store:
        years = exercise_years(store, "AAA")
    assert sorted(years) == [2010, 2016, 2018, 2020]
    assert years[2016] == {"exercises": 1, "with_us": 1, "partners": {"BBB", "USA"}}
    assert years[2020] == {"exercises": 1, "with_us": 0, "partners": {"CCC"}}


@pytest.mark.parametrize("kw, message", [
    ({"relation": "trade"}, "unknown relation"),
    ({"year_from": 2020, "year_to": 2010}, "after"),
    ({"relation": "agreement", "agreement_types": ["Friendship"]}, "unknown agreement type"),
    ({"graphs": ["nosuch"]}, "no graph named"),
])
def test_bad_options_are_usage_errors(world, kw, message):
    from kg.errors import UsageError
    from kg.network import build_network
    from kg.store import open_store

    with open_store(world) as store, pytest.raises(UsageError, match=message):
        build_network(store, **kw)


def _same_network(G, H):
    assert G.graph["params"] == H.graph["params"]
    assert list(G.nodes(data=True)) == list(H.nodes(data=True))
    assert list(G.edges(data=True)) == list(H.edges(data=True))


@pytest.mark.parametrize("relation", ["exercise", "agreement", "all"])
@pytest.mark.parametrize("observers", [False, True])
def test_one_pass_equals_one_window_at_a_time(world, relation, observers):
    """build_networks (one grouped query, windows summed from years) gives, window by
    window, exactly the network build_network gives: per year, and over 3-year windows."""
    from kg.network import build_network_uncached, build_networks
    from kg.store import open_store

    windows = [(y, y) for y in range(2008, 2027)] + [(y - 2, y) for y in range(2010, 2027)]
    with open_store(world) as store:
        fast = build_networks(store, windows, relation=relation, include_observers=observers)
        for (a, b), G in zip(windows, fast, strict=True):
            _same_network(G, build_network_uncached(store, relation=relation, year_from=a,
                                                    year_to=b, include_observers=observers))
        # the per-year graphs are not all empty: the test compares real networks
        assert sum(G.number_of_edges() for G in fast) > 5


def test_one_pass_equals_one_window_at_a_time_on_the_bundled_data(built_store):
    from kg.network import build_network_uncached, build_networks
    from kg.store import open_store

    years = [(y, y) for y in range(1995, 2027)]
    fives = [(y - 4, y) for y in range(2000, 2027)]
    with open_store(built_store) as store:
        for windows in (years, fives):
            for (a, b), G in zip(windows, build_networks(store, windows), strict=True):
                _same_network(G, build_network_uncached(store, year_from=a, year_to=b))


def test_run_cache_builds_each_network_once_and_sends_each_query_once(world):
    from kg.cache import run_cache
    from kg.network import build_network
    from kg.store import open_store

    with open_store(world) as store:
        sent = []
        store.tracer = lambda text, graphs: sent.append((text, tuple(graphs)))
        cache = run_cache(store)
        G1 = build_network(store, relation="all", year_from=2015, year_to=2024)
        G2 = cache.network(relation="all", year_from=2015, year_to=2024)
        assert G1 is G2
        many = cache.networks([(2015, 2015), (2016, 2016), (2015, 2024)], relation="all")
        assert many[2] is G1
        assert len(cache.built) == len(set(cache.built)) == 3
        assert len(sent) == len(set(sent))
        from kg.metrics import node_metrics

        assert cache.measure(G1, node_metrics) is cache.measure(G1, node_metrics)


def _sparql_pair_join(store, year_from, year_to, observers):
    """The reference: dyad counts aggregated by the engine over the join of every pair of
    participants (the window rule of kg.network.exercise_incidence), a < b, states only."""
    from kg.namespaces import SPARQL_PREFIXES, iso3_of
    from kg.network import exercise_incidence

    text = SPARQL_PREFIXES + (
        "SELECT ?a ?b (COUNT(*) AS ?w) WHERE {\n"
        + exercise_incidence("a", year_from, year_to, observers)
        + exercise_incidence("b", year_from, year_to, observers)
        + "} GROUP BY ?a ?b")
    pairs, diag = {}, {}
    for a, b, w in store.select(text).rows:
        ia, ib = iso3_of(a.value), iso3_of(b.value)
        if ia is None or ib is None:
            continue
        if ia == ib:
            diag[ia] = int(w.value)
        elif ia < ib:
            pairs[(ia, ib)] = float(w.value)
    return pairs, diag


@pytest.mark.parametrize("observers", [False, True])
@pytest.mark.parametrize("window", [(None, None), (2015, 2024), (2016, 2016), (None, 2010),
                                    (2018, None)])
def test_pairs_counted_per_exercise_equal_the_engine_pair_join(world, built_store, window,
                                                               observers):
    from kg.network import build_network_uncached
    from kg.store import open_store

    for path in (world, built_store):
        with open_store(path) as store:
            G = build_network_uncached(store, year_from=window[0], year_to=window[1],
                                       include_observers=observers)
            pairs, diag = _sparql_pair_join(store, window[0], window[1], observers)
        assert _edges(G) == pairs
        assert {n: d["exercises"] for n, d in G.nodes(data=True)} == \
            {n: diag.get(n, 0) for n in G.nodes}
        assert set(G.nodes) == set(diag) | {n for p in pairs for n in p}


def test_run_cache_measures_many_networks_once_each(world):
    """measure_many: the values measure gives, the missing ones from one map call, cached."""
    from kg.cache import run_cache
    from kg.metrics import node_metrics
    from kg.store import open_store

    with open_store(world) as store:
        cache = run_cache(store)
        nets = cache.networks([(2015, 2015), (2016, 2016), (2015, 2024)], relation="all")
        first = cache.measure(nets[0], node_metrics)
        calls = []

        def mapper(fn, graphs):
            calls.append(len(graphs))
            return [fn(G) for G in graphs]

        values = cache.measure_many(nets + [nets[1]], node_metrics, map_fn=mapper)
        assert calls == [2]  # the first was measured already; the repeated one once
        assert values[0] is first and values[1] is values[3]
        assert values == [node_metrics(G) for G in nets + [nets[1]]]
        again = cache.measure_many(nets, node_metrics, map_fn=mapper)
        assert calls == [2, 0] and all(a is b for a, b in zip(again, values, strict=False))


@pytest.mark.parametrize("observers", [False, True])
def test_exercise_arrays_are_the_assembled_network(built_store, world, observers):
    """exercise_arrays gives the nodes, adjacency order, float weights, exercise counts and
    edge arrays of the graph build_network assembles for the same window (what kg.metrics
    measures without building it), one year or several."""
    import numpy as np

    from kg.metrics import _edge_arrays
    from kg.network import build_network_uncached, exercise_arrays, exercise_participants
    from kg.store import open_store

    compared = 0
    for path in (built_store, world):
        with open_store(path) as store:
            per_year = exercise_participants(store, 1990, 2026, observers, None, by_year=True)
            for a, b in [(y, y) for y in range(1990, 2027)] + [(2000, 2004), (2010, 2026)]:
                G = build_network_uncached(store, year_from=a, year_to=b,
                                           include_observers=observers)
                nodes, adj, n_ex, edges = exercise_arrays(
                    [s for y in range(a, b + 1) for s in per_year.get(y, [])])
                assert nodes == list(G)
                assert list(adj.items()) == [(u, {v: d["weight"] for v, d in nbrs.items()})
                                             for u, nbrs in G.adjacency()]
                assert all(type(w) is float for nbrs in adj.values() for w in nbrs.values())
                assert n_ex == dict(G.nodes(data="exercises"))
                for got, ref in zip(edges, _edge_arrays(nodes, G), strict=True):
                    assert got.dtype == ref.dtype and np.array_equal(got, ref)
                compared += G.number_of_edges()
    assert compared > 1000


def test_exercise_arrays_of_no_exercise_are_empty():
    from kg.network import exercise_arrays

    nodes, adj, n_ex, (us, vs, ws) = exercise_arrays([])
    assert (nodes, adj, n_ex, len(us), len(vs), len(ws)) == ([], {}, {}, 0, 0, 0)
    nodes, adj, n_ex, (us, vs, ws) = exercise_arrays([["JPN"], []])
    assert (nodes, adj, n_ex, len(us)) == (["JPN"], {"JPN": {}}, {"JPN": 1}, 0)


def test_run_cache_holds_the_networks_built(world):
    from kg.cache import run_cache
    from kg.store import open_store

    with open_store(world) as store:
        cache = run_cache(store)
        assert not cache.holds([(2015, 2015)])
        cache.networks([(2015, 2015), (2016, 2016)])
        assert cache.holds([(2015, 2015), (2016, 2016)])
        assert not cache.holds([(2015, 2015), (2017, 2017)])
        assert not cache.holds([(2015, 2015)], include_observers=True)
        assert cache.holds([])


@pytest.mark.parametrize("args", [["metrics", "--focus", "XQZ"],
                                  ["coverage", "--focus", "XQZ"],
                                  ["export", "--format", "dyad-year", "--states", "JPN",
                                   "--states", "XQZ"]])
def test_a_state_code_no_state_bears_is_refused_by_every_command(cli_runner, built_store, args):
    """kg.network.check_states_known: one rule for a well-formed but unknown ISO3 code."""
    res = cli_runner(*args, store=built_store)
    assert res.exit_code == 2 and res.stdout == ""
    option = "--states" if "--states" in args else "--focus"
    assert res.stderr == f"kg: error: {option} XQZ: no state with that ISO3 code in the store\n"


def test_check_states_known_names_only_the_unknown_codes(built_store):
    from kg.errors import UsageError
    from kg.network import check_states_known
    from kg.store import open_store

    with open_store(built_store) as store:
        check_states_known(store, ["JPN", "USA"], "--x")  # known: no error
        with pytest.raises(UsageError, match=r"^--x QQQ XQZ: no state"):
            check_states_known(store, ["XQZ", "JPN", "QQQ", "XQZ"], "--x")
