"""kg.metrics: hand-checked values on small graphs, agreement with networkx, and the CLI."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

import pytest
import yaml

NETWORKS = Path(__file__).resolve().parent / "fixtures" / "networks"
CASES = sorted(p.name for p in NETWORKS.iterdir() if (p / "expected.json").exists())
METRICS = ("degree", "strength", "betweenness", "closeness", "eigenvector", "pagerank",
           "community")


def load_network(name: str):
    import networkx as nx

    doc = yaml.safe_load((NETWORKS / name / "network.yaml").read_text(encoding="utf-8"))
    G = nx.Graph()
    G.add_nodes_from(doc.get("nodes") or [])
    for a, b, w in doc["edges"]:
        G.add_edge(a, b, weight=float(w))
    return G


def test_every_fixture_folder_is_used():
    assert {"star", "path", "kite", "disconnected", "weighted"} <= set(CASES)


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("engine", ["auto", "networkx"])
def test_hand_checked_values(name, engine):
    from kg.metrics import node_metrics

    expected = json.loads((NETWORKS / name / "expected.json").read_text(encoding="utf-8"))
    got = node_metrics(load_network(name), engine=engine)
    checked = 0
    for metric in METRICS:
        for state, value in expected.get(metric, {}).items():
            tol = 1e-5 if metric == "pagerank" else 1e-6
            assert got[state][metric] == pytest.approx(value, abs=tol), (name, metric, state)
            checked += 1
    assert checked >= 10


def test_weight_as_distance_would_change_the_answer():
    """The weighted case: 1/weight distances make BBB a broker; raw weights as distances do not."""
    import networkx as nx

    from kg.metrics import node_metrics

    G = load_network("weighted")
    expected = json.loads((NETWORKS / "weighted" / "expected.json").read_text())
    naive = nx.betweenness_centrality(G, weight="weight", normalized=True)
    assert naive == pytest.approx(expected["weight_as_distance"]["betweenness"])
    ours = node_metrics(G)
    assert ours["BBB"]["betweenness"] == 1.0
    assert ours["BBB"]["betweenness"] != naive["BBB"]


def test_eigenvector_is_per_component():
    """networkx on the whole disconnected graph starves the smaller component; we do not."""
    import networkx as nx

    from kg.metrics import node_metrics

    G = load_network("disconnected")
    whole = nx.eigenvector_centrality(G, weight="weight", max_iter=10000, tol=1e-10)
    ours = node_metrics(G)
    assert whole["DDD"] < 0.01
    assert ours["DDD"]["eigenvector"] == pytest.approx(2 ** -0.5)


def _random_graph(seed: int, n: int, p: float):
    import networkx as nx

    rng = random.Random(seed)
    G = nx.gnp_random_graph(n, p, seed=seed)
    G = nx.relabel_nodes(G, {i: f"S{i:02d}" for i in G.nodes})
    for u, v in G.edges:
        G[u][v]["weight"] = float(rng.choice([1, 1, 2, 3, 5, 8]))
    return G


@pytest.mark.parametrize("seed, n, p", [(1, 30, 0.1), (2, 40, 0.3), (3, 25, 0.05), (4, 12, 0.9)])
def test_dense_brandes_agrees_with_networkx(seed, n, p):
    """The one-pass numpy Brandes equals networkx's betweenness and closeness (the reference)."""
    import networkx as nx
    from networkx.algorithms.link_analysis.pagerank_alg import _pagerank_python

    from kg.metrics import node_metrics

    G = _random_graph(seed, n, p)
    H = G.copy()
    for *_ends, d in H.edges(data=True):
        d["distance"] = 1.0 / d["weight"]
    bet = nx.betweenness_centrality(H, weight="distance", normalized=True)
    clo = nx.closeness_centrality(H, distance="distance")
    pr = _pagerank_python(G, weight="weight")
    ours = node_metrics(G)
    for v in G:
        assert ours[v]["betweenness"] == pytest.approx(bet[v], abs=1e-12)
        assert ours[v]["closeness"] == pytest.approx(clo[v], abs=1e-12)
        assert ours[v]["pagerank"] == pytest.approx(pr[v], abs=1e-6)
        assert ours[v]["degree"] == G.degree(v)
        assert ours[v]["strength"] == G.degree(v, weight="weight")


