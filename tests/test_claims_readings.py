"""Claims readings: the fast paths the bootstrap takes give what the plain computations give.

* :func:`kg.claims.readings.focus_betweenness` against networkx's
  ``betweenness_centrality`` on random graphs (ties, fractional lengths, several
  components), float for float;
* the window statistics of resamples and permutations of the bundled data, read with
  ``selected=True`` (no second filtering, memoized region pairs) against the plain
  reading and, for betweenness, against networkx on a graph built here from the records.
"""

from __future__ import annotations

import random

import networkx as nx
import pytest

from kg.claims import select_claims
from kg.claims.readings import (
    WINDOW_STATS,
    Spec,
    focus_betweenness,
    load_exercise_data,
    select,
    window_stat,
)
from kg.claims.robustness import declared_spec


def _random_edges(rng: random.Random, n: int) -> list[tuple[str, str, float]]:
    names = [f"S{i:02d}" for i in range(n)]
    p = rng.random()
    weights = {}
    for i in range(n):
        for j in range(i + 1, n):
            if rng.random() < p:
                # small integers give many equal-length paths; 1/3 and 1/7 give rounding
                weights[(names[i], names[j])] = rng.choice([1.0, 1.0, 2.0, 3.0, 1 / 3, 7.0, 0.5])
    return [(a, b, 1.0 / w) for (a, b), w in sorted(weights.items())]


def test_focus_betweenness_is_networkx_float_for_float():
    rng = random.Random(7)
    checked = 0
    for _ in range(400):
        edges = _random_edges(rng, rng.randint(2, 28))
        G = nx.Graph()
        for a, b, length in edges:
            G.add_edge(a, b, length=length)
        ref = nx.betweenness_centrality(G, weight="length", normalized=True)
        for focus in ("S00", "S01", "S02"):
            got = focus_betweenness(edges, focus)
            if focus not in G:
                assert got is None
                continue
            assert got == ref[focus], (edges, focus)
            checked += 1
    assert checked > 900


def test_focus_betweenness_of_a_bridge():
    # A-B-C and B-D: B lies on the three shortest paths between A, C and D
    edges = [("A", "B", 1.0), ("B", "C", 1.0), ("B", "D", 1.0)]
    assert focus_betweenness(edges, "B") == 1.0
    assert focus_betweenness(edges, "A") == 0.0


def _moved(ex, src, dst):
    from dataclasses import replace

    n = dst[1] - dst[0] + 1
    return replace(ex, year=dst[0] + (ex.year - src[0]) % n)


@pytest.fixture(scope="module")
def bundled(built_store):
    from kg.store import open_store

    with open_store(built_store) as store:
        yield store


def _claim_data(store, claim):
    from kg.claims.checks import run_claim_query

    params = claim.test.get("params") or {}
    whole = claim.test["check"] == "centrality_change"
    data = load_exercise_data(store, params, None, whole=whole)
    if whole:
        data.region = frozenset(str(r["iso3"]) for r in
                                run_claim_query(store, claim.test["query"], {}, None))
    return data


def _nx_betweenness(data, spec, exs):
    """The focus's betweenness on a networkx graph built from the records (no memo)."""
    weights: dict = {}
    for ex in exs:
        states = sorted(s for s in (ex.participants | ex.observers if spec.observers
                                    else ex.participants) if s in data.region)
        for i, a in enumerate(states):
            for b in states[i + 1:]:
                weights[(a, b)] = weights.get((a, b), 0.0) + 1.0
    G = nx.Graph()
    for (a, b), w in sorted(weights.items()):
        G.add_edge(a, b, distance=1.0 / w)
    if data.focus not in G:
        return None
    return nx.betweenness_centrality(G, weight="distance", normalized=True)[data.focus]


def test_resampled_window_statistics_equal_the_plain_reading(bundled):
    claims = [c for c in select_claims(None) if c.test["check"] in WINDOW_STATS]
    assert {c.test["check"] for c in claims} == set(WINDOW_STATS)
    rng = random.Random(3)
    for claim in claims:
        check = claim.test["check"]
        data = _claim_data(bundled, claim)
        spec = declared_spec(claim)
        value = claim.test.get("value", "partners")
        w = spec.window_dict()
        base, rec = select(data, spec, w["baseline"]), select(data, spec, w["recent"])
        assert base and rec, claim.id
        samples = [(base, rec)]
        for _ in range(6):
            samples.append(([rng.choice(base) for _ in base], [rng.choice(rec) for _ in rec]))
            b_w, r_w = w["baseline"], w["recent"]
            pooled = ([(_moved(e, b_w, b_w), _moved(e, b_w, r_w)) for e in base]
                      + [(_moved(e, r_w, b_w), _moved(e, r_w, r_w)) for e in rec])
            rng.shuffle(pooled)
            samples.append(([p[0] for p in pooled[:len(base)]],
                            [p[1] for p in pooled[len(base):]]))
        for bx, rx in samples:
            for win, xs in (("baseline", bx), ("recent", rx)):
                fast = window_stat(check, data, spec, w[win], xs, value, selected=True)
                plain = window_stat(check, data, spec, w[win], xs, value)
                assert fast == plain, (claim.id, win)
                if check == "centrality_change":
                    assert fast == _nx_betweenness(data, spec, xs), (claim.id, win)


def test_other_specifications_read_the_same_with_the_memo(bundled):
    claim = next(c for c in select_claims(None) if c.test["check"] == "centrality_change")
    data = _claim_data(bundled, claim)
    w = declared_spec(claim).window_dict()
    for spec in (Spec(windows=tuple(sorted(w.items())), observers=True),
                 Spec(windows=tuple(sorted(w.items())), unverified=False)):
        for win in ("baseline", "recent"):
            xs = select(data, spec, w[win])
            first = window_stat("centrality_change", data, spec, w[win], xs, selected=True)
            again = window_stat("centrality_change", data, spec, w[win], xs, selected=True)
            assert first == again == _nx_betweenness(data, spec, xs)


# ---------------------------------------------------------------- the bootstrap's draws


def test_resample_and_shuffle_make_the_draws_of_random_choice_and_shuffle():
    """The uncertainty's draws through getrandbits are random.Random's own, draw for draw,
    and leave the generator in the same state (sizes around powers of two, where the
    rejection loop of _randbelow turns most often)."""
    from kg.claims.uncertainty import _resample, _shuffle, _standard_draws

    sizes = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 100, 127, 128, 129, 1000,
             1025, 4097]
    for seed in (0, 20191010):
        assert _standard_draws(random.Random(seed))
        for fast in (True, False):
            a, b = random.Random(seed), random.Random(seed)
            for n in sizes:
                seq = [f"e{i}" for i in range(n)]
                assert _resample(a, seq, fast) == [b.choice(seq) for _ in seq], (seed, n)
                x, y = list(seq), list(seq)
                _shuffle(a, x, fast)
                b.shuffle(y)
                assert x == y, (seed, n)
                assert a.getstate() == b.getstate()

    class Other(random.Random):  # draws through random(), not getrandbits: the plain path
        def random(self):
            return super().random()

    assert not _standard_draws(Other(1))
    a, b = Other(1), Other(1)
    assert _resample(a, list("abcdefg"), _standard_draws(a)) == [b.choice("abcdefg")
                                                                  for _ in range(7)]
