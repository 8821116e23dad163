"""kg.panel and `kg export --format dyad-year`: dyad-year panels with coverage-aware missing values.

The hand-made world (tests/fixtures/panel/world.trig) has four sources with different
coverage; every expected cell below was worked out by hand from that file:

- exercises (graph ex, declared 2010-2012): e1 2010 AAA+BBB+CCC, e2 2010 AAA+BBB,
  e3 2012 BBB+DDD with AAA observing (observers do not count);
- agreements (graph ag, no declared coverage: the records' span 2009-2012): AAA-BBB defence
  treaty in force 2009, AAA-CCC logistics agreement in force 2012;
- alliance (graph al, declared 2009-2011): AAA bears a defence obligation; members AAA from
  2009, BBB 2009 to mid-2010, CCC from 2010;
- state system (graph sys, listed through 2012): AAA, BBB always; CCC from 2011; DDD never.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "panel" / "world.trig"


def _load(path: Path) -> Path:
    import pyoxigraph as ox

    from kg.store import open_store

    by_graph: dict[str, list] = {}
    for q in ox.parse(path=str(FIXTURE), format=ox.RdfFormat.TRIG):
        by_graph.setdefault(q.graph_name.value, []).append(ox.Triple(q.subject, q.predicate, q.object))
    data = {g: ox.serialize(ts, format=ox.RdfFormat.N_TRIPLES) for g, ts in by_graph.items()}
    with open_store(path, write=True) as store:
        store.write_graphs(data, replace=True)
    return path


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    return _load(tmp_path_factory.mktemp("panel") / "store")


def _panel(world, **kw):
    from kg.panel import dyad_year_panel
    from kg.store import open_store

    with open_store(world) as store:
        return dyad_year_panel(store, year_from=2009, year_to=2013, **kw)


def _cells(panel, s1: str, s2: str) -> dict[int, dict]:
    out = {}
    for row in panel.rows:
        d = dict(zip(panel.names, row, strict=True))
        if (d["iso3_1"], d["iso3_2"]) == (s1, s2):
            out[d["year"]] = d
    return out


def test_exercise_and_agreement_cells_follow_each_sources_coverage(world):
    p = _panel(world)
    ab = _cells(p, "AAA", "BBB")
    assert sorted(ab) == [2009, 2010, 2011, 2012, 2013]
    # exercises: 2009 and 2013 lie outside the exercise list's 2010-2012
    assert [ab[y]["exercises"] for y in range(2009, 2014)] == [None, 2, 0, 0, None]
    assert [ab[y]["exercises_multilateral"] for y in range(2009, 2014)] == [None, 1, 0, 0, None]
    # agreements: the records' span is 2009-2012
    assert [ab[y]["agr_defence_treaty"] for y in range(2009, 2014)] == [1, 1, 1, 1, None]
    assert ab[2010]["agr_logistics"] == 0
    ac = _cells(p, "AAA", "CCC")
    assert [ac[y]["agr_logistics"] for y in range(2009, 2014)] == [0, 0, 0, 1, None]
    assert ac[2010]["exercises"] == 1 and ac[2010]["exercises_multilateral"] == 1
    # the observer does not make AAA-DDD a tie; BBB-DDD exercised in 2012
    assert _cells(p, "AAA", "DDD") == {}
    assert _cells(p, "BBB", "DDD")[2012]["exercises"] == 1


def test_keys_codes_and_order(world):
    p = _panel(world)
    assert p.names[:5] == ["ccode1", "ccode2", "year", "iso3_1", "iso3_2"]
    pairs = sorted({(r[0], r[1], r[3], r[4]) for r in p.rows}, key=lambda t: (t[2], t[3]))
    # undirected: the lower COW code first; DDD has no COW code, so it comes second, code empty
    assert pairs == [(100, 200, "AAA", "BBB"), (100, 300, "AAA", "CCC"), (200, 300, "BBB", "CCC"),
                     (200, None, "BBB", "DDD")]


@pytest.mark.parametrize("kw", [{}, {"directed": True}, {"all_dyads": True},
                                {"all_dyads": True, "directed": True}, {"states": ["CCC"]}])
def test_csv_of_the_panels_own_rows_equals_its_rows_written_one_by_one(world, kw):
    """The CSV writer's path over the rows held per dyad gives the bytes of the plain
    row-by-row path over the same rows as tuples (missing cells, masks, directions)."""
    from kg.export import panel_csv
    from kg.panel import Panel

    p = _panel(world, **kw)
    rows = list(p.rows)
    assert rows and len(rows) == len(p.rows) and rows[-1] == p.rows[-1] and p.rows == rows
    plain = Panel(p.columns, rows, p.params)
    assert panel_csv(p) == panel_csv(plain)
    assert panel_csv(p).decode().count("\n") == len(rows) + 1
    if kw.get("all_dyads"):  # DDD never was a system member: no row of it
        assert all("DDD" not in (r[3], r[4]) for r in rows)
    assert any(None in r for r in rows)


def test_alliance_obligations_by_direction_membership_and_existence(world):
    d = _panel(world, directed=True)
    ab, ba = _cells(d, "AAA", "BBB"), _cells(d, "BBB", "AAA")
    # AAA owes BBB defence while both are members (2009 to mid-2010); coverage ends 2011
    assert [ab[y]["atop_defense"] for y in range(2009, 2014)] == [1, 1, 0, None, None]
    assert [ba[y]["atop_defense"] for y in range(2009, 2014)] == [0, 0, 0, None, None]
    ac = _cells(d, "AAA", "CCC")
    # CCC enters the alliance in 2010 but the state system only in 2011: 2010 is unknown
    assert [ac[y]["atop_defense"] for y in range(2009, 2012)] == [None, None, 1]
    # DDD never was a system member: alliance cells are unknown, exercise cells are not
    bd = _cells(d, "BBB", "DDD")
    assert bd[2012]["atop_defense"] is None and bd[2012]["exercises"] == 1
    u = _panel(world)
    assert [_cells(u, "AAA", "BBB")[y]["atop_defense"] for y in range(2009, 2012)] == [1, 1, 0]


def test_states_filter_and_all_dyads(world):
    p = _panel(world, states=["DDD"])
    assert {(r[3], r[4]) for r in p.rows} == {("BBB", "DDD")}
    a = _panel(world, all_dyads=True)
    got = {(r[3], r[4], r[2]) for r in a.rows}
    # every pair of system members in each year (the list runs to 2012, carried on to 2013)
    assert ("BBB", "CCC", 2011) in got and ("BBB", "CCC", 2010) not in got
    assert ("AAA", "BBB", 2013) in got
    assert not any("DDD" in (s1, s2) for s1, s2, _ in got)


def test_graph_choice_counts_only_those_facts(world):
    p = _panel(world, graphs=["ex", "states"])
    assert "atop_defense" not in p.names
    ab = _cells(p, "AAA", "BBB")
    # no agreement source read: agreement cells are unknown, never 0
    assert ab[2010]["agr_defence_treaty"] is None and ab[2010]["exercises"] == 2


def test_cli_writes_csv_and_a_codebook_naming_every_column(world, tmp_path, cli_runner):
    out = tmp_path / "panel.csv"
    res = cli_runner("export", "--format", "dyad-year", "--from", "2009", "--to", "2013",
                     "--directed", "--out", out, store=world)
    assert res.exit_code == 0, res.output
    rows = list(csv.reader(io.StringIO(out.read_text())))
    header = rows[0]
    ab2009 = next(r for r in rows[1:] if r[3:5] == ["AAA", "BBB"] and r[2] == "2009")
    assert ab2009[header.index("exercises")] == "" and ab2009[header.index("atop_defense")] == "1"
    book = (tmp_path / "panel.csv.codebook.md").read_text()
    listed = [re.sub(r"\\(.)", r"\1", line.split("|")[1].strip())  # Markdown-unescaped
              for line in book.split("## Columns")[1].split("##")[0].splitlines()
              if line.startswith("| ") and not line.startswith("| column")]
    assert listed == header
    assert "sha256:" in book and "Exercise list" in book and "2010-2012" in book


@pytest.mark.parametrize("suffix", [".dta", ".parquet"])
def test_round_trip_keeps_values_and_missing_cells(world, tmp_path, cli_runner, suffix):
    """Stata and Parquet files read back (pandas; pyarrow for Parquet) equal the panel."""
    pd = pytest.importorskip("pandas")
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    out = tmp_path / f"panel{suffix}"
    res = cli_runner("export", "--format", "dyad-year", "--from", "2009", "--to", "2013",
                     "--out", out, store=world)
    assert res.exit_code == 0, res.output
    df = pd.read_stata(out) if suffix == ".dta" else pd.read_parquet(out)
    if suffix == ".parquet":  # nullable integers kept as such, not floats
        assert {str(t) for t in df.dtypes} <= {"Int32", "string"}, df.dtypes
    p = _panel(world)
    assert list(df.columns) == p.names and len(df) == len(p.rows)
    for row, (_, got) in zip(p.rows, df.iterrows(), strict=True):
        for name, want in zip(p.names, row, strict=True):
            value = got[name]
            if want is None:
                assert pd.isna(value), (name, row)
            else:
                assert value == want, (name, row, value)


def test_bad_options_exit_2_with_one_line(world, cli_runner, tmp_path):
    for args, needle in [
        (["--format", "csv", "--dynamic"], "--dynamic"),
        (["--format", "ttl", "--directed"], "--directed"),
        (["--format", "dyad-year", "--states", "jpn"], "ISO3"),
        (["--format", "dyad-year", "--states", "XQZ"],
         "--states XQZ: no state"),
        (["--format", "dyad-year", "--out", str(tmp_path / "p.xlsx")], ".dta"),
        (["--format", "dyad-year", "--from", "2013", "--to", "2009"], "after"),
        # a panel of 99,999 years was written row by row; now the years every command takes
        (["--format", "dyad-year", "--from", "1", "--to", "99999"], "--from 1: a year from 1800"),
        (["--format", "gexf", "--dynamic", "--to", "9999"], "--to 9999: a year from 1800 to 2100"),
    ]:
        res = cli_runner("export", *args, store=world)
        assert res.exit_code == 2, (args, res.output)
        assert len(res.stderr.splitlines()) == 1 and needle in res.stderr, res.stderr


def test_all_dyads_needs_a_system_list(built_store, cli_runner):
    res = cli_runner("export", "--format", "dyad-year", "--all-dyads", store=built_store)
    assert res.exit_code == 2 and "cow-states" in res.stderr


# ---------------------------------------------------------------- the real datasets

SCOPED = """
@prefix sp: <https://w3id.org/secpart/ontology#> .
@prefix st: <https://w3id.org/secpart/id/state/> .
<https://w3id.org/secpart/id/dataset/sc> a sp:Dataset ; sp:graph "sc" ;
    sp:coverageStart 2013 ; sp:coverageEnd 2013 ; sp:coverageScope st:AAA .
