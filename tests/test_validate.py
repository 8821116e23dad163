"""SHACL validation: the SPARQL-compiled validator and pyshacl agree on the fixture graphs.

tests/fixtures/shapes/: conforming.ttl and user-state.ttl conform; every other file breaks
exactly one rule (named in EXPECTED), which both engines must report, and nothing else.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from processes import bench_module

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
    names = {c.constraint for c in compiled_checks()} | {n for c in compiled_checks() for n, _m in c.parts}
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


# ---------------------------------------------------------------- fast path = reference path

WORLD = "https://w3id.org/secpart/graph/world"
SIDE = "https://w3id.org/secpart/graph/side"
SP = "https://w3id.org/secpart/ontology#"
XSDNS = "http://www.w3.org/2001/XMLSchema#"


def _mutate(lines: list[str], seed: int = 17) -> list[str]:
    """Break a generated world in many ways at once: every kind of shape violation the world can hold."""
    import random

    rng = random.Random(seed)
    forces = [ln.split(" ", 1)[0] for ln in lines if f"<{SP}ofState>" in ln]
    out: list[str] = []
    for ln in lines:
        s, p, o = ln[:-2].split(" ", 2)
        r = rng.random()
        if r < 0.02:
            continue  # a missing value (minCount), a missing type (unresolved participant, class)
        if p == f"<{SP}year>" and r < 0.06:
            out.append(f'{s} {p} "1999"^^<{XSDNS}integer> .')  # maxCount, YearMismatch
        elif p == f"<{SP}year>" and r < 0.09:
            ln = f'{s} {p} "{o[1:5]}" .'  # datatype
        elif p == f"<{SP}url>" and r < 0.05:
            out.append(f'{s} {p} "https://example.org/other"^^<{XSDNS}anyURI> .')
        elif p == f"<{SP}url>" and r < 0.08:
            ln = f"{s} {p} <https://example.org/iri> ."
        elif p in (f"<{SP}startDate>", f"<{SP}endDate>", f"<{SP}signedDate>", f"<{SP}inForceDate>"):
            if r < 0.05:
                ln = f'{s} {p} "2023-02-30"^^<{XSDNS}date> .'
            elif r < 0.10:
                ln = f'{s} {p} "1950-01-01"^^<{XSDNS}date> .'  # before start, year mismatch
            elif r < 0.13:
                ln = f'{s} {p} "{o[1:11]}" .'
            elif r < 0.16 and p == f"<{SP}startDate>":
                out.append(f'{s} <{SP}fiscalYear> "1800"^^<{XSDNS}integer> .')
                out.append(f'{s} <{SP}participantsComplete> "yes" .')
        elif p == f"<{SP}participant>" and r < 0.03:
            ln = f"{s} {p} <https://w3id.org/secpart/id/state/QQQ> ."
        elif p == f"<{SP}participant>" and r < 0.05:
            out.append(f"{s} <{SP}observer> {o} .")
        elif p == f"<{SP}participant>" and r < 0.08:
            out.append(f"{s} <{SP}participantForce> {rng.choice(forces)} .")
        elif p == f"<{SP}source>" and r < 0.04:
            ln = f"{s} {p} <https://w3id.org/secpart/id/source/none> ."
        elif o == f"<{SP}Source>" and r < 0.08:
            ln = f"{s} {p} <urn:x:{'Sub' if r < 0.05 else 'SubSub'}Source> ."  # sh:class through subclasses
        elif p == f"<{SP}iso3>" and r < 0.2:
            ln = f'{s} {p} "{o[1:4].lower()}" .'
        elif p == f"<{SP}lat>" and r < 0.2:
            ln = f'{s} {p} "123.5"^^<{XSDNS}decimal> .'
        elif p == f"<{SP}party>" and r < 0.04:
            out.append(f"{s} <{SP}supersedes> {s} .")
            out.append(f"{s} <{SP}membership> _:m{len(out)} .")
            out.append(f"_:m{len(out) - 1} <{SP}member> <https://w3id.org/secpart/id/state/ZZZ> .")
        out.append(ln)
    return out


@pytest.fixture(scope="module")
def broken_world(tmp_path_factory):
    """A generated world of ~40k triples with thousands of violations of many kinds, in memory."""
    import io

    import pyoxigraph as ox

    from kg.resources import ontology_dir

    buf = io.StringIO()
    bench_module("generate").generate_world(40_000, buf, seed=7)
    lines = _mutate([ln for ln in buf.getvalue().splitlines() if ln])
    rdfs = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
    lines += [f"<urn:x:SubSource> <{rdfs}> <{SP}Source> .", f"<urn:x:SubSubSource> <{rdfs}> <urn:x:SubSource> ."]
    mem = ox.Store()
    mem.load("\n".join(lines) + "\n", format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(WORLD))
    # a second focus graph holding some of the same nodes' types and values
    mem.load("\n".join(lines[::7]) + "\n", format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(SIDE))
    mem.load(path=str(ontology_dir() / "secpart.ttl"), format=ox.RdfFormat.TURTLE,
             to_graph=ox.NamedNode("urn:kg:context"))
    return mem


@pytest.mark.parametrize("focus", [[WORLD], [WORLD, SIDE], None], ids=["one", "two", "none"])
def test_fast_checks_equal_reference_on_many_violations(broken_world, focus):
    from kg.validate import _validate_reference

    ref = _validate_reference(broken_world, focus_graphs=focus, limit=10**7)
    fast = validate_oxigraph(broken_world, focus_graphs=focus, limit=10**7)
    assert fast == ref
    kinds = {v.constraint for v in ref}
    assert len(ref) > 1000 and len(kinds) >= 20, sorted(kinds)


def test_fast_checks_equal_reference_with_default_graphs(broken_world):
    import pyoxigraph as ox

    from kg.validate import _validate_reference

    dataset = [ox.NamedNode(WORLD), ox.NamedNode("urn:kg:context")]
    ref = _validate_reference(broken_world, default_graphs=dataset, limit=10**7)
    assert validate_oxigraph(broken_world, default_graphs=dataset, limit=10**7) == ref
    assert len(ref) > 1000


def test_limit_returns_real_violations(broken_world):
    """As ingest calls it (limit=50): at least 50 found, every one of them real."""
    from kg.validate import _validate_reference

    full = set(_validate_reference(broken_world, focus_graphs=[WORLD], limit=10**7))
    some = validate_oxigraph(broken_world, focus_graphs=[WORLD], limit=50)
    assert len(some) >= 50 and set(some) <= full
    assert some == validate_oxigraph(broken_world, focus_graphs=[WORLD], limit=50)  # deterministic


def _fixture_files():
    bad = Path(__file__).resolve().parent / "fixtures" / "bad"
    return sorted(SHAPES.glob("*.ttl")) + sorted(p for p in bad.iterdir() if p.suffix in (".ttl", ".yaml", ".nt"))


@pytest.mark.parametrize("path", _fixture_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fast_checks_equal_reference_on_fixtures(path):
    """The shape and bad-input fixtures, assembled as ingest does, give the same violations both ways."""
    from kg.errors import InputError
    from kg.ingest import assemble
    from kg.validate import _validate_reference

    try:
        mem, targets, _where, _report = assemble(None, [str(path)])
    except InputError:
        pytest.skip("refused before validation")
    ref = _validate_reference(mem, focus_graphs=sorted(targets), limit=100000)
    assert validate_oxigraph(mem, focus_graphs=sorted(targets), limit=100000) == ref


def test_fast_checks_cover_every_reference_constraint():
    """Merging and rewriting drop no constraint and change no message."""
    from kg.validate import _reference_checks

    def pairs(checks):
        return sorted({(c.target_class, c.constraint, c.message) for c in checks if not c.parts}
                      | {(c.target_class, *p) for c in checks for p in c.parts})

    assert pairs(compiled_checks()) == pairs(_reference_checks())
    assert len(pairs(_reference_checks())) == len(_reference_checks())
