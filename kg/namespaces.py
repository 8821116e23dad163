"""Namespaces and identifier helpers, defined once for the whole package.

>>> state_iri("JPN")
'https://w3id.org/secpart/id/state/JPN'
"""

from __future__ import annotations

import re

__all__ = [
    "SP",
    "ID",
    "GRAPH",
    "RDF",
    "RDFS",
    "OWL",
    "XSD",
    "SKOS",
    "DCTERMS",
    "PROV",
    "SH",
    "PREFIXES",
    "SPARQL_PREFIXES",
    "SHACL_PREFIXES",
    "ISO3_RE",
    "GRAPH_NAME_RE",
    "state_iri",
    "graph_iri",
    "graph_name",
    "iso3_of",
    "is_iso3",
    "year_spells",
    "check_iso3",
]

SP = "https://w3id.org/secpart/ontology#"
ID = "https://w3id.org/secpart/id/"
GRAPH = "https://w3id.org/secpart/graph/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
SH = "http://www.w3.org/ns/shacl#"

PREFIXES: dict[str, str] = {
    "sp": SP,
    "id": ID,
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": OWL,
    "xsd": XSD,
    "skos": SKOS,
    "dcterms": DCTERMS,
    "prov": PROV,
}

SPARQL_PREFIXES = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())
#: :data:`SPARQL_PREFIXES` and ``sh:``, for queries over the SHACL shapes (kept out of
#: :data:`PREFIXES`, which also names the prefixes of every Turtle export).
SHACL_PREFIXES = SPARQL_PREFIXES + f"PREFIX sh: <{SH}>\n"

ISO3_RE = re.compile(r"^[A-Z]{3}\Z")  # \Z: "$" would also match before a final newline
GRAPH_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}\Z")


YEAR_MIN = 1800
"""The first year kg accepts in data and options (earlier is taken for a typo)."""
YEAR_MAX = 2100
"""The last year kg accepts in data and options."""


def is_plausible_year(year) -> bool:
    """True for an integer year from :data:`YEAR_MIN` to :data:`YEAR_MAX`.

    >>> is_plausible_year(2019), is_plausible_year(2_000_000), is_plausible_year(True)
    (True, False, False)
    """
    return isinstance(year, int) and not isinstance(year, bool) and YEAR_MIN <= year <= YEAR_MAX


def year_spells(years) -> list[tuple[int, int]]:
    """Runs of consecutive years, sorted: ``[(first, last), ...]``.

    >>> year_spells([2005, 2001, 2002])
    [(2001, 2002), (2005, 2005)]
    """
    out: list[tuple[int, int]] = []
    for y in sorted(set(years)):
        if out and y == out[-1][1] + 1:
            out[-1] = (out[-1][0], y)
        else:
            out.append((y, y))
    return out


def is_iso3(code: str) -> bool:
    """True when ``code`` has the form of an ISO 3166-1 alpha-3 code (three upper-case letters)."""
    return bool(ISO3_RE.match(code or ""))


def check_iso3(code, option: str = "--focus") -> str:
    """``code`` when it has the form of an ISO3 code, else a UsageError naming ``option``.

    The one check behind ``--focus``, ``--states`` and the like.

    >>> check_iso3("JPN")
    'JPN'
    >>> check_iso3("jp")
    Traceback (most recent call last):
    ...
    kg.errors.UsageError: --focus 'jp' is not an ISO3 code (three upper-case letters)
    """
    if not is_iso3(code):
        from kg.errors import UsageError

        raise UsageError(f"{option} {code!r} is not an ISO3 code (three upper-case letters)")
    return code


def state_iri(iso3: str) -> str:
    """The IRI of the state with ISO3 code ``iso3`` (``id/state/JPN``)."""
    return f"{ID}state/{iso3}"


def iso3_of(iri: str) -> str | None:
    """The ISO3 code of a state IRI, or None when ``iri`` is not a state IRI."""
    prefix = f"{ID}state/"
    if iri.startswith(prefix):
        return iri[len(prefix):]
    return None


def graph_iri(name: str) -> str:
    """The IRI of the named graph for dataset ``name`` (``graph/curated``)."""
    return f"{GRAPH}{name}"


def graph_name(iri: str) -> str:
    """The short name of a graph IRI; foreign graph IRIs are returned whole."""
    if iri.startswith(GRAPH):
        return iri[len(GRAPH):]
    return iri
