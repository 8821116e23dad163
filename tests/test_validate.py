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
    "cow-code-shared.ttl": {(ID + "state/AAA", "CowCodeShared"),
                            (ID + "state/BBB", "CowCodeShared")},
    "exercise-no-year.ttl": {(EX, "ExerciseYear-minCount")},
    "exercise-no-participant.ttl": {(EX, "ExerciseParticipant-minCount")},
    "end-before-start.ttl": {(EX, "EndBeforeStart")},
    "signed-after-in-force.ttl": {(AG, "SignedAfterInForce")},
    "agreement-one-party.ttl": {(AG, "AgreementParties-minCount")},
    "force-not-participant.ttl": {(EX, "ForceNotParticipant")},
    "exercise-no-source.ttl": {(EX, "ExerciseSource-minCount")},
    "malformed-date.ttl": {(EX, "MalformedExerciseDate")},
    "date-year-out-of-range.ttl": {(EX, "MalformedExerciseDate"), (EX, "YearMismatch"),
                                   (AG, "MalformedAgreementDate")},
    "membership.ttl": {(ID + "membership/m1", "MembershipMember-maxCount"),
                       (ID + "membership/m2", "ExitBeforeEntry"),
                       (ID + "membership/m3", "MalformedMembershipDate"),
                       (ID + "membership/m3", "MembershipStartYear-minInclusive"),
                       (ID + "membership/s1", "MembershipMember-minCount")},
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
        elif p == f"<{SP}year>" and r < 0.10:
            ln = f'{s} {p} "{int(o[1:5]) + 1000}"^^<{XSDNS}integer> .'  # maxInclusive
        elif p == f"<{SP}year>" and r < 0.11:
            ln = f'{s} {p} "{o[1:5]}.0"^^<{XSDNS}integer> .'  # ill-typed: datatype, both bounds
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


# ---------------------------------------------------------------- ill-typed literals (SHACL 4.1.2)
#
# sh:datatype accepts a literal of the datatype only if its lexical form is well formed
# for it: "abc"^^xsd:integer breaks sh:datatype xsd:integer. Both engines must say so,
# through kg validate and through kg ingest of a small Turtle file.

AUDIT = """@prefix sp: <https://w3id.org/secpart/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix id: <https://w3id.org/secpart/id/> .

id:source\\/audit-src a sp:Source ; dcterms:title "Audit source" ; dcterms:publisher "Audit publisher" .
id:state\\/AAA a sp:State ; sp:iso3 "AAA" ; rdfs:label "Aland"@en {state} .
id:state\\/BBB a sp:State ; sp:iso3 "BBB" ; rdfs:label "Bland"@en .
id:exercise\\/audit-2023 a sp:Exercise ;
    rdfs:label "Audit 2023"@en ;
    {exercise} ;
    sp:participant id:state\\/AAA, id:state\\/BBB ;
    sp:source id:source\\/audit-src .
{extra}
"""
AUDIT_EX = ID + "exercise/audit-2023"
AUDIT_AAA = ID + "state/AAA"
AUDIT_LINE = "8"  # the line of the exercise's subject: where ingest's message points


def _audit(tmp_path, exercise: str = "sp:year 2023", state: str = "", extra: str = "",
           name: str = "audit.ttl") -> Path:
    path = tmp_path / name
    path.write_text(AUDIT.format(exercise=exercise, state=state, extra=extra), encoding="utf-8")
    return path


#: a year that is not a literal of a number breaks its datatype and cannot be compared
#: with the bounds (1800, 2100) either: SHACL counts both comparisons as failed
YEAR_UNREADABLE = {(AUDIT_EX, "ExerciseYear-datatype"), (AUDIT_EX, "ExerciseYear-minInclusive"),
                   (AUDIT_EX, "ExerciseYear-maxInclusive")}

