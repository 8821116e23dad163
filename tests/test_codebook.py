"""kg.codebook: the codebook written beside a network or panel export is true to the file."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def world(network_world) -> Path:
    return network_world


def _codebook_names(book: str, section: str) -> list[str]:
    """The first cell of each row of the table under ``## section`` (Markdown unescaped)."""
    table = book.partition(f"## {section}\n")[2].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ")][1:]
    return [row.split(" | ")[0][2:].replace("\\_", "_") for row in rows]


def test_csv_network_codebook_names_the_columns_of_the_file(world, tmp_path, cli_runner):
    """The CSV edge list holds source, target and weight; its codebook listed the node
    attributes of the GraphML (label, lat, lon, ...) instead, none of which are in it."""
    out = tmp_path / "net.csv"
    res = cli_runner("export", "--format", "csv", "--from", "2015", "--to", "2024",
                     "--out", str(out), store=world)
    assert res.exit_code == 0, res.output
    with out.open(newline="") as fh:
        rows = list(csv.reader(fh))
    book = (tmp_path / "net.csv.codebook.md").read_text()
    assert _codebook_names(book, "Columns") == rows[0] == ["source", "target", "weight"]
    assert "## Attributes" not in book and "| label |" not in book
    assert f"{len(rows) - 1} rows, one per tie" in book


def test_network_codebook_points_to_the_citations_it_holds(tmp_path, cli_runner, store_copy):
    """A network codebook has no sources table: its dataset citations are the "cite as"
    lines of the citation block, and the text must point there, not to "the citations
    above" (which only a panel's codebook has)."""
    from kg.store import open_store

    with open_store(store_copy, write=True) as st:
        st.write_graphs({"https://w3id.org/secpart/graph/pub": (
            b"<https://w3id.org/secpart/id/dataset/pub> "
            b"<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
            b"<https://w3id.org/secpart/ontology#Dataset> .\n"
            b"<https://w3id.org/secpart/id/dataset/pub> "
            b"<http://purl.org/dc/terms/bibliographicCitation> \"Publisher, P. 2020. Data.\" .\n")},
            replace=True)
    out = tmp_path / "net.graphml"
    res = cli_runner("export", "--format", "graphml", "--out", str(out), store=store_copy)
    assert res.exit_code == 0, res.output
    book = (tmp_path / "net.graphml.codebook.md").read_text()
    cite = book.split("## How to cite\n", 1)[1]
    assert "citations above" not in cite and '"cite as" line' in cite
    assert "    cite as: Publisher, P. 2020. Data." in cite


def _graphml_labels(path: Path) -> dict[str, str]:
    import networkx as nx

    return {n: d["label"] for n, d in nx.read_graphml(path).nodes(data=True)}


@pytest.mark.parametrize("dynamic", [False, True])
def test_network_codebook_says_what_the_labels_of_this_export_hold(tmp_path, cli_runner,
                                                                   dynamic):
    """With graphs that hold no state names (as `--graph mme`), the label is the ISO3 code;
    the codebook said "the state's English short name" whatever the file held."""
    import networkx as nx

    from kg.namespaces import graph_iri
    from kg.store import open_store
    from tests.conftest import load_fixture_store

    store = load_fixture_store(tmp_path / "store")

    with open_store(store, write=True) as st:  # a dataset of exercises, no state list
        st.write_graphs({graph_iri("bare"): (
            b"<https://w3id.org/secpart/id/exercise/bare-2016> "
            b"<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
            b"<https://w3id.org/secpart/ontology#Exercise> .\n"
            b"<https://w3id.org/secpart/id/exercise/bare-2016> "
            b"<https://w3id.org/secpart/ontology#year> "
            b"\"2016\"^^<http://www.w3.org/2001/XMLSchema#integer> .\n"
            + b"".join(b"<https://w3id.org/secpart/id/exercise/bare-2016> "
                       b"<https://w3id.org/secpart/ontology#participant> "
                       b"<https://w3id.org/secpart/id/state/" + s + b"> .\n"
                       for s in (b"AAA", b"BBB"))
        )}, replace=True)
    fmt = ["--format", "gexf", "--dynamic"] if dynamic else ["--format", "graphml"]
    suffix = "gexf" if dynamic else "graphml"

    def export(name, *graphs):
        out = tmp_path / f"{name}.{suffix}"
        args = [a for g in graphs for a in ("--graph", g)]
        res = cli_runner("export", *fmt, *args, "--out", out, store=store)
        assert res.exit_code == 0, res.output
        labels = ({n: d["label"] for n, d in nx.read_gexf(out).nodes(data=True)} if dynamic
                  else _graphml_labels(out))
        book = (tmp_path / f"{name}.{suffix}.codebook.md").read_text()
        row = next(line for line in book.splitlines() if line.startswith("| node | label |"))
        return labels, row

    labels, row = export("bare", "bare")
    assert labels == {"AAA": "AAA", "BBB": "BBB"}
    assert "ISO3 code" in row and "English short name" not in row
    labels, row = export("named", "bare", "main")
    assert labels["AAA"] == "Aland" and all(v != k for k, v in labels.items())
    assert row == "| node | label | the state's English short name |"
