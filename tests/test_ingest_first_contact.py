"""First contact: a field dataset ingested into a fresh store (kg.ingest.ingest, through the CLI)."""

from __future__ import annotations

import pytest

COW_SMALL = ("ccode1,ccode2,year,cow_defense,cow_neutral,cow_nonagg,cow_entente\n"
             "2,740,1960,1,0,0,1\n740,2,1960,1,0,0,1\n2,740,1961,1,0,0,1\n740,2,1961,1,0,0,1\n")


def test_mme_into_a_fresh_store_works_and_equals_build_then_ingest(cli_runner, fingerprint,
                                                                   shared_data, tmp_path):
    mme = shared_data / "mme_v7.csv"
    fresh = tmp_path / "fresh"
    res = cli_runner("ingest", "--format", "mme", mme, store=fresh)
    assert res.exit_code == 0, res.output
    assert res.stderr.splitlines()[0] == (
        "kg: warning: the store was empty: loaded the ontology and the bundled curated data "
        "(the reference states) first, as `kg build` does")
    assert {line.split(":")[0] for line in res.stdout.splitlines()} == {"curated", "mme", "ontology"}
    # the same store as the two steps a user was told to run before
    built = tmp_path / "built"
    assert cli_runner("build", store=built).exit_code == 0
    assert cli_runner("ingest", "--format", "mme", mme, store=built).exit_code == 0
    assert fingerprint(fresh) == fingerprint(built)
    # the participants are states now known: the first query answers
    out = cli_runner("query", "sparql", "--format", "csv",
                     "PREFIX sp: <https://w3id.org/secpart/ontology#> SELECT (COUNT(*) AS ?n) "
                     "WHERE { GRAPH <https://w3id.org/secpart/graph/mme> { ?e a sp:Exercise } }",
                     store=fresh)
    assert out.exit_code == 0 and int(out.stdout.split()[-1]) > 3000


@pytest.mark.parametrize("fmt", ["atop", "cow"])
def test_atop_and_cow_into_a_fresh_store(cli_runner, shared_data, tmp_path, fmt):
    if fmt == "atop":
        path = shared_data / "atop5_1m.csv"
    else:
        path = tmp_path / "cow_alliances.csv"  # a user's own download; the project ships none
        path.write_text(COW_SMALL)
    res = cli_runner("ingest", "--format", fmt, path, store=tmp_path / "fresh")
    assert res.exit_code == 0, res.output
    assert "the store was empty" in res.stderr
    assert f"{fmt}: added" in res.stdout


def test_store_with_graphs_but_no_states_is_refused_in_one_line(cli_runner, expect_rejected, tmp_path):
    store = tmp_path / "store"
    ttl = tmp_path / "note.ttl"
    ttl.write_text("<https://w3id.org/secpart/id/x> <http://www.w3.org/2000/01/rdf-schema#label> \"x\" .\n")
    assert cli_runner("ingest", ttl, store=store).exit_code == 0
    cow = tmp_path / "cow_alliances.csv"
    cow.write_text(COW_SMALL)
    line = expect_rejected(store, ["ingest", "--format", "cow", cow], None)
    assert line == ("kg: error: the store holds no states to match the dataset's countries against; "
                    "run `kg build` first")
