"""Curated YAML/CSV compiler (kg.ingest.curated), with property-based tests (hypothesis)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.errors import InputError
from kg.ingest.curated import (
    AGREEMENT_TYPES,
    compile_records,
    date_literal,
    load_yaml_text,
    read_records,
)

G = "https://w3id.org/secpart/graph/test"
ID = "https://w3id.org/secpart/id/"
SP = "https://w3id.org/secpart/ontology#"
KNOWN = {"states": {"JPN", "USA", "AUS"}, "sources": {"src"}, "series": {"malabar"},
         "forces": {"JPN-MSDF", "USA-NAVY"}, "organizations": {"nato"}}


def _compile(text: str, name: str = "t.yaml", known=None):
    doc = load_yaml_text(text, name)
    doc.pop("__line__", None)
    return compile_records([(name, doc)], graph=G, known=KNOWN if known is None else known)


def _triples(quads) -> set[tuple[str, str, str]]:
    return {(q.subject.value, q.predicate.value, q.object.value) for q in quads}


EXERCISE = """exercises:
  - id: malabar-2019
    series: malabar
    label: Malabar 2019
    year: 2019
    start: "2019-09-26"
    end: "2019-10-04"
    participants: [JPN, USA]
    forces: [JPN-MSDF]
    sources: [src]
"""


def test_exercise_compiles_to_the_expected_triples():
    quads, where = _compile(EXERCISE)
    t = _triples(quads)
    ex = ID + "exercise/malabar-2019"
    assert (ex, SP + "year", "2019") in t
    assert (ex, SP + "participant", ID + "state/JPN") in t
    assert (ex, SP + "participantForce", ID + "force/JPN-MSDF") in t
    assert (ex, SP + "startDate", "2019-09-26") in t
    assert (ex, SP + "source", ID + "source/src") in t
    assert where[ex] == ("t.yaml", 2, "malabar-2019")
    assert {q.graph_name.value for q in quads} == {G}


@pytest.mark.parametrize("edit,phrase,line", [
    (("    year: 2019\n", ""), "missing field(s) year", "2"),
    (("[JPN, USA]", "[JPN, QQQ]"), "unknown state code 'QQQ'", "2"),
    (('"2019-10-04"', '"2019-09-01"'), "before start", "2"),
    (('"2019-10-04"', '"2019-02-30"'), "not a valid date", "2"),
    (("[JPN-MSDF]", "[USA-NAVY, AUS-NAVY]"), "unknown force", "2"),
    (("[JPN-MSDF]", "[USA-NAVY]\n    observers: [USA]"), "both participant and observer", "2"),
    (("    sources: [src]\n", "    sources: []\n"), "at least one source", "2"),
    (("series: malabar", "series: rimpac"), "unknown series", "2"),
    (("    label: Malabar 2019\n", "    label: Malabar 2019\n    colour: blue\n"), "unknown field", "2"),
    (("year: 2019", "year: '2019'"), "year must be an integer", "2"),
    (('"2019-09-26"', '"2018-09-26"'), "not in year", "2"),
    (("id: malabar-2019", "id: Malabar_2019"), "lower-case slug", "2"),
])
def test_bad_exercise_records(edit, phrase, line):
    with pytest.raises(InputError) as err:
        _compile(EXERCISE.replace(*edit))
    assert phrase in str(err.value)
    assert err.value.file == "t.yaml" and err.value.where == line


def test_force_of_non_participant_refused():
    text = EXERCISE.replace("[JPN-MSDF]", "[USA-NAVY]").replace("[JPN, USA]", "[JPN]")
    with pytest.raises(InputError) as err:
        _compile(text)
    assert "not a participant" in str(err.value)


AGREEMENT = """agreements:
  - id: aus-jpn-raa-2022
    type: ReciprocalAccessAgreement
    label: Japan-Australia Reciprocal Access Agreement
    parties: [AUS, JPN]
    signed: "2022-01-06"
    in_force: "2023-08-13"
    status: in-force
    sources: [src]