def test_results_do_not_depend_on_insertion_order():
    import networkx as nx

    from kg.metrics import node_metrics

    G = load_network("kite")
    R = nx.Graph()
    edges = list(G.edges(data=True))
    random.Random(7).shuffle(edges)
    R.add_edges_from(edges)
    assert node_metrics(R) == node_metrics(G)


def test_focus_metrics_shares_hhi_and_us_share():
    import networkx as nx

    from kg.metrics import focus_metrics

    G = nx.Graph()
    G.add_node("JPN", exercises=4)
    G.add_edge("JPN", "USA", weight=3.0)
    G.add_edge("JPN", "AUS", weight=1.0)
    G.add_edge("USA", "AUS", weight=1.0)
    f = focus_metrics(G, "JPN")
    assert [p["state"] for p in f["partners"]] == ["USA", "AUS"]
    assert [p["share"] for p in f["partners"]] == [0.75, 0.25]
    assert f["hhi"] == pytest.approx(0.75 ** 2 + 0.25 ** 2)
    assert f["hhi_normalized"] == pytest.approx((0.625 - 0.5) / 0.5)
    assert f["us_share"] == 0.75 and f["with_us"] == 3 and f["exercises"] == 4
    assert f["ego_density"] == 1.0
    missing = focus_metrics(G, "FRA")
    assert missing["present"] is False and missing["hhi"] is None


# ---------------------------------------------------------------- on a store

@pytest.fixture(scope="module")
def bundled(tmp_path_factory) -> Path:
    """The bundled data, built with `kg build` into a temporary store."""
    from click.testing import CliRunner

    from kg.cli import cli

    path = tmp_path_factory.mktemp("metrics") / "store"
    res = CliRunner().invoke(cli, ["--store", str(path), "build"])
    assert res.exit_code == 0, res.output
    return path


def _run(store: Path, *args: str) -> str:
    from click.testing import CliRunner

    from kg.cli import cli

    res = CliRunner().invoke(cli, ["--store", str(store), *args])
    assert res.exit_code == 0, (res.output, res.exception)
    return res.output


def test_japan_matches_an_independent_networkx_computation(bundled):
    """kg metrics on the bundled data equals networkx on a SPARQL dyad count written here."""
    import networkx as nx

    from kg.store import open_store

    out = _run(bundled, "metrics", "--relation", "exercise", "--from", "2015", "--to", "2024",
               "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["state", "degree", "strength", "betweenness", "closeness",
                             "eigenvector", "pagerank", "community"]
    assert [r["state"] for r in rows] == sorted(r["state"] for r in rows)
    jpn = next(r for r in rows if r["state"] == "JPN")

    dyads = """
    PREFIX sp: <https://w3id.org/secpart/ontology#>
    PREFIX owl: <http://www.w3.org/2002/07/owl#>
    SELECT ?a ?b (COUNT(DISTINCT ?ex) AS ?n) WHERE {
      ?ex a sp:Exercise ; sp:year ?y ; sp:participant ?a, ?b .
      FILTER(?y >= 2015 && ?y <= 2024)
      FILTER NOT EXISTS { ?ex owl:sameAs ?other }
      ?a a sp:State . ?b a sp:State .
      FILTER(STR(?a) < STR(?b))
    } GROUP BY ?a ?b
    """
    with open_store(bundled) as store:
        rs = store.select(dyads)
    G = nx.Graph()
    for a, b, n in rs.rows:
        G.add_edge(a.value.rsplit("/", 1)[1], b.value.rsplit("/", 1)[1],
                   distance=1.0 / int(n.value), weight=int(n.value))
    assert G.number_of_edges() > 100
    bet = nx.betweenness_centrality(G, weight="distance", normalized=True)
    assert int(jpn["degree"]) == G.degree("JPN")
    assert float(jpn["strength"]) == G.degree("JPN", weight="weight")
    # states that only exercise alone are nodes of kg's network but change nothing here
    n_kg, n_ref = len(rows), G.number_of_nodes()
    scale = ((n_ref - 1) * (n_ref - 2)) / ((n_kg - 1) * (n_kg - 2))
    assert float(jpn["betweenness"]) == pytest.approx(bet["JPN"] * scale, abs=1e-6)
    assert float(jpn["betweenness"]) > 0


