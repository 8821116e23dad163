"""ATOP importer: expectations computed from the CSV (csv module); ../shared/data or skip."""

from __future__ import annotations

import csv
import shutil
from collections import defaultdict
from pathlib import Path

import pytest

from kg.namespaces import ID, SP, graph_iri, state_iri

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MEMBER = DATA / "atop4_01_member.csv"
PFX = f"PREFIX sp: <{SP}>\n"
KINDS = {"defense": "Defense", "offense": "Offense", "neutral": "Neutrality", "nonagg": "NonAggression",
         "consul": "Consultation"}


def _rows():
    with open(MEMBER, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def atop_store(built_store, tmp_path_factory):
    if not MEMBER.exists():
        pytest.skip(f"shared dataset absent: {MEMBER}")
    from kg.ingest import ingest
    from kg.store import open_store

    dest = tmp_path_factory.mktemp("atop") / "store"
    shutil.copytree(built_store, dest, ignore=shutil.ignore_patterns("kg.lock"))
    with open_store(dest, write=True) as store:
        report = ingest(store, [MEMBER], fmt="atop")
    return dest, report


def _select(path, text):
    from kg.store import open_store

    with open_store(path) as st:
        return [[t.value if t is not None else None for t in r]
                for r in st.select(PFX + text, graphs=["atop"]).rows]


def test_us_japan_1960_obligations_belong_to_members(atop_store):
    rows = _rows()
    by_id = defaultdict(list)
    for r in rows:
        by_id[r["atopid"]].append(r)
    [aid] = [a for a, rs in by_id.items() if {r["member"] for r in rs} == {"2", "740"}
             and rs[0]["yrent"] == "1960"]
    got = _select(atop_store[0], f"SELECT ?b ?k WHERE {{ <{ID}agreement/atop-{aid}> sp:obligation ?o . "
                  "?o a sp:Obligation ; sp:bearer ?b ; sp:kind ?k }")
    have = {(b, k) for b, k in got}
    assert (state_iri("USA"), SP + "Defense") in have
    assert (state_iri("JPN"), SP + "Defense") not in have
    expected = {(state_iri({"2": "USA", "740": "JPN"}[r["member"]]), SP + c)
                for r in by_id[aid] for k, c in KINDS.items() if r[k] == "1"}
    assert have == expected
    [[t, d]] = _select(atop_store[0], f"SELECT ?t ?d WHERE {{ <{ID}agreement/atop-{aid}> a ?t ; "
                       "sp:signedDate ?d }")
    assert t == SP + "DefenceTreaty" and d == "1960-01-19"


def test_every_alliance_and_obligation(atop_store):
    from kg.ingest.names import cow_to_iso3

    iso = cow_to_iso3()
    rows = _rows()
    ids = {r["atopid"] for r in rows}
    [[n]] = _select(atop_store[0], "SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE { ?a sp:datasetId ?i ; "
                    "sp:membership ?m }")
    assert int(n) == len(ids)
    [[n]] = _select(atop_store[0], "SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE { ?a sp:membership ?m }")
    assert int(n) == len(rows)
    expected = {(r["atopid"], state_iri(iso[int(r["member"])]), SP + c) for r in rows
                for k, c in KINDS.items() if r[k] == "1" and int(r["member"]) in iso}
    got = _select(atop_store[0], "SELECT ?i ?b ?k WHERE { ?a sp:datasetId ?i ; sp:obligation ?o . "
                  "?o sp:bearer ?b ; sp:kind ?k }")
    assert {tuple(x) for x in got} == expected
    defence = {r["atopid"] for r in rows if r["defense"] == "1"}
    got = _select(atop_store[0], "SELECT ?i WHERE { ?a a sp:DefenceTreaty ; sp:datasetId ?i }")
    assert {i for [i] in got} == defence


def test_unknown_member_code_reported_and_kept(atop_store):
    from kg.ingest.names import cow_to_iso3

    iso = cow_to_iso3()
    with open(MEMBER, newline="") as fh:
        rd = csv.DictReader(fh)
        bad = [(i + 2, r) for i, r in enumerate(rd) if int(r["member"]) not in iso]
    assert bad, "v4.01 has a member code outside the COW list"
    for line, r in bad:
        assert any(w.startswith(f"{MEMBER}:{line}:") for w in atop_store[1].warnings)
        got = _select(atop_store[0], f"SELECT ?p WHERE {{ <{ID}agreement/atop-{r['atopid']}> sp:party ?p . "
                      "?p a sp:UnknownParticipant }")
        assert len(got) == 1
    from kg.errors import InputError
    from kg.ingest.atop import parse

    with pytest.raises(InputError) as ei:
        parse(MEMBER, graph_iri("atop"), strict=True)
    assert f"{MEMBER}:{bad[0][0]}:" in str(ei.value)
    # with --strict nothing is kept, and the error does not say it was
    assert "kept" not in str(ei.value)
    assert any("kept as an unknown participant" in w for w in atop_store[1].warnings)


def test_partial_dates_and_dataset(atop_store):
    rows = _rows()
    from kg.ingest.names import cow_to_iso3

    r = next(r for r in rows if r["yrexit"] != "0" and r["dayexit"] in ("0", "")
             and r["moexit"] not in ("0", ""))
    member = state_iri(cow_to_iso3()[int(r["member"])])
    got = _select(atop_store[0], f"SELECT ?x WHERE {{ ?a sp:datasetId \"{r['atopid']}\" ; "
                  f"sp:membership ?m . ?m sp:member <{member}> ; sp:exitDate ?x }}")
    assert f"{r['yrexit']}-{int(r['moexit']):02d}" in {x for [x] in got}
    [[v, s, e]] = _select(atop_store[0], "SELECT ?v ?s ?e WHERE { ?d a sp:Dataset ; "
                          "<http://www.w3.org/2002/07/owl#versionInfo> ?v ; sp:coverageStart ?s ; "
                          "sp:coverageEnd ?e }")
    years = [int(r["yrent"]) for r in rows] + [int(r["yrexit"]) for r in rows if r["yrexit"] != "0"]
    assert v == "4.01" and (int(s), int(e)) == (min(years), max(years))


def test_directed_dyad_years_small_file(tmp_path):
    """ATOP dyad-years are directed: the bearer is ccode1 (hand-made file)."""
    from kg.ingest.atop import parse

    p = tmp_path / "atop5_1_alliance_ddy.csv"
    p.write_text("ccode1,ccode2,year,atop_defense,atop_offense,atop_neutral,atop_nonagg,atop_consul\n"
                 "2,740,1960,1,0,0,0,1\n2,740,1961,1,0,0,0,1\n740,2,1960,0,0,0,0,1\n"
                 "740,2,1961,0,0,0,0,1\n")
    quads, warnings = parse(p, graph_iri("atop"))
    t = {(q.subject.value, q.predicate.value, q.object.value) for q in quads}
    bearers = {(o, k) for (s, p_, o) in t if p_ == SP + "bearer"
               for (s2, p2, k) in t if s2 == s and p2 == SP + "kind"}
    assert bearers == {(state_iri("USA"), SP + "Defense"), (state_iri("USA"), SP + "Consultation"),
                       (state_iri("JPN"), SP + "Consultation")}
    assert warnings == []


# ---------------------------------------------------------------- ATOP 5.1

MEMBER51 = DATA / "atop5_1m.csv"
ALLIANCE51 = DATA / "atop5_1a.csv"


@pytest.fixture(scope="module")
def atop51_store(built_store, tmp_path_factory):
    """The bundled store plus ATOP 5.1, ingested through the CLI; (path, result)."""
    if not (MEMBER51.exists() and ALLIANCE51.exists()):
        pytest.skip(f"shared dataset absent: {MEMBER51}")
    from click.testing import CliRunner

    from kg.cli import cli

    dest = tmp_path_factory.mktemp("atop51") / "store"
    shutil.copytree(built_store, dest, ignore=shutil.ignore_patterns("kg.lock"))
    res = CliRunner().invoke(cli, ["--store", str(dest), "ingest", "--format", "atop", str(MEMBER51)],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return dest, res


def _rows51(name=MEMBER51):
    with open(name, newline="") as fh:
        return list(csv.DictReader(fh))


def test_atop51_records_its_version_and_coverage(atop51_store):
    rows = _rows51()
    [[v, s, e, src]] = _select(atop51_store[0], "SELECT ?v ?s ?e ?f WHERE { ?d a sp:Dataset ; "
                               "<http://www.w3.org/2002/07/owl#versionInfo> ?v ; sp:coverageStart ?s ; "
                               "sp:coverageEnd ?e ; <http://www.w3.org/ns/prov#wasDerivedFrom> ?f }")
    assert {r["version"] for r in rows} == {"5.1"}
    years = [int(r["yrent"]) for r in rows] + [int(r["yrexit"]) for r in rows if r["yrexit"] != "0"]
    assert (v, int(s), int(e), src) == ("5.1", min(years), max(years), "atop5_1m.csv")
    [[n]] = _select(atop51_store[0], "SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE { ?a sp:datasetId ?i ; "
                    "sp:membership ?m }")
    assert int(n) == len({r["atopid"] for r in rows})


def test_atop51_codebook_disagreements_are_warned(atop51_store):
    """The codebook counts 765 alliances; the files hold 789 rows: said on stderr, not hidden."""
    alliances = _rows51(ALLIANCE51)
    err = atop51_store[1].stderr
    assert len(alliances) == 789
    line = f"the ATOP 5.1 codebook counts 765 alliances; the files hold {len(alliances)}"
    assert f"kg: warning: {MEMBER51}: {line}" in err.splitlines()
    rev5 = sum(1 for a in alliances if a["rev5"] == "1")
    assert f"codebook counts 8 alliances revised since version 4 (REV5 = 1); the files hold {rev5}" in err
    assert "alliances new in version 5" not in err  # 20 in both: no warning


def test_atop51_us_japan_obligations_as_coded(atop51_store):
    """ATOP 5.1 codes the 1960 US-Japan treaty: a US defence obligation, none for Japan."""
    rows = _rows51()
    by_id = defaultdict(list)
    for r in rows:
        by_id[r["atopid"]].append(r)
    [aid] = [a for a, rs in by_id.items() if {r["member"] for r in rs} == {"2", "740"}
             and rs[0]["yrent"] == "1960"]
    got = _select(atop51_store[0], f"SELECT ?b ?k WHERE {{ <{ID}agreement/atop-{aid}> sp:obligation ?o . "
                  "?o sp:bearer ?b ; sp:kind ?k }")
    have = {(b, k) for b, k in got}
    expected = {(state_iri({"2": "USA", "740": "JPN"}[r["member"]]), SP + c)
                for r in by_id[aid] for k, c in KINDS.items() if r[k] == "1"}
    assert have == expected
    assert (state_iri("USA"), SP + "Defense") in have
    assert (state_iri("JPN"), SP + "Defense") not in have


def test_atop51_alliance_file_is_found_beside_the_member_file(tmp_path):
    from kg.ingest.atop import alliance_file_for

    assert alliance_file_for(MEMBER51) == ALLIANCE51 if MEMBER51.exists() else True
    (tmp_path / "atop5_1m.csv").write_text("x")
    assert alliance_file_for(tmp_path / "atop5_1m.csv") is None  # no alliance file beside it
    (tmp_path / "atop5_1a.csv").write_text("x")
    assert alliance_file_for(tmp_path / "atop5_1m.csv") == tmp_path / "atop5_1a.csv"
    assert alliance_file_for(tmp_path / "atop5_1a.csv") is None


def test_a_member_file_whose_alliance_file_is_not_found_or_version_not_said_is_warned(tmp_path):
    """Renamed (member.csv), the member file lost its alliance-level file (19 fewer
    alliances in force) and its version (recorded as 4.01) without a word."""
    import shutil

    from kg.ingest.atop import parse

    if not MEMBER.exists():
        pytest.skip(f"shared dataset absent: {MEMBER}")
    renamed = tmp_path / "member.csv"
    shutil.copy(MEMBER, renamed)
    _, warnings = parse(renamed, graph_iri("atop"))
    assert any(w.startswith(f"{renamed}: no alliance-level file beside it") for w in warnings)
    assert not any("neither the file name" in w for w in warnings)  # its version column says
    unversioned = tmp_path / "alliances.csv"  # the first 40 rows, without the version column
    with open(MEMBER, newline="", encoding="utf-8") as src, \
            open(unversioned, "w", newline="", encoding="utf-8") as dst:
        rows = list(csv.reader(src))[:41]
        keep = [i for i, h in enumerate(rows[0]) if h != "version"]
        csv.writer(dst).writerows([[r[i] for i in keep] for r in rows])
    _, warnings = parse(unversioned, graph_iri("atop"))
    assert any(w.startswith(f"{unversioned}: neither the file name") and "recorded as 4.01" in w
               for w in warnings)
    _, named = parse(MEMBER, graph_iri("atop"))
    assert not any("no alliance-level file" in w or "neither the file name" in w for w in named)


def test_codebook_disagreements_only_for_known_versions():
    from kg.ingest.atop import codebook_disagreements

    assert codebook_disagreements("5.1", {"alliances": 765, "first_year": 1815, "last_year": 2018}) == []
    assert codebook_disagreements("5.1", {"last_year": 2016}) == [
        "the ATOP 5.1 codebook gives 2018 as the last year covered; the files reach 2016"]
    assert codebook_disagreements("9.9", {"alliances": 1}) == []


def test_another_version_into_the_same_graph_is_refused(atop_store, tmp_path, cli_runner,
                                                        fingerprint):
    """ATOP 5.1 over 4.01 in graph atop would count each alliance twice: refused (exit 2,
    one line naming the file, the store unchanged); --graph keeps both, --replace swaps."""
    if not MEMBER51.exists():
        pytest.skip(f"shared dataset absent: {MEMBER51}")
    dest = tmp_path / "store"
    shutil.copytree(atop_store[0], dest, ignore=shutil.ignore_patterns("kg.lock"))
    before = fingerprint(dest)
    res = cli_runner("ingest", "--format", "atop", MEMBER51, store=dest)
    assert res.exit_code == 2 and res.stderr.count("\n") == 1, res.output
    assert str(MEMBER51) in res.stderr and "holds version 4.01" in res.stderr
    assert fingerprint(dest) == before
    assert cli_runner("ingest", "--format", "atop", "--graph", "atop5", MEMBER51,
                      store=dest).exit_code == 0
    assert cli_runner("ingest", "--format", "atop", "--replace", MEMBER51,
                      store=dest).exit_code == 0
    info = cli_runner("info", store=dest).stdout
    assert [line.split()[2] for line in info.splitlines() if line.startswith("atop")] == ["5.1"] * 2


def test_atop51_obligations_name_the_phases_they_are_borne_in(atop51_store):
    """ATOP codes obligations per member and phase; each obligation names the phases in
    which its bearer carries it (the EU, atopid 4175: Ireland's defence in phase 2 only)."""
    from kg.ingest.names import cow_to_iso3

    iso = cow_to_iso3()
    expected: dict = defaultdict(set)
    for r in _rows51():
        if int(r["member"]) in iso:
            for k, c in KINDS.items():
                if r[k] == "1" and int(r["phase"] or 0):
                    expected[(r["atopid"], state_iri(iso[int(r["member"])]), SP + c)].add(
                        int(r["phase"]))
    got: dict = defaultdict(set)
    for i, b, k, p in _select(atop51_store[0], "SELECT ?i ?b ?k ?p WHERE { ?a sp:datasetId ?i ; "
                              "sp:obligation ?o . ?o sp:bearer ?b ; sp:kind ?k ; sp:phase ?p }"):
        got[(i, b, k)].add(int(p))
    assert got == expected
    assert got[("4175", state_iri("IRL"), SP + "Defense")] == {2}
    assert got[("4175", state_iri("IRL"), SP + "Consultation")] == {1, 2}
