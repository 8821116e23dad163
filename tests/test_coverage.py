"""Fiscal-year coverage (kg.coverage.fiscal_coverage) and ``kg coverage``, on a real store."""

from __future__ import annotations

import csv
import io
import json

import pytest

from kg.coverage import FiscalCoverage, exercise_kind, fiscal_coverage

WORLD = """sources:
  - id: doj
    title: Defense of Japan 2016
    publisher: Ministry of Defense of Japan
    locator: Reference 54
states:
  - {iso3: JPN, name: Japan}
  - {iso3: USA, name: United States}
  - {iso3: AUS, name: Australia}
series:
  - {id: alpha, label: Alpha}
exercises:
  - {id: alpha-2013, series: alpha, label: Alpha 2013, year: 2013, start: "2013-05",
     participants: [JPN, USA], sources: [doj]}
  - {id: alpha-2014, series: alpha, label: Alpha 2014, year: 2014, start: "2014-02-01",
     participants: [JPN, USA, AUS], sources: [doj]}
  - {id: alpha-2014-b, series: alpha, label: Alpha 2014 b, year: 2014, fiscal_year: 2014,
     participants: [JPN, USA], participants_complete: false, sources: [doj]}
  - {id: alpha-2014-c, series: alpha, label: Alpha 2014 c, year: 2014, start: "2014-06",
     participants: [JPN, AUS], sources: [doj]}
  - {id: alpha-2014-d, series: alpha, label: Alpha 2014 d, year: 2014, start: "2014-07",
     participants: [USA, AUS], sources: [doj]}
  - {id: alpha-2012, series: alpha, label: Alpha 2012, year: 2012,
     participants: [JPN, USA], sources: [doj]}
official_counts:
  - {id: mod-ml-2013, state: JPN, category: multilateral, fiscal_year: 2013, count: 19, rule: MOD,
     sources: [doj]}
  - {id: rows-ml-2013, state: JPN, category: multilateral, fiscal_year: 2013, count: 2, rule: rows,
     basis: table-rows, sources: [doj]}
  - {id: rows-ml-2013-later, state: JPN, category: multilateral, fiscal_year: 2013, count: 3,
     rule: rows, basis: table-rows, sources: [doj]}
  - {id: aus-bi-2014, state: AUS, category: bilateral, fiscal_year: 2014, count: 7, rule: toy,
     sources: [doj]}
"""


@pytest.fixture
def world(tmp_path, cli_runner):
    (tmp_path / "w.yaml").write_text(WORLD, encoding="utf-8")
    store = tmp_path / "store"
    res = cli_runner("ingest", tmp_path / "w.yaml", "--graph", "w", store=store)
    assert res.exit_code == 0, res.stderr
    return store


def _rows(store, **kw):
    from kg.store import open_store

    with open_store(store) as st:
        return {(r.fiscal_year, r.kind): r for r in fiscal_coverage(st, **kw)}


def test_records_counted_per_fiscal_year_and_kind(world):
    rows = _rows(world)
    # alpha-2014 began in February 2014: FY2013; alpha-2012 has no month and no fiscal_year
    assert rows[(2013, "us")].records == 1
    assert rows[(2013, "multilateral")].records == 1
    # a partial list of two (JPN, USA, etc.) counts as multilateral
    assert rows[(2014, "multilateral")].records == 1
    assert rows[(2014, "bilateral")].records == 1
    assert rows[(2014, "us")].records == 0      # alpha-2014-d has no JPN
    assert set(k[0] for k in rows) == {2013, 2014}


def test_official_counts_and_table_rows(world):
    r = _rows(world)[(2013, "multilateral")]
    assert r == FiscalCoverage(2013, "multilateral", 1, 3, 19, ["doj"])
    assert _rows(world)[(2014, "multilateral")].table_rows is None


def test_focus_changes_the_count(world):
    rows = _rows(world, focus="AUS")
    assert rows[(2014, "bilateral")].records == 1   # JPN-AUS, seen from Australia
    assert rows[(2014, "us")].records == 1          # USA-AUS: with the United States only
    assert rows[(2013, "multilateral")].records == 1


def test_a_focus_reads_only_the_official_counts_of_its_own_exercises(world):
    """Japan's counts are not set against Australia's records, nor Australia's against Japan's
    (before sp:countedState, every focus read Japan's counts)."""
    aus, jpn = _rows(world, focus="AUS"), _rows(world)
    assert (aus[(2013, "multilateral")].official_count, aus[(2013, "multilateral")].table_rows) \
        == (None, None)
    assert aus[(2014, "bilateral")].official_count == 7
    assert jpn[(2014, "bilateral")].official_count is None
    assert jpn[(2013, "multilateral")].official_count == 19


def test_focus_usa_is_refused_not_mislabelled(world, cli_runner):
    """For the United States every exercise is "with the United States": its bilateral
    exercises all came out as "us" and "bilateral" read 0 (an outsider's probe)."""
    res = cli_runner("coverage", "--focus", "USA", store=world)
    assert res.exit_code == 2, res.output
    assert res.stderr.startswith("kg: error: --focus USA: the kinds set exercises with the "
                                 "United States apart")


def test_a_graph_selection_without_states_is_refused(built_store, cli_runner):
    """Coverage reads participants by their sp:State; a selection declaring none printed a
    header and no row, exit 0 (the states are in curated)."""
    from kg.store import open_store

    with open_store(built_store) as st:
        assert "ontology" in st.graph_names()
    res = cli_runner("coverage", "--graph", "ontology")
    assert res.exit_code == 2, res.output
    assert "declare no state (sp:State), which the coverage counts participants by; " \
           "add --graph curated" in res.stderr


def test_exercise_kind_rules():
    assert exercise_kind(["JPN"]) is None
    assert exercise_kind(["USA", "AUS"]) is None
    assert exercise_kind(["JPN", "USA", "USA"]) == "us"


def test_cli_coverage_formats(world, cli_runner):
    res = cli_runner("coverage", "--format", "csv", store=world)
    assert res.exit_code == 0, res.stderr
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    ml = next(r for r in rows if r["fiscal_year"] == "2013" and r["kind"] == "multilateral")
    assert (ml["records"], ml["table_rows"], ml["official_count"]) == ("1", "3", "19")
    doc = json.loads(cli_runner("coverage", "--format", "json", store=world).stdout)
    assert doc["head"]["vars"][:3] == ["fiscal_year", "kind", "records"]
    md = cli_runner("coverage", "--format", "md", store=world).stdout
    assert md.startswith("| fiscal\\_year | kind |")  # Markdown-escaped, renders fiscal_year


def test_cli_coverage_bad_focus(world, cli_runner):
    res = cli_runner("coverage", "--focus", "japan", store=world)
    assert res.exit_code == 2 and "ISO3" in res.stderr