def test_same_data_same_bytes_and_citation_only_outside_csv(bundled):
    a = _run(bundled, "metrics", "--from", "2015", "--to", "2024", "--format", "json",
             "--focus", "JPN")
    b = _run(bundled, "metrics", "--from", "2015", "--to", "2024", "--format", "json",
             "--focus", "JPN")
    assert a == b
    doc = json.loads(a)
    from kg.store import open_store

    with open_store(bundled) as store:
        fp = store.fingerprint()
    assert doc["citation"]["dataset"]["fingerprint"] == "sha256:" + fp["all"]
    assert doc["citation"]["parameters"]["from"] == 2015
    assert doc["periods"][0]["focus"]["us_share"] > 0
    for fmt in ("md", "latex", "table"):
        text = _run(bundled, "metrics", "--from", "2015", "--to", "2024", "--format", fmt)
        assert fp["all"] in text and "Brandes" in text and "Freeman" in text
        assert text == _run(bundled, "metrics", "--from", "2015", "--to", "2024", "--format", fmt)
    csv_text = _run(bundled, "metrics", "--from", "2015", "--to", "2024", "--format", "csv")
    assert fp["all"] not in csv_text and "Freeman" not in csv_text


def test_by_year_and_window_series(bundled, tmp_path):
    out = tmp_path / "series.csv"
    _run(bundled, "metrics", "--by-year", "--from", "2019", "--to", "2021", "--format", "csv",
         "--out", str(out))
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0])[:2] == ["year", "state"]
    assert sorted({r["year"] for r in rows}) == ["2019", "2020", "2021"]
    single = list(csv.DictReader(io.StringIO(
        _run(bundled, "metrics", "--from", "2020", "--to", "2020", "--format", "csv"))))
    assert [dict(r, year="2020") for r in single] == [r for r in rows if r["year"] == "2020"]

    win = list(csv.DictReader(io.StringIO(_run(
        bundled, "metrics", "--window", "3", "--from", "2018", "--to", "2021", "--format", "csv"))))
    assert list(win[0])[0] == "window"
    assert sorted({r["window"] for r in win}) == ["2018-2020", "2019-2021"]
    three = list(csv.DictReader(io.StringIO(
        _run(bundled, "metrics", "--from", "2019", "--to", "2021", "--format", "csv"))))
    assert [dict(r, window="2019-2021") for r in three] == [r for r in win
                                                            if r["window"] == "2019-2021"]


def test_metrics_cli_rejects_bad_focus(bundled):
    from click.testing import CliRunner

    from kg.cli import cli

    res = CliRunner().invoke(cli, ["--store", str(bundled), "metrics", "--focus", "japan"])
    assert res.exit_code == 2
    assert "ISO3" in res.output


@pytest.mark.parametrize("args, message", [
    (["--window", "0"], "--window 0: from 1 to"),
    (["--window", "3", "--from", "2015", "--to", "2016"],
     "--window 3 is longer than the 2 year(s) from 2015 to 2016"),
    (["--by-year", "--from", "2090"], "--from 2090 is after the last year of the data read"),
    (["--window", "3", "--to", "1990"], "--to 1990 is before the first year of the data read"),
])
def test_metrics_cli_rejects_a_window_that_gives_no_period(bundled, args, message):
    """A rolling window longer than the years asked for would give an empty series."""
    from click.testing import CliRunner

    from kg.cli import cli

    res = CliRunner().invoke(cli, ["--store", str(bundled), "metrics", *args])
    assert res.exit_code == 2
    assert message in res.output and len(res.output.strip().splitlines()) == 1


@pytest.mark.parametrize("seed, n, p", [(5, 30, 0.2), (6, 15, 0.6)])
def test_eigenvector_agrees_with_networkx_on_connected_graphs(seed, n, p):
    import networkx as nx

    from kg.metrics import node_metrics

    G = _random_graph(seed, n, p)
    G = G.subgraph(max(nx.connected_components(G), key=len)).copy()
    ref = nx.eigenvector_centrality(G, weight="weight", max_iter=10000, tol=1e-10)
    ours = node_metrics(G)
    for v in G:
        assert ours[v]["eigenvector"] == pytest.approx(ref[v], abs=1e-6)


