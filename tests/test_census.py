"""The Defense of Japan census: merge rules, integrity of the generated records, must-show thresholds.

The generated records (data/exercises/official-defense-of-japan.yaml) come from
the committed CSV of the white papers' tables (data-raw/); these tests need no
texts. Each merge rule has a test on a small hand-made set of rows.
"""

from __future__ import annotations

import csv
import importlib.util
import re
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from kg.ingest.curated import fiscal_year_of, read_records

REPO = Path(__file__).resolve().parents[1]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "data-raw" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def cur():
    return _load("defense_of_japan_curate")


@pytest.fixture(scope="module")
def result(cur):
    with cur.CSV_IN.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return cur.build(rows, cur.load_states(), cur.load_matches())


@pytest.fixture(scope="module")
def data():
    out = defaultdict(dict)
    for p in sorted((REPO / "data").rglob("*.yaml")):
        for kind, recs in read_records(p).items():
            for r in recs or []:
                out[kind][str(r.get("id") or r.get("iso3"))] = r
    return out


# ---------------------------------------------------------------- the generated file

def test_generated_file_is_current(cur, result):
    """``make data`` (step 2) reproduces the committed YAML and the citations in existing records."""
    assert cur.render(result) == cur.OUT.read_text(encoding="utf-8")
    assert cur.cite_in_existing(result, cur.existing_exercises(), check=True) == []


def test_every_table_exercise_is_a_record_citing_its_edition_and_table(cur, result, data):
    ids = {r["_key"]: r["id"] for r in result["records"]}
    matched = cur.load_matches()
    for ex in result["exercises"]:
        rid = ids.get(ex.key) or matched.get(ex.key)
        assert rid in data["exercises"], ex.key
        cites = set(data["exercises"][rid]["sources"])
        for o in ex.occs:
            src = data["sources"][cur.source_id(o.row)]
            assert cur.source_id(o.row) in cites, (rid, o.row["edition"])
            assert src["publisher"] == "Ministry of Defense of Japan"
            assert src["locator"] == o.row["reference"]
            assert src["title"].startswith(f"Defense of Japan {o.row['edition']}, {o.row['reference']}")


def test_no_record_lists_japan_where_the_table_does_not(result):
    for rec, ex in _records_with_clusters(result):
        if ex.kind != "multilateral" or "JPN" not in rec["participants"]:
            continue
        cells = " ".join(o.row["countries"] for o in ex.occs)
        assert "Japan" in cells or "Japan taken from the table's scope" in rec["note"], rec["id"]


def _records_with_clusters(result):
    by_key = {ex.key: ex for ex in result["exercises"]}
    return [(r, by_key[r["_key"]]) for r in result["records"]]


def test_participants_resolve(result, data):
    for rec in result["records"]:
        for code in rec["participants"] + rec["observers"]:
            assert code in data["states"], (rec["id"], code)
        for org in rec["participant_orgs"]:
            assert org in data["organizations"], (rec["id"], org)
        assert not set(rec["participants"]) & set(rec["observers"])


def test_dates_lie_in_their_fiscal_year(result):
    for rec, ex in _records_with_clusters(result):
        assert fiscal_year_of(rec["start"]) in (ex.fy, None), rec["id"]
        if fiscal_year_of(rec["start"]) is None:
            assert rec["fiscal_year"] == ex.fy
        for o in ex.occs:
            scope = o.row["scope"]
            if scope.startswith("FY") and scope != f"FY{ex.fy}":
                assert f"listed in the {scope} table" in rec["note"], rec["id"]
        assert ex.fy <= 2019, rec["id"]          # FY2020 on is from official releases


def test_no_duplicates_across_editions_or_branches(result):
    """Two records of one series starting in one month must come from one table section
    (two exercises the same section lists), never from two editions or two branches."""
    groups = defaultdict(list)
    for rec, ex in _records_with_clusters(result):
        groups[(rec["series"], rec["start"][:7])].append(ex)
    for key, exs in groups.items():
        if len(exs) < 2:
            continue
        sections = [{(o.row["edition"], o.row["reference"], o.row["branch"]) for o in e.occs}
                    for e in exs]
        assert set.intersection(*sections), key
    # every table row (before FY2020) is in exactly one exercise
    seen = defaultdict(int)
    for ex in result["exercises"]:
        for o in ex.occs:
            seen[(o.row["edition"], o.row["line"], o.date)] += 1
    assert max(seen.values()) == 1


