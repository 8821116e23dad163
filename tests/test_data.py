"""Integrity of the bundled curated dataset (data/) and its coverage table.

The YAML is read through ``kg.ingest.curated.read_records`` and, for the
graph-level checks, built with ``kg.ingest.build`` into a temporary store.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from kg.coverage import (
    END_MARKER,
    START_MARKER,
    collect,
    coverage_summary,
    coverage_table,
    main,
    readme_block,
    update_readme,
)
from kg.errors import InputError
from kg.ingest.curated import read_records
from kg.resources import data_dir

DATA = data_dir()
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FOCUS = "JPN"
SUFFIX = re.compile(r"^-([0-9]+|[a-z])$")   # the documented `-2`, `-b` ... suffixes


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def records() -> dict[str, list[dict]]:
    """Every curated record by kind, each tagged with its file."""
    out: dict[str, list[dict]] = defaultdict(list)
    for path in sorted(DATA.rglob("*.yaml")):
        for kind, recs in read_records(path).items():
            for rec in recs:
                out[kind].append({**rec, "__file__": path.name})
    return out


@pytest.fixture(scope="module")
def data_store(tmp_path_factory):
    """The bundled data built with ``kg build`` into a temporary store (opened read-only)."""
    from kg.ingest import build
    from kg.store import open_store

    path = tmp_path_factory.mktemp("data") / "store"
    with open_store(path, write=True) as store:
        build(store)
    store = open_store(path)
    yield store
    store.close()


def _where(rec: dict) -> str:
    return f"{rec['__file__']}:{rec.get('__line__')} {rec.get('id') or rec.get('iso3')}"


# ---------------------------------------------------------------- build / validate

def test_bundled_data_builds_and_validates(data_store):
    from kg.validate import validate_store

    assert "curated" in data_store.graph_names()
    violations = validate_store(data_store)
    assert violations == [], violations[:5]


# ---------------------------------------------------------------- references

def test_every_actor_resolves_to_a_state_or_organization(records):
    states = {s["iso3"] for s in records["states"]}
    orgs = {o["id"] for o in records["organizations"]}
    bad = []
    for ex in records["exercises"]:
        for field in ("participants", "observers"):
            bad += [(_where(ex), field, c) for c in ex.get(field) or [] if c not in states]
        for field in ("participant_orgs", "observer_orgs"):
            bad += [(_where(ex), field, c) for c in ex.get(field) or [] if c not in orgs]
        if ex.get("host") and ex["host"] not in states:
            bad.append((_where(ex), "host", ex["host"]))
    for ag in records["agreements"]:
        bad += [(_where(ag), "parties", c) for c in ag["parties"] if c not in states | orgs]
    assert bad == []


def test_graph_actors_are_typed_states_or_organizations(data_store):
    q = """PREFIX sp: <https://w3id.org/secpart/ontology#>
    SELECT DISTINCT ?x ?p ?a WHERE {
      ?x ?p ?a . VALUES ?p { sp:participant sp:observer sp:host sp:party }
      FILTER NOT EXISTS { ?a a sp:State } FILTER NOT EXISTS { ?a a sp:Organization } }"""
    assert data_store.select(q, graphs=["curated"]).rows == []


def test_every_force_belongs_to_a_participant(records):
    force_state = {f["id"]: f["state"] for f in records["forces"]}
    bad = []
    for ex in records["exercises"]:
        for f in ex.get("forces") or []:
            if f not in force_state:
                bad.append((_where(ex), f, "unknown force"))
            elif force_state[f] not in ex["participants"]:
                bad.append((_where(ex), f, f"state {force_state[f]} not a participant"))
    assert bad == []


def test_no_state_is_both_participant_and_observer(records):
    bad = [(_where(ex), sorted(set(ex["participants"]) & set(ex.get("observers") or [])))
           for ex in records["exercises"]
           if set(ex["participants"]) & set(ex.get("observers") or [])]
    assert bad == []


# ---------------------------------------------------------------- iterations and dates

def test_exercise_ids_name_series_and_year(records):
    bad = []
    for ex in records["exercises"]:
        base = f"{ex['series']}-{ex['year']}"
        if ex["id"] != base and not SUFFIX.match(ex["id"][len(base):] if ex["id"].startswith(base)
                                                 else "x"):
            bad.append(_where(ex))
    assert bad == []


def test_no_duplicate_iterations(records):
    """Same series, year and participants is a duplicate, unless the ids differ by a
    documented suffix and each iteration has its own, distinct dates (or, on one day, places)."""
    groups = defaultdict(list)
    for ex in records["exercises"]:
        groups[(ex["series"], ex["year"], frozenset(ex["participants"]))].append(ex)
    bad = []
    for (series, year, _), exs in groups.items():
        if len(exs) < 2:
            continue
        ids = [e["id"] for e in exs]
        base = f"{series}-{year}"
        suffixed = all(i == base or SUFFIX.match(i[len(base):]) for i in ids if i.startswith(base))
        starts = [e.get("start") for e in exs]
        # two drills on one day in different places (the white papers' tables list such) are two
        where = [(e.get("start"), e.get("location")) for e in exs]
        if (len(set(ids)) != len(ids) or not all(i.startswith(base) for i in ids) or not suffixed
                or None in starts or len(set(where)) != len(where)):
            bad.append(ids)
    assert bad == []


def test_ids_are_unique_across_files(records):
    for kind, key in (("exercises", "id"), ("agreements", "id"), ("sources", "id"),
                      ("series", "id"), ("forces", "id"), ("states", "iso3")):
        dup = [k for k, n in Counter(r[key] for r in records[kind]).items() if n > 1]
        assert dup == [], (kind, dup)


def test_dates_fall_in_the_exercise_year(records):
    bad = []
    for ex in records["exercises"]:
        year, start, end = ex["year"], ex.get("start"), ex.get("end")
        if start and int(str(start)[:4]) != year:
            bad.append((_where(ex), "start", start))
        if end and int(str(end)[:4]) not in (year, year + 1):
            bad.append((_where(ex), "end", end))
        if start and end:
            n = min(len(str(start)), len(str(end)))
            if str(end)[:n] < str(start)[:n]:
                bad.append((_where(ex), "end before start", end))
    assert bad == []


# ---------------------------------------------------------------- sources

def test_every_exercise_and_agreement_has_a_known_source(records):
    known = {s["id"] for s in records["sources"]}
    bad = []
    for kind in ("exercises", "agreements"):
        for rec in records[kind]:
            srcs = rec.get("sources") or []
            if not srcs:
                bad.append((_where(rec), "no source"))
            bad += [(_where(rec), f"unknown source {s}") for s in srcs if s not in known]
    assert bad == []


def test_readme_lists_the_unverified_records(records):
    """data/README.md names the records kept with ``confidence: unverified``; the list had
    gone stale (two records checked since were still named)."""
    text = (DATA / "README.md").read_text(encoding="utf-8")
    start = text.index("At present these are")
    named = set(re.findall(r"`([a-z0-9-]+)`", text[start:text.index("Queries and claims can",
                                                                   start)]))
    unverified = {r["id"] for kind in ("exercises", "agreements") for r in records[kind]
                  if r.get("confidence") == "unverified"}
    assert unverified and named == unverified


def test_every_source_is_complete(records):
    bad = []
    for s in records["sources"]:
        for field in ("title", "publisher"):
            if not str(s.get(field) or "").strip():
                bad.append((_where(s), f"no {field}"))
        url, note = str(s.get("url") or "").strip(), str(s.get("note") or "").strip()
        if not url and not note:
            bad.append((_where(s), "neither url nor a note saying why not"))
        if url and not re.match(r"^https?://\S+$", url):
            bad.append((_where(s), f"bad url {url!r}"))
    assert bad == []


def test_graph_exercises_and_agreements_have_titled_sources(data_store):
    q = """PREFIX sp: <https://w3id.org/secpart/ontology#>
    PREFIX dcterms: <http://purl.org/dc/terms/>
    SELECT ?x WHERE {
      { ?x a sp:Exercise } UNION { ?x a ?t . ?t rdfs:subClassOf* sp:Agreement }
      FILTER NOT EXISTS { ?x sp:source ?s . ?s a sp:Source ; dcterms:title ?ti ;
                                              dcterms:publisher ?pu } }"""
    q = "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n" + q
    n_ex = data_store.select("PREFIX sp: <https://w3id.org/secpart/ontology#> "
                             "SELECT (COUNT(*) AS ?n) WHERE { ?x a sp:Exercise }",
                             graphs=["curated"]).dicts()[0]["n"]
    assert n_ex > 0
    assert data_store.select(q).rows == []


# ---------------------------------------------------------------- states

def test_iso3_codes_are_unique_and_well_formed(records):
    codes = [s["iso3"] for s in records["states"]]
    assert [c for c, n in Counter(codes).items() if n > 1] == []
    assert [c for c in codes if not re.fullmatch(r"[A-Z]{3}", c)] == []


def test_every_cow_code_maps_to_exactly_one_state(records):
    path = SHARED_DATA / "cow_states2016.csv"
    if not path.exists():
        pytest.skip(f"{path} not present")
    with path.open(newline="", encoding="utf-8") as fh:
        ccodes = {int(r["ccode"]) for r in csv.DictReader(fh)}
    per_code = Counter(s["cow"] for s in records["states"] if s.get("cow") is not None)
    assert {c: per_code[c] for c in ccodes if per_code[c] != 1} == {}
    assert sorted(set(per_code) - ccodes) == []


# ---------------------------------------------------------------- breadth (issue's thresholds)

def test_japan_exercise_and_agreement_counts(records, data_store):
    """>= 150 iterations with Japan as participant since 2000 in >= 25 series, and
    >= 30 agreements with Japan as party that carry a signed or in-force date."""
    its = [e for e in records["exercises"] if FOCUS in e["participants"] and e["year"] >= 2000]
    series = {e["series"] for e in its}
    dated = [a for a in records["agreements"]
             if FOCUS in a["parties"] and (a.get("signed") or a.get("in_force"))]
    counts = (len(its), len(series), len(dated))
    assert len(its) >= 150, counts
    assert len(series) >= 25, counts
    assert len(dated) >= 30, counts
    # the same numbers through the graph (and through kg.coverage)
    q = """PREFIX sp: <https://w3id.org/secpart/ontology#>
    SELECT (COUNT(DISTINCT ?e) AS ?n) (COUNT(DISTINCT ?s) AS ?k) WHERE {
      ?e a sp:Exercise ; sp:participant ?focus ; sp:year ?y ; sp:series ?s . FILTER(?y >= 2000) }"""
    from kg.namespaces import state_iri
    from kg.sparql import Iri

    row = data_store.select(q, bindings={"focus": Iri(state_iri(FOCUS))},
                            graphs=["curated"]).dicts()[0]
    assert (row["n"], row["k"]) == counts[:2]
    s = coverage_summary(data_store)
    assert (s["iterations"], s["series"], s["dated_agreements"]) == counts


def test_the_articles_2019_exercises_are_recorded(records):
    by_id = {e["id"]: e for e in records["exercises"]}
    for eid, partners in (("bushido-guardian-2019", {"AUS"}), ("malabar-2019", {"IND", "USA"}),
                          ("kamandag-2019", {"PHL", "USA"})):
        assert eid in by_id
        assert {FOCUS} | partners <= set(by_id[eid]["participants"]), eid


# ---------------------------------------------------------------- coverage table

FIXTURE = """
sources:
  - id: s1
    title: A page
    publisher: A publisher
    url: https://example.org/a