ILL_TYPED = [
    # (exercise's properties, state's, the violations both engines report)
    ("sp:year 2023", "", set()),
    ('sp:year "+02023"^^xsd:integer', "", set()),  # well formed (the engine stores 2023)
    ('sp:year "abc"^^xsd:integer', "", YEAR_UNREADABLE),
    ('sp:year "2023.0"^^xsd:integer', "", YEAR_UNREADABLE),
    ('sp:year " 2023"^^xsd:integer', "", YEAR_UNREADABLE),  # int() takes it
    ('sp:year "2_023"^^xsd:integer', "", YEAR_UNREADABLE),  # so does this
    ('sp:year "2023"^^xsd:decimal', "", {(AUDIT_EX, "ExerciseYear-datatype")}),
    ('sp:year "2023"', "", YEAR_UNREADABLE),
    ('sp:year 2023 ; sp:participantsComplete "yes"^^xsd:boolean', "",
     {(AUDIT_EX, "ExerciseParticipantsComplete-datatype")}),
    ('sp:year 2023 ; sp:participantsComplete "TRUE"^^xsd:boolean', "",
     {(AUDIT_EX, "ExerciseParticipantsComplete-datatype")}),
    ('sp:year 2023 ; sp:participantsComplete "1"^^xsd:boolean', "", set()),
    ("sp:year 2023", '; sp:cowCode "7.5"^^xsd:integer', {(AUDIT_AAA, "StateCow-datatype")}),
    ("sp:year 2023", '; sp:cowCode "1e3"^^xsd:integer', {(AUDIT_AAA, "StateCow-datatype")}),
    # well formed, though longer than the engine's native integers
    ("sp:year 2023", '; sp:cowCode "99999999999999999999999"^^xsd:integer', set()),
    # decimals and dates, checked by the shapes' SPARQL constraints with casts
    ("sp:year 2023", '; sp:lat "abc"^^xsd:decimal', {(AUDIT_AAA, "CoordinateOutOfRange")}),
    ("sp:year 2023", '; sp:lat "1e1"^^xsd:decimal', {(AUDIT_AAA, "CoordinateOutOfRange")}),
    ("sp:year 2023", '; sp:lat "35.5"^^xsd:decimal', set()),
    ('sp:year 2023 ; sp:startDate "2023-02-30"^^xsd:date', "", {(AUDIT_EX, "MalformedExerciseDate")}),
    ('sp:year 2023 ; sp:startDate "2023-2-01"^^xsd:date', "", {(AUDIT_EX, "MalformedExerciseDate")}),
    ('sp:year 2023 ; sp:startDate "2023-02-01 "^^xsd:date', "", {(AUDIT_EX, "MalformedExerciseDate")}),
    ('sp:year 2023 ; sp:startDate "2023-13"^^xsd:gYearMonth', "", {(AUDIT_EX, "MalformedExerciseDate")}),
    ('sp:year 2023 ; sp:startDate "2023-02-01"^^xsd:date', "", set()),
]


@pytest.mark.parametrize("exercise, state, expected", ILL_TYPED,
                         ids=[f"{e}{s}" for e, s, _x in ILL_TYPED])
def test_engines_agree_on_ill_typed_literals(tmp_path, exercise, state, expected):
    path = str(_audit(tmp_path, exercise, state))
    ox = {(v.focus, v.constraint) for v in validate_files([path], engine="oxigraph")}
    py = {(v.focus, v.constraint) for v in validate_files([path], engine="pyshacl")}
    assert ox == py == expected


def test_the_audited_file_is_refused_by_kg_validate(tmp_path, cli_runner):
    """The audit's file: a new exercise with sp:year "abc"^^xsd:integer (and no dates)."""
    path = _audit(tmp_path, 'sp:year "abc"^^xsd:integer')
    for engine in ("oxigraph", "pyshacl"):
        res = cli_runner("validate", "--engine", engine, path)
        assert res.exit_code == 1, (engine, res.output)
        assert "ExerciseYear-datatype" in res.stdout
        assert "Traceback" not in res.output and "Failed to convert" not in res.output


