"""SHACL validation: the SPARQL-compiled validator and pyshacl agree on the fixture graphs.

tests/fixtures/shapes/: conforming.ttl and user-state.ttl conform; every other file breaks
exactly one rule (named in EXPECTED), which both engines must report, and nothing else.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.ingest.check import validate_files
from kg.validate import compiled_checks, validate_oxigraph, validate_store

SHAPES = Path(__file__).resolve().parent / "fixtures" / "shapes"
ID = "https://w3id.org/secpart/id/"
EX = ID + "exercise/fixture-2023"
AG = ID + "agreement/aaa-bbb-raa-2022"

EXPECTED = {
    "conforming.ttl": set(),
    "user-state.ttl": set(),
    "iso3-pattern.ttl": {(ID + "state/BBB", "StateIso3-pattern")},
    "exercise-no-year.ttl": {(EX, "ExerciseYear-minCount")},
    "exercise-no-participant.ttl": {(EX, "ExerciseParticipant-minCount")},
    "end-before-start.ttl": {(EX, "EndBeforeStart")},
    "signed-after-in-force.ttl": {(AG, "SignedAfterInForce")},
    "agreement-one-party.ttl": {(AG, "AgreementParties-minCount")},
    "force-not-participant.ttl": {(EX, "ForceNotParticipant")},
    "exercise-no-source.ttl": {(EX, "ExerciseSource-minCount")},
    "malformed-date.ttl": {(EX, "MalformedExerciseDate")},
}


def test_every_fixture_is_listed():
    assert {p.name for p in SHAPES.glob("*.ttl")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_oxigraph_and_pyshacl_agree(name):
    path = str(SHAPES / name)
    ox = {(v.focus, v.constraint) for v in validate_files([path], engine="oxigraph")}
    py = {(v.focus, v.constraint) for v in validate_files([path], engine="pyshacl")}
    assert ox == py
    assert ox == EXPECTED[name]


def test_messages_carry_the_value():
    vs = validate_files([str(SHAPES / "malformed-date.ttl")])
    assert "2023-02-30" in vs[0].message and vs[0].value == "2023-02-30"


def test_user_state_needs_only_iso3_and_label():
    """CCC has no cowCode, region or sameAs and conforms; without its label it does not."""
    text = (SHAPES / "user-state.ttl").read_text(encoding="utf-8")
    assert "state/CCC" in text
    import pyoxigraph as ox

    mem = ox.Store()
    mem.load(text.replace('; rdfs:label "Cland" ', ""), format=ox.RdfFormat.TURTLE,
             to_graph=ox.NamedNode("https://w3id.org/secpart/graph/user"))
    from kg.resources import ontology_dir

    mem.load(path=str(ontology_dir() / "secpart.ttl"), format=ox.RdfFormat.TURTLE,
             to_graph=ox.NamedNode("urn:kg:context"))
    vs = validate_oxigraph(mem, focus_graphs=["https://w3id.org/secpart/graph/user"])
    assert {(v.focus, v.constraint) for v in vs} == {(ID + "state/CCC", "StateLabel-minCount")}


def test_compiled_checks_cover_the_rules():
    names = {c.constraint for c in compiled_checks()}
    for rule in ("StateIso3-pattern", "ExerciseYear-minCount", "ExerciseParticipant-minCount",
                 "EndBeforeStart", "SignedAfterInForce", "AgreementParties-minCount",
                 "ForceNotParticipant", "ExerciseSource-minCount", "MalformedExerciseDate"):
        assert rule in names


def test_bundled_data_conforms(built_store):
    from kg.store import open_store

    with open_store(built_store) as store:
        assert validate_store(store) == []


def test_pyshacl_date_casts():
    """rdflib lacks the xsd:date/gYearMonth/gYear casts; validate.py registers them."""
    from kg.validate import _valid_xsd_date

    assert _valid_xsd_date("2024-02-29") and not _valid_xsd_date("2023-02-29")
    assert not _valid_xsd_date("2023-02-30") and not _valid_xsd_date("2023-13-01")
    assert _valid_xsd_date("2000-02-29") and not _valid_xsd_date("1900-02-29")
