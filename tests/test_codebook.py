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
