"""Census fields of the curated compiler: fiscal years, partial lists, locators, official counts."""

from __future__ import annotations

import pytest

from kg.errors import InputError
from kg.ingest.curated import compile_records, fiscal_year_of, load_yaml_text, read_records

G = "https://w3id.org/secpart/graph/test"
ID = "https://w3id.org/secpart/id/"
SP = "https://w3id.org/secpart/ontology#"
KNOWN = {"states": {"JPN", "USA", "AUS"}, "sources": {"src"}, "series": {"cope-north"}}


def _compile(text: str, name: str = "t.yaml"):
    doc = load_yaml_text(text, name)
    doc.pop("__line__", None)
    return compile_records([(name, doc)], graph=G, known=KNOWN)


def _triples(quads):
    return {(q.subject.value, q.predicate.value, q.object.value) for q in quads}


def _exercise(**extra) -> str:
    lines = ["exercises:", "  - id: cope-north-2014", "    series: cope-north",
             "    label: Cope North 2014", "    year: 2014", "    participants: [JPN, USA, AUS]",
             "    sources: [src]"]
    lines += [f"    {k}: {v}" for k, v in extra.items()]
    return "\n".join(lines) + "\n"


EX = ID + "exercise/cope-north-2014"


@pytest.mark.parametrize("date, fy", [("2014-03-31", 2013), ("2014-04-01", 2014),
                                      ("2014-12", 2014), ("2015-01-05", 2014), ("2014", None)])
def test_fiscal_year_runs_april_to_march(date, fy):
    assert fiscal_year_of(date) == fy


def test_fiscal_year_is_derived_from_a_start_month():
    t = _triples(_compile(_exercise(start='"2014-02-10"'))[0])
    assert (EX, SP + "fiscalYear", "2013") in t


def test_no_fiscal_year_without_a_month_or_a_table():
    t = _triples(_compile(_exercise(start='"2014"'))[0])
    assert not any(p == SP + "fiscalYear" for _, p, _ in t)


def test_explicit_fiscal_year_from_a_table_without_a_month():
    t = _triples(_compile(_exercise(fiscal_year=2013))[0])
    assert (EX, SP + "fiscalYear", "2013") in t


@pytest.mark.parametrize("extra, msg", [
    ({"start": '"2014-05-01"', "fiscal_year": 2013}, "does not match start"),
    ({"fiscal_year": 2012}, "cannot hold an exercise begun in 2014"),
    ({"fiscal_year": '"x"'}, "fiscal_year must be an integer"),
    ({"participants_complete": '"no"'}, "participants_complete must be true or false"),
])
def test_bad_census_fields_name_file_and_record(extra, msg):
    with pytest.raises(InputError, match=msg) as err:
        _compile(_exercise(**extra))
    assert err.value.file == "t.yaml" and err.value.where == "2"


def test_partial_participant_list_is_marked():
    t = _triples(_compile(_exercise(participants_complete="false"))[0])
    assert (EX, SP + "participantsComplete", "false") in t
    t = _triples(_compile(_exercise())[0])
    assert not any(p == SP + "participantsComplete" for _, p, _ in t)


SOURCES = """sources:
  - id: doj-2016
    title: Defense of Japan 2016
    publisher: Ministry of Defense of Japan
    issued: "2016"
  - id: doj-2016-ref-54
    title: "Defense of Japan 2016, Reference 54: Participation in Multilateral Training"
    publisher: Ministry of Defense of Japan
    issued: "2016"
    locator: Reference 54
    part_of: doj-2016
"""


def test_source_locator_and_part_of():
    t = _triples(_compile(SOURCES)[0])
    s = ID + "source/doj-2016-ref-54"
    assert (s, SP + "locator", "Reference 54") in t
    assert (s, "http://purl.org/dc/terms/isPartOf", ID + "source/doj-2016") in t


def test_part_of_must_name_a_known_source():
    with pytest.raises(InputError, match="unknown source 'nowhere'"):
        _compile(SOURCES.replace("part_of: doj-2016", "part_of: nowhere"))


COUNT = """official_counts:
  - id: mod-multilateral-fy2013
    state: JPN
    category: multilateral
    fiscal_year: 2013
    count: 19
    rule: participation in multilateral exercises, as counted by MOD
    sources: [src]
"""


def test_official_count_compiles():
    t = _triples(_compile(COUNT)[0])
    c = ID + "official-count/mod-multilateral-fy2013"
    assert (c, "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", SP + "OfficialCount") in t
    assert {(c, SP + "countedState", ID + "state/JPN"),
            (c, SP + "countCategory", "multilateral"), (c, SP + "fiscalYear", "2013"),
            (c, SP + "count", "19"), (c, SP + "countBasis", "mod-count"),
            (c, SP + "source", ID + "source/src")} <= t


@pytest.mark.parametrize("old, new, msg", [
    ("category: multilateral", "category: trilateral", "unknown category 'trilateral'"),
    ("count: 19", "count: -1", "count must be a non-negative integer"),
    ("count: 19", "count: 19\n    basis: guess", "unknown basis 'guess'"),
    ("    sources: [src]\n", "", "missing field"),
    ("    state: JPN\n", "", "missing field\\(s\\) state"),
    ("state: JPN", "state: XQZ", "unknown state code 'XQZ'"),
])
def test_bad_official_count_is_rejected(old, new, msg):
    with pytest.raises(InputError, match=msg):
        _compile(COUNT.replace(old, new))


def test_csv_official_counts(tmp_path):
    p = tmp_path / "mod-official_counts.csv"
    p.write_text("id,state,category,fiscal_year,count,rule,basis,sources\n"
                 "rows-us-fy2015,JPN,us,2015,30,rows of Reference 32,table-rows,src\n",
                 encoding="utf-8")
    doc = read_records(p)
    quads, _ = compile_records([(str(p), doc)], graph=G, known=KNOWN)
    assert (ID + "official-count/rows-us-fy2015", SP + "count", "30") in _triples(quads)
