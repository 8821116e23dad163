"""Remote SPARQL stores: read through SPARQLWrapper, push to them, ingest from them.

:class:`RemoteStore` offers the :class:`~kg.store.BaseStore` interface over any
SPARQL 1.1 Protocol endpoint (Oxigraph server, Apache Jena Fuseki, Virtuoso,
GraphDB, Amazon Neptune, QLever for reads), so every reading command runs
unchanged with ``kg --endpoint URL``. Requests are POSTed (form-encoded, so
long queries fit), ask for SPARQL JSON results, carry a descriptive
User-Agent (:data:`USER_AGENT`) and give up after a timeout (default 60 s).
As on the local store, the default graph of every query is the union of the
dataset graphs: each one is sent as a ``default-graph-uri`` (and
``named-graph-uri``) parameter, so the answer never depends on how the server
defines its own default graph. The dataset graphs are the remote's named
graphs under ``https://w3id.org/secpart/graph/`` (the only ones ``kg`` ever
writes), so a store's system graphs and unrelated data stay out. The timeout
bounds each network step (connecting, each read), as urllib does.

Results are normalized so the same data prints the same bytes on every
engine: SELECT rows through :func:`kg.results.from_sparql_json`, CONSTRUCT
results sorted and de-duplicated, ``"1"^^xsd:boolean`` (Virtuoso stores
values, not lexical forms) as ``"true"``. Tested against Oxigraph server and
Virtuoso 7.

Failures become one-line :class:`~kg.errors.RemoteError` messages (exit code
2): connection refused, HTTP errors (status and the first line of the body),
timeouts, and answers that are not what was asked for (an HTML page, broken
JSON).

:func:`push` copies local graphs to a remote store with SPARQL 1.1 Update
(``INSERT DATA`` in batches inside ``GRAPH``; ``DROP SILENT GRAPH`` first with
``replace``) or, optionally, the SPARQL 1.1 Graph Store Protocol.
:func:`fetch_construct` runs a CONSTRUCT on an endpoint;
:func:`kg.ingest.endpoint.ingest_from_endpoint` stores its result through the
validating ingest path, with its provenance.

>>> from kg.remote import USER_AGENT
>>> USER_AGENT.startswith("kg/")
True
"""

from __future__ import annotations

import ast
import http.client
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Callable

from kg import __version__
from kg.basestore import BaseStore, canonical_nquads
from kg.errors import RemoteError, UsageError
from kg.namespaces import GRAPH, XSD, graph_name
from kg.results import ResultSet, Term, from_sparql_json

__all__ = [
    "USER_AGENT",
    "DEFAULT_TIMEOUT",
    "RemoteStore",
    "push",
    "fetch_construct",
]

USER_AGENT = f"kg/{__version__} (security partnerships knowledge graph; https://w3id.org/secpart)"
DEFAULT_TIMEOUT = 60.0

_JSON_RESULTS = "application/sparql-results+json"
_RDF_ACCEPT = ("application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5, "
               "text/plain;q=0.1")
_EMPTY_GRAPH = "urn:kg:empty"  # names no graph: an empty default graph
_STATUS_OF = {"QueryBadFormed": 400, "Unauthorized": 401, "EndPointNotFound": 404,
              "URITooLong": 414, "EndPointInternalError": 500}


def _form_of(text: str) -> str:
    from kg.sparql import query_form

    form = query_form(text)
    if form == "UPDATE":
        raise UsageError("this is a SPARQL update; queries only read")
    return form


def _check_url(url: str, what: str = "endpoint") -> str:
    parts = urllib.parse.urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"{what} {url!r} is not an http(s) URL")
    return url


def _first_line(body: bytes, limit: int = 200) -> str:
    text = body.decode("utf-8", "replace")
    text = "".join(ch if ch.isprintable() or ch in "\n\r\t" else "?" for ch in text).strip()
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    if len(line) > limit:
        line = line[:limit] + "..."
    return line


def _sw_body(exc: Exception) -> bytes:
    """The response body a SPARQLWrapper exception carries (inside its message)."""
    msg = str(exc)
    marker = "Response:\n"
    if marker in msg:
        raw = msg.split(marker, 1)[1].strip()
        try:
            val = ast.literal_eval(raw)
            if isinstance(val, bytes):
                return val
            return str(val).encode()
        except (ValueError, SyntaxError):
            return raw.encode()
    return b""


def _is_timeout(exc: BaseException) -> bool:
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return True
    reason = getattr(exc, "reason", None)
    return isinstance(reason, (socket.timeout, TimeoutError))


