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