def test_by_year_in_one_pass_equals_each_year_alone(bundled):
    """--by-year (one grouped query, kg.cache) gives, year by year, the metrics of the
    one-year window computed alone on a fresh store handle."""
    from kg.metrics import metrics
    from kg.store import open_store

    with open_store(bundled) as store:
        series = metrics(store, by_year=True, focus="JPN", cite=False)
    years = [p["label"] for p in series.periods]
    assert len(years) > 20
    assert sum(p["edges"] for p in series.periods) > 100
    for period in series.periods:
        y = int(period["label"])
        with open_store(bundled) as store:
            alone = metrics(store, year_from=y, year_to=y, focus="JPN", cite=False).periods[0]
        assert {k: v for k, v in period.items() if k != "label"} == \
            {k: v for k, v in alone.items() if k != "label"}, y


@pytest.mark.parametrize("seed", range(12))
def test_louvain_on_dicts_gives_networkx_communities(seed):
    """engine=auto runs Louvain on plain dicts; engine=networkx calls networkx: same
    communities, on graphs with ties, self-loops, isolates and several components."""
    from kg.metrics import node_metrics

    rng = random.Random(seed)
    G = _random_graph(seed, rng.randint(2, 60), rng.choice([0.05, 0.15, 0.4, 0.8]))
    if seed % 3 == 0:
        G.add_edge("S00", "S00", weight=2.0)
    ours = node_metrics(G)
    ref = node_metrics(G, engine="networkx")
    assert {v: m["community"] for v, m in ours.items()} == \
        {v: m["community"] for v, m in ref.items()}
    for v in G:
        assert ours[v]["betweenness"] == pytest.approx(ref[v]["betweenness"], abs=1e-9)
        assert ours[v]["closeness"] == pytest.approx(ref[v]["closeness"], abs=1e-9)


def test_louvain_on_dicts_on_the_bundled_networks(bundled):
    """The same communities as networkx's Louvain on every year's network of the bundled data."""
    from kg.cache import run_cache
    from kg.metrics import node_metrics
    from kg.store import open_store

    with open_store(bundled) as store:
        nets = run_cache(store).networks([(y, y) for y in range(1995, 2026)])
    assert sum(G.number_of_edges() for G in nets) > 100
    for G in nets:
        ours, ref = node_metrics(G), node_metrics(G, engine="networkx")
        assert {v: m["community"] for v, m in ours.items()} == \
            {v: m["community"] for v, m in ref.items()}


@pytest.mark.parametrize("seed", range(6))
def test_a_network_in_canonical_order_measures_as_its_shuffled_copy(seed):
    """node_metrics uses a network with sorted nodes and adjacencies as it is; the same
    network inserted in another order (so copied first) gives the same numbers exactly."""
    import networkx as nx

    from kg.metrics import node_metrics

    rng = random.Random(seed)
    G = _random_graph(seed + 50, rng.randint(3, 50), rng.choice([0.1, 0.3, 0.7]))
    canonical = nx.Graph()
    canonical.add_nodes_from(sorted(G))
    canonical.add_edges_from(sorted((min(u, v), max(u, v), {"weight": d["weight"]})
                                    for u, v, d in G.edges(data=True)))
    shuffled = nx.Graph()
    nodes, edges = list(G), list(G.edges(data=True))
    rng.shuffle(nodes)
    rng.shuffle(edges)
    shuffled.add_nodes_from(nodes)
    shuffled.add_edges_from((v, u, d) if rng.random() < 0.5 else (u, v, d) for u, v, d in edges)
    assert list(shuffled) != list(canonical) or seed == 0 or len(G) < 3
    assert node_metrics(canonical) == node_metrics(shuffled)


def test_parallel_map_runs_in_forked_workers_and_gives_the_same_values(bundled, monkeypatch):
    """A series measured in worker processes has the numbers measured here (all forms)."""
    import os

    import networkx as nx

    import kg.metrics as km
    from kg.store import open_store

    graphs = [nx.path_graph(4) for _ in range(4)]
    monkeypatch.setattr(km, "PARALLEL_MIN_EDGES", 0)
    pids = km.parallel_map(lambda G: os.getpid(), graphs)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if (cores or 1) > 1:
        assert os.getpid() not in pids
    with open_store(bundled) as store:
        forked = km.metrics(store, by_year=True, focus="JPN")
    monkeypatch.setattr(km, "PARALLEL_MIN_EDGES", 10**12)
    with open_store(bundled) as store:
        here = km.metrics(store, by_year=True, focus="JPN")
    for fmt in km.FORMATS:
        assert km.format_metrics(forked, fmt) == km.format_metrics(here, fmt)
    assert forked.periods == here.periods