def _network_error(exc: BaseException, url: str, timeout: float) -> RemoteError:
    """A one-line RemoteError for a failure to talk to ``url``."""
    if _is_timeout(exc):
        return RemoteError(f"the remote endpoint {url} did not answer within {timeout:g} s "
                           "(raise --timeout, or simplify the query)")
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, ConnectionRefusedError):
        return RemoteError(f"cannot reach the remote endpoint {url}: connection refused "
                           "(is the server running?)")
    if isinstance(reason, socket.gaierror):
        return RemoteError(f"cannot reach the remote endpoint {url}: unknown host")
    if isinstance(exc, (http.client.RemoteDisconnected, ConnectionError)):
        return RemoteError(f"the remote endpoint {url} closed the connection without an answer")
    if isinstance(exc, http.client.HTTPException):
        return RemoteError(f"the remote endpoint {url} sent an answer that is not HTTP "
                           f"({type(exc).__name__}: {_first_line(str(exc).encode()) or 'no detail'})")
    text = str(reason) or type(reason).__name__
    return RemoteError(f"cannot reach the remote endpoint {url}: {_first_line(text.encode())}")


def _error_body(exc: urllib.error.HTTPError) -> bytes:
    """The body of an HTTP error answer, or nothing when it cannot be read."""
    try:
        return exc.read()
    except OSError:
        return b""


def _http_error(status: int, body: bytes, url: str, *, update: bool = False) -> RemoteError:
    detail = _first_line(body) or http.client.responses.get(status, "")
    verb = "refused the update" if update and status in (400, 401, 403, 405) else "answered"
    return RemoteError(f"the remote endpoint {url} {verb}: HTTP {status}"
                       + (f": {detail}" if detail else ""))