#: Curated records whose participants come from a fuller or later source than the
#: white-paper table, and why (each record's note says so too).
LISTED_FROM_A_BETTER_SOURCE = {
    # the 25 nations of the U.S. Third Fleet's concluding release: the table's "etc." is
    # covered, and Brazil was on the announced list only
    "rimpac-2018",
}


def test_matched_records_hold_the_states_their_tables_list(cur, result, data):
    """A curated record that a white-paper table also lists names (as participant or
    observer) every state of the table's country cell, and is marked partial where the
    cell is open ("etc."): the official record is the floor of what a record says."""
    names = cur.load_states()
    short = []
    for rid, ex in result["matched"].items():
        if ex.kind != "multilateral" or rid in LISTED_FROM_A_BETTER_SOURCE:
            continue
        rec = data["exercises"][rid]
        listed = set(rec.get("participants") or []) | set(rec.get("observers") or [])
        for o in ex.occs:
            if not o.row["countries"]:
                continue
            states, _orgs, complete, _unread = cur.parse_countries(o.row["countries"], names)
            missing = set(states) - listed
            if missing or (not complete and rec.get("participants_complete") is not False):
                short.append((rid, o.row["edition"], sorted(missing), complete))
    assert short == []


def test_matched_existing_records_are_not_generated_again(cur, result):
    matched = set(cur.load_matches().values())
    generated = {r["id"] for r in result["records"]}
    assert matched and not matched & generated
    assert {ex.key for ex in result["exercises"]} >= set(cur.load_matches())


# ---------------------------------------------------------------- merge rules on a fixture

def _row(**kw):
    base = {"edition": "2016", "reference": "Reference 54", "table": "T", "kind": "multilateral",
            "scope": "x", "branch": "", "designation": "Cobra Gold", "subdesignation": "",
            "date": "February 2014", "location": "Thailand", "countries": "Japan, U.S., Thailand",
            "hosts": "", "units": "", "japan": "", "partner": "", "remarks": "", "line": "1",
            "parse": "table", "carried": "", "partner_country": ""}
    base.update(kw)
    return base


NAMES = {"japan": "JPN", "u.s.": "USA", "thailand": "THA", "australia": "AUS", "india": "IND",
         "u.s": "USA"}


def _build(cur, rows, matches=None):
    return cur.build(rows, NAMES, matches or {})


def test_rule_branches_merge_as_mod_counts(cur):
    rows = [_row(kind="us", scope="FY2017", edition="2018", reference="Reference 22",
                 branch=b, designation="Japan-U.S. Joint Exercise for Air Defense", line=str(i),
                 date="Feb. 16, 20-23, 2018")
            for i, b in enumerate(["Joint", "MSDF", "ASDF"])]
    # two rows of one section on other days are two exercises
    rows += [_row(kind="us", scope="FY2017", edition="2018", reference="Reference 22",
                  branch="ASDF", designation="Fighter combat training", date=d, line=str(10 + i))
             for i, d in enumerate(["Jun. 5, 2017", "Jun. 20, 2017"])]
    res = _build(cur, rows)
    assert res["counts"][(2017, "us")] == 3
    ad = next(r for r in res["records"] if "Air Defense" in r["label"])
    assert ad["forces"] == ["JPN-ASDF", "JPN-MSDF"] and "one exercise, as MOD counts" in ad["note"]
    assert (ad["start"], ad["end"]) == ("2018-02-16", "2018-02-23")