def test_by_year_spans_the_first_to_the_last_exercise_year(bundled):
    """The series' years are MIN and MAX of the exercises' sp:year (the rule _year_range
    finds from the distinct years)."""
    from kg.metrics import metrics
    from kg.namespaces import SPARQL_PREFIXES
    from kg.store import open_store

    with open_store(bundled) as store:
        lo, hi = store.select(SPARQL_PREFIXES + "SELECT (MIN(?y) AS ?lo) (MAX(?y) AS ?hi) "
                              "WHERE { ?ex a sp:Exercise ; sp:year ?y }").rows[0]
        series = metrics(store, by_year=True, cite=False)
    labels = [p["label"] for p in series.periods]
    assert labels[0] == lo.value and labels[-1] == hi.value
    assert labels == [str(y) for y in range(int(lo.value), int(hi.value) + 1)]


def test_by_year_range_ignores_years_of_things_that_are_no_exercise(tmp_path):
    """Only sp:Exercise years bound the series (as MIN/MAX over the exercises did), even
    when something else carries an earlier or later sp:year."""
    from kg.metrics import metrics
    from kg.namespaces import ID, RDF, SP, XSD, graph_iri, state_iri
    from kg.store import open_store

    def year(y):
        return f'"{y}"^^<{XSD}integer>'

    lines = []
    for i, (y, states) in enumerate([(2001, ["JPN", "USA"]), (2003, ["JPN", "AUS", "USA"])]):
        ex = f"<{ID}exercise/t{i}>"
        lines += [f"{ex} <{RDF}type> <{SP}Exercise> .", f"{ex} <{SP}year> {year(y)} ."]
        lines += [f"{ex} <{SP}participant> <{state_iri(s)}> ." for s in states]
    other = f"<{ID}other/x>"
    lines += [f"{other} <{SP}year> {year(1990)} .", f"{other} <{SP}year> {year(2050)} ."]
    path = tmp_path / "store"
    with open_store(path, write=True) as store:
        store.write_graphs({graph_iri("t"): ("\n".join(lines) + "\n").encode()}, replace=True)
    with open_store(path) as store:
        series = metrics(store, by_year=True, cite=False)
    assert [p["label"] for p in series.periods] == ["2001", "2002", "2003"]
    assert [p["edges"] for p in series.periods] == [1, 0, 3]


def test_forked_map_starts_workers_now_and_gives_the_results_in_order():
    """ForkedMap: the values of [fn(x) for x in items], computed in forked workers while
    this process goes on; a worker's error is raised by get(); one worker computes here."""
    import os

    from kg.metrics import ForkedMap

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    items = list(range(12))
    work = ForkedMap(lambda x: (x * x, os.getpid(), os.nice(0)), items, nice=3)
    here = sum(items)  # this process goes on meanwhile
    got = work.get()
    assert [v for v, _, _ in got] == [x * x for x in items] and here == 66
    if (cores or 1) > 1:
        assert os.getpid() not in {pid for _, pid, _ in got}
        assert {n for _, _, n in got} == {os.nice(0) + 3}
    assert ForkedMap(len, ["ab", "c"], workers=1).get() == [2, 1]
    assert ForkedMap(os.getpid, [], workers=1).get() == []

    def boom(x):
        if x == 3:
            raise ValueError("three")
        return x

    with pytest.raises(ValueError, match="three"):
        ForkedMap(boom, range(5)).get()
    stopped = ForkedMap(lambda x: x, range(4))
    stopped.close()  # no results wanted: the workers are gone
    assert stopped.pool is None


