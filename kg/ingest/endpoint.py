"""Ingest the result of a CONSTRUCT query on a remote SPARQL endpoint, with its provenance.

The query runs through :func:`kg.remote.fetch_construct`; its result goes
through :func:`kg.ingest.ingest` like any file, so it is validated and written
all or nothing.

>>> _today() == _today()
True
"""

from __future__ import annotations

import datetime as _dt
import os
import tempfile

from kg.basestore import BaseStore, check_graph_name
from kg.errors import InputError, UsageError
from kg.ingest import check_not_built, ingest
from kg.ingest.inputs import read_input
from kg.namespaces import DCTERMS, ID, PROV, RDF, RDFS, SP, XSD, graph_iri
from kg.remote import fetch_construct

__all__ = ["ingest_from_endpoint"]


def _today() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return _dt.datetime.fromtimestamp(int(epoch), _dt.timezone.utc).date().isoformat()  # noqa: UP017 (3.10)
    return _dt.date.today().isoformat()


def _provenance_nt(graph: str, endpoint: str, query_text: str, date: str) -> bytes:
    import pyoxigraph as ox

    node = ox.NamedNode(f"{ID}dataset/{graph}")
    try:
        source = ox.NamedNode(endpoint)
    except ValueError:
        raise UsageError(f"the endpoint URL {endpoint!r} is not a valid IRI") from None
    triples = [
        ox.Triple(node, ox.NamedNode(RDF + "type"), ox.NamedNode(SP + "Dataset")),
        ox.Triple(node, ox.NamedNode(RDFS + "label"),
                  ox.Literal(f"{graph}: CONSTRUCT query results from {endpoint}")),
        ox.Triple(node, ox.NamedNode(SP + "graph"), ox.Literal(graph)),
        ox.Triple(node, ox.NamedNode(PROV + "wasDerivedFrom"), source),
        ox.Triple(node, ox.NamedNode(DCTERMS + "created"),
                  ox.Literal(date, datatype=ox.NamedNode(XSD + "date"))),
        ox.Triple(node, ox.NamedNode(DCTERMS + "description"), ox.Literal(query_text)),
    ]
    return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)


def ingest_from_endpoint(store: BaseStore, endpoint: str, query_file: str | os.PathLike, *,
                         graph: str, replace: bool = False, timeout: float | None = None):
    """Run a CONSTRUCT on a remote endpoint and store the result in graph ``graph``.

    :param store: a LocalStore opened for writing.
    :param endpoint: the SPARQL query endpoint to ask (e.g. https://query.wikidata.org/sparql).
    :param query_file: a ``.rq`` file with a CONSTRUCT (or DESCRIBE) query.
    :param graph: short name of the target graph.
    :param replace: swap the graph's content for the result; else add to it.
    :param timeout: seconds to wait for the endpoint (default 60).
    :returns: a :class:`kg.ingest.IngestReport`.

    The result goes through the same path as ``kg ingest`` (blank nodes
    skolemized, SHACL validation against the store, one atomic write), so a
    result that breaks a shape changes nothing. The graph records its
    provenance on ``id/dataset/<graph>``, a ``sp:Dataset``: ``prov:wasDerivedFrom``
    the endpoint, ``dcterms:description`` the query text and ``dcterms:created``
    the date (``$SOURCE_DATE_EPOCH`` when set, for reproducible builds).

    Example: ``ingest_from_endpoint(store, "http://127.0.0.1:7878/query", "q.rq", graph="wd")``.
    """
    check_graph_name(graph)
    check_not_built([graph_iri(graph)])  # before the endpoint is asked
    try:
        text = read_input(query_file).decode("utf-8")  # a regular file, bounded
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot read the query: {exc}", file=str(query_file)) from None
    data = fetch_construct(endpoint, text, timeout=timeout)
    if not data.strip():  # as an empty file is refused: a graph of provenance alone is not data
        raise InputError("the endpoint answered with no triples; nothing stored",
                         file=f"{query_file} (result from {endpoint})")
    data = data + _provenance_nt(graph, endpoint, text, _today())
    fd, tmp = tempfile.mkstemp(prefix="kg-remote-", suffix=".nt")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        try:
            report = ingest(store, [tmp], fmt="nt", graph=graph, replace=replace)
        except InputError as exc:
            raise InputError(exc.message, file=f"{query_file} (result from {endpoint})") from None
    finally:
        os.unlink(tmp)
    report.files = [f"{endpoint} ({query_file})"]
    return report