<https://w3id.org/secpart/id/exercise/e4-2013> a sp:Exercise ; sp:year 2013 ;
    sp:participant st:AAA, st:CCC, st:DDD .
"""


def test_a_source_that_covers_one_state_covers_only_its_pairs(tmp_path):
    """A census of AAA's exercises in 2013 (graph sc): AAA's pairs are 0 or counted in 2013,
    the pair CCC-DDD (in AAA's exercise, but no census of theirs) stays unknown, as does
    BBB-DDD."""
    import pyoxigraph as ox

    from kg.store import open_store

    store = _load(tmp_path / "store")
    nt = ox.serialize(ox.parse(SCOPED, format=ox.RdfFormat.TURTLE), format=ox.RdfFormat.N_TRIPLES)
    with open_store(store, write=True) as st:
        st.write_graphs({"https://w3id.org/secpart/graph/sc": nt}, replace=True)
    p = _panel(store)
    assert _cells(p, "AAA", "BBB")[2013]["exercises"] == 0
    assert _cells(p, "AAA", "CCC")[2013]["exercises"] == 1
    assert _cells(p, "AAA", "DDD")[2013]["exercises"] == 1
    assert _cells(p, "CCC", "DDD")[2013]["exercises"] is None
    assert _cells(p, "BBB", "DDD")[2013]["exercises"] is None
    # the other years keep the exercise list's coverage (2010-2012) for every pair
    assert _cells(p, "BBB", "DDD")[2012]["exercises"] == 1
    assert [s["scope"] for s in p.sources["exercises"] if s["graph"] == "sc"] == [["AAA"]]


@pytest.fixture(scope="module")
def field_store(tmp_path_factory, request) -> Path:
    from tests.conftest import SHARED_DATA

    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    from kg.ingest import build, ingest
    from kg.store import open_store

    path = tmp_path_factory.mktemp("fieldpanel") / "store"
    with open_store(path, write=True) as store:
        build(store)
        ingest(store, [SHARED_DATA / "mme_v7.csv"], fmt="mme")
        ingest(store, [SHARED_DATA / "atop5_1m.csv"], fmt="atop")
        ingest(store, [SHARED_DATA / "cow4_1_alliance_ddy.csv.gz"], fmt="cow")
        ingest(store, [SHARED_DATA / "cow_states2016.csv"], fmt="cow-states")
    return path


def _mme_jpn_usa_by_year(shared: Path) -> dict[int, int]:
    counts: dict[int, int] = {}
    with open(shared / "mme_v7.csv", encoding="utf-8-sig", newline="") as fh:
        for r in csv.DictReader(fh):
            names = {v.strip() for k, v in r.items() if k and k.startswith("State") and v}
            if {"Japan", "United States"} <= names:
                counts[int(r["s.year"])] = counts.get(int(r["s.year"]), 0) + 1
    return counts


def test_japan_us_exercises_equal_a_direct_count_of_the_mme_csv(field_store, shared_data):
    from kg.panel import dyad_year_panel
    from kg.store import open_store

    with open_store(field_store) as store:
        p = dyad_year_panel(store, states=["JPN"], directed=True,
                            graphs=["mme", "atop", "cow", "cow-states"], year_from=1945,
                            year_to=2020)
    want = _mme_jpn_usa_by_year(shared_data)
    us_jp, jp_us = _cells(p, "USA", "JPN"), _cells(p, "JPN", "USA")
    for y in range(1980, 2011):
        assert us_jp[y]["exercises"] == want.get(y, 0), y
    # outside MME's 1980-2010: unknown, not none
    assert us_jp[1979]["exercises"] is None and us_jp[2011]["exercises"] is None
    # the 1960 treaty: the United States owes Japan defence, Japan owes none
    assert us_jp[1990]["atop_defense"] == 1 and jp_us[1990]["atop_defense"] == 0
    # Japan was not a member of the state system 1946-1951 (occupation): unknown
    assert us_jp[1950]["atop_defense"] is None and us_jp[1950]["cow_defense"] is None
    # ATOP 5.1 covers 1815-2018: after 2018, unknown
    assert max(e for _, e in p.coverage["atop"]) == 2018
    assert us_jp[2018]["atop_defense"] == 1 and us_jp[2019]["atop_defense"] is None
    # 0 where ATOP covers the year and codes nothing: Japan and a partner without an alliance
    jp_fr = _cells(p, "JPN", "FRA")
    assert jp_fr[1990]["atop_defense"] == 0


def test_curated_exercises_add_to_mme_and_reconciled_copies_count_once(field_store):
    from kg.panel import dyad_year_panel
    from kg.store import open_store

    with open_store(field_store) as store:
        mme = _cells(dyad_year_panel(store, states=["JPN"], graphs=["mme"], year_from=2000,
                                     year_to=2010), "USA", "JPN")
        both = _cells(dyad_year_panel(store, states=["JPN"], graphs=["mme", "curated"],
                                      year_from=2000, year_to=2010), "USA", "JPN")
        cur = _cells(dyad_year_panel(store, states=["JPN"], graphs=["curated"],
                                     year_from=2000, year_to=2010), "USA", "JPN")
    for y in range(2000, 2011):
        assert max(mme[y]["exercises"], cur[y]["exercises"]) <= both[y]["exercises"]
        assert both[y]["exercises"] <= mme[y]["exercises"] + cur[y]["exercises"]


def test_atop_obligations_hold_only_in_the_phases_atop_codes_them(field_store, shared_data):
    """ATOP codes obligations per member and phase: in the EU (atopid 4175) Ireland bears
    consultation from 1992 and defence only in phase 2 (Lisbon, from 2007). The panel gave
    Ireland a defence obligation for every year of its membership; now every directed
    Irish dyad-year agrees with ATOP's own directed dyad-years (peacesciencer's copy)."""
    import gzip

    from kg.panel import dyad_year_panel
    from kg.store import open_store

    with open_store(field_store) as store:
        p = dyad_year_panel(store, states=["IRL"], directed=True, graphs=["atop"],
                            year_from=1992, year_to=2016)
    kinds = ["atop_defense", "atop_offense", "atop_neutral", "atop_nonagg", "atop_consul"]
    with gzip.open(shared_data / "atop5_1_alliance_ddy.csv.gz", "rt", newline="") as fh:
        want = {(int(r["ccode1"]), int(r["ccode2"]), int(r["year"])): [int(r[k]) for k in kinds]
                for r in csv.DictReader(fh) if "205" in (r["ccode1"], r["ccode2"])}
    rows = [dict(zip(p.names, row, strict=True)) for row in p.rows]
    compared = 0
    for d in rows:
        if d["atop_defense"] is None or d["ccode1"] is None or d["ccode2"] is None:
            continue  # a state outside the system that year: unknown
        key = (d["ccode1"], d["ccode2"], d["year"])
        assert [d[k] for k in kinds] == want.get(key, [0] * len(kinds)), key
        compared += 1
    assert compared > 1000
    irl_gbr = _cells(p, "IRL", "GBR")
    assert [irl_gbr[y]["atop_defense"] for y in (1992, 2006, 2007, 2016)] == [0, 0, 1, 1]
    assert irl_gbr[1992]["atop_consul"] == 1


def test_curated_data_covers_only_pairs_with_japan(field_store):
    """The curated graph is a census of Japan's ties (sp:coverageScope): France-U.K. after
    MME's last year (2010) is unknown, not 0; in MME's years MME covers the pair."""
    from kg.panel import dyad_year_panel
    from kg.store import open_store

    with open_store(field_store) as store:
        p = dyad_year_panel(store, states=["FRA"], graphs=["mme", "curated"], year_from=2005,
                            year_to=2020)
    gb_fr = _cells(p, "GBR", "FRA")
    assert all(gb_fr[y]["exercises"] is not None for y in range(2005, 2011))
    assert all(gb_fr[y]["exercises"] is None for y in range(2011, 2021))
    assert all(gb_fr[y]["agr_defence_treaty"] is None for y in range(2005, 2021))
    jp_fr = _cells(p, "FRA", "JPN") or _cells(p, "JPN", "FRA")
    assert all(jp_fr[y]["exercises"] is not None for y in range(2005, 2021))


# ---------------------------------------------------------------- what the fingerprint covers

def _fingerprint_of(book: str) -> str:
    return re.search(r"Dataset fingerprint: (sha256:[0-9a-f]{64})", book).group(1)


def test_fingerprint_covers_the_reference_lists_the_panel_reads(world, tmp_path, cli_runner):
    """A panel of graph al alone still reads the state list (graph states: COW codes) and
    the state-system membership (graph sys: which alliance cells are unknown). Two stores
    that differ only in sys gave different CSVs under the same fingerprint; now the
    fingerprint and the codebook's graphs cover every graph read, and stay the same for
    the same store."""
    import pyoxigraph as ox

    from kg.namespaces import graph_iri
    from kg.store import open_store

    other = _load(tmp_path / "other")  # CCC enters the system in 2010, not in 2011
    sys_iri = graph_iri("sys")
    triples = [ox.Triple(q.subject, q.predicate, q.object)
               for q in ox.parse(path=str(FIXTURE), format=ox.RdfFormat.TRIG)
               if q.graph_name.value == sys_iri]
    nt = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).replace(b"2011-05-01", b"2010-01-01")
    with open_store(other, write=True) as st:
        st.write_graphs({sys_iri: nt}, replace=True)

    def export(store, name):
        out = tmp_path / name
        res = cli_runner("export", "--format", "dyad-year", "--graph", "al", "--from", "2009",
                         "--to", "2013", "--directed", "--out", out, store=store)
        assert res.exit_code == 0, res.output
        return out.read_bytes(), (tmp_path / f"{name}.codebook.md").read_text()

    data, book = export(world, "a.csv")
    data_again, book_again = export(world, "a2.csv")
    other_data, other_book = export(other, "b.csv")
    assert data != other_data  # AAA-CCC 2010: unknown in one, 1 in the other
    assert _fingerprint_of(book) == _fingerprint_of(book_again)
    assert _fingerprint_of(book) != _fingerprint_of(other_book)
    for g in ("al", "states", "sys"):
        assert f"  graph {g}: " in book
    assert "  graph ex: " not in book  # not read: counted graphs are only al
    assert "(graph states)" in book and "(graph sys)" in book
    with open_store(world) as st:
        from kg.panel import dyad_year_panel

        p = dyad_year_panel(st, graphs=["al"], year_from=2009, year_to=2013)
        assert p.graphs == ["al", "states", "sys"]
        assert p.reference == {"states": ["states"], "system": ["sys"]}
        assert p.params["graphs"] == ["al"]  # the option as given
        assert dyad_year_panel(st, year_from=2009, year_to=2013).graphs is None  # all graphs


def test_a_japan_panel_fingerprint_changes_with_the_membership_list(field_store, tmp_path,
                                                                     cli_runner):
    """The outside tester's case: `--graph mme --graph atop --states JPN --directed` on two
    stores that differ only in the cow-states graph (Japan's 1952 spell starting in 1992)."""
    import shutil

    import pyoxigraph as ox

    from kg.namespaces import graph_iri
    from kg.store import open_store

    other = tmp_path / "other"
    shutil.copytree(field_store, other, ignore=shutil.ignore_patterns("kg.lock"))
    with open_store(other, write=True) as st:
        nt = st.dump(ox.RdfFormat.N_TRIPLES, ["cow-states"])
        assert b'"1952-04-28"' in nt
        st.write_graphs({graph_iri("cow-states"): nt.replace(b'"1952-04-28"', b'"1992-04-28"')},
                        replace=True)
    books = []
    for store, name in ((field_store, "a.csv"), (other, "b.csv")):
        res = cli_runner("export", "--format", "dyad-year", "--graph", "mme", "--graph", "atop",
                         "--states", "JPN", "--directed", "--out", tmp_path / name, store=store)
        assert res.exit_code == 0, res.output
        books.append((tmp_path / f"{name}.codebook.md").read_text())
    assert (tmp_path / "a.csv").read_bytes() != (tmp_path / "b.csv").read_bytes()
    assert _fingerprint_of(books[0]) != _fingerprint_of(books[1])
    assert "  graph cow-states: " in books[0] and "  graph curated: " in books[0]