def test_forked_map_with_stuck_or_killed_workers_computes_here():
    """Workers forked while another thread holds a lock their function needs wait forever
    (the holder did not come along); a killed worker's item is never handed out again.
    ForkedMap.get sees the workers asleep without using the processor, stops them and
    computes the items here: the same values."""
    import os
    import signal
    import time

    from kg.basestore import STALL_S
    from kg.metrics import ForkedMap

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if (cores or 1) < 2:
        pytest.skip("ForkedMap computes here on one core")
    here = os.getpid()
    from processes import lock_held_by_a_thread

    lock, holder = lock_held_by_a_thread(STALL_S + 1.5)

    def need_lock(x):  # each worker waits for the lock its fork copied as held
        with lock:
            return x * x, os.getpid()

    work = ForkedMap(need_lock, range(4), workers=2)
    pids = [job._pid for job in work.pool]
    t0 = time.perf_counter()
    got = work.get()
    assert [v for v, _ in got] == [0, 1, 4, 9]
    assert {pid for _, pid in got} == {here}  # computed here, after the holder let go
    assert time.perf_counter() - t0 >= STALL_S - 0.5
    assert work.pool is None
    holder.join()
    for pid in pids:  # stopped and reaped
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, 0)

    def slow(x):
        if os.getpid() != here:
            time.sleep(60 if x == 0 else 0)
        return x + 1, os.getpid()

    work = ForkedMap(slow, range(3), workers=2)
    time.sleep(0.3)  # the worker with item 0 sleeps
    os.kill(work.pool[0]._pid, signal.SIGKILL)
    got = work.get()
    assert [v for v, _ in got] == [1, 2, 3]
    assert [pid == here for _, pid in got] == [True, False, True]  # its share: here

    def compute(x):  # busy for longer than STALL_S: not taken for stuck
        end = time.perf_counter() + STALL_S + 1.0
        while time.perf_counter() < end:
            pass
        return x, os.getpid()

    got = ForkedMap(compute, range(2), workers=2).get()
    assert [v for v, _ in got] == [0, 1] and here not in {pid for _, pid in got}


# ---------------------------------------------------------------- the series' fast paths

def _weighted_graph(seed: int, n: int, p: float, integral: bool):
    """A random graph with integer weights (as the exercise networks have) or fractional
    ones (ties in float sums that are not exact)."""
    G = _random_graph(seed, n, p)
    rng = random.Random(seed + 1000)
    if not integral:
        for u, v in G.edges:
            G[u][v]["weight"] = rng.choice([0.3, 1.0, 1 / 3, 2.5, 0.7, 7.0, 0.1])
    return G


@pytest.mark.parametrize("seed", range(16))
def test_brandes_without_the_edges_on_no_shortest_path_gives_the_same_floats(seed):
    """Leaving out the edges that cannot lie on a shortest path (before Dijkstra and the
    tie tests) changes no distance and no tie: betweenness and closeness equal, bit for
    bit, the computation over every edge; dense, sparse, disconnected, fractional weights."""
    from kg.metrics import _brandes_dense, _edge_arrays

    rng = random.Random(seed)
    G = _weighted_graph(seed, rng.randint(3, 70), rng.choice([0.05, 0.2, 0.6, 0.95]),
                        integral=seed % 2 == 0)
    nodes = sorted(G)
    edges = _edge_arrays(nodes, G)
    assert _brandes_dense(nodes, G, edges) == _brandes_dense(nodes, G, edges, prune=False)


def test_brandes_pruning_on_the_bundled_networks_gives_the_same_floats(bundled):
    """The same, bit for bit, on every year's and five years' network of the bundled data."""
    from kg.cache import run_cache
    from kg.metrics import _brandes_dense, _edge_arrays
    from kg.store import open_store

    with open_store(bundled) as store:
        cache = run_cache(store)
        nets = cache.networks([(y, y) for y in range(1995, 2026)])
        nets += cache.networks([(y - 4, y) for y in range(1999, 2026, 3)])
    assert sum(G.number_of_edges() for G in nets) > 300
    for G in nets:
        nodes = sorted(G)
        edges = _edge_arrays(nodes, G)
        assert _brandes_dense(nodes, G, edges) == _brandes_dense(nodes, G, edges, prune=False)


@pytest.mark.parametrize("seed", range(6))
def test_edge_arrays_list_each_edge_once_in_adjacency_order(seed):
    """_edge_arrays: (index, index, float weight) of each edge from its first end, in the
    order of the adjacency (the order the dense computations' float sums depend on)."""
    import numpy as np

    from kg.metrics import _edge_arrays

    G = _random_graph(seed + 70, 25, 0.3)
    if seed % 2:
        G.add_edge("S03", "S03", weight=4)  # a self-loop, an integer weight
    nodes = sorted(G)
    at = {v: i for i, v in enumerate(nodes)}
    rows = [(at[u], at[v], float(d.get("weight", 1.0))) for u, nbrs in G.adjacency()
            for v, d in nbrs.items() if at[v] >= at[u]]
    us, vs, ws = _edge_arrays(nodes, G)
    assert us.dtype == vs.dtype == np.intp and ws.dtype == float
    assert list(zip(us.tolist(), vs.tolist(), ws.tolist(), strict=True)) == rows