class RemoteStore(BaseStore):
    """A remote SPARQL 1.1 store, read through SPARQLWrapper.

    :param endpoint: the SPARQL query endpoint (e.g. ``http://127.0.0.1:7878/query``).
    :param update_endpoint: the update endpoint, for writes (optional).
    :param timeout: seconds to wait for each request (default 60).

    Example::

        store = RemoteStore("http://127.0.0.1:7878/query")
        store.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").dicts()
    """

    kind = "remote"

    def __init__(self, endpoint: str, *, update_endpoint: str | None = None,
                 timeout: float | None = None):
        self.endpoint = _check_url(endpoint)
        self.update_endpoint = _check_url(update_endpoint, "update endpoint") if update_endpoint \
            else None
        self.timeout = float(timeout) if timeout else DEFAULT_TIMEOUT
        self.location = endpoint
        self._graph_iris: list[str] | None = None
        self._server: str | None = None

    # -- transport ------------------------------------------------------------
    def request(self, text: str, *, accept: str, dataset: list[str] | None = None,
                update: bool = False) -> tuple[bytes, str]:
        """Send a query (or update) and return ``(body, content type)``.

        ``dataset`` lists the graph IRIs that make the default graph (and the
        named graphs); None leaves the dataset to the server.
        """
        from SPARQLWrapper import JSON, POST, URLENCODED, SPARQLWrapper
        from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

        url = (self.update_endpoint or self.endpoint) if update else self.endpoint
        sw = SPARQLWrapper(self.endpoint, updateEndpoint=self.update_endpoint or self.endpoint,
                           returnFormat=JSON, agent=USER_AGENT)
        sw.setMethod(POST)
        sw.setRequestMethod(URLENCODED)
        sw.setOnlyConneg(True)
        sw.timeout = self.timeout  # setTimeout() would truncate fractions of a second
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sw.setQuery(text)
        # our own reading of the form, not SPARQLWrapper's regular expression
        sw.queryType = "INSERT" if update else _form_of(text)
        for g in dataset if dataset is not None else []:
            sw.addParameter("default-graph-uri", g)
            sw.addParameter("named-graph-uri", g)
        sw.addCustomHttpHeader("Accept", accept)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = sw.query()
            resp = result.response
            from kg.resources import max_bytes

            limit = max_bytes()  # an endless answer must not exhaust memory
            body = resp.read(limit + 1)
            if len(body) > limit:
                raise RemoteError(f"{url} answered more than {limit:,} bytes "
                                  "(KG_MAX_INPUT_BYTES changes the limit)")
            ctype = resp.headers.get("Content-Type", "") or ""
            self._server = resp.headers.get("Server") or self._server
        except urllib.error.HTTPError as exc:
            raise _http_error(exc.code, _error_body(exc), url, update=update) from None
        except SPARQLWrapperException as exc:
            status = _STATUS_OF.get(type(exc).__name__, 0)
            raise _http_error(status, _sw_body(exc), url, update=update) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            raise _network_error(exc, url, self.timeout) from None
        except ValueError as exc:  # e.g. a malformed URL urllib cannot open
            raise RemoteError(f"cannot send a request to {url}: {exc}") from None
        return body, ctype

    def _json(self, text: str, dataset: list[str] | None) -> dict:
        body, ctype = self.request(text, accept=_JSON_RESULTS, dataset=dataset)
        try:
            doc = json.loads(body.decode("utf-8"))
            if not isinstance(doc, dict):
                raise ValueError("not an object")
        except (UnicodeDecodeError, ValueError):
            raise RemoteError(
                f"the remote endpoint {self.endpoint} did not return SPARQL JSON results "
                f"(got {ctype.split(';')[0] or 'no content type'}: {_first_line(body, 80)!r})"
            ) from None
        return doc

    @staticmethod
    def _dataset(graphs: list[str]) -> list[str]:
        return list(graphs) if graphs else [_EMPTY_GRAPH]

    # -- BaseStore ------------------------------------------------------------
    def graph_iris(self) -> list[str]:
        """The dataset graphs: named graphs under ``https://w3id.org/secpart/graph/``.

        As in the local store (where ``kg ingest`` only writes graphs there),
        other graphs of the remote store (a triple store's system graphs, a
        user's unrelated data) are not part of the dataset. Graphs are listed
        with ``GRAPH ?g { }``; engines that do not enumerate graphs that way
        (Virtuoso) are asked with ``GRAPH ?g { ?s ?p ?o }``.
        """
        if self._graph_iris is None:
            out = set()
            for text in ("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }",
                         "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
                         f'FILTER(STRSTARTS(STR(?g), "{GRAPH}")) }}'):
                rs = self._select_raw(text, None)
                for row in rs.rows:
                    g = row[0] if row else None
                    if g is None or g.kind != "uri" or not g.value.startswith(GRAPH):
                        continue
                    out.add(g.value)
                if any(row and row[0] is not None for row in rs.rows):
                    break
            self._graph_iris = sorted(out)
        return list(self._graph_iris)

    def _select_raw(self, text: str, dataset: list[str] | None) -> ResultSet:
        doc = self._json(text, dataset)
        try:
            rs = from_sparql_json(doc)
        except ValueError as exc:
            raise RemoteError(f"the remote endpoint {self.endpoint} returned malformed "
                              f"SPARQL JSON results: {exc}") from None
        if any(t is not None and t.datatype == _BOOLEAN and t.value in ("0", "1")
               for row in rs.rows for t in row):
            rs.rows = [tuple(_canonical_boolean(t) for t in row) for row in rs.rows]
        return rs

    def _select(self, text: str, graphs: list[str]) -> ResultSet:
        return self._select_raw(text, self._dataset(graphs))

    def _ask(self, text: str, graphs: list[str]) -> bool:
        doc = self._json(text, self._dataset(graphs))
        value = doc.get("boolean")
        if value is None and isinstance(doc.get("results"), dict):
            # Virtuoso answers ASK in JSON as a one-column SELECT (__ASK_RETVAL)
            rows = doc["results"].get("bindings")
            if isinstance(rows, list):
                value = any(str(v.get("value")) in ("1", "true")
                            for b in rows if isinstance(b, dict)
                            for v in b.values() if isinstance(v, dict))
        if not isinstance(value, bool):
            raise RemoteError(f"the remote endpoint {self.endpoint} returned no boolean "
                              "for an ASK query")
        return value

    def _construct(self, text: str, graphs: list[str]) -> bytes:
        body, ctype = self.request(text, accept=_RDF_ACCEPT, dataset=self._dataset(graphs))
        nt = _to_ntriples(body, ctype, self.endpoint)
        return canonical_nquads(nt.split(b"\n"))

    def graph_lines(self, iri: str) -> list[bytes]:
        """N-Quads lines of one graph, serialized exactly as the local store does.

        The graph is read with a SELECT (JSON); the terms are rebuilt as
        pyoxigraph terms and serialized by pyoxigraph, so the lines (and hence
        the fingerprints) match the local store's byte for byte. An endpoint
        that caps result sizes (Virtuoso's ResultSetMaxRows) is detected by
        comparing with a COUNT, and the graph is then read in ordered pages.
        """
        import pyoxigraph as ox

        if "<" in iri or ">" in iri or " " in iri:
            raise UsageError(f"not a graph IRI: {iri!r}")
        base = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}"
        rs = self._select_raw(base, None)
        rows = list(rs.rows)
        count_rs = self._select_raw(
            f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}", None)
        try:
            total = int(count_rs.rows[0][0].value)
        except (IndexError, TypeError, ValueError, AttributeError):
            raise RemoteError(f"the remote endpoint {self.endpoint} gave no triple count "
                              f"for graph <{iri}>") from None
        if len(rows) < total and rows:
            page = len(rows)
            rows = []
            while len(rows) < total:
                got = self._select_raw(f"{base} ORDER BY ?s ?p ?o LIMIT {page} OFFSET {len(rows)}",
                                       None).rows
                if not got:
                    break
                rows.extend(got)
        if len(rows) < total:
            raise RemoteError(f"the remote endpoint {self.endpoint} returned {len(rows)} of the "
                              f"{total} triples of graph <{iri}>")
        g = ox.NamedNode(iri)
        quads = []
        for s, p, o in rows:
            try:
                quads.append(ox.Quad(_ox_term(s), _ox_term(p), _ox_term(o), g))
            except (ValueError, TypeError) as exc:
                raise RemoteError(f"the remote endpoint {self.endpoint} returned a bad term in "
                                  f"graph <{iri}>: {exc}") from None
        data = ox.serialize(quads, format=ox.RdfFormat.N_QUADS)
        return [line for line in data.split(b"\n") if line]

    def engine_version(self) -> str:
        if self._server is None:
            self._json("ASK { }", [_EMPTY_GRAPH])
        return f"{self._server or 'SPARQL endpoint'} at {self.endpoint}"


