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
    from kg.namespaces import graph_iri
    from kg.store import open_store

    with open_store(world) as store:
        local = export(store, fmt)
        subset = export(store, fmt, graphs=["copy"])
        sizes = store.graph_sizes()
    oxfmt = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "nq": ox.RdfFormat.N_QUADS,
             "trig": ox.RdfFormat.TRIG, "jsonld": ox.RdfFormat.JSON_LD}[fmt]
    quads = list(ox.parse(local, format=oxfmt))
    if fmt in ("nq", "trig", "jsonld"):  # each graph named: the repeated triple twice
        assert len(quads) == sum(sizes.values())
        assert {q.graph_name.value for q in quads} == {graph_iri(g) for g in sizes}
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


@pytest.mark.parametrize("args,says", [
    (["--format", "csv", "--out", "{d}/net.csv", "--codebook", "{d}/./net.csv"],
     "is the export's own file"),
    (["--format", "dyad-year", "--out", "{d}/p.csv", "--codebook", "{d}/p.csv"],
     "is the export's own file"),
    (["--format", "ttl", "--from", "2010"], "not with --format ttl"),
    (["--format", "nq", "--codebook", "{d}/cb.md"], "not with --format nq"),
    (["--format", "dyad-year", "--agreement-type", "Foo"], "go with the network formats"),
    (["--format", "dyad-year", "--include-observers"], "go with the network formats"),
    (["--format", "dyad-year", "--relation", "agreement"], "go with the network formats"),
    (["--format", "ttl", "--relation", "agreement"], "go with the network formats"),
])
def test_options_the_format_would_ignore_or_that_overwrite_it_are_refused(world, tmp_path,
                                                                          args, says):
    """They were taken without a word: the codebook written over the export it describes
    (the data lost), an RDF export of everything for --from 2010, a panel for any type."""
    from click.testing import CliRunner

    from kg.cli import cli

    res = CliRunner().invoke(cli, ["--store", str(world), "export",
                                   *[a.format(d=tmp_path) for a in args]])
    assert res.exit_code == 2, res.output
    assert says in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())


def test_dynamic_gexf_round_trips_with_its_spells(world, tmp_path):
    """Hand-checked: AAA-BBB exercised in 2010, 2016 (a reconciled copy counts once) and 2018."""
    import networkx as nx

    path = tmp_path / "dyn.gexf"
    data = _export(world, "--format", "gexf", "--dynamic")
    assert data == _export(world, "--format", "gexf", "--dynamic")
    assert b'mode="dynamic"' in data and b'timeformat="integer"' in data
    path.write_bytes(data)
    G = nx.read_gexf(path)
    ab = G["AAA"]["BBB"]
    assert ab["spells"] == [(2010, 2010), (2016, 2016), (2018, 2018)]
    assert sorted(ab["year_weight"]) == [(1.0, 2010, 2010), (1.0, 2016, 2016), (1.0, 2018, 2018)]
    assert float(ab["weight"]) == 3.0
    assert G.nodes["AAA"]["spells"] == [(2010, 2010), (2016, 2016), (2018, 2018), (2020, 2020)]
    assert G.nodes["CCC"]["spells"] == [(2020, 2020)]


@pytest.mark.parametrize("relation", ["exercise", "agreement", "all"])
def test_dynamic_weights_equal_one_year_windows(world, relation):
    """Each year's weight in the dynamic network is the weight of that year's window."""
    from kg.export import dynamic_network
    from kg.network import build_network
    from kg.store import open_store

    with open_store(world) as store:
        D = dynamic_network(store, relation=relation, year_from=2005, year_to=2024)
        for y in range(2005, 2025):
            G = build_network(store, relation=relation, year_from=y, year_to=y)
            want = {tuple(sorted(e)): d["weight"] for *e, d in G.edges(data=True)}
            got = {tuple(sorted((u, v))): w for u, v, d in D.edges(data=True)
                   for w, s, _ in d["year_weight"] if s == y}
            assert got == want, (relation, y)


