"""Agreement lifecycle fields of the curated compiler: supersedes, in_force_note, members, suspensions."""

from __future__ import annotations

import pytest

from kg.errors import InputError
from kg.ingest.curated import compile_records, load_yaml_text, read_records
from tests.conftest import FIXTURES

G = "https://w3id.org/secpart/graph/test"
ID = "https://w3id.org/secpart/id/"
SP = "https://w3id.org/secpart/ontology#"
LIFECYCLE = FIXTURES / "lifecycle" / "agreements.yaml"


def _triples(quads):
    return {(q.subject.value, q.predicate.value, q.object.value) for q in quads}


def _compile_fixture(**kw):
    return compile_records([(str(LIFECYCLE), read_records(LIFECYCLE))], graph=G, **kw)


def test_supersedes_links_both_ways():
    quads, _ = _compile_fixture()
    t = _triples(quads)
    new, old = ID + "agreement/jpn-usa-acsa-1998", ID + "agreement/jpn-usa-acsa-1996"
    assert (new, SP + "supersedes", old) in t
    assert (old, SP + "supersededBy", new) in t
    assert (old, SP + "supersedes", new) not in t


def test_members_and_suspensions_compile():
    quads, _ = _compile_fixture()
    t = _triples(quads)
    nato = ID + "agreement/nato-fixture-1949"
    spells = {o for s, p, o in t if s == nato and p == SP + "membership"}
    assert spells == {ID + "membership/nato-fixture-1949-DEU", ID + "membership/nato-fixture-1949-GBR",
                      ID + "membership/nato-fixture-1949-GBR-2"}
    assert (ID + "membership/nato-fixture-1949-GBR", SP + "exitDate", "1960-06-30") in t
    assert (ID + "membership/nato-fixture-1949-DEU", SP + "entryDate", "1955-05-06") in t
    rio = ID + "membership/mex-usa-rio-1947-MEX"
    assert (rio, SP + "source", ID + "source/fixture-src") in t
    assert (rio, SP + "note", "fixture withdrawal") in t
    sus = ID + "suspension/aus-nzl-usa-anzus-1951-1"
    assert (ID + "agreement/aus-nzl-usa-anzus-1951", SP + "suspension", sus) in t
    assert {o for s, p, o in t if s == sus and p == SP + "suspendedParty"} == {ID + "state/USA", ID + "state/NZL"}
    assert (sus, SP + "startDate", "1986-09") in t
    assert (ID + "agreement/aus-jpn-jd-2007", SP + "inForceNote", "takes effect on signature") in t


def test_fixture_compiles_with_the_note_required():
    _compile_fixture(require_in_force_note=True)


BASE = """sources:
  - {id: s, title: t, publisher: p}
states:
  - {iso3: JPN, name: Japan}
  - {iso3: USA, name: United States}
  - {iso3: AUS, name: Australia}
agreements:
  - id: jpn-usa-a-2000
    type: LogisticsAgreement
    label: A
    parties: [JPN, USA]
    signed: "2000"
    in_force: "2000"
    status: in-force
    sources: [s]
"""


def _compile(extra: str, **kw):
    doc = load_yaml_text(BASE + extra, "t.yaml")
    doc.pop("__line__", None)
    return compile_records([("t.yaml", doc)], graph=G, **kw)