@pytest.mark.parametrize("exercise, state, constraint", [
    ('sp:year "abc"^^xsd:integer', "", "ExerciseYear-datatype"),
    ('sp:year " 2023"^^xsd:integer', "", "ExerciseYear-datatype"),
    ('sp:year 2023 ; sp:participantsComplete "yes"^^xsd:boolean', "", "ExerciseParticipantsComplete-datatype"),
    ("sp:year 2023", '; sp:cowCode "7.5"^^xsd:integer', "StateCow-datatype"),
    ("sp:year 2023", '; sp:lat "abc"^^xsd:decimal', "CoordinateOutOfRange"),
    ('sp:year 2023 ; sp:startDate "2023-02-01 "^^xsd:date', "", "MalformedExerciseDate"),
], ids=["integer", "integer-space", "boolean", "cowcode", "decimal", "date"])
def test_ingest_refuses_ill_typed_literals(tmp_path, store_copy, expect_rejected, exercise, state,
                                           constraint):
    """Exit 2, one line naming the file, the store unchanged."""
    path = _audit(tmp_path, exercise, state)
    msg = expect_rejected(store_copy, ["ingest", path], str(path), where=r"\d+")
    assert constraint in msg


def test_ingest_takes_the_well_formed_file(tmp_path, store_copy, cli_runner):
    """The control: the same file with well-formed values is ingested."""
    path = _audit(tmp_path, 'sp:year 2023 ; sp:participantsComplete true ; sp:startDate "2023-02-01"^^xsd:date',
                  '; sp:cowCode "99999999999999999999999"^^xsd:integer ; sp:lat 35.5')
    res = cli_runner("ingest", path, store=store_copy)
    assert res.exit_code == 0, res.output


LEXICAL_FORMS = {
    "integer": ["12", "+012", "-0", "abc", " 12", "12 ", "1_000", "1.5", "1e3", "", "99999999999999999999999",
                "\u0661\u0662"],
    "decimal": ["1.5", ".5", "5.", "-0.0", "1e3", "NaN", "abc", " 1.5", "1_0.5", "123456789012345678901234.5"],
    "double": ["1e3", "1.5E-2", "INF", "-INF", "NaN", "abc", "1e", " 1.0", "1_0", "infinity"],
    "float": ["1e3", "INF", "abc", "1.5f"],
    "boolean": ["true", "false", "1", "0", "TRUE", "yes", " true", ""],
    "date": ["2023-02-28", "2024-02-29", "2023-02-29", "2023-02-30", "2023-1-01", "2023-01-01Z",
             "2023-01-01+14:00", "2023-01-01+14:30", "2023-01-01 ", "20230101", "1900-02-29",
             "01234-01-01", "\u0662\u0660\u0662\u0663-01-01", "2023-01-01T00:00"],
    "gYearMonth": ["2023-01", "2023-13", "2023-00", "2023-1", "2023-12Z", "2023-12-01"],
    "gYear": ["2023", "23", "999", "01234", "2023Z", "2023+14:30", " 2023", "+2023"],
}


def test_well_formedness_is_the_same_in_the_engine_and_in_python():
    """The SPARQL test (kg's compiled checks) and the Python one (pyshacl's side) agree on
    each form, as the engine stores it; and rdflib, as validate_pyshacl runs it, calls
    ill-typed exactly the forms that are not well formed."""
    import pyoxigraph as ox
    import rdflib

    from kg.namespaces import XSD
    from kg.validate import _LEXICAL_RE, _strict_rdflib_literals, _well_formed, _well_formed_python

    assert set(LEXICAL_FORMS) == {dt.rsplit("#", 1)[1] for dt in _LEXICAL_RE}
    for name, forms in LEXICAL_FORMS.items():
        dt = XSD + name
        store = ox.Store()
        for i, form in enumerate(forms):
            store.add(ox.Quad(ox.NamedNode(f"urn:x:{i}"), ox.NamedNode("urn:x:p"),
                              ox.Literal(form, datatype=ox.NamedNode(dt))))
        rows = store.query(f"SELECT ?value (COALESCE({_well_formed(dt)}, false) AS ?ok) "
                           "WHERE { ?s <urn:x:p> ?value }")
        engine = {r["value"].value: r["ok"].value == "true" for r in rows}
        python = {form: _well_formed_python(dt, form) for form in engine}
        assert engine == python, name
        with _strict_rdflib_literals():
            ill = {form: bool(rdflib.Literal(form, datatype=rdflib.URIRef(dt)).ill_typed) for form in engine}
        assert ill == {form: not ok for form, ok in engine.items()}, name
    # and some verdicts spelled out
    assert not _well_formed_python(XSD + "integer", " 12") and _well_formed_python(XSD + "integer", "-0")
    assert not _well_formed_python(XSD + "date", "2023-02-29") and _well_formed_python(XSD + "gYear", "2023Z")
    # rdflib is left as it was
    assert rdflib.Literal(" 12", datatype=rdflib.XSD.integer).value == 12