"""


def test_agreement_and_its_errors():
    t = _triples(_compile(AGREEMENT)[0])
    ag = ID + "agreement/aus-jpn-raa-2022"
    assert (ag, "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", SP + "ReciprocalAccessAgreement") in t
    assert (ag, SP + "status", SP + "InForce") in t
    for edit, phrase in [(("[AUS, JPN]", "[JPN]"), "two parties"),
                         (("[AUS, JPN]", "[JPN, JPN]"), "two parties"),
                         (('"2022-01-06"', '"2024-01-06"'), "after entry into force"),
                         (("in-force", "active"), "unknown status"),
                         (("ReciprocalAccessAgreement", "Pact"), "unknown type")]:
        with pytest.raises(InputError) as err:
            _compile(AGREEMENT.replace(*edit))
        assert phrase in str(err.value) and err.value.where == "2"


def test_states_and_sources():
    text = ('sources:\n  - id: s1\n    title: T\n    publisher: P\n    issued: "2020-05"\n'
            '    url: https://example.org/x\nstates:\n  - iso3: ZZZ\n    name: Zedland\n    cow: 999\n'
            '    lat: 35.68\n    lon: 139.69\n    wikidata: Q17\n')
    t = _triples(_compile(text)[0])
    assert (ID + "state/ZZZ", SP + "cowCode", "999") in t
    assert (ID + "source/s1", "http://purl.org/dc/terms/issued", "2020-05") in t
    for edit, phrase in [(("iso3: ZZZ", "iso3: zzz"), "three upper-case"),
                         (("cow: 999", "cow: x"), "cow must be an integer"),
                         (("lat: 35.68", "lat: 135.68"), "lat must be"),
                         (("wikidata: Q17", "wikidata: 17"), "QID"),
                         (("https://example.org/x", "javascript:alert(1)"), "http(s)")]:
        with pytest.raises(InputError) as err:
            _compile(text.replace(*edit))
        assert phrase in str(err.value)


def test_duplicate_ids_across_files():
    doc = load_yaml_text("states:\n  - iso3: ZZZ\n    name: Z\n", "a.yaml")
    doc2 = load_yaml_text("states:\n  - iso3: ZZZ\n    name: Z2\n", "b.yaml")
    with pytest.raises(InputError) as err:
        compile_records([("a.yaml", doc), ("b.yaml", doc2)], graph=G, known={})
    assert err.value.file == "b.yaml" and "a.yaml:2" in str(err.value)


def test_yaml_loader_is_safe_and_strict():
    with pytest.raises(InputError) as err:
        load_yaml_text("a: 1\na: 2\n", "d.yaml")
    assert err.value.where == "2"
    with pytest.raises(InputError):
        load_yaml_text("!!python/object/apply:os.system ['echo hi']\n", "evil.yaml")
    assert load_yaml_text("d: 2019-02-30\n", "x.yaml")["d"] == "2019-02-30"  # no implicit dates
    with pytest.raises(InputError):
        load_yaml_text("- just\n- a list\n", "l.yaml")


@pytest.mark.parametrize("value,dtype", [("2019-09-26", "date"), ("2019-09", "gYearMonth"),
                                         ("2019", "gYear"), (2019, "gYear")])
def test_date_literal_precision(value, dtype):
    lit = date_literal(value, file="f", where="1", field="start")
    assert lit.datatype.value.endswith("#" + dtype) and lit.value == str(value)


@pytest.mark.parametrize("value", ["2023-02-30", "2023-13", "2023-00", "23-01-01", "2023/01/01", "",
                                   "2023-1-1", "today"])
def test_date_literal_refuses(value):
    with pytest.raises(InputError):
        date_literal(value, file="f", where="1", field="start")


def test_csv_records(tmp_path):
    p = tmp_path / "my-states.csv"
    p.write_text("iso3,name,cow,alt\nZZZ,Zedland,999,Zed;Zeddy\n", encoding="utf-8")
    recs = read_records(p)
    assert recs == {"states": [{"__line__": 2, "iso3": "ZZZ", "name": "Zedland", "cow": 999,
                                "alt": ["Zed", "Zeddy"]}]}
    bad = tmp_path / "x-exercises.csv"
    bad.write_text("id,series,label,year,participants,sources\nx-2019,malabar,X,later,JPN,src\n",
                   encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_records(bad)
    assert err.value.where == "2" and "year" in str(err.value)


def test_bundled_data_compiles():
    from kg.resources import data_dir

    files = sorted(data_dir().rglob("*.yaml"))
    parsed = [(str(f), read_records(f)) for f in files]
    quads, where = compile_records(parsed, graph=G, known={})
    assert len(quads) > 1000
    assert ID + "state/JPN" in where


# ---------------------------------------------------------------- property-based

codes = st.sampled_from(sorted(KNOWN["states"]))
dates = st.dates(min_value=__import__("datetime").date(1990, 1, 1),
                 max_value=__import__("datetime").date(2030, 12, 31))


@st.composite
def exercise_records(draw):
    start = draw(dates)
    end = start + __import__("datetime").timedelta(days=draw(st.integers(0, 30)))
    parts = draw(st.lists(codes, min_size=1, max_size=3, unique=True))
    label = draw(st.text(min_size=1, max_size=30).filter(lambda s: s.strip() and "\x00" not in s))
    n = draw(st.integers(1, 999))
    rec = {"id": f"malabar-{start.year}-{n}", "series": "malabar", "label": label,
           "year": start.year, "start": start.isoformat(), "end": end.isoformat(),
           "participants": parts, "sources": ["src"]}
    if draw(st.booleans()):
        rec["note"] = draw(st.text(max_size=40))
    return rec


@settings(max_examples=50, deadline=None)
@given(recs=st.lists(exercise_records(), min_size=1, max_size=4, unique_by=lambda r: r["id"]))
def test_property_valid_records_compile_and_round_trip(recs, tmp_path_factory):
    """Random valid records compile; reading the RDF back gives the same facts."""
    import pyoxigraph as ox

    text = yaml.safe_dump({"exercises": recs}, allow_unicode=True, sort_keys=True)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a label with a lone surrogate is not a YAML file one can write
        return
    quads, where = _compile(text, "p.yaml")
    mem = ox.Store()
    mem.extend(quads)
    # compare with what the YAML file says (YAML itself folds some characters, e.g. NEL)
    for rec in yaml.safe_load(text)["exercises"]:
        ex = ID + "exercise/" + rec["id"]
        assert where[ex][0] == "p.yaml"
        row = {k: v for k, v in ((r["p"].value, r["o"].value) for r in mem.query(
            f"SELECT ?p ?o WHERE {{ GRAPH ?g {{ <{ex}> ?p ?o }} }}")) if k != SP + "participant"}
        assert row[SP + "year"] == str(rec["year"])
        assert row[SP + "startDate"] == rec["start"] and row[SP + "endDate"] == rec["end"]
        assert row["http://www.w3.org/2000/01/rdf-schema#label"] == rec["label"]
        parts = {r["o"].value for r in mem.query(
            f"SELECT ?o WHERE {{ GRAPH ?g {{ <{ex}> <{SP}participant> ?o }} }}")}
        assert parts == {ID + "state/" + c for c in rec["participants"]}


junk_text = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(["exercises:", "states:", "agreements:", "\n", "  - ", "id: x", "year: ",
                              "participants: [", "]", "{", "}", ":", "'", '"', "&a", "*a", "!!str",
                              "\t", "2023-02-30", "- ", "    ", "iso3: JPN", "name:", "null", "~",
                              "sources: [src]", "series: malabar", "label: L", "\x00", "\ud800"]),
             max_size=40).map("".join),
)


@settings(max_examples=50, deadline=None)
@given(text=junk_text)
def test_property_junk_gives_input_error_never_a_traceback(text, tmp_path_factory):
    """Random junk through the whole reader: either records or InputError, nothing else."""
    d = tmp_path_factory.mktemp("junk")
    p = d / "junk.yaml"
    p.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        doc = read_records(p)
        compile_records([(str(p), doc)], graph=G, known=KNOWN)
    except InputError as exc:
        msg = exc.one_line()
        assert "\n" not in msg and msg.startswith(str(p))


@settings(max_examples=50, deadline=None)
@given(text=st.text(max_size=120))
def test_property_junk_csv_gives_input_error(text, tmp_path_factory):
    d = tmp_path_factory.mktemp("junkcsv")
    p = d / "junk-exercises.csv"
    p.write_bytes(("id,series,label,year,participants,sources\n" + text).encode("utf-8",
                                                                              "surrogatepass"))
    try:
        compile_records([(str(p), read_records(p))], graph=G, known=KNOWN)
    except InputError as exc:
        assert "\n" not in exc.one_line()


_ = (AGREEMENT_TYPES, Path)


# ---------------------------------------------------------------- CSV read as RFC 4180 text

SRC_HEADER = "id,title,publisher\n"


def _csv(tmp_path, body: str, name: str = "g-sources.csv") -> Path:
    p = tmp_path / name
    p.write_bytes(body.encode("utf-8"))
    return p


def test_csv_unclosed_quote_refused_naming_file_and_line(store_copy, expect_rejected, tmp_path):
    """``"Pub`` never closed swallowed the next record into s7's publisher; now refused."""
    p = _csv(tmp_path, SRC_HEADER + 's6,T6,P6\ns7,T7,"Pub\ns8,T8,P8\n')
    msg = expect_rejected(store_copy, ["ingest", "--graph", "g", p], str(p), where="3")
    assert "never closed" in msg