@pytest.mark.parametrize("seed", range(8))
def test_density_is_networkx_density(seed):
    """_density (ego density without a networkx graph) gives nx.density, type included."""
    import networkx as nx

    from kg.metrics import _density

    rng = random.Random(seed)
    G = _random_graph(seed + 90, rng.randint(1, 12), rng.choice([0.0, 0.2, 0.7]))
    got, ref = _density(G.number_of_nodes(), G.number_of_edges()), nx.density(G)
    assert got == ref and type(got) is type(ref)


def test_year_ranges_of_a_series_cover_each_year_once():
    from kg.metrics import _year_chunks

    for lo in (1990, 2001):
        for hi in range(lo, lo + 60):
            chunks = _year_chunks(lo, hi)
            years = [y for a, b in chunks for y in range(a, b + 1)]
            assert years == list(range(lo, hi + 1)), (lo, hi)
            assert all(a <= b for a, b in chunks)


@pytest.mark.parametrize("options", [{"by_year": True, "focus": "JPN"},
                                     {"by_year": True, "focus": "USA", "include_observers": True},
                                     {"window": 3, "focus": "AUS", "year_from": 2005},
                                     {"window": 1, "year_from": 2010, "year_to": 2020}])
def test_a_series_measured_from_the_rows_equals_each_window_alone(bundled, options,
                                                                 monkeypatch):
    """metrics over a series (no networkx graph, the workers fed while later years are read)
    gives, period by period, exactly what the one-window computation gives (a networkx
    graph from build_network, node_metrics, focus_metrics), forked or not."""
    import kg.metrics as km
    from kg.cache import run_cache
    from kg.store import open_store

    runs = []
    for least in (0, 10**12):  # forked workers and two readers; everything here
        monkeypatch.setattr(km, "PARALLEL_MIN_EDGES", least)
        with open_store(bundled) as store:
            runs.append(km.metrics(store, cite=False, **options))
            assert run_cache(store).built == []  # measured from the rows, no graph built
    series = runs[0]
    assert series.periods == runs[1].periods
    assert sum(p["edges"] for p in series.periods) > 50
    opts = {k: v for k, v in options.items() if k in ("focus", "include_observers")}
    for period in series.periods:
        with open_store(bundled) as store:
            alone = km.metrics(store, year_from=period["from"], year_to=period["to"],
                               cite=False, **opts).periods[0]
        assert {k: v for k, v in period.items() if k != "label"} == \
            {k: v for k, v in alone.items() if k != "label"}, period["label"]


def test_a_series_whose_worker_is_killed_is_measured_here(bundled, monkeypatch):
    """A worker of the series' pool killed while it measures a window (the out-of-memory
    killer, say): the pool breaks, and the windows it did not give are measured here;
    the series equals the one measured without workers."""
    import os
    import signal

    import kg.metrics as km
    from kg.store import open_store

    if km._cores() < 2:
        pytest.skip("the series forks workers only on more than one core")
    here = os.getpid()
    real = km._measure_window
    killed = []

    def dies_in_a_worker(task):
        if os.getpid() != here and task[1] == 2012:  # the window that starts in 2012
            os.kill(os.getpid(), signal.SIGKILL)
        if os.getpid() == here:
            killed.append(task[1])
        return real(task)

    # pickled by name as the function it replaces (the pool sends the name, not the code)
    dies_in_a_worker.__module__, dies_in_a_worker.__qualname__ = "kg.metrics", "_measure_window"
    options = {"by_year": True, "focus": "JPN"}
    monkeypatch.setattr(km, "PARALLEL_MIN_EDGES", 10**12)
    with open_store(bundled) as store:
        alone = km.metrics(store, cite=False, **options).periods
    monkeypatch.setattr(km, "PARALLEL_MIN_EDGES", 0)
    monkeypatch.setattr(km, "_measure_window", dies_in_a_worker)
    with open_store(bundled) as store:
        got = km.metrics(store, cite=False, **options).periods
    assert 2012 in killed  # the killed worker's window was measured here
    assert len(killed) < len(alone)  # the others by the workers
    assert got == alone