def test_a_datatype_without_a_test_is_refused():
    """A shape with an XSD datatype the compiler cannot check for well-formedness fails
    loudly rather than letting ill-typed values through."""
    from kg.namespaces import XSD
    from kg.validate import _well_formed

    assert _well_formed(XSD + "string") is None and _well_formed(XSD + "anyURI") is None
    assert _well_formed("urn:x:custom") is None
    with pytest.raises(ValueError, match="dateTime"):
        _well_formed(XSD + "dateTime")


# ---------------------------------------------------------------- years from 1800 to 2100
#
# "Years outside 1800-2100 are bad input" (README): the loaders of YAML, MME, ATOP and
# COW refuse them, and so do the shapes for RDF (sh:minInclusive / sh:maxInclusive).

SPELL = ID + "agreement/audit-spell"
DATASET = ID + "dataset/audit"
SPELL_TTL = ('id:agreement\\/audit-spell a sp:AllianceSpell ; rdfs:label "Audit spell"@en ; '
             "sp:party id:state\\/AAA, id:state\\/BBB ; sp:source id:source\\/audit-src ; "
             "sp:startYear {start} ; sp:endYear {end} .")
DATASET_TTL = "id:dataset\\/audit a sp:Dataset ; sp:coverageStart {start} ; sp:coverageEnd {end} ."

YEARS = [
    # (exercise's properties, extra Turtle, the violations both engines report)
    ("sp:year 1800", "", set()),
    ("sp:year 2100", "", set()),
    ("sp:year 3000", "", {(AUDIT_EX, "ExerciseYear-maxInclusive")}),
    ("sp:year 2101", "", {(AUDIT_EX, "ExerciseYear-maxInclusive")}),
    ("sp:year 1799", "", {(AUDIT_EX, "ExerciseYear-minInclusive")}),
    ("sp:year -2023", "", {(AUDIT_EX, "ExerciseYear-minInclusive")}),
    # well formed, beyond the engine's native integers: compared all the same
    ('sp:year "99999999999999999999999"^^xsd:integer', "", {(AUDIT_EX, "ExerciseYear-maxInclusive")}),
    ('sp:year "-99999999999999999999999"^^xsd:integer', "", {(AUDIT_EX, "ExerciseYear-minInclusive")}),
    # a number of another type: in range, only its datatype is wrong
    ("sp:year 2000.5", "", {(AUDIT_EX, "ExerciseYear-datatype")}),
    ('sp:year "2e3"^^xsd:double', "", {(AUDIT_EX, "ExerciseYear-datatype")}),
    ('sp:year "2023"^^xsd:gYear', "", YEAR_UNREADABLE),
    ("sp:year 2023 ; sp:fiscalYear 3000", "", {(AUDIT_EX, "ExerciseFiscalYear-maxInclusive")}),
    ("sp:year 2023 ; sp:fiscalYear 2022", "", set()),
    ("sp:year 2023", SPELL_TTL.format(start=1990, end=2005), set()),
    ("sp:year 2023", SPELL_TTL.format(start=1990, end=3000), {(SPELL, "AgreementEndYear-maxInclusive")}),
    ("sp:year 2023", SPELL_TTL.format(start=1066, end=2000), {(SPELL, "AgreementStartYear-minInclusive")}),
    ("sp:year 2023", SPELL_TTL.format(start='"1990"', end=2000), {
        (SPELL, "AgreementStartYear-datatype"), (SPELL, "AgreementStartYear-minInclusive"),
        (SPELL, "AgreementStartYear-maxInclusive")}),
    ("sp:year 2023", DATASET_TTL.format(start=1816, end=2012), set()),
    ("sp:year 2023", DATASET_TTL.format(start=1700, end=2012), {(DATASET, "DatasetCoverageStart-minInclusive")}),
]