@pytest.mark.parametrize("body,line,phrase", [
    (SRC_HEADER + 's7,T7,"Pub\ns8,T8,P8\n', "2", "never closed"),
    (SRC_HEADER + 's1,"a\nb",P\ns2,"T"x,P\n', "4", "after the closing quote"),
    ('"id,title\n', "1", "not a CSV file"),
])
def test_csv_broken_quotes_refused(tmp_path, body, line, phrase):
    with pytest.raises(InputError) as err:
        read_records(_csv(tmp_path, body))
    assert err.value.where == line and phrase in str(err.value)


@pytest.mark.parametrize("value", ["multi\nline", "a\r\nb", "a\rb", "x\u2028y", "p\x85q", "\x1c",
                                   "u\u2029v\x1dw\x1ex\x0by\x0cz", '"quoted", with comma'])
def test_csv_quoted_value_kept_exactly(tmp_path, value):
    """A quoted line break or any other separator str.splitlines knows is part of the value."""
    quoted = '"' + value.replace('"', '""') + '"'
    p = _csv(tmp_path, SRC_HEADER + f"s1,{quoted},P\ns2,T2,{quoted}\n")
    recs = read_records(p)["sources"]
    assert [(r["id"], r["title"], r["publisher"]) for r in recs] == [("s1", value, "P"),
                                                                     ("s2", "T2", value)]
    quads, _ = compile_records([(str(p), {"sources": recs})], graph=G, known={})
    titles = {q.object.value for q in quads if q.predicate.value.endswith("/title")}
    assert value in titles


