"""Where the shipped files are: the ontology, shapes, saved queries and curated data.

In a source checkout they sit at the top of the repository; in an installed
package they are ``kg/shipped/ontology``, ``kg/shipped/queries`` and ``kg/shipped/data``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["ontology_dir", "queries_dir", "claims_dir", "data_dir", "remote_queries_dir"]

_ROOT = Path(__file__).resolve().parent.parent


_PACKAGE = Path(__file__).resolve().parent


def _locate(checkout_name: str, package: str, marker: str) -> Path:
    candidate = _ROOT / checkout_name
    if (candidate / marker).exists():
        return candidate
    # installed: setup.cfg maps the folder to the package ``kg.shipped.<name>``
    return _PACKAGE.joinpath(*package.split(".")[1:])


def ontology_dir() -> Path:
    """Folder holding ``secpart.ttl``, ``shapes.ttl`` and the SKOS vocabularies."""
    return _locate("ontology", "kg.shipped.ontology", "secpart.ttl")


def queries_dir() -> Path:
    """Folder of saved SPARQL queries (``*.rq``)."""
    return _locate("queries", "kg.shipped.queries", "partners.rq")


def claims_dir() -> Path:
    """Folder of claim definitions."""
    return queries_dir() / "claims"


def remote_queries_dir() -> Path:
    """Folder of example queries for remote endpoints (Wikidata)."""
    return queries_dir() / "remote"


def data_dir() -> Path:
    """Folder of the bundled curated dataset (YAML)."""
    return _locate("data", "kg.shipped.data", "FORMAT.md")