@pytest.mark.parametrize("exercise, extra, expected", YEARS, ids=[f"{e} {x[:60]}" for e, x, _v in YEARS])
def test_engines_agree_on_years_out_of_range(tmp_path, exercise, extra, expected):
    path = str(_audit(tmp_path, exercise, extra=extra))
    ox = {(v.focus, v.constraint) for v in validate_files([path], engine="oxigraph")}
    py = {(v.focus, v.constraint) for v in validate_files([path], engine="pyshacl")}
    assert ox == py == expected


@pytest.mark.parametrize("value", ["true", '"NaN"^^xsd:double', '"2023-01-01"^^xsd:date'])
def test_engines_agree_on_incomparable_years_but_for_pyshacls_max(tmp_path, value):
    """A year that is a boolean, NaN or a date breaks the datatype and cannot be compared
    with 1800 nor 2100 (SHACL: a comparison that is not true is a violation, so both
    bounds are broken), but pyshacl orders such values below any number and reports only
    the lower bound. The verdict and the datatype violation are the same."""
    path = str(_audit(tmp_path, f"sp:year {value}"))
    ox = {(v.focus, v.constraint) for v in validate_files([path], engine="oxigraph")}
    py = {(v.focus, v.constraint) for v in validate_files([path], engine="pyshacl")}
    assert ox == YEAR_UNREADABLE
    assert py == YEAR_UNREADABLE - {(AUDIT_EX, "ExerciseYear-maxInclusive")}


@pytest.mark.parametrize("exercise, extra, constraint", [
    ("sp:year 3000", "", "ExerciseYear-maxInclusive"),
    ("sp:year 1799", "", "ExerciseYear-minInclusive"),
    ("sp:year 2023 ; sp:fiscalYear 3000", "", "ExerciseFiscalYear-maxInclusive"),
    ("sp:year 2023", SPELL_TTL.format(start=1990, end=3000), "AgreementEndYear-maxInclusive"),
    ("sp:year 2023", DATASET_TTL.format(start=1700, end=2012), "DatasetCoverageStart-minInclusive"),
], ids=["year-3000", "year-1799", "fiscal-year", "spell-end", "coverage-start"])
def test_ingest_refuses_years_out_of_range(tmp_path, store_copy, expect_rejected, exercise, extra, constraint):
    """Exit 2, one line naming the file, the store unchanged."""
    path = _audit(tmp_path, exercise, extra=extra)
    msg = expect_rejected(store_copy, ["ingest", path], str(path), where=r"\d+")
    assert constraint in msg and "1800 to 2100" in msg


def test_ingest_takes_the_bounds(tmp_path, store_copy, cli_runner):
    path = _audit(tmp_path, "sp:year 2100 ; sp:fiscalYear 2100", extra=SPELL_TTL.format(start=1800, end=2100))
    res = cli_runner("ingest", path, store=store_copy)
    assert res.exit_code == 0, res.output


COUNT_TTL = ('id:official-count\\/audit a sp:OfficialCount ; sp:countedState id:state\\/AAA ; '
             'sp:countCategory "us" ; sp:fiscalYear 2022 ; '
             'sp:count {count} ; sp:countingRule "audit rule" ; sp:source id:source\\/audit-src .')
COUNT = ID + "official-count/audit"


@pytest.mark.parametrize("count, expected", [
    ("0", set()), ("108", set()),
    ("-1", {(COUNT, "CountValue-minInclusive")}),
    ('"many"^^xsd:integer', {(COUNT, "CountValue-datatype"), (COUNT, "CountValue-minInclusive")}),
])
def test_official_count_is_not_negative(tmp_path, count, expected):
    """What the YAML loader refuses (a negative count) the shapes refuse in RDF, as their message says."""
    path = str(_audit(tmp_path, extra=COUNT_TTL.format(count=count)))
    ox = {(v.focus, v.constraint) for v in validate_files([path], engine="oxigraph")}
    py = {(v.focus, v.constraint) for v in validate_files([path], engine="pyshacl")}
    assert ox == py == expected