@pytest.mark.parametrize("sep", ["\x85", "\u2028", "\x1c", "\x0c"])
def test_csv_unquoted_separator_does_not_split_the_row(tmp_path, sep):
    p = _csv(tmp_path, SRC_HEADER + f"s1,T{sep}U,P\n")
    assert read_records(p)["sources"] == [{"__line__": 2, "id": "s1", "title": f"T{sep}U",
                                           "publisher": "P"}]


def test_csv_record_after_multiline_field_has_its_real_line(tmp_path):
    body = SRC_HEADER + 's1,"one\ntwo\r\nthree",P\n\ns2,T,P\ns3,T,\n'
    p = _csv(tmp_path, body)
    with pytest.raises(InputError) as err:
        compile_records([(str(p), read_records(p))], graph=G, known={})
    assert err.value.where == "7" and "s3" in str(err.value) and "publisher" in str(err.value)
    recs = read_records(_csv(tmp_path, body.replace("s3,T,\n", "s3,T,P\n")))["sources"]
    assert [r["__line__"] for r in recs] == [2, 6, 7]
    bad = _csv(tmp_path, "id,series,label,year,participants,sources\n"
                         'x-2019,malabar,"X\nY",2019,JPN,src\ny-2019,malabar,Y,later,JPN,src\n',
               name="x-exercises.csv")
    with pytest.raises(InputError) as err:
        read_records(bad)
    assert err.value.where == "4" and "year" in str(err.value)


def test_csv_byte_order_mark_and_blank_lines(tmp_path):
    p = tmp_path / "b-sources.csv"
    p.write_bytes(b"\xef\xbb\xbf" + (SRC_HEADER + "\ns1,T,P\n,,\n").encode("utf-8"))
    assert read_records(p) == {"sources": [{"__line__": 3, "id": "s1", "title": "T",
                                            "publisher": "P"}]}


def test_csv_multiline_value_stored_through_the_cli(store_copy, cli_runner, tmp_path):
    p = _csv(tmp_path, SRC_HEADER + 'ml-src,"line one\nline two\u2028three",P\n')
    res = cli_runner("ingest", "--graph", "g", p, store=store_copy)
    assert res.exit_code == 0, res.output
    res = cli_runner("query", "sparql", "SELECT ?t WHERE { GRAPH ?g { "
                     f"<{ID}source/ml-src> <http://purl.org/dc/terms/title> ?t }} }}",
                     "--format", "json", store=store_copy)
    assert res.exit_code == 0, res.output
    [row] = json.loads(res.stdout)["results"]["bindings"]
    assert row["t"]["value"] == "line one\nline two\u2028three"


# ---------------------------------------------------------------- YAML: text fields hold text

SRC_YAML = "sources:\n  - id: w-src\n    title: T\n    publisher: P\n"


@pytest.mark.parametrize("value,what", [("[a, b]", "a list"), ("{x: 1}", "a mapping"),
                                        ("!!binary aGVsbG8=", "binary data"),
                                        ("\n      - a\n      - b", "a list"), ("yes", "true/false"),
                                        ("!!set {a}", "a set")])
