"""COW dyad-year importer: spells computed from the CSV (csv module); ../shared/data or skip."""

from __future__ import annotations

import csv
import gzip
import shutil
from collections import defaultdict
from pathlib import Path

import pytest

from kg.namespaces import SP, graph_iri, state_iri

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
COW = DATA / "cow4_1_alliance_ddy.csv.gz"
KINDS = {"cow_defense": "Defense", "cow_neutral": "Neutrality", "cow_nonagg": "NonAggression",
         "cow_entente": "Entente"}
needs_cow = pytest.mark.skipif(not COW.exists(), reason=f"shared dataset absent: {COW}")


def _runs(years):
    out = []
    for y in sorted(set(years)):
        if out and y == out[-1][1] + 1:
            out[-1][1] = y
        else:
            out.append([y, y])
    return [tuple(x) for x in out]


def _us_japan_rows():
    with gzip.open(COW, "rt", newline="") as fh:
        return [r for r in csv.DictReader(fh) if {r["ccode1"], r["ccode2"]} == {"2", "740"}]


@pytest.fixture(scope="module")
def cow_store(built_store, tmp_path_factory):
    if not COW.exists():
        pytest.skip(f"shared dataset absent: {COW}")
    from kg.ingest import ingest
    from kg.store import open_store

    dest = tmp_path_factory.mktemp("cow") / "store"
    shutil.copytree(built_store, dest, ignore=shutil.ignore_patterns("kg.lock"))
    with open_store(dest, write=True) as store:
        ingest(store, [COW], fmt="cow")
    return dest


def _spells(path, a="USA", b="JPN", graphs=("cow",)):
    from kg.store import open_store

    with open_store(path) as st:
        rs = st.select(f"PREFIX sp: <{SP}>\nSELECT ?k ?s ?e WHERE {{ ?x a sp:AllianceSpell ; "
                       f"sp:party <{state_iri(a)}>, <{state_iri(b)}> ; sp:kind ?k ; sp:startYear ?s ;"
                       " sp:endYear ?e }", graphs=list(graphs))
        return sorted((k.value, int(s.value), int(e.value)) for k, s, e in rs.rows)


def _expected(rows):
    years = defaultdict(set)
    for r in rows:
        for c, k in KINDS.items():
            if r[c] == "1":
                years[k].add(int(r["year"]))
    return sorted((SP + k, s, e) for k, ys in years.items() for s, e in _runs(ys))


def test_us_japan_spells(cow_store):
    rows = _us_japan_rows()
    both = {(r["ccode1"], r["ccode2"]) for r in rows}
    assert both == {("2", "740"), ("740", "2")}, "the file lists the dyad both ways"
    expected = _expected(rows)
    assert len({e[0] for e in expected}) >= 2 and len(expected) >= 3  # separate spells
    assert _spells(cow_store) == expected
    # one direction alone gives the same spells: the mirror rows do not double anything
    assert _expected([r for r in rows if r["ccode1"] == "2"]) == expected


def test_total_spells_not_doubled(cow_store):
    years = defaultdict(set)
    with gzip.open(COW, "rt", newline="") as fh:
        for r in csv.DictReader(fh):
            a, b = sorted((int(r["ccode1"]), int(r["ccode2"])))
            for c in KINDS:
                if r[c] == "1":
                    years[(a, b, c)].add(int(r["year"]))
    expected = sum(len(_runs(y)) for y in years.values())
    from kg.store import open_store

    with open_store(cow_store) as st:
        n = st.select(f"PREFIX sp: <{SP}>\nSELECT (COUNT(?x) AS ?n) WHERE {{ ?x a sp:AllianceSpell }}",
                      graphs=["cow"]).dicts()[0]["n"]
        cov = st.select(f"PREFIX sp: <{SP}>\nSELECT ?s ?e ?v WHERE {{ ?d a sp:Dataset ; sp:coverageStart ?s ;"
                        " sp:coverageEnd ?e ; <http://www.w3.org/2002/07/owl#versionInfo> ?v }",
                        graphs=["cow"]).dicts()
    assert int(n) == expected
    assert cov[0]["v"] == "4.1" and cov[0]["s"] <= 1816 + 5 and cov[0]["e"] >= 2010


@needs_cow
def test_plain_and_gzip_agree(tmp_path):
    from kg.ingest.cow import parse

    rows = _us_japan_rows()
    p = tmp_path / "cow_small.csv"
    with open(p, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    quads, warnings = parse(p, graph_iri("cow"))
    kinds = sorted(q.object.value for q in quads if q.predicate.value == SP + "kind")
    assert kinds == sorted(k for k, _, _ in _expected(rows)) and warnings == []


def test_bad_rows(tmp_path):
    from kg.errors import InputError
    from kg.ingest.cow import parse

    p = tmp_path / "cow_bad.csv"
    p.write_text("ccode1,ccode2,year,cow_defense,cow_neutral,cow_nonagg,cow_entente\n"
                 "2,740,1951,1,0,0,0\n2,9999,1951,1,0,0,0\n2,740,19x1,1,0,0,0\n")
    quads, warnings = parse(p, graph_iri("cow"))
    assert any(w.startswith(f"{p}:3:") and "9999" in w for w in warnings), warnings
    assert any(w.startswith(f"{p}:4:") for w in warnings), warnings
    with pytest.raises(InputError) as ei:
        parse(p, graph_iri("cow"), strict=True)
    assert f"{p}:3:" in str(ei.value)


# ---------------------------------------------------------------- state-system membership

def test_cow_states_spells_from_the_real_file(store_copy, cli_runner, shared_data):
    from kg.store import open_store

    res = cli_runner("ingest", "--format", "cow-states", shared_data / "cow_states2016.csv",
                     store=store_copy)
    assert res.exit_code == 0, res.output
    with open(shared_data / "cow_states2016.csv", encoding="utf-8") as fh:
        n_rows = sum(1 for line in fh if line.strip()) - 1
    with open_store(store_copy) as store:
        rs = store.select(
            "PREFIX sp: <https://w3id.org/secpart/ontology#>\n"
            "SELECT ?m ?e ?x WHERE { ?s a sp:SystemMembership ; sp:member ?m ; "
            "sp:entryDate ?e ; sp:exitDate ?x }", graphs=["cow-states"])
        spells = {(r[0].value.rsplit("/", 1)[-1], r[1].value, r[2].value) for r in rs.rows}
        cover = store.select(
            "PREFIX sp: <https://w3id.org/secpart/ontology#>\n"
            "SELECT ?s ?e WHERE { ?d a sp:Dataset ; sp:coverageStart ?s ; sp:coverageEnd ?e }",
            graphs=["cow-states"]).rows[0]
    assert len(spells) == n_rows
    # Japan, as the file's two rows list it: 1860 to the 1945 surrender, again from 1952
    assert {s for s in spells if s[0] == "JPN"} == {
        ("JPN", "1860-01-01", "1945-08-14"), ("JPN", "1952-04-28", "2016-12-31")}
    assert (int(cover[0].value), int(cover[1].value)) == (1816, 2016)


def test_cow_states_bad_row_is_refused_naming_the_line(store_copy, expect_rejected, tmp_path):
    bad = tmp_path / "states2016.csv"
    bad.write_text("stateabb,ccode,statenme,styear,stmonth,stday,endyear,endmonth,endday,version\n"
                   "USA,2,United States of America,1816,1,1,2016,12,31,2016\n"
                   "JPN,740,Japan,1816,2,30,1945,9,2,2016\n")
    expect_rejected(store_copy, ["ingest", "--format", "cow-states", "--strict", bad],
                    "states2016.csv", where="3")