@pytest.mark.parametrize("state, expected", [
    ("sp:countedState id:state\\/AAA ;", set()),
    ("", {(COUNT, "CountState-minCount")}),
    ("sp:countedState id:source\\/audit-src ;", {(COUNT, "CountState-class")}),
    ("sp:countedState id:state\\/AAA, id:state\\/BBB ;", {(COUNT, "CountState-maxCount")}),
])
def test_official_count_names_the_one_state_it_counts(tmp_path, state, expected):
    """kg coverage sets a state's records only against the counts of that state."""
    extra = COUNT_TTL.format(count=1).replace("sp:countedState id:state\\/AAA ;", state)
    path = str(_audit(tmp_path, extra=extra))
    ox = {(v.focus, v.constraint) for v in validate_files([path], engine="oxigraph")}
    py = {(v.focus, v.constraint) for v in validate_files([path], engine="pyshacl")}
    assert ox == py == expected


@pytest.mark.parametrize("kind", ["yaml", "ttl", "ttl-streamed"])
def test_ingest_refuses_a_new_state_with_a_stored_states_cow_code(tmp_path, store_copy,
                                                                  expect_rejected, monkeypatch,
                                                                  kind):
    """A second state with Japan's COW code (740) made two rows of one (ccode1, ccode2, year)
    key in the dyad-year panel; it was taken without a word."""
    if kind == "yaml":
        path = tmp_path / "dup.yaml"
        path.write_text('states:\n  - iso3: QQB\n    name: "Fake Japan"\n    cow: 740\n',
                        encoding="utf-8")
    else:
        path = tmp_path / "dup.ttl"
        path.write_text(f'<{ID}state/QQB> a <https://w3id.org/secpart/ontology#State> ; '
                        '<https://w3id.org/secpart/ontology#iso3> "QQB" ; '
                        '<http://www.w3.org/2000/01/rdf-schema#label> "Fake Japan"@en ; '
                        '<https://w3id.org/secpart/ontology#cowCode> 740 .\n', encoding="utf-8")
    if kind == "ttl-streamed":
        monkeypatch.setenv("KG_STREAM_BYTES", "1")
    msg = expect_rejected(store_copy, ["ingest", "--graph", "mine", str(path)], str(path),
                          where=r"\d+" if kind == "yaml" else None)
    assert "CowCodeShared" in msg and "740" in msg


def test_a_violation_reaches_the_terminal_escaped(tmp_path, cli_runner):
    """A value from the file in the report is shown, not obeyed: its colour escape and bidi
    override come out as \\x1b and \\u202e (an outsider's probe saw them printed raw)."""
    path = _audit(tmp_path, 'sp:year 2023 ; sp:startDate "2023-0\\u001b[41mX\\u202e"')
    res = cli_runner("validate", path)
    assert res.exit_code == 1, res.output
    assert "\\x1b[41mX\\u202e" in res.stdout
    assert "\x1b" not in res.stdout and "\u202e" not in res.stdout


def test_the_ingest_error_line_shows_control_characters_not_obeys_them(tmp_path, cli_runner,
                                                                       store_copy):
    """The one-line error quotes the bad value; a screen-clear escape in it is shown as text,
    and the store is unchanged."""
    path = _audit(tmp_path, 'sp:year 2023 ; sp:startDate "2023-0\\u001b[2J1"')
    before = cli_runner("info", store=store_copy).stdout
    res = cli_runner("ingest", path, store=store_copy)
    assert res.exit_code == 2, res.output
    assert len(res.stderr.splitlines()) == 1
    assert "\\x1b[2J" in res.stderr and "\x1b" not in res.stderr
    assert cli_runner("info", store=store_copy).stdout == before