def test_network_export_writes_a_codebook_of_its_attributes(world, tmp_path):
    out = tmp_path / "net.graphml"
    _export(world, "--format", "graphml", "--relation", "all", "--out", str(out))
    book = (tmp_path / "net.graphml.codebook.md").read_text()
    for attr in ("label", "weight", "exercise_weight", "agreement_weight"):
        assert f"| {attr.replace('_', chr(92) + '_')} |" in book  # Markdown-escaped
    assert "sha256:" in book


#: The attributes the GEXF 1.2draft schema (data.xsd, "graph-content"; dynamics.xsd adds
#: none of its own there) allows on <graph>; GEXF 1.3 allows no ``name`` either.
GEXF_GRAPH_ATTRIBUTES = {"timeformat", "start", "startopen", "end", "endopen",
                         "defaultedgetype", "idtype", "mode"}


@pytest.mark.parametrize("dynamic", [False, True])
def test_gexf_graph_element_holds_only_attributes_the_schema_allows(world, dynamic):
    """networkx writes <graph name="">, which schema validation of the file rejects
    ("The attribute 'name' is not allowed"); the export leaves it out."""
    import xml.etree.ElementTree as ET

    data = _export(world, "--format", "gexf", *(["--dynamic"] if dynamic else []))
    ns = "{http://www.gexf.net/1.2draft}"
    root = ET.fromstring(data)
    assert root.tag == ns + "gexf" and root.get("version") == "1.2"
    graph = root.find(ns + "graph")
    assert set(graph.attrib) <= GEXF_GRAPH_ATTRIBUTES, sorted(graph.attrib)
    assert graph.get("mode") == ("dynamic" if dynamic else "static")


def test_a_codebook_linked_to_the_export_is_refused(world, tmp_path):
    """A symbolic link to --out as --codebook got past a comparison of the paths' text."""
    from click.testing import CliRunner

    from kg.cli import cli

    (tmp_path / "link.csv").symlink_to(tmp_path / "net.csv")
    res = CliRunner().invoke(cli, ["--store", str(world), "export", "--format", "csv", "--out",
                                   str(tmp_path / "net.csv"), "--codebook",
                                   str(tmp_path / "link.csv")])
    assert res.exit_code == 2 and "is the export's own file" in res.stderr, res.output
    assert not (tmp_path / "net.csv").exists()


@pytest.mark.parametrize("fmt", ["csv", "graphml", "dyad-year"])
def test_an_export_to_a_device_writes_no_codebook_beside_it(world, tmp_path, cli_runner, fmt):
    """`--out /dev/stdout` wrote /dev/stdout.codebook.md, a stray file in /dev (and a panel
    to it was refused for its missing suffix). A device (here /dev/null, present everywhere)
    is written as stdout is: the export goes there (a panel as CSV), no codebook is derived
    from it and a warning says so; --codebook FILE still gives one."""
    import os

    stray = "/dev/null.codebook.md"
    try:
        res = cli_runner("export", "--format", fmt, "--out", "/dev/null", store=world)
        assert res.exit_code == 0, res.output
        assert not os.path.exists(stray)
        assert "no codebook written: --out /dev/null is not a regular file" in res.stderr
        assert "--codebook FILE" in res.stderr and "codebook: " not in res.stderr
        book = tmp_path / "book.md"
        res = cli_runner("export", "--format", fmt, "--out", "/dev/null", "--codebook", book,
                         store=world)
        assert res.exit_code == 0, res.output
        assert "warning" not in res.stderr and f"codebook: {book}" in res.stderr
        assert book.read_text().startswith("# Codebook: ")
        assert not os.path.exists(stray)
    finally:
        if os.path.exists(stray):  # the old code's stray file
            os.remove(stray)


def test_names_a_file_tells_regular_files_from_devices_and_pipes(tmp_path):
    import os

    from kg.export import names_a_file

    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "old.csv").write_text("x\n")
    assert not names_a_file(str(tmp_path / "pipe"))
    assert not names_a_file("/dev/null") and not names_a_file("/dev/stdout")
    assert names_a_file(str(tmp_path / "old.csv")) and names_a_file(str(tmp_path / "new.csv"))
