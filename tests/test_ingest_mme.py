"""MME importer: every expectation is computed from the CSV itself (csv module).

Needs ../shared/data/mme_v7.csv (skips when absent), except the bad-row tests,
which use small hand-written files.
"""

from __future__ import annotations

import csv
import shutil
import time
from collections import Counter
from pathlib import Path

import pytest

from kg.namespaces import ID, SP, graph_iri, state_iri

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MME = DATA / "mme_v7.csv"
needs_mme = pytest.mark.skipif(not MME.exists(), reason=f"shared dataset absent: {MME}")
PFX = (f"PREFIX sp: <{SP}>\nPREFIX owl: <http://www.w3.org/2002/07/owl#>\n"
       "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n")
MME_G = graph_iri("mme")


def _rows():
    with open(MME, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _names(row) -> list[str]:
    return [v.strip() for k, v in row.items() if k.startswith("State") and v and v.strip()]


def _iri(name: str) -> str:
    from kg.ingest.names import resolve_name

    kind, code = resolve_name(name)
    return state_iri(code) if kind == "state" else f"{ID}org/{code}"


@pytest.fixture(scope="module")
def mme_store(built_store, tmp_path_factory):
    """A built store with mme_v7.csv ingested; yields (store path, report, seconds)."""
    if not MME.exists():
        pytest.skip(f"shared dataset absent: {MME}")
    from kg.ingest import ingest
    from kg.store import open_store

    dest = tmp_path_factory.mktemp("mme") / "store"
    shutil.copytree(built_store, dest, ignore=shutil.ignore_patterns("kg.lock"))
    with open_store(dest, write=True) as store:
        t0 = time.perf_counter()
        report = ingest(store, [MME], fmt="mme")
        secs = time.perf_counter() - t0
    return dest, report, secs


def _select(path, text, graphs=None):
    from kg.store import open_store

    with open_store(path) as store:
        return [[t.value if t is not None else None for t in r]
                for r in store.select(PFX + text, graphs=graphs).rows]


@needs_mme
def test_names_table_covers_every_name_in_the_file():
    from kg.ingest.names import resolve_name

    names = {n for r in _rows() for n in _names(r) if n != "-9"}
    assert names and [n for n in names if resolve_name(n) is None] == []
    # hand-checked historical and odd names
    assert resolve_name("Federal Republic of Germany") == ("state", "XWG")
    assert resolve_name("German Democratic Republic") == ("state", "DDR")
    assert resolve_name("Congo - Kinshasa") == ("state", "COD")
    assert resolve_name("São Tomé & Príncipe") == ("state", "STP")
    assert resolve_name("st. christopher") == ("state", "KNA")
    assert resolve_name("New Caledonia") == ("org", "new-caledonia")
    assert resolve_name("NATO") == ("org", "nato")
    assert resolve_name("-9") is None and resolve_name("Freedonia") is None


def test_names_table_codes_exist_in_curated_lists():
    from kg.ingest.names import MME_NAMES, org_ids, state_names

    states, orgs = state_names(), org_ids()
    for name, code in MME_NAMES.items():
        if code.startswith("org:"):
            assert code[4:] in orgs, name
        else:
            assert code in states, name


def test_unknown_text_is_left_out_not_shown_as_minus_9(mme_store):
    """MME writes -9 for a name or location it does not know (1,033 exercise names in v7):
    they were stored as the label "-9", shown as the exercise's name in query results and
    map tooltips."""
    rows = _rows()
    [[n]] = _select(mme_store[0], 'SELECT (COUNT(*) AS ?n) WHERE { { ?e rdfs:label "-9" } UNION '
                    '{ ?e sp:location "-9" } UNION { ?e sp:focus "-9" } }', graphs=["mme"])
    assert int(n) == 0
    unnamed = {r["MMEID"] for r in rows if r["Ex_Name"].strip() == "-9"}
    assert len(unnamed) > 1000
    got = _select(mme_store[0], "SELECT ?id ?l WHERE { ?e a sp:Exercise ; sp:datasetId ?id ; "
                  'rdfs:label ?l FILTER(STRSTARTS(?l, "MME exercise ")) }', graphs=["mme"])
    assert {i for i, _ in got} == unnamed and all(lab == f"MME exercise {i}" for i, lab in got)
    [[n]] = _select(mme_store[0], "SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e sp:location ?l }",
                    graphs=["mme"])
    assert int(n) == sum(r["Location"].strip() not in ("", "-9") for r in rows)


def test_one_exercise_per_row(mme_store):
    rows = _rows()
    [[n]] = _select(mme_store[0], "SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e a sp:Exercise }",
                    graphs=["mme"])
    assert int(n) == len(rows)
    # the repeated MMEIDs: each row is its own exercise, and a warning names file and line
    dup = [k for k, c in Counter(r["MMEID"] for r in rows).items() if c > 1]
    assert dup, "v7 repeats some MMEIDs; the test expects to see that"
    for mid in dup:
        got = _select(mme_store[0], f'SELECT ?e WHERE {{ ?e sp:datasetId "{mid}" }}', graphs=["mme"])
        assert len(got) == sum(r["MMEID"] == mid for r in rows)
        assert any(f"{MME}:" in w and mid in w and "used again" in w for w in mme_store[1].warnings)


def test_japan_exercise_count(mme_store):
    expected = sum("Japan" in _names(r) for r in _rows())
    [[n]] = _select(mme_store[0], f"SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE {{ ?e a sp:Exercise ; "
                    f"sp:participant <{state_iri('JPN')}> }}", graphs=["mme"])
    assert expected > 0 and int(n) == expected


def test_japan_coparticipation_counts_match_the_csv(mme_store):
    expected: Counter = Counter()
    unknown = 0
    for r in _rows():
        names = _names(r)
        if "Japan" not in names:
            continue
        unknown += names.count("-9")
        expected.update({_iri(n) for n in names if n not in ("Japan", "-9")})
    got = _select(mme_store[0], f"SELECT ?p (COUNT(DISTINCT ?e) AS ?n) WHERE {{ ?e a sp:Exercise ; "
                  f"sp:participant <{state_iri('JPN')}>, ?p . FILTER(?p != <{state_iri('JPN')}>) "
                  f"FILTER NOT EXISTS {{ ?p a sp:UnknownParticipant }} }} GROUP BY ?p", graphs=["mme"])
    assert {p: int(n) for p, n in got} == dict(expected)
    # -9 next to Japan: one unknown participant per slot, none dropped
    [[u]] = _select(mme_store[0], f"SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE {{ ?e sp:participant "
                    f"<{state_iri('JPN')}>, ?p . ?p a sp:UnknownParticipant }}", graphs=["mme"])
    assert int(u) == unknown


def test_no_partner_from_an_id_collision(mme_store):
    """Rows sharing an MMEID keep their own participants: nothing leaks between them."""
    rows = _rows()
    dup = {k for k, c in Counter(r["MMEID"] for r in rows).items() if c > 1}
    seen: Counter = Counter()
    for r in rows:
        if r["MMEID"] not in dup:
            continue
        seen[r["MMEID"]] += 1
        n = seen[r["MMEID"]]
        local = f"mme-{int(r['MMEID'][3:])}" + ("" if n == 1 else f"-{n}")
        got = _select(mme_store[0], f"SELECT ?p WHERE {{ <{ID}exercise/{local}> sp:participant ?p "
                      "FILTER NOT EXISTS { ?p a sp:UnknownParticipant } }", graphs=["mme"])
        assert {p for [p] in got} == {_iri(x) for x in _names(r) if x != "-9"}, local


def test_unknown_participants_kept(mme_store):
    rows = _rows()
    total = sum(_names(r).count("-9") for r in rows)
    [[n]] = _select(mme_store[0], "SELECT (COUNT(DISTINCT ?u) AS ?n) WHERE { ?e sp:participant ?u . "
                    "?u a sp:UnknownParticipant }", graphs=["mme"])
    [[s]] = _select(mme_store[0], "SELECT (SUM(?k) AS ?n) WHERE { ?e sp:unknownParticipants ?k }",
                    graphs=["mme"])
    assert total > 0 and int(n) == total == int(s)
    r = next(r for r in rows if "-9" in _names(r) and r["MMEID"].startswith("mme"))
    slot = [k for k in r if k.startswith("State")].index(
        next(k for k, v in r.items() if k.startswith("State") and v.strip() == "-9")) + 1
    from kg.store import open_store

    with open_store(mme_store[0]) as st:
        assert st.query(PFX + f"ASK {{ ?e sp:datasetId \"{r['MMEID']}\" ; sp:participant "
                        f"<{ID}unknown/{r['MMEID']}-{slot}> }}", graphs=["mme"])


def test_dates_keep_their_precision(mme_store):
    rows = _rows()
    r = next(r for r in rows if r["s.day"] == "xx" and r["s.month"] != "xx")
    local = f"mme-{int(r['MMEID'][3:])}"
    [[v, dt]] = _select(mme_store[0], f"SELECT ?v (STR(DATATYPE(?v)) AS ?t) WHERE {{ "
                        f"<{ID}exercise/{local}> sp:startDate ?v }}", graphs=["mme"])
    assert v == f"{r['s.year']}-{int(r['s.month']):02d}"
    assert dt.endswith("gYearMonth")
    full = next(r for r in rows if r["s.day"] != "xx" and r["MMEID"] != r["MMEID"].upper())
    [[v2]] = _select(mme_store[0], f"SELECT ?v WHERE {{ <{ID}exercise/mme-{int(full['MMEID'][3:])}> "
                     "sp:startDate ?v }", graphs=["mme"])
    assert v2 == f"{full['s.year']}-{int(full['s.month']):02d}-{int(full['s.day']):02d}"
    # no day-less date became the first of the month
    n_xx = sum(r["s.day"] == "xx" for r in rows)
    [[n]] = _select(mme_store[0], "SELECT (COUNT(*) AS ?n) WHERE { ?e sp:startDate ?v "
                    "FILTER(DATATYPE(?v) = <http://www.w3.org/2001/XMLSchema#gYearMonth>) }",
                    graphs=["mme"])
    assert int(n) == n_xx


def test_domains_location_and_dataset_node(mme_store):
    rows = _rows()
    for flag, concept in (("CPX", "CommandPost"), ("Sea", "Sea"), ("Humanitarian", "Humanitarian"),
                          ("Cyber", "Cyber")):
        [[n]] = _select(mme_store[0], f"SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE {{ ?e sp:domain "
                        f"sp:{concept} }}", graphs=["mme"])
        assert int(n) == sum(r[flag] == "1" for r in rows), flag
    [[n]] = _select(mme_store[0], "SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e sp:lat ?a ; sp:lon ?b }",
                    graphs=["mme"])
    assert int(n) == sum(bool(r["lat"].strip() and r["lon"].strip()) for r in rows)
    years = [int(r["s.year"]) for r in rows]
    got = _select(mme_store[0], "PREFIX dcterms: <http://purl.org/dc/terms/>\n"
                  "PREFIX prov: <http://www.w3.org/ns/prov#>\n"
                  "SELECT ?v ?c ?f ?s ?e WHERE { ?d a sp:Dataset ; sp:graph \"mme\" ; "
                  "<http://www.w3.org/2002/07/owl#versionInfo> ?v ; dcterms:bibliographicCitation ?c ;"
                  " prov:wasDerivedFrom ?f ; sp:coverageStart ?s ; sp:coverageEnd ?e }", graphs=["mme"])
    [[v, c, f, s, e]] = got
    assert v == "7" and "10.7910/DVN/KHFODX" in c and f == MME.name
    assert (int(s), int(e)) == (min(years), max(years))
    [[n]] = _select(mme_store[0], "SELECT (COUNT(?e) AS ?n) WHERE { ?e a sp:Exercise "
                    "FILTER NOT EXISTS { ?e sp:source ?s . ?s a sp:Source } }", graphs=["mme"])
    assert int(n) == 0


def test_reconciled_with_curated(mme_store):
    rows = _rows()

    def iri_of(ex_name):
        r = next(r for r in rows if r["Ex_Name"] == ex_name)
        return f"{ID}exercise/mme-{int(r['MMEID'][3:])}"

    links = dict(_select(mme_store[0], "SELECT ?a ?b WHERE { GRAPH <" + MME_G +
                         "> { ?a owl:sameAs ?b } }"))
    assert links[iri_of("RIMPAC 2010")] == f"{ID}exercise/rimpac-2010"
    # September 2007, five navies: the second Malabar of 2007, not the April trilateral
    assert links[iri_of("Malabar 07")] == f"{ID}exercise/malabar-2007-2"
    assert len(set(links.values())) == len(links)  # one-to-one
    # the union counts a linked exercise once: partners.rq over everything
    from kg.queries import run_saved
    from kg.store import open_store

    with open_store(mme_store[0]) as st:
        rs = run_saved(st, "partners", {"state": "JPN"})
        union = {d["partner"]: d["exercises"] for d in rs.dicts()}
        both = st.select(PFX + f"SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE {{ ?e sp:participant "
                         f"<{state_iri('JPN')}>, <{state_iri('USA')}> "
                         "FILTER NOT EXISTS { ?e owl:sameAs ?x } }").dicts()[0]["n"]
    assert union["USA"] == both


# ---------------------------------------------------------------- bad rows (hand-made files)

HEADER = ("MMEID,Ex_Name,Series_Name,Location,lat,lon,StartDate,s.year,s.month,s.day,EndDate,e.year,"
          "e.month,e.day,CPX,Air,Land,Sea,Amphibious,Cyber,Warfighting,Peacekeeping,Humanitarian,"
          "FocusDescription,AdditionalParticipantInfo,StateA,StateB,StateC\n")
GOOD = "mme1,Test One,,Here,1.5,2.5,1/14/80,1980,1,14,1/21/80,1980,1,21,0,1,0,1,0,0,1,0,0,x,,Japan,United States,-9\n"


def _write(tmp_path, *rows) -> Path:
    p = tmp_path / "mme_small.csv"
    p.write_text(HEADER + "".join(rows), encoding="utf-8")
    return p


def test_small_file_hand_checked(tmp_path):
    from kg.ingest.mme import parse

    p = _write(tmp_path, GOOD, "mme2,Two,,,,,1980-02-xx,1980,2,xx,1980-xx-xx,1980,xx,xx,1,0,0,0,0,0,0,0,0,,,"
               "Federal Republic of Germany,Congo - Kinshasa,\n")
    quads, warnings = parse(p, graph_iri("mme"))
    assert warnings == []
    triples = {(q.subject.value, q.predicate.value, q.object.value) for q in quads}
    e1, e2 = f"{ID}exercise/mme-1", f"{ID}exercise/mme-2"
    assert (e1, SP + "participant", f"{ID}unknown/mme1-3") in triples
    assert (e1, SP + "unknownParticipants", "1") in triples
    assert (e1, SP + "startDate", "1980-01-14") in triples
    assert (e2, SP + "startDate", "1980-02") in triples and (e2, SP + "endDate", "1980") in triples
    assert (e2, SP + "participant", state_iri("XWG")) in triples
    assert (e2, SP + "domain", SP + "CommandPost") in triples


def test_bad_rows_are_reported_with_file_and_line(tmp_path):
    from kg.ingest.mme import parse

    p = _write(tmp_path, GOOD, "mme2,Two,,,,,1980-13-xx,1980,13,xx,,,,,0,0,0,0,0,0,0,0,0,,,Japan,,\n",
               "mme3,Three,,,,,1/14/80,1980,1,14,,,,,0,0,0,0,0,0,0,0,0,,,Freedonia,Japan,\n")
    quads, warnings = parse(p, graph_iri("mme"))
    assert any(w.startswith(f"{p}:3:") and "date" in w for w in warnings), warnings
    assert any(w.startswith(f"{p}:4:") and "Freedonia" in w for w in warnings), warnings
    from kg.errors import InputError

    with pytest.raises(InputError) as ei:
        parse(p, graph_iri("mme"), strict=True)
    assert f"{p}:3:" in str(ei.value)


def test_strict_writes_nothing(store_copy, tmp_path, cli_runner, fingerprint, expect_rejected):
    p = _write(tmp_path, GOOD, "mme3,Three,,,,,1/14/80,1980,1,14,,,,,0,0,0,0,0,0,0,0,0,,,Freedonia,Japan,\n")
    line = expect_rejected(store_copy, ["ingest", "--format", "mme", "--strict", str(p)], str(p),
                           where="3")
    assert "Freedonia" in line
    # without --strict the same file goes in, with a warning naming the line
    before = fingerprint(store_copy)
    res = cli_runner("ingest", "--format", "mme", str(p), store=store_copy)
    assert res.exit_code == 0, res.output
    assert f"{p}:3:" in res.stderr
    assert fingerprint(store_copy) != before


def test_a_gzipped_file_gives_the_same_graph(mme_store, built_store, tmp_path):
    """`kg ingest --format mme mme_v7.csv.gz` was refused as "not valid UTF-8 (byte 0x8b)"
    while the COW files are read gzipped; only the file name recorded differs now."""
    import gzip

    from kg.ingest import ingest
    from kg.store import open_store

    gz = tmp_path / "mme_v7.csv.gz"
    gz.write_bytes(gzip.compress(MME.read_bytes()))
    dest = tmp_path / "store"
    shutil.copytree(built_store, dest, ignore=shutil.ignore_patterns("kg.lock"))
    with open_store(dest, write=True) as store:
        ingest(store, [gz], fmt="mme")

    def lines(path):
        with open_store(path) as store:
            return {x.replace(b"mme_v7.csv.gz", b"mme_v7.csv") for x in store.graph_lines(MME_G)}

    assert lines(dest) == lines(mme_store[0])