_BOOLEAN = XSD + "boolean"


def _canonical_boolean(t):
    """``"1"^^xsd:boolean`` as ``"true"^^xsd:boolean`` (Virtuoso stores values, not lexical forms)."""
    if t is not None and t.datatype == _BOOLEAN and t.value in ("0", "1"):
        return Term("literal", "true" if t.value == "1" else "false", _BOOLEAN)
    return t


def _ox_term(t):
    import pyoxigraph as ox

    if t is None:
        raise ValueError("unbound term")
    if t.kind == "uri":
        return ox.NamedNode(t.value)
    if t.kind == "bnode":
        return ox.BlankNode(t.value)
    if t.lang:
        return ox.Literal(t.value, language=t.lang)
    if t.datatype:
        return ox.Literal(t.value, datatype=ox.NamedNode(t.datatype))
    return ox.Literal(t.value)


def _rdf_format_of(ctype: str):
    import pyoxigraph as ox

    mime = ctype.split(";")[0].strip().lower()
    return {
        "application/n-triples": ox.RdfFormat.N_TRIPLES,
        "text/plain": ox.RdfFormat.N_TRIPLES,
        "text/turtle": ox.RdfFormat.TURTLE,
        "application/x-turtle": ox.RdfFormat.TURTLE,
        "application/rdf+xml": ox.RdfFormat.RDF_XML,
        "application/n-quads": ox.RdfFormat.N_QUADS,
        "application/ld+json": ox.RdfFormat.JSON_LD,
    }.get(mime)


def _to_ntriples(body: bytes, ctype: str, url: str) -> bytes:
    """Parse an RDF answer (by content type) and serialize it as N-Triples."""
    import pyoxigraph as ox

    fmt = _rdf_format_of(ctype)
    if fmt is None:
        raise RemoteError(f"the remote endpoint {url} did not return RDF "
                          f"(got {ctype.split(';')[0] or 'no content type'}: "
                          f"{_first_line(body, 80)!r})")
    try:
        if fmt == ox.RdfFormat.JSON_LD:
            raise RemoteError(f"the remote endpoint {url} answered JSON-LD; "
                              "kg asks for N-Triples or Turtle")
        triples = [q.triple for q in ox.parse(body, format=fmt)] if fmt == ox.RdfFormat.N_QUADS \
            else list(ox.parse(body, format=fmt))
    except SyntaxError as exc:
        raise RemoteError(f"the remote endpoint {url} returned RDF that does not parse: "
                          f"{_first_line(str(exc).encode())}") from None
    return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)


# ---------------------------------------------------------------------------- push