def test_rule_rolling_tables_merge_citing_each_edition(cur):
    rows = [_row(edition=e, reference=r, line=str(i), date=d)
            for i, (e, r, d) in enumerate([("2015", "Reference 59", "February 2014"),
                                           ("2016", "Reference 54", "February 2014"),
                                           ("2017", "Reference 52", "Feb. 11-21, 2014")])]
    res = _build(cur, rows)
    (rec,) = res["records"]
    assert rec["sources"] == ["doj-2015-ref-59", "doj-2016-ref-54", "doj-2017-ref-52"]
    assert rec["start"] == "2014-02-11"       # the latest edition, at its precision
    assert res["counts"] == {(2013, "multilateral"): 1}


def test_rule_korea_in_a_name_is_the_rok(cur):
    """The 2015-2016 editions print "Japan-U.S.-Korea", the 2017 one "Japan-U.S.-ROK" for
    the same training: the states a name strings together are one list, so one exercise."""
    rows = [_row(edition=e, reference=r, line=str(i), designation=n, date=d,
                 location="Waters west of Kyushu", countries="Japan, U.S., ROK")
            for i, (e, r, n, d) in enumerate([
                ("2015", "Reference 59", "Japan-U.S.-Korea Trilateral Training", "July 21 –22, 2014"),
                ("2016", "Reference 54", "Japan-U.S.-Korea Trilateral Training", "July 21 –22, 2014"),
                ("2017", "Reference 52", "Japan-U.S.-ROK Trilateral Training", "July 2014")])]
    res = _build(cur, rows)
    (rec,) = res["records"]
    assert rec["sources"] == ["doj-2015-ref-59", "doj-2016-ref-54", "doj-2017-ref-52"]
    assert res["counts"] == {(2014, "multilateral"): 1}
    assert cur._country_list("Japan-U.S.-Korea Trilateral") == frozenset({"Japan", "U.S", "ROK"})


def test_rule_rows_listed_as_one_exercise_merge_with_their_reason(cur, monkeypatch):
    """Two editions that name and date one exercise differently (the June 2017 South China
    Sea training) are merged only by the hand-made list, and the record says why."""
    rows = [_row(edition="2018", reference="Reference 46", line="47425", date="June 2017",
                 designation="Japan-U.S.-Australia-ROK-Canada Joint Training",
                 location="South China Sea", countries="Japan, U.S., Australia, Canada"),
            _row(edition="2019", reference="Reference 51", line="52971", date="June 2017",
                 designation="Japan-U.S.-Australia-Canada four- country exercise",
                 location="South China Sea", countries="Japan, U.S., Australia, Canada")]
    (rec,) = _build(cur, rows)["records"]
    assert rec["sources"] == ["doj-2018-ref-46", "doj-2019-ref-51"]
    assert cur.DUPLICATE_ROWS[(2018, 47425)][1] in rec["note"]
    monkeypatch.setattr(cur, "DUPLICATE_ROWS", {})
    assert len(_build(cur, rows)["records"]) == 2


def test_rule_an_undated_row_is_placed_by_the_tables_date_order(cur):
    """The 2010 edition's third WPNS sea exercise has no date in the conversion: it is
    listed (2009, FY2009, from its place between April and May 2009 rows, said in the
    note); an undated row not listed is left out, not guessed."""
    wpns = _row(edition="2010", reference="Fig. III-3-3-1", line="2412", date="",
                scope="since last year", designation="Third WPNS multilateral sea exercise",
                countries="Japan, U.S., Australia, India")
    res = _build(cur, [wpns, dict(wpns, line="2413")])
    (rec,) = res["records"]
    assert (rec["start"], rec["fiscal_year"], rec["series"]) == (
        "2009", 2009, "wpns-multilateral-sea-exercise")
    assert cur.UNDATED_ROWS[(2010, 2412)][2] in rec["note"]
    assert res["counts"] == {(2009, "multilateral"): 1}


def test_rule_units_outside_the_branch_section_add_their_force(cur):
    """Forest Light (WA) 2020 is under the GSDF section, but its JSDF units include an ASDF
    squadron: the hand-made list adds the ASDF (and the air domain), with the reason."""
    row = _row(kind="us", scope="FY2019", edition="2020", reference="Reference 21",
               branch="GSDF", line="57413", date="Jan. 18-30, 2020",
               designation="Field training with U.S. Marines in Japan (Forest Light (WA))",
               units="[JSDF] 12th Infantry Regiment, 8th Division; 8th Fighter Squadron")
    (rec,) = _build(cur, [row])["records"]
    assert (rec["forces"], rec["domain"]) == (["JPN-ASDF", "JPN-GSDF"], ["air", "land"])
    assert cur.EXTRA_FORCES[(2020, 57413)][2] in rec["note"]
    (other,) = _build(cur, [dict(row, line="1")])["records"]
    assert (other["forces"], other["domain"]) == (["JPN-GSDF"], ["land"])