@pytest.mark.parametrize("field", ["title", "publisher", "note", "locator", "part_of", "url"])
def test_yaml_text_field_refuses_other_values(field, value, what):
    text = SRC_YAML.replace("    title: T\n", "    title: T\n" if field != "title" else "")
    text = text.replace("    publisher: P\n", "    publisher: P\n" if field != "publisher" else "")
    text += f"    {field}: {value}\n"
    with pytest.raises(InputError) as err:
        _compile(text, "w.yaml", known={})
    assert err.value.file == "w.yaml"  # the line of the field, not of the record (2)
    assert err.value.where == ("4" if field in ("title", "publisher") else "5")
    assert f"source w-src: {field} must be text, not {what}" in str(err.value)
    assert "__line__" not in str(err.value)


@pytest.mark.parametrize("text,line,phrase", [
    (EXERCISE + "    location: {city: Guam}\n", "11", "exercise malabar-2019: location must be text"),
    (EXERCISE.replace("label: Malabar 2019", "label: [Malabar, 2019]"), "4",
     "exercise malabar-2019: label must be text, not a list"),
    (EXERCISE.replace('start: "2019-09-26"', "start: [2019, 9]"), "6",
     "start must be a date"),
    (EXERCISE.replace("series: malabar", "series: {id: malabar}"), "3", "series must be text"),
    (AGREEMENT.replace("status: in-force", "status: {a: 1}"), "8", "status must be text"),
    (AGREEMENT + "    in_force_note: [not, yet]\n", "10", "in_force_note must be text"),
    (AGREEMENT + "    members:\n      - party: JPN\n        note: !!binary aGVsbG8=\n", "12",
     "agreement aus-jpn-raa-2022: members entry 1: note must be text, not binary data"),
    ("states:\n  - iso3: ZZZ\n    name: No\n", "3", "state ZZZ: name must be text, not true/false"),
    ("sources:\n  - id: s\n    title:\n    publisher: P\n", "3", "source s: title is empty"),
])
def test_yaml_non_text_refused_across_kinds(text, line, phrase):
    with pytest.raises(InputError) as err:
        _compile(text)
    assert err.value.where == line and phrase in str(err.value), str(err.value)


def test_yaml_text_fields_take_numbers_and_lists_stay_lists():
    text = SRC_YAML.replace("title: T", "title: 2019") + "    note: 1.5\n    issued: 2019\n"
    t = _triples(_compile(text, known={})[0])
    s = ID + "source/w-src"
    assert (s, "http://purl.org/dc/terms/title", "2019") in t
    assert (s, SP + "note", "1.5") in t and (s, "http://purl.org/dc/terms/issued", "2019") in t
    t = _triples(_compile(EXERCISE + "    domain: [sea, air]\n    participants_complete: false\n")[0])
    assert (ID + "exercise/malabar-2019", SP + "domain", SP + "Air") in t
    with pytest.raises(InputError, match="list of codes"):
        _compile(EXERCISE.replace("[JPN, USA]", "[JPN, yes]"))


def test_yaml_unhashable_key_is_an_input_error():
    with pytest.raises(InputError) as err:
        load_yaml_text("states:\n  - ? [a]\n    : 1\n", "k.yaml")
    assert err.value.where == "2" and "key" in str(err.value)


def test_yaml_mapping_in_text_field_refused_by_the_cli(store_copy, expect_rejected, tmp_path):
    p = tmp_path / "w.yaml"
    p.write_text("sources:\n  - id: w-src\n    title: T\n    publisher: {x: 1}\n", encoding="utf-8")
    msg = expect_rejected(store_copy, ["ingest", "--graph", "w", p], str(p), where="4")
    assert msg.endswith(f"{p}:4: source w-src: publisher must be text, not a mapping")


def test_dissolved_is_true_or_false(tmp_path):
    p = _csv(tmp_path, "iso3,name,dissolved\nZZZ,Zedland,false\nZZY,Zyland,TRUE\n", "d-states.csv")
    t = _triples(compile_records([(str(p), read_records(p))], graph=G, known={})[0])
    assert {s for s, pr, _ in t if pr == SP + "dissolved"} == {ID + "state/ZZY"}
    with pytest.raises(InputError, match="dissolved 'no' is not true or false"):
        read_records(_csv(tmp_path, "iso3,name,dissolved\nZZZ,Zedland,no\n", "e-states.csv"))
    with pytest.raises(InputError, match="dissolved must be true or false"):
        _compile('states:\n  - iso3: ZZZ\n    name: Z\n    dissolved: "no"\n', known={})
