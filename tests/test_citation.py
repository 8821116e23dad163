"""kg.citation and `kg cite`: what a result rests on, in text, BibTeX and CFF."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def world(network_world) -> Path:
    return network_world


def _cite(store: Path | None, *args: str) -> str:
    from click.testing import CliRunner

    from kg.cli import cli

    pre = ["--store", str(store)] if store else []
    res = CliRunner().invoke(cli, [*pre, "cite", *args])
    assert res.exit_code == 0, (res.output, res.exception)
    return res.output


def test_block_holds_fingerprint_versions_params_definitions(world, monkeypatch):
    import networkx

    from kg.citation import citation_block, format_citation
    from kg.store import open_store

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    params = {"relation": "exercise", "from": 2015, "to": 2024}
    with open_store(world) as store:
        block = citation_block(store, ["main"], params)
        fp = store.fingerprint(["main"])
        again = citation_block(store, ["main"], params)
    assert block == again
    assert block["dataset"]["fingerprint"] == "sha256:" + fp["all"]
    assert list(block["dataset"]["graphs"]) == ["main"]
    assert block["versions"]["networkx"] == networkx.__version__
    assert block["versions"]["kg"] == "0.1.0"
    assert "pyoxigraph" in block["versions"]["engine"]
    assert block["parameters"] == params
    assert "date" not in block
    text = format_citation(block, "text")
    for needle in ("Freeman, L. C. (1977)", "Brandes, U. (2001)", "Newman, M. E. J. (2001a)",
                   fp["all"], "relation=exercise"):
        assert needle in text
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    with open_store(world) as store:
        assert citation_block(store, ["main"], params)["date"] == "2023-11-14"


def test_cite_formats(world):
    text = _cite(world, "--format", "text")
    bib = _cite(world, "--format", "bibtex")
    cff = yaml.safe_load(_cite(world, "--format", "cff"))
    from kg.store import open_store

    with open_store(world) as store:
        fp = store.fingerprint()["all"]
    assert fp in text and fp in bib
    assert bib.startswith("@software{kg_secpart,")
    assert "{{kg project contributors}}" in bib and "@misc{Brandes2001," in bib
    assert cff["title"] == "kg: a knowledge graph of security partnerships"
    assert cff["version"] == "0.1.0" and cff["license"] == "MIT"
    assert cff["authors"] == [{"name": "kg project contributors"}]
    assert cff["identifiers"][0]["value"] == "sha256:" + fp
    assert "doi" not in cff


def test_cite_without_a_store_gives_the_software_citation(tmp_path, monkeypatch):
    """No store named and none at ./.kg: the software alone, and a line saying so."""
    from click.testing import CliRunner

    from kg.cli import cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KG_STORE", raising=False)
    monkeypatch.delenv("KG_ENDPOINT", raising=False)
    res = CliRunner().invoke(cli, ["cite", "--format", "cff"])
    assert res.exit_code == 0, res.output
    doc = yaml.safe_load(res.stdout)
    assert doc["version"] == "0.1.0" and "identifiers" not in doc
    assert "citing the software alone" in res.stderr
    assert not (tmp_path / ".kg").exists()


def test_cite_of_a_named_store_that_is_missing_or_busy_fails(tmp_path, store_copy, cli_runner,
                                                             monkeypatch):
    """A typo in --store, or a store another process is writing, used to give a citation
    without the data and exit 0 (a script writing refs.bib would not notice)."""
    res = cli_runner("cite", "--format", "bibtex", store=tmp_path / "typo")
    assert res.exit_code == 2 and "no store at" in res.stderr
    assert res.stdout == "" and not (tmp_path / "typo").exists()
    from kg.store import LocalStore

    monkeypatch.setenv("KG_LOCK_TIMEOUT", "0.1")
    with LocalStore(store_copy, write=True):
        busy = cli_runner("cite", store=store_copy)
    assert busy.exit_code == 2, busy.output
    assert busy.stdout == ""
    assert "Dataset fingerprint" in cli_runner("cite", store=store_copy).stdout


def test_citation_cff_at_repo_root():
    import kg

    doc = yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))
    assert doc["cff-version"] == "1.2.0"
    assert doc["title"] == "kg: a knowledge graph of security partnerships"
    assert doc["version"] == kg.__version__
    assert doc["license"] == "MIT"
    assert doc["authors"] == [{"name": "kg project contributors"}]
    assert "doi" not in doc and "identifiers" not in doc


def test_cite_gives_each_field_datasets_own_citation(built_store, shared_data, tmp_path):
    """kg cite names the data in the store: with MME loaded, the citation its publisher
    asks for (recorded on the graph at ingest), in text and as a BibTeX entry."""
    import shutil

    from kg.ingest import ingest
    from kg.ingest.mme import CITATION
    from kg.store import open_store

    mme = shared_data / "mme_v7.csv"
    dest = tmp_path / "store"
    shutil.copytree(built_store, dest, ignore=shutil.ignore_patterns("kg.lock"))
    with open_store(dest, write=True) as store:
        ingest(store, [mme], fmt="mme")
    text = _cite(dest)
    lines = text.splitlines()
    at = next(i for i, x in enumerate(lines) if x.startswith("  graph mme:"))
    assert lines[at + 1] == f"    cite as: {CITATION.format(version='7')}"
    assert not any(x.startswith("    cite as:") for x in lines if "graph curated" in x)
    bib = _cite(dest, "--format", "bibtex")
    assert "@misc{dataset_mme," in bib and "D'Orazio" in bib
    assert "cite as" not in _cite(built_store)  # curated data: no publisher's citation


def _dataset_nt(name: str, citation: str) -> bytes:
    """N-Triples of an sp:Dataset recorded on graph ``name`` with its publisher's citation."""
    d = f"<https://w3id.org/secpart/id/dataset/{name}>"
    return (f"{d} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
            "<https://w3id.org/secpart/ontology#Dataset> .\n"
            f'{d} <https://w3id.org/secpart/ontology#graph> "{name}" .\n'
            f'{d} <http://purl.org/dc/terms/bibliographicCitation> "{citation}" .\n').encode()


