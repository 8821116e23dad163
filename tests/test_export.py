"""kg.export: RDF serializations and the state network for Gephi and spreadsheets."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def world(network_world) -> Path:
    return network_world


def _export(store: Path, *args: str) -> bytes:
    from click.testing import CliRunner

    from kg.cli import cli

    res = CliRunner().invoke(cli, ["--store", str(store), "export", *args])
    assert res.exit_code == 0, (res.output, res.exception)
    return res.stdout_bytes


def test_csv_edge_list(world):
    out = _export(world, "--format", "csv", "--from", "2015", "--to", "2024").decode()
    assert out == ("source,target,weight\n"
                   "AAA,BBB,2\nAAA,CCC,1\nAAA,USA,1\nBBB,USA,1\n")
    ag = _export(world, "--format", "csv", "--relation", "agreement").decode()
    # BBB-CCC's SOFA is signed, not in force: it does not count (kg.inforce)
    assert ag == "source,target,weight\nAAA,BBB,1\nAAA,DDD,1\n"


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_gephi_formats_round_trip_and_are_deterministic(world, tmp_path, fmt):
    import networkx as nx

    from kg.store import open_store

    args = ["--format", fmt, "--relation", "all", "--from", "2015", "--to", "2024"]
    a = _export(world, *args)
    b = _export(world, *args)
    assert a == b
    assert b"lastmodifieddate" not in a
    path = tmp_path / f"net.{fmt}"
    path.write_bytes(a)
    G = nx.read_graphml(path) if fmt == "graphml" else nx.read_gexf(path)
    assert sorted(G.nodes) == ["AAA", "BBB", "CCC", "USA"]
    w = {tuple(sorted(e)): float(d["weight"]) for *e, d in G.edges(data=True)}
    # no BBB-CCC tie: their SOFA is signed, not in force (kg.inforce)
    assert w == {("AAA", "BBB"): 3.0, ("AAA", "CCC"): 1.0, ("AAA", "USA"): 1.0,
                 ("BBB", "USA"): 1.0}
    with open_store(world) as store:
        fp = store.fingerprint()["all"]
    assert fp.encode() in a


@pytest.mark.parametrize("fmt", ["ttl", "nt", "nq", "trig", "jsonld"])
def test_rdf_export_holds_every_triple(world, fmt):
    """Every format carries the store's triples (quad formats per graph, others their union)."""
    import pyoxigraph as ox

    from kg.export import export
    from kg.store import open_store

    with open_store(world) as store:
        local = export(store, fmt)
        subset = export(store, fmt, graphs=["copy"])
        sizes = store.graph_sizes()
    oxfmt = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "nq": ox.RdfFormat.N_QUADS,
             "trig": ox.RdfFormat.TRIG, "jsonld": ox.RdfFormat.JSON_LD}[fmt]
    quads = list(ox.parse(local, format=oxfmt))
    if fmt in ("nq", "trig"):
        assert len(quads) == sum(sizes.values())
    else:  # the union of the graphs: the repeated triple counts once
        assert len(quads) == sum(sizes.values()) - 1
    assert len(list(ox.parse(subset, format=oxfmt))) == sizes["copy"]


def test_rdf_export_to_file(world, tmp_path):
    out = tmp_path / "all.nt"
    from click.testing import CliRunner

    from kg.cli import cli

    res = CliRunner().invoke(cli, ["--store", str(world), "export", "--format", "nt",
                                   "--out", str(out)])
    assert res.exit_code == 0
    lines = out.read_bytes().splitlines()
    assert lines == sorted(set(lines)) and len(lines) > 30
