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