def _gsp_request(url: str, iri: str, data: bytes, *, method: str, timeout: float) -> None:
    sep = "&" if "?" in url else "?"
    target = f"{url}{sep}graph={urllib.parse.quote(iri, safe='')}"
    req = urllib.request.Request(target, data=data, method=method,
                                 headers={"Content-Type": "application/n-triples",
                                          "User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            resp.read()
    except urllib.error.HTTPError as exc:
        raise _http_error(exc.code, _error_body(exc), url, update=True) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise _network_error(exc, url, timeout) from None


def push(local_store: BaseStore, update_url: str | None, graphs: list[str] | None = None, *,
         replace: bool = False, batch: int = 1000, gsp: str | None = None,
         progress: Callable[[str, int, int], None] | None = None,
         timeout: float | None = None) -> dict[str, int]:
    """Copy named graphs of the local store to a remote store.

    :param local_store: the store to read (usually a LocalStore opened read-only).
    :param update_url: the remote SPARQL 1.1 Update endpoint (None with ``gsp``).
    :param graphs: short names of the graphs to copy (default: all).
    :param replace: empty each remote graph first (``DROP SILENT GRAPH``); else add to it.
    :param batch: triples per request.
    :param gsp: a SPARQL 1.1 Graph Store Protocol URL to send the data to instead
        (``PUT`` for the first batch when replacing, ``POST`` after).
    :param progress: called as ``progress(graph_name, triples_sent, triples_total)``.
    :param timeout: seconds per request (default 60).
    :returns: triples sent per graph (short name to count).

    The data is sent in canonical (sorted) order, so the same store always
    sends the same requests. A push is not one transaction on the remote:
    if it stops half way, run it again with ``replace=True``.

    Example: ``push(store, "http://127.0.0.1:7878/update", ["curated"], replace=True)``.
    """
    if batch < 1:
        raise UsageError("--batch must be at least 1")
    if not update_url and not gsp:
        raise UsageError("give the remote's SPARQL Update URL (or --update-endpoint URL), or --gsp URL")
    if gsp:
        _check_url(gsp, "Graph Store Protocol URL")
    remote = (RemoteStore(update_url, update_endpoint=update_url, timeout=timeout)
              if update_url and not gsp else None)
    wait = float(timeout) if timeout else DEFAULT_TIMEOUT
    sent: dict[str, int] = {}
    for iri in local_store.graph_iris_of(graphs):
        name = graph_name(iri)
        suffix = b" <" + iri.encode() + b"> ."
        lines = canonical_nquads(local_store.graph_lines(iri)).split(b"\n")
        triples = [ln[: -len(suffix)] + b" ." for ln in lines if ln.endswith(suffix)]
        total = len(triples)
        done = 0
        if progress:
            progress(name, 0, total)
        if replace and not gsp:
            _push_update(remote, f"DROP SILENT GRAPH <{iri}>", name, 0, total)
        if replace and gsp and total == 0:
            _gsp_request(gsp, iri, b"", method="PUT", timeout=wait)
        for start in range(0, total, batch):
            chunk = b"\n".join(triples[start:start + batch]).decode("utf-8")
            if gsp:
                method = "PUT" if replace and start == 0 else "POST"
                try:
                    _gsp_request(gsp, iri, chunk.encode("utf-8") + b"\n", method=method,
                                 timeout=wait)
                except RemoteError as exc:
                    raise RemoteError(f"push of graph {name} stopped after {done} of {total} "
                                      f"triples: {exc.message}") from None
            else:
                _push_update(remote, f"INSERT DATA {{ GRAPH <{iri}> {{\n{chunk}\n}} }}",
                             name, done, total)
            done += min(batch, total - start)
            if progress:
                progress(name, done, total)
        sent[name] = total
    return sent


def _push_update(remote: RemoteStore, text: str, name: str, done: int, total: int) -> None:
    try:
        remote.request(text, accept="*/*", update=True)
    except RemoteError as exc:
        raise RemoteError(f"push of graph {name} stopped after {done} of {total} triples: "
                          f"{exc.message}") from None


# ---------------------------------------------------------------------------- ingest

def fetch_construct(endpoint: str, text: str, *, timeout: float | None = None) -> bytes:
    """Run a CONSTRUCT (or DESCRIBE) query on ``endpoint`` and return N-Triples.

    The query goes as written: the endpoint's own default graph, and any
    SERVICE clauses run on the remote server, not here.
    """
    from kg.sparql import query_form

    form = query_form(text)
    if form not in ("CONSTRUCT", "DESCRIBE"):
        raise UsageError(f"--from-endpoint needs a CONSTRUCT or DESCRIBE query, not {form}")
    remote = RemoteStore(endpoint, timeout=timeout)
    body, ctype = remote.request(text, accept=_RDF_ACCEPT, dataset=None)
    return _to_ntriples(body, ctype, endpoint)