def test_rule_series_from_names(cur):
    assert cur.series_of("Multilateral exercise Cobra Gold 18", "multilateral")[0] == "cobra-gold"
    assert cur.series_of("Japan-U.S. joint District Army command post exercise (YS-66)",
                         "us")[0] == "yama-sakura"
    assert cur.series_of("Minesweeping special training Part 2", "us") == (
        "jpn-usa-minesweeping-special-training", "Japan-U.S. minesweeping special training")


def test_rule_partial_lists_and_observers(cur):
    rows = [_row(countries="Japan, U.S., Thailand, etc.", line="1"),
            _row(designation="Khaan Quest 2007", date="Aug. 2007", countries="About 22 countries, "
                 "including U.S., India and Thailand", units="Two GSDF participating as observers",
                 line="2", edition="2008", reference="Fig. III-3-2-5")]
    res = _build(cur, rows)
    cg = next(r for r in res["records"] if r["series"] == "cobra-gold")
    kq = next(r for r in res["records"] if r["series"] == "khaan-quest")
    assert cg["participants_complete"] is False and cg["participants"] == ["JPN", "USA", "THA"]
    assert kq["observers"] == ["JPN"] and "JPN" not in kq["participants"]
    assert kq["participants_complete"] is False


def test_rule_japan_from_the_tables_scope(cur):
    (rec,) = _build(cur, [_row(edition="2020", reference="Reference 48", countries="The U.S., India",
                              designation="Japan-U.S.-India Trilateral Exercise",
                              date="Nov. 3-6, 2017")])["records"]
    assert rec["participants"] == ["JPN", "USA", "IND"]
    assert "Japan taken from the table's scope" in rec["note"]


def test_rule_dates_at_printed_precision(cur):
    (rec,) = _build(cur, [_row(date="June – July 2012")])["records"]
    assert (rec["start"], rec["end"], rec["fiscal_year"]) == ("2012-06", "2012-07", None)
    res = _build(cur, [_row(date="May 2016, May 2017", designation="Southern Jackaroo")])
    assert [r["start"] for r in res["records"]] == ["2016-05", "2017-05"]


def test_rule_existing_records_take_the_match(cur):
    rows = [_row()]
    key = _build(cur, rows)["exercises"][0].key
    res = _build(cur, rows, {key: "cobra-gold-2014"})
    assert res["records"] == [] and set(res["matched"]) == {"cobra-gold-2014"}
    assert res["counts"] == {(2013, "multilateral"): 1}


# ---------------------------------------------------------------- must show

def _held(cur, result, data):
    """(fiscal year, kind) -> (exercises the tables list, of them held in data/ with Japan)."""
    ids = {r["_key"]: r["id"] for r in result["records"]}
    matched = cur.load_matches()
    out = defaultdict(lambda: [0, 0])
    for ex in result["exercises"]:
        rid = ids.get(ex.key) or matched.get(ex.key)
        out[(ex.fy, ex.kind)][0] += 1
        out[(ex.fy, ex.kind)][1] += int(rid in data["exercises"]
                                         and "JPN" in data["exercises"][rid]["participants"])
    return out


@pytest.mark.parametrize("fy", range(2012, 2020))
def test_multilateral_tables_covered_90_percent(cur, result, data, fy):
    listed, held = _held(cur, result, data)[(fy, "multilateral")]
    assert listed and held >= 0.9 * listed


@pytest.mark.parametrize("fy", range(2014, 2020))
def test_us_tables_covered_90_percent(cur, result, data, fy):
    listed, held = _held(cur, result, data)[(fy, "us")]
    assert listed and held >= 0.9 * listed