states:
  - {iso3: JPN, name: Japan}
  - {iso3: USA, name: United States}
  - {iso3: AUS, name: Australia}
  - {iso3: FRA, name: France}
series:
  - {id: alpha, label: Alpha}
  - {id: beta, label: Beta}
exercises:
  - {id: alpha-2000, series: alpha, label: A 2000, year: 2000, participants: [JPN, USA],
     sources: [s1]}
  - {id: alpha-2001, series: alpha, label: A 2001, year: 2001, participants: [USA, AUS],
     observers: [JPN], sources: [s1]}
  - {id: beta-2001, series: beta, label: B 2001, year: 2001, start: "2001-03",
     participants: [USA, JPN], sources: [s1]}
  - {id: beta-2001-2, series: beta, label: B 2001 (2), year: 2001, start: "2001-09",
     participants: [USA, JPN], sources: [s1]}
  - {id: beta-1999, series: beta, label: B 1999, year: 1999, participants: [USA, AUS],
     sources: [s1]}
agreements:
  - {id: jpn-usa-acsa-1996, type: LogisticsAgreement, label: L, parties: [JPN, USA],
     signed: "1996-04-15", status: in-force, sources: [s1]}
  - {id: aus-usa-treaty-1951, type: DefenceTreaty, label: T, parties: [AUS, USA],
     signed: "1951-09-01", status: in-force, sources: [s1]}
  - {id: fra-jpn-raa-2024, type: ReciprocalAccessAgreement, label: R, parties: [FRA, JPN],
     status: under-negotiation, sources: [s1]}