def test_bibtex_gives_each_dataset_its_own_key(tmp_path):
    """Graph names may differ only in ``-``, ``_`` or ``.``; their datasets' BibTeX entries
    still get keys of their own (with a repeated key BibTeX keeps the first entry only)."""
    import re

    from kg.namespaces import graph_iri
    from kg.store import open_store
    from tests.conftest import load_fixture_store

    store = load_fixture_store(tmp_path / "store")
    with open_store(store, write=True) as st:
        st.write_graphs({graph_iri(n): _dataset_nt(n, c) for n, c in
                         (("cow-states", "First & cited"), ("cow_states", "Second cited"),
                          ("cow.states", "Third cited"))}, replace=True)
    bib = _cite(store, "--format", "bibtex")
    keys = re.findall(r"^@\w+\{([^,]+),", bib, flags=re.M)
    assert len(keys) == len(set(keys)), keys
    entries = dict(re.findall(r"^@misc\{(dataset_[^,]+),\n  note = \{([^\n]*)\}$", bib, flags=re.M))
    # graphs in sorted order (cow-states, cow.states, cow_states); each keeps its citation
    assert entries == {"dataset_cow_states": "First \\& cited",
                       "dataset_cow_states_2": "Third cited",
                       "dataset_cow_states_3": "Second cited"}


def test_cite_with_a_dot_kg_that_is_not_a_store_fails(tmp_path, monkeypatch):
    """A ./.kg holding something else is not 'no store': an error, not the software alone."""
    from click.testing import CliRunner

    from kg.cli import cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KG_STORE", raising=False)
    monkeypatch.delenv("KG_ENDPOINT", raising=False)
    (tmp_path / ".kg").mkdir()
    (tmp_path / ".kg" / "notes.txt").write_text("mine", encoding="utf-8")
    res = CliRunner().invoke(cli, ["cite"])
    assert res.exit_code == 2, res.output
    assert res.stdout == ""
    assert (tmp_path / ".kg" / "notes.txt").read_text(encoding="utf-8") == "mine"
