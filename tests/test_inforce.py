"""The one in-force rule (kg.inforce) and its consumers, on a hand-made world and the bundled data."""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES

LIFECYCLE = FIXTURES / "lifecycle" / "agreements.yaml"
ACSA = "https://w3id.org/secpart/id/agreement/jpn-usa-acsa-"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A fresh store holding only the lifecycle fixture (ingested, so validated)."""
    from kg.ingest import ingest
    from kg.store import open_store

    path = tmp_path_factory.mktemp("lifecycle") / "store"
    with open_store(path, write=True) as store:
        ingest(store, [LIFECYCLE], graph="fixture")
    return path


def _open(path):
    from kg.store import open_store

    return open_store(path)


def test_japan_us_acsa_is_one_agreement_in_force_every_year(world):
    from kg.inforce import agreements_in_force, counts_by_year

    expected = {**{y: "1996" for y in range(1996, 1999)}, **{y: "1998" for y in range(1999, 2004)},
                **{y: "2004" for y in range(2004, 2017)}, **{y: "2016" for y in range(2017, 2026)}}
    with _open(world) as store:
        for year, version in expected.items():
            rows = [r for r in agreements_in_force(store, year, year, focus="JPN",
                                                   types=["LogisticsAgreement"])]
            assert [r.agreement for r in rows] == [ACSA + version], year
        counts = counts_by_year(store, "JPN", 1990, 2025, types=["LogisticsAgreement"])
        assert agreements_in_force(store, 1995, 1995, focus="JPN", types=["LogisticsAgreement"]) == []
    assert {y: c.get("LogisticsAgreement", 0) for y, c in counts.items()} == \
        {y: (1 if y >= 1996 else 0) for y in range(1990, 2026)}


def test_every_consumer_counts_the_same_agreements_every_year(world):
    """Per year 1950-2025: the network's edges and per-state counts, the per-agreement
    rows, the per-pair-year panel and the per-type counts agree."""
    from kg.inforce import agreements_in_force, counts_by_year, pair_years
    from kg.network import build_network

    with _open(world) as store:
        panel = pair_years(store, 1950, 2025)
        by_type = counts_by_year(store, "JPN", 1950, 2025)
        for year in range(1950, 2026):
            G = build_network(store, relation="agreement", year_from=year, year_to=year)
            edges = {tuple(sorted(e)): d["weight"] for *e, d in G.edges(data=True)}
            rows = agreements_in_force(store, year, year)
            from_rows: dict = {}
            for r in rows:
                for p in r.pairs:
                    from_rows[p] = from_rows.get(p, 0) + 1
            from_panel: dict = {}
            for r in panel:
                if r.year == year:
                    from_panel[(r.a, r.b)] = from_panel.get((r.a, r.b), 0) + 1
            assert edges == from_rows == from_panel, year
            jpn = agreements_in_force(store, year, year, focus="JPN")
            assert len(jpn) == sum(by_type[year].values()), year
            assert (G.nodes["JPN"]["agreements"] if "JPN" in G else 0) == len(jpn), year


@pytest.mark.parametrize("a, b, year, tied", [
    ("NZL", "USA", 1985, True),     # ANZUS before the suspension
    ("NZL", "USA", 1986, False),    # suspended from 1986
    ("NZL", "USA", 2025, False),
    ("AUS", "NZL", 2000, True),     # the suspension concerns only NZL-USA
    ("AUS", "USA", 2025, True),
    ("DEU", "USA", 1954, False),    # joined 1955
    ("DEU", "USA", 1955, True),
    ("GBR", "USA", 1960, True),     # left 1960 (the exit year counts) ...
    ("GBR", "USA", 1961, False),
    ("GBR", "USA", 1969, False),
    ("GBR", "USA", 1970, True),     # ... and rejoined 1970
    ("FRA", "USA", 1948, False),    # in force 1949
    ("MEX", "USA", 2004, True),     # left 2004
    ("MEX", "USA", 2005, False),
    ("AUS", "JPN", 2006, False),
    ("AUS", "JPN", 2007, True),     # a joint declaration takes effect on signature
    ("DEU", "JPN", 2025, False),    # signed, not in force
    ("IND", "JPN", 2025, False),    # under negotiation
])
def test_memberships_suspensions_and_kinds(world, a, b, year, tied):
    from kg.network import build_network

    with _open(world) as store:
        G = build_network(store, relation="agreement", year_from=year, year_to=year)
    assert G.has_edge(a, b) is tied


def test_terminated_agreement_counts_to_its_end_and_pending_only_when_asked(world):
    from kg.inforce import agreements_in_force, lifecycles

    with _open(world) as store:
        recs = {r.id: r for r in lifecycles(store)}
        pending = {r.id for r in agreements_in_force(store, 2025, 2025, include_pending=True)}
        strict = {r.id for r in agreements_in_force(store, 2025, 2025)}
    dca = recs["fra-usa-dca-1980"]
    assert (dca.first, dca.last) == (1980, 1990)
    assert [y for y in range(1975, 1995) if dca.in_force(y)] == list(range(1980, 1991))
    assert recs["jpn-usa-acsa-1996"].last == 1998 and recs["jpn-usa-acsa-2016"].last is None
    assert recs["deu-jpn-acsa-2024"].first is None and recs["deu-jpn-acsa-2024"].pending
    assert pending - strict == {"deu-jpn-acsa-2024"}
    assert "ind-jpn-raa-2030" not in pending


def test_pending_counts_from_signing_also_when_in_force_came_later(world):
    """include_pending counts the years between signing and entry into force."""
    from kg.inforce import agreements_in_force, lifecycles

    with _open(world) as store:
        strict = {r.id: r for r in lifecycles(store)}
        wide = {r.id: r for r in lifecycles(store, include_pending=True)}
        in_2016 = {r.id for r in agreements_in_force(store, 2016, 2016, focus="JPN",
                                                     include_pending=True)}
    assert (strict["jpn-usa-acsa-2016"].first, wide["jpn-usa-acsa-2016"].first) == (2017, 2016)
    assert (strict["aus-nzl-usa-anzus-1951"].first, wide["aus-nzl-usa-anzus-1951"].first) \
        == (1952, 1951)
    assert wide["deu-jpn-acsa-2024"].first == 2024
    assert wide["aus-jpn-jd-2007"].first == strict["aus-jpn-jd-2007"].first == 2007
    # in 2016 the 2004 ACSA was in force and its successor signed: both count
    assert {"jpn-usa-acsa-2004", "jpn-usa-acsa-2016"} <= in_2016


def test_ended_agreement_without_date_is_a_gap(tmp_path):
    from kg.inforce import agreements_in_force, lifecycle_gaps
    from kg.ingest import ingest
    from kg.store import open_store

    text = LIFECYCLE.read_text().replace("    supersedes: jpn-usa-acsa-2004\n", "")
    path = tmp_path / "gap.yaml"
    path.write_text(text)
    with open_store(tmp_path / "store", write=True) as store:
        ingest(store, [path], graph="fixture")
        gaps = [r.id for r in lifecycle_gaps(store)]
        acsa_2010 = [r.id for r in agreements_in_force(store, 2010, 2010, focus="JPN",
                                                        types=["LogisticsAgreement"])]
    # 2004 is superseded with no end and (now) no successor: it counts in no year
    assert gaps == ["jpn-usa-acsa-2004"]
    assert acsa_2010 == []


def test_window_and_focus_checks(world):
    from kg.errors import UsageError
    from kg.inforce import agreements_in_force, counts_by_year, pair_years

    with _open(world) as store:
        with pytest.raises(UsageError, match="after"):
            agreements_in_force(store, 2020, 2010)
        with pytest.raises(UsageError, match="ISO3"):
            counts_by_year(store, "jp", 2000, 2001)
        with pytest.raises(UsageError, match="last year"):
            pair_years(store, 2000, None)


def test_bundled_data_consumers_agree_for_japan(built_store):
    """On the bundled data, 1990-2025: the network and the per-year counts agree for JPN."""
    from kg.inforce import agreements_in_force, counts_by_year
    from kg.network import build_network

    with _open(built_store) as store:
        by_type = counts_by_year(store, "JPN", 1990, 2025)
        for year in range(1990, 2026):
            G = build_network(store, relation="agreement", year_from=year, year_to=year)
            rows = agreements_in_force(store, year, year, focus="JPN")
            assert (G.nodes["JPN"]["agreements"] if "JPN" in G else 0) == len(rows) \
                == sum(by_type[year].values()), year
            partners = {s for r in rows for p in r.pairs if "JPN" in p for s in p} - {"JPN"}
            assert set(G.neighbors("JPN") if "JPN" in G else ()) == partners, year


def test_kg_metrics_agreement_by_year_counts_what_the_rule_counts(cli_runner, built_store):
    """`kg metrics --relation agreement --by-year --focus JPN`, 1990-2025, against kg.inforce."""
    import json

    from kg.inforce import agreements_in_force

    res = cli_runner("metrics", "--relation", "agreement", "--by-year", "--from", "1990", "--to", "2025",
                     "--focus", "JPN", "--format", "json")
    assert res.exit_code == 0, res.output
    periods = json.loads(res.stdout)["periods"]
    assert [p["label"] for p in periods] == [str(y) for y in range(1990, 2026)]
    with _open(built_store) as store:
        for p in periods:
            year = int(p["label"])
            expected: dict = {}
            for row in agreements_in_force(store, year, year, focus="JPN"):
                for a, b in row.pairs:
                    if "JPN" in (a, b):
                        other = b if a == "JPN" else a
                        expected[other] = expected.get(other, 0) + 1
            got = {x["state"]: x["weight"] for x in p["focus"]["partners"]}
            assert got == {k: float(v) for k, v in expected.items()}, year


def test_metrics_include_pending_option(cli_runner, world):
    import json

    def partners(*extra):
        res = cli_runner("metrics", "--relation", "agreement", "--from", "2025", "--to", "2025",
                         "--focus", "JPN", "--format", "json", *extra, store=world)
        assert res.exit_code == 0, res.output
        doc = json.loads(res.stdout)
        return {x["state"] for x in doc["periods"][0]["focus"]["partners"]}, doc["params"]

    strict, params = partners()
    pending, params_p = partners("--include-pending")
    assert strict == {"AUS", "USA"}
    assert pending == {"AUS", "USA", "DEU"}  # the DEU ACSA signed in 2024, not in force
    assert "include_pending" not in params and params_p["include_pending"] is True


def test_dyads_by_window_equal_dyads_window_by_window(world, built_store):
    """The one-pass form for many windows (the map's) gives dyads' own answer for each,
    on the hand-made world (memberships, suspensions, pending) and the bundled data."""
    from kg.inforce import dyads, dyads_by_window

    windows = [(y - w + 1, y) for y in range(1950, 2026, 3) for w in (1, 3, 5)]
    windows += [(None, 1990), (2000, None), (None, None)]
    for path in (world, built_store):
        with _open(path) as store:
            for pending in (False, True):
                got = dyads_by_window(store, windows, include_pending=pending)
                want = [dyads(store, a, b, include_pending=pending) for a, b in windows]
                assert got == want, (path, pending)
            assert any(pairs for pairs, _ in got)
            typed = dyads_by_window(store, windows[-6:], types=["DefenceTreaty"])
            assert typed == [dyads(store, a, b, types=["DefenceTreaty"]) for a, b in windows[-6:]]


def test_pairs_by_year_is_pair_years_grouped(world, built_store):
    """The grouped form (the map's sources) holds exactly pair_years' rows, agreements of a
    pair in pair_years' order, on the hand-made world and the bundled data."""
    from kg.inforce import pair_years, pairs_by_year

    for path in (world, built_store):
        with _open(path) as store:
            for lo, hi in ((1950, 2025), (2019, 2019)):
                want: dict = {}
                for row in pair_years(store, lo, hi):
                    want.setdefault(row.year, {}).setdefault((row.a, row.b), []).append(
                        row.agreement)
                got = pairs_by_year(store, lo, hi)
                assert got == want, (path, lo, hi)
            typed = pairs_by_year(store, 1990, 2025, types=["DefenceTreaty"])
            rows = pair_years(store, 1990, 2025, types=["DefenceTreaty"])
            assert sum(len(ags) for p in typed.values() for ags in p.values()) == len(rows)
        assert want and got