def test_a_series_job_cancelled_or_broken_before_it_ran_is_measured_here(bundled):
    """The race the series' pool leaves: a job still queued when the pool is shut down is
    cancelled, one whose pool broke (a worker killed) raises BrokenProcessPool; either
    way the window is measured here and equals the worker's value, and a job that
    finished gives its own value, not a second computation."""
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    import kg.metrics as km
    from kg.network import exercise_participants
    from kg.store import open_store

    with open_store(bundled) as store:
        per_year = exercise_participants(store, 2010, 2015, False, None, by_year=True)
    task = km._task(per_year, (2010, 2015), "JPN")
    expected = km._measure_window(task)
    assert expected[0] > 5 and expected[3] is not None  # a real network, with the focus
    cancelled, broken, done = Future(), Future(), Future()
    assert cancelled.cancel()
    broken.set_exception(BrokenProcessPool("a worker died"))
    done.set_result(("the worker's value",))
    assert km._measured(cancelled, task) == expected
    assert km._measured(broken, task) == expected
    assert km._measured(done, task) == ("the worker's value",)
    failed = Future()
    failed.set_exception(ValueError("a bug in the measuring"))
    with pytest.raises(ValueError):  # only the pool's failures are absorbed
        km._measured(failed, task)


@pytest.mark.parametrize("seed", range(24))
def test_louvain_with_kept_community_weights_equals_recomputing_them(seed):
    """Louvain keeping each node's weights to the communities as nodes move (whole
    weights: exact sums) picks the same moves, ties included, as recomputing them over
    the neighbours at each visit; unit weights (many equal gains), whole weights, and
    fractional ones (which always recompute), on every level."""
    from kg.metrics import _louvain, _weights

    rng = random.Random(seed)
    G = _weighted_graph(seed + 200, rng.randint(2, 80), rng.choice([0.05, 0.2, 0.5, 0.9]),
                        integral=seed % 4 != 3)
    if seed % 4 == 0:
        for u, v in G.edges:
            G[u][v]["weight"] = 1.0
    if seed % 5 == 0:
        G.add_edge("S01", "S01", weight=3.0)
    H = nx_canonical(G)
    nodes, adj = list(H), _weights(H)
    assert _louvain(nodes, adj) == _louvain(nodes, adj, keep_weights=False)


def nx_canonical(G):
    """G with sorted nodes and edges (the form node_metrics measures)."""
    import networkx as nx

    H = nx.Graph()
    H.add_nodes_from(sorted(G))
    H.add_edges_from(sorted((min(u, v), max(u, v), {"weight": float(d.get("weight", 1.0))})
                            for u, v, d in G.edges(data=True)))
    return H


@pytest.mark.parametrize("shape", ["cycle", "ladder", "grid", "torus", "regular"])
def test_louvain_with_kept_community_weights_breaks_ties_as_networkx(shape):
    """Unit weights on regular shapes make many equal gains: the kept weights pick, among
    them, the community that comes first among the neighbours (as recomputing does)."""
    import networkx as nx

    from kg.metrics import _louvain, _weights

    graphs = {"cycle": [nx.cycle_graph(k) for k in range(3, 30)],
              "ladder": [nx.ladder_graph(k) for k in range(3, 30)],
              "grid": [nx.grid_2d_graph(k, k) for k in range(2, 9)],
              "torus": [nx.grid_2d_graph(k, k, periodic=True) for k in range(4, 10)],
              "regular": [nx.random_regular_graph(d, n, seed=s) for s, (d, n) in
                          enumerate([(3, 20), (4, 30), (6, 40), (4, 12), (3, 40)] * 4)]}[shape]
    for G in graphs:
        G = nx.relabel_nodes(G, {v: f"S{i:03d}" for i, v in enumerate(G)})
        H = nx_canonical(G)
        nodes, adj = list(H), _weights(H)
        assert _louvain(nodes, adj) == _louvain(nodes, adj, keep_weights=False)
        ref = nx.community.louvain_communities(H, weight="weight", resolution=1, seed=42)
        assert sorted(map(sorted, _louvain(nodes, adj))) == sorted(map(sorted, ref))