def test_fy2013_multilateral_within_two_of_mods_count(cur, result, data):
    mod = data["official_counts"]["mod-multilateral-fy2013"]
    assert (mod["category"], mod["fiscal_year"], mod["count"]) == ("multilateral", 2013, 19)
    assert abs(result["counts"][(2013, "multilateral")] - mod["count"]) <= 2


def test_coverage_from_the_built_store(built_store):
    """`kg coverage`'s numbers on the bundled data: records against table rows, FY2012-2019."""
    from kg.coverage import fiscal_coverage
    from kg.store import open_store

    with open_store(built_store) as st:
        rows = {(r.fiscal_year, r.kind): r for r in fiscal_coverage(st, graphs=["curated"])}
    for fy in range(2012, 2020):
        r = rows[(fy, "multilateral")]
        assert r.table_rows and r.records >= 0.9 * r.table_rows, fy
    for fy in range(2014, 2020):
        r = rows[(fy, "us")]
        assert r.table_rows and r.records >= 0.9 * r.table_rows, fy
    assert rows[(2013, "multilateral")].official_count == 19
    assert rows[(2022, "us")].official_count == 108
    assert rows[(2010, "us")].table_rows is None          # no table: unknown, not zero
    assert re.fullmatch(r"doj-\d{4}-ref-\d+", rows[(2015, "us")].sources[0])


def test_rule_bilateral_partner_from_the_header(cur):
    rows = [_row(kind="bilateral", edition="2020", reference="Reference 35", branch="MSDF",
                 designation="Goodwill exercise with the Royal Thai Navy", date="Sep. 18, 2017",
                 countries="", partner_country="Thailand", line="1"),
            _row(kind="bilateral", edition="2020", reference="Reference 37", branch="Joint",
                 designation="Joint exercise with the EU NAVFOR (Spain)", date="Aug. 29, 2018",
                 countries="", partner_country="EU", line="2"),
            _row(kind="bilateral", edition="2020", reference="Reference 37", branch="Joint",
                 designation="NATO cyber defense exercise", date="Dec. 2019", countries="",
                 partner_country="", line="3")]
    names = dict(NAMES, spain="ESP", eu="org:eu")
    res = cur.build(rows, names, {})
    assert [(r["participants"], r["participant_orgs"]) for r in res["records"]] == [
        (["JPN", "THA"], []), (["JPN", "ESP"], ["eu"])]
    assert all(r["forces"] == [] for r in res["records"])
    assert res["counts"] == {(2017, "bilateral"): 1, (2018, "bilateral"): 1}


def test_rule_phases_in_one_row_are_one_exercise(cur):
    rows = [_row(kind="bilateral", edition="2020", reference="Reference 33", branch="MSDF",
                 designation="Japan-Australia bilateral exercise (Nichi Gou Trident exercise)",
                 date="Sep. 17-29, 2019 Oct. 15-23, 2019", countries="",
                 partner_country="Australia")]
    (rec,) = cur.build(rows, NAMES, {})["records"]
    assert (rec["start"], rec["end"], rec["series"]) == ("2019-09-17", "2019-10-23",
                                                         "nichi-gou-trident")


def test_rule_a_third_row_never_joins_two_rows_of_one_section(cur):
    """Two rows of one table section stay two exercises even if a later edition's row links both."""
    rows = [_row(edition="2020", reference="Reference 48", branch="MSDF", line="1",
                 designation="Japan-U.S.-Australia-ROK Four-Country Exercise (Pacific Vanguard)",
                 date="May 23-28, 2019"),
            _row(edition="2020", reference="Reference 48", branch="MSDF", line="2",
                 designation="Japan-U.S.-Australia Trilateral Training", date="May 29, 2019"),
            _row(edition="2019", reference="Reference 51", line="3",
                 designation="Japan-U.S.-Australia Trilateral Exercise (Pacific Vanguard)",
                 date="May 2019")]
    res = _build(cur, rows)
    groups = sorted(sorted(o.row["line"] for o in e.occs) for e in res["exercises"])
    assert groups == [["1", "3"], ["2"]]
