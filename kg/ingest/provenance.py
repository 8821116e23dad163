"""Provenance shared by the field-dataset importers (MME, ATOP, COW).

Each import records, in its own graph, one ``sp:Dataset`` node describing the
graph's content (title, version, the citation the publisher asks for, the file
it came from, the years it covers) and one ``sp:Source`` node that every
imported exercise or agreement cites with ``sp:source``.

>>> dataset_iri("https://w3id.org/secpart/graph/mme")
'https://w3id.org/secpart/id/dataset/mme'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from kg.namespaces import DCTERMS, ID, OWL, PROV, RDF, SP, XSD, graph_name

__all__ = ["DatasetInfo", "dataset_iri", "dataset_quads", "QuadMaker", "version_from_name"]


@dataclass
class DatasetInfo:
    """What the ``sp:Dataset`` and ``sp:Source`` nodes of one import say."""

    key: str  # source id, e.g. "mme-v7"
    title: str
    version: str
    citation: str
    publisher: str
    issued: str | None = None  # YYYY
    url: str | None = None


def dataset_iri(graph: str) -> str:
    """The IRI of the ``sp:Dataset`` node describing graph ``graph`` (an IRI)."""
    name = graph_name(graph).rsplit("/", 1)[-1]
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", name)
    return f"{ID}dataset/{name}"


def version_from_name(path: str | Path, pattern: str, default: str) -> str:
    """The version a file name carries (``pattern`` has one group), else ``default``.

    >>> version_from_name("atop5_1_alliance_ddy.csv.gz", r"atop(\\d+)_(\\d+)", "?")
    '5.1'
    """
    m = re.search(pattern, Path(path).name, re.IGNORECASE)
    if not m:
        return default
    return ".".join(str(int(g)) if g.isdigit() and len(g) == 1 else g for g in m.groups() if g)


class QuadMaker:
    """Builds pyoxigraph quads in one graph, with a cache of named nodes (fast)."""

    def __init__(self, graph: str):
        import pyoxigraph as ox

        self.ox = ox
        self.g = ox.NamedNode(graph)
        self.quads: list = []
        self._nn: dict[str, object] = {}
        self.xsd_integer = ox.NamedNode(XSD + "integer")
        self.xsd_decimal = ox.NamedNode(XSD + "decimal")

    def nn(self, iri: str):
        """A cached NamedNode."""
        n = self._nn.get(iri)
        if n is None:
            n = self._nn[iri] = self.ox.NamedNode(iri)
        return n

    def add(self, s, p, o) -> None:
        """Add one quad; ``s``/``p`` are IRIs (str) or nodes, ``o`` a node or literal."""
        ox = self.ox
        self.quads.append(ox.Quad(self.nn(s) if isinstance(s, str) else s,
                                  self.nn(p) if isinstance(p, str) else p, o, self.g))

    def lit(self, value: str, datatype: str | None = None):
        """A literal (plain string, or typed)."""
        if datatype is None:
            return self.ox.Literal(value)
        return self.ox.Literal(value, datatype=self.nn(datatype))

    def int(self, value: int):
        """An xsd:integer literal."""
        return self.ox.Literal(str(int(value)), datatype=self.xsd_integer)


def dataset_quads(qm: QuadMaker, graph: str, info: DatasetInfo, path: str | Path,
                  coverage: tuple[int, int] | None) -> str:
    """Add the ``sp:Dataset`` and ``sp:Source`` nodes; return the source IRI.

    :param coverage: first and last year the file actually covers (None when empty).
    """
    src = f"{ID}source/{info.key}"
    qm.add(src, RDF + "type", qm.nn(SP + "Source"))
    qm.add(src, DCTERMS + "title", qm.lit(info.title))
    qm.add(src, DCTERMS + "publisher", qm.lit(info.publisher))
    if info.issued:
        qm.add(src, DCTERMS + "issued", qm.lit(info.issued, XSD + "gYear"))
    if info.url:
        qm.add(src, SP + "url", qm.lit(info.url, XSD + "anyURI"))
    qm.add(src, DCTERMS + "bibliographicCitation", qm.lit(info.citation))
    ds = dataset_iri(graph)
    qm.add(ds, RDF + "type", qm.nn(SP + "Dataset"))
    qm.add(ds, RDF + "type", qm.nn(PROV + "Entity"))
    qm.add(ds, DCTERMS + "title", qm.lit(info.title))
    qm.add(ds, OWL + "versionInfo", qm.lit(info.version))
    qm.add(ds, DCTERMS + "bibliographicCitation", qm.lit(info.citation))
    qm.add(ds, PROV + "wasDerivedFrom", qm.lit(Path(path).name))
    qm.add(ds, SP + "graph", qm.lit(graph_name(graph)))
    qm.add(ds, SP + "source", qm.nn(src))
    if coverage:
        qm.add(ds, SP + "coverageStart", qm.int(coverage[0]))
        qm.add(ds, SP + "coverageEnd", qm.int(coverage[1]))
    return src