@pytest.mark.parametrize("record, phrase", [
    ("    supersedes: nowhere-1\n", "supersedes unknown agreement 'nowhere-1'"),
    ("    supersedes: jpn-usa-b-2001\n", "cannot supersede itself"),
    ("    members:\n      - {party: AUS}\n", "member AUS is not in parties"),
    ("    members:\n      - {party: JPN, joined: '2005', left: '2003'}\n", "left 2003 before joining 2005"),
    ("    members:\n      - {party: JPN, since: '2005'}\n", "unknown field(s) since"),
    ("    members: JPN\n", "members must be a list of mappings"),
    ("    suspensions:\n      - {parties: [JPN], from: '2005'}\n", "exactly two different parties"),
    ("    suspensions:\n      - {parties: [JPN, AUS], from: '2005'}\n", "suspended party AUS is not in parties"),
    ("    suspensions:\n      - {parties: [JPN, USA]}\n", "missing field(s) from"),
    ("    suspensions:\n      - {parties: [JPN, USA], from: '2005', until: '2004'}\n", "until 2004 is before"),
    ("    in_force_note: ''\n", "in_force_note is empty"),
])
def test_bad_lifecycle_records(record, phrase):
    rec = ("  - id: jpn-usa-b-2001\n    type: LogisticsAgreement\n    label: B\n    parties: [JPN, USA]\n"
           "    signed: '2001'\n    status: signed\n    in_force_note: not yet\n    sources: [s]\n")
    if "in_force_note" in record:
        rec = rec.replace("    in_force_note: not yet\n", "")
    with pytest.raises(InputError) as e:
        _compile(rec + record)
    assert phrase in str(e.value)
    assert "t.yaml" in str(e.value)


def test_in_force_note_required_for_japan_when_asked():
    rec = ("  - id: jpn-usa-b-2001\n    type: LogisticsAgreement\n    label: B\n    parties: [JPN, USA]\n"
           "    signed: '2001'\n    status: signed\n    sources: [s]\n")
    _compile(rec, require_in_force_note=False)
    with pytest.raises(InputError, match="jpn-usa-b-2001: no in_force date and no in_force_note"):
        _compile(rec, require_in_force_note=True)


def test_supersession_cycle_refused():
    rec = ("  - id: jpn-usa-b-2001\n    type: LogisticsAgreement\n    label: B\n    parties: [JPN, USA]\n"
           "    signed: '2001'\n    status: in-force\n    supersedes: jpn-usa-a-2000\n    sources: [s]\n")
    text = BASE.replace("    status: in-force\n    sources: [s]\n",
                        "    status: in-force\n    supersedes: jpn-usa-b-2001\n    sources: [s]\n", 1) + rec
    doc = load_yaml_text(text, "t.yaml")
    doc.pop("__line__", None)
    with pytest.raises(InputError, match="supersedes chain returns to"):
        compile_records([("t.yaml", doc)], graph=G)


def test_supersedes_an_agreement_already_in_the_store():
    rec = ("  - id: jpn-usa-b-2001\n    type: LogisticsAgreement\n    label: B\n    parties: [JPN, USA]\n"
           "    signed: '2001'\n    status: in-force\n    supersedes: jpn-usa-old-1990\n    sources: [s]\n")
    doc = load_yaml_text(rec.join(["agreements:\n", ""]), "t.yaml")
    doc.pop("__line__", None)
    known = {"states": {"JPN", "USA"}, "sources": {"s"}, "agreements": {"jpn-usa-old-1990"}}
    quads, _ = compile_records([("t.yaml", doc)], graph=G, known=known)
    assert (ID + "agreement/jpn-usa-old-1990", SP + "supersededBy", ID + "agreement/jpn-usa-b-2001") \
        in _triples(quads)


@pytest.mark.parametrize("engine", ["oxigraph", "pyshacl"])
def test_lifecycle_shapes_in_both_engines(engine):
    """The hand-made lifecycle world conforms; bad-shapes.ttl breaks each new shape once."""
    from kg.ingest.check import validate_files

    assert validate_files([str(LIFECYCLE)], engine=engine) == []
    got = {(v.focus.rsplit("/", 1)[-1], v.constraint)
           for v in validate_files([str(FIXTURES / "lifecycle" / "bad-shapes.ttl")], engine=engine)}
    assert got == {("x", "MemberNotParty"), ("x", "SupersedesItself"),
                   ("s", "SuspensionParties-minCount"), ("s", "SuspensionStart-minCount"),
                   ("y", "SupersedesNoAgreement"), ("y", "SuspendedNotParty")}