"""

EXPECTED = """\
| series | <2000 | 2000 | 2001 | iterations | with JPN |
|---|---:|---:|---:|---:|---:|
| Alpha |  | 1P | 1o | 2 | 1 |
| Beta | 1 |  | 2P | 3 | 2 |
| **all iterations** | 1 | 1 | 3 | **5** | |
| **with JPN (P)** |  | 1 | 2 | | **3** |

JPN took part in **3** exercise iterations from 2000 on, in **2** series, and observed \
(without taking part) **1** more.

| agreement type | agreements | with JPN | with JPN, dated |
|---|---:|---:|---:|
| DefenceTreaty | 1 | 0 | 0 |
| LogisticsAgreement | 1 | 1 | 1 |
| ReciprocalAccessAgreement | 1 | 1 | 0 |
| **all** | **3** | **2** | **1** |
"""


@pytest.fixture
def fixture_dir(tmp_path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    (d / "small.yaml").write_text(FIXTURE, encoding="utf-8")
    return d


def test_coverage_table_on_a_hand_checked_fixture(fixture_dir):
    assert coverage_table(fixture_dir) == EXPECTED
    assert coverage_summary(fixture_dir) == {"iterations": 3, "series": 2, "observed": 1,
                                             "agreements": 2, "dated_agreements": 1}


def test_coverage_table_from_a_store_matches_the_yaml(fixture_dir, tmp_path):
    from kg.ingest import ingest
    from kg.store import open_store

    with open_store(tmp_path / "st", write=True) as store:
        ingest(store, [fixture_dir / "small.yaml"])
        assert coverage_table(store, graphs=None) == EXPECTED


def test_bundled_coverage_is_the_same_from_store_and_yaml(data_store):
    assert coverage_table(data_store) == coverage_table(DATA)
    assert len(collect(data_store).exercises) == len(collect(DATA).exercises)


def test_readme_coverage_table_is_fresh():
    text = (DATA / "README.md").read_text(encoding="utf-8")
    i, j = text.index(START_MARKER), text.index(END_MARKER) + len(END_MARKER)
    assert text[i:j] == readme_block(), "run: python -m kg.coverage --write"


def test_update_readme_rewrites_only_the_block(fixture_dir, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nbefore\n\n{START_MARKER}\nold\n{END_MARKER}\n\nafter\n",
                      encoding="utf-8")
    assert main(["--check", "--readme", str(readme), "--data", str(fixture_dir)]) == 1
    assert update_readme(readme, fixture_dir) is True
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("# Title\n\nbefore\n\n") and text.endswith("\n\nafter\n")
    assert EXPECTED in text and "old" not in text
    assert update_readme(readme, fixture_dir) is False
    assert main(["--check", "--readme", str(readme), "--data", str(fixture_dir)]) == 0
    readme.write_text("no markers\n", encoding="utf-8")
    with pytest.raises(InputError):
        update_readme(readme, fixture_dir)
