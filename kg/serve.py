"""A read-only SPARQL 1.1 Protocol endpoint over the local store.

``kg serve`` lets other tools (SPARQLWrapper, YASGUI, Protégé, R's SPARQL
package, another ``kg --endpoint``) query the store. It is written here on
:class:`http.server.ThreadingHTTPServer` rather than using Oxigraph's own
server because that one would run ``SERVICE`` clauses (outbound requests)
and accept updates; this one:

- answers ``GET /query?query=...`` and ``POST /query`` with
  ``application/sparql-query`` or form-encoded (``query=...``) bodies;
  ``default-graph-uri`` / ``named-graph-uri`` parameters restrict the dataset
  to those graphs, otherwise the default graph is the union of the dataset
  graphs, as for every ``kg`` command;
- negotiates the standard formats from the ``Accept`` header (or a
  ``format``/``output`` parameter): SPARQL JSON (the default), XML, CSV and TSV
  results for SELECT and ASK; N-Triples (the default) and Turtle for
  CONSTRUCT and DESCRIBE;
- refuses updates with HTTP 403 (``update=``, ``application/sparql-update``,
  or an update sent as a query), and queries with ``SERVICE``, ``LOAD`` or
  ``FROM <file:...>`` with HTTP 400 (:func:`kg.sparql.check_query_safe`)
  unless started with ``allow_network``;
- refuses, with HTTP 400 and before the engine parses anything, queries
  longer or more deeply nested than :func:`kg.sparql.check_query_limits`
  allows (a few thousand nested groups would crash the engine);
- applies a query timeout: each query of the local store runs in a worker
  *process* (at most ``max_workers``, started on demand and reused); when it
  has not finished after ``timeout`` seconds the client gets HTTP 503 and the
  worker is killed, so a slow query gives its worker back (the engine cannot
  interrupt a running query itself). A request that finds every worker busy
  waits in line for one (up to ``timeout`` + :data:`QUEUE_GRACE` seconds), and the listen backlog is
  :data:`LISTEN_BACKLOG`, so bursts are queued rather than dropped;
- answers only requests whose ``Host`` is ``127.0.0.1``, ``localhost``,
  ``[::1]``, the address it is bound to, or a name given with
  ``allow_hosts`` (HTTP 403 otherwise: DNS rebinding), and refuses requests
  from another site: an ``Origin`` whose host is not one of those, or
  ``Sec-Fetch-Site: cross-site`` (a cross-site form post or fetch);
- gives each client :data:`REQUEST_READ_S` seconds to send a request (line,
  headers and body) and serves at most :data:`MAX_CONNECTIONS` connections at
  once (more get HTTP 503 at once), so clients that send slowly or never
  (slowloris) are cut off and cannot use up threads and files; a connection is
  closed after any refusal and whenever a request body was not read, so a body
  is never taken for a second request (request smuggling past the ``Origin``
  check);
- binds 127.0.0.1 unless told otherwise, and holds the store open read-only
  for its lifetime (a ``kg build`` or ``kg ingest`` waits until it stops).

Example::

    from kg.store import open_store
    from kg.serve import make_server
    server = make_server(open_store(".kg"), port=0)
    print(server.endpoint_url)      # http://127.0.0.1:PORT/query
    server.serve_forever()
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TextIO

from kg import __version__
from kg.errors import KgError, QueryRefused, StoreError, UsageError
from kg.escape import terminal
from kg.escape import xml as _xml
from kg.results import ResultSet, Term

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "DEFAULT_TIMEOUT",
    "SparqlServer",
    "make_server",
    "serve",
    "serialize_results",
]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7878
DEFAULT_TIMEOUT = 30.0
MAX_BODY = 1_000_000  # bytes in a POST body
LISTEN_BACKLOG = 256  # connections the kernel queues before the server accepts them
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
QUEUE_GRACE = 30.0  # seconds a queued request waits beyond the query timeout for a worker
REQUEST_READ_S = 20.0  # seconds a client has to send one request: line, headers and body
IDLE_SOCKET_S = 60.0  # seconds one read or write on a connection may wait (a stalled reader)
MAX_CONNECTIONS = 256  # connections served at once; more are answered 503 and closed
_BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
         b"Content-Length: 39\r\nConnection: close\r\n\r\nserver busy: too many open connections\n")

_JSON = "application/sparql-results+json"
_XML = "application/sparql-results+xml"
_CSV = "text/csv"
_TSV = "text/tab-separated-values"
_NT = "application/n-triples"
_TTL = "text/turtle"
_RESULT_TYPES = {
    _JSON: _JSON, "application/json": _JSON,
    _XML: _XML, "application/xml": _XML, "text/xml": _XML,
    _CSV: _CSV, _TSV: _TSV,
}
_GRAPH_TYPES = {_NT: _NT, "text/plain": _NT, _TTL: _TTL, "application/x-turtle": _TTL}
_FORMAT_PARAM = {"json": _JSON, "xml": _XML, "csv": _CSV, "tsv": _TSV,
                 "turtle": _TTL, "ttl": _TTL, "n-triples": _NT, "ntriples": _NT, "nt": _NT}


# ---------------------------------------------------------------- serializations

def _nt_string(value: str) -> str:
    from kg.sparql import escape_string

    return '"' + escape_string(value) + '"'


def _term_kind(t: Term) -> str:
    """Which of the five written forms a term takes: uri, bnode, lang, typed or plain."""
    if t.kind in ("uri", "bnode"):
        return t.kind
    return "lang" if t.lang else ("typed" if t.datatype else "plain")


#: A term's form in SPARQL TSV (literals in N-Triples syntax) and in SPARQL XML results.
_TSV_FORMS = {"uri": "<{v}>", "bnode": "_:{v}", "lang": "{s}@{lang}", "typed": "{s}^^<{dt}>",
              "plain": "{s}"}
_XML_FORMS = {"uri": "<uri>{v}</uri>", "bnode": "<bnode>{v}</bnode>",
              "lang": '<literal xml:lang="{lang}">{v}</literal>',
              "typed": '<literal datatype="{dt}">{v}</literal>', "plain": "<literal>{v}</literal>"}


def _tsv_term(t: Term | None) -> str:
    if t is None:
        return ""
    return _TSV_FORMS[_term_kind(t)].format(v=t.value, s=_nt_string(t.value), lang=t.lang,
                                            dt=t.datatype)


def _xml_term(t: Term) -> str:
    return _XML_FORMS[_term_kind(t)].format(v=_xml(t.value), lang=_xml(t.lang or ""),
                                            dt=_xml(t.datatype or ""))


def serialize_results(result: ResultSet | bool, mime: str) -> bytes:
    """Serialize a SELECT ResultSet or an ASK boolean in a SPARQL results format.

    ``mime`` is one of ``application/sparql-results+json``,
    ``application/sparql-results+xml``, ``text/csv``, ``text/tab-separated-values``
    (W3C SPARQL 1.1 Query Results JSON, XML and CSV/TSV formats).

    >>> serialize_results(True, "application/sparql-results+json")
    b'{"head": {}, "boolean": true}'
    """
    if isinstance(result, bool):
        if mime == _JSON:
            return json.dumps({"head": {}, "boolean": result}).encode()
        if mime == _XML:
            return ('<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
                    f"<head/><boolean>{'true' if result else 'false'}</boolean></sparql>\n").encode()
        return (("true" if result else "false") + "\r\n").encode()
    rs = result
    if mime == _JSON:
        doc = {"head": {"vars": list(rs.variables)},
               "results": {"bindings": [
                   {v: t.to_json() for v, t in zip(rs.variables, row, strict=True) if t is not None}
                   for row in rs.rows]}}
        return json.dumps(doc, ensure_ascii=False).encode("utf-8")
    if mime == _XML:
        parts = ['<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">',
                 "<head>"]
        parts += [f'<variable name="{_xml(v)}"/>' for v in rs.variables]
        parts.append("</head><results>")
        for row in rs.rows:
            parts.append("<result>")
            for v, t in zip(rs.variables, row, strict=True):
                if t is not None:
                    parts.append(f'<binding name="{_xml(v)}">{_xml_term(t)}</binding>')
            parts.append("</result>")
        parts.append("</results></sparql>\n")
        return "".join(parts).encode("utf-8")
    if mime == _CSV:
        import csv
        import io

        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(rs.variables)
        for row in rs.rows:
            w.writerow(["" if t is None else (f"_:{t.value}" if t.kind == "bnode" else t.value)
                        for t in row])
        return buf.getvalue().encode("utf-8")
    if mime == _TSV:
        lines = ["\t".join("?" + v for v in rs.variables)]
        lines += ["\t".join(_tsv_term(t) for t in row) for row in rs.rows]
        return ("\n".join(lines) + "\n").encode("utf-8")
    raise UsageError(f"no results serialization for {mime}")


def _turtle(nt: bytes) -> bytes:
    import pyoxigraph as ox

    from kg.namespaces import GRAPH, PREFIXES

    prefixes = dict(PREFIXES)
    prefixes["graph"] = GRAPH
    triples = list(ox.parse(nt, format=ox.RdfFormat.N_TRIPLES))
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=prefixes)


def _negotiate(accept: str, offered: dict[str, str], default: str) -> str | None:
    """Pick the offered type the Accept header prefers (q-values honoured)."""
    if not accept.strip():
        return default
    best, best_q, best_pos = None, 0.0, 0
    for pos, item in enumerate(accept.split(",")):
        fields = [f.strip() for f in item.split(";")]
        mime = fields[0].lower()
        q = 1.0
        for f in fields[1:]:
            if f.startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        if q <= 0:
            continue
        if mime in offered:
            pick = offered[mime]
        elif mime in ("*/*", "application/*", "text/*"):
            pick = default
        else:
            continue
        # exact types beat wildcards at equal q
        rank = q + (0.0001 if "*" not in mime else 0.0)
        if rank > best_q or (rank == best_q and pos < best_pos):
            best, best_q, best_pos = pick, rank, pos
    return best


# ---------------------------------------------------------------- the server

class _HttpError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _split_host(value: str) -> str:
    """The host name of a ``Host`` header or an origin's authority, lower case, without port."""
    value = value.strip().lower()
    if value.startswith("["):  # [::1]:7878
        return value[1:].split("]", 1)[0]
    if value.count(":") == 1:
        value = value.split(":", 1)[0]
    return value.rstrip(".")


def _worker_entry(fd_in: str, fd_out: str, store_path: str) -> None:  # pragma: no cover
    """The worker process's entry point (``python -c``): queries in on one pipe, answers out."""
    from multiprocessing.connection import Connection

    _worker_main(Connection(int(fd_in), writable=False), Connection(int(fd_out), readable=False),
                 store_path)


#: the environment variable through which the server gives a worker its memory limit
_WORKER_MEMORY_ENV = "KG_WORKER_MEMORY_BYTES"


def worker_memory(workers: int) -> int:
    """Bytes of address space each query worker of :func:`serve` may take.

    ``$KG_SERVE_WORKER_MEMORY`` (MiB) if set, else the machine's memory shared among the
    workers and the server; at least 2 GiB either way (the address space holds the
    reserved stacks of the engine's and the parser's threads, 512 MiB each). A query past it ends its worker (the
    engine cannot allocate; the client is answered 500 and the worker restarted): a
    1 KB query doubling a string 31 times grew one worker to 5.3 GB before its deadline,
    and four such workers would take the machine.

    >>> worker_memory(4) >= 2 << 30
    True
    """
    import os

    from kg.resources import env_int

    mib = env_int("KG_SERVE_WORKER_MEMORY", 0)
    if mib > 0:
        return max(2 << 30, mib << 20)
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not a POSIX system that says
        return 4 << 30
    return max(2 << 30, total // (workers + 1))


def _limit_memory() -> None:  # pragma: no cover - runs in the worker
    """Apply the limit the server passed (RLIMIT_AS), where the system has one."""
    import os

    limit = os.environ.get(_WORKER_MEMORY_ENV)
    if not limit:
        return
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (int(limit), int(limit)))
    except (ImportError, ValueError, OSError):
        pass


def _worker_main(conn, out, store_path: str) -> None:  # pragma: no cover - runs in the worker
    """A query worker: open the store read-only, answer queries from ``conn`` on ``out``."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server stops its workers itself
    _limit_memory()
    from kg.store import LocalStore

    try:
        store = LocalStore(store_path)
        from kg.sparql import check_query_safe

        check_query_safe("ASK {}")  # load the guard's parser now, not in the first query's time
    except BaseException as exc:  # noqa: BLE001 - reported to the server
        out.send(("error", type(exc).__name__, str(exc)))
        return
    out.send(("ready",))
    while True:
        try:
            text, graphs, allow_network = conn.recv()
        except (EOFError, OSError):
            break
        try:
            out.send(("ok", store.query(text, graphs=graphs, allow_network=allow_network)))
        except KgError as exc:
            out.send(("error", type(exc).__name__, exc.one_line()))
        except Exception as exc:  # noqa: BLE001 - the server answers 500 with one line
            out.send(("error", "Exception", f"{type(exc).__name__}: {exc}"))
    store.close()


class _Worker:
    """One query worker process (``python -c``, not a fork of the threaded server) and its pipes."""

    def __init__(self, store_path: str, memory: int | None = None):
        import os
        import subprocess
        from multiprocessing.connection import Connection
        from pathlib import Path

        import kg

        to_child, from_parent = os.pipe()[::-1]  # (write end, read end)
        from_child, to_parent = os.pipe()
        env = dict(os.environ)
        root = str(Path(kg.__file__).resolve().parents[1])  # this kg, whatever the path says
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        if memory:
            env[_WORKER_MEMORY_ENV] = str(memory)
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", "import sys; from kg.serve import _worker_entry; "
                 "_worker_entry(*sys.argv[1:])", str(from_parent), str(to_parent), store_path],
                pass_fds=(from_parent, to_parent), env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL)
        finally:
            os.close(from_parent)
            os.close(to_parent)
        self.conn = _Duplex(Connection(to_child, readable=False),
                            Connection(from_child, writable=False))
        try:
            if not self.conn.poll(60):
                raise StoreError("a query worker did not start within 60 s")
            msg = self.conn.recv()
        except (EOFError, OSError):
            self.kill()
            raise StoreError("a query worker ended as it started") from None
        except StoreError:
            self.kill()
            raise
        if msg[0] != "ready":
            self.kill()
            raise StoreError(f"a query worker could not open the store: {msg[2]}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(5)
        except Exception:  # noqa: BLE001 - a zombie is reaped by the next wait
            pass
        self.conn.close()


class _Duplex:
    """Two one-way Connections used as one (send on one, receive on the other)."""

    def __init__(self, out, inp):
        self.out, self.inp = out, inp

    def send(self, obj) -> None:
        self.out.send(obj)

    def poll(self, timeout: float) -> bool:
        return self.inp.poll(timeout)

    def recv(self):
        return self.inp.recv()

    def close(self) -> None:
        for c in (self.out, self.inp):
            try:
                c.close()
            except OSError:
                pass


class _ProcessPool:
    """At most ``size`` worker processes over one store folder; a worker past its time is killed."""

    def __init__(self, store_path: str, size: int):
        import queue

        self.store_path = store_path
        self.size = size
        self.memory = worker_memory(size)
        self.idle: queue.Queue = queue.Queue()
        self.started = 0
        self.lock = threading.Lock()
        self.closed = False

    def _take(self, wait: float) -> _Worker:
        import queue

        try:
            return self.idle.get_nowait()
        except queue.Empty:
            pass
        with self.lock:
            start = self.started < self.size
            if start:
                self.started += 1
        if start:
            try:
                return _Worker(self.store_path, self.memory)
            except BaseException:
                with self.lock:
                    self.started -= 1
                raise
        try:  # every worker is busy: wait in line for one
            return self.idle.get(timeout=wait)
        except queue.Empty:
            raise _HttpError(503, "server busy: every query worker stayed busy; "
                                  "try again later") from None

    def _drop(self, worker: _Worker, *, replace: bool = False) -> None:
        worker.kill()
        with self.lock:
            self.started -= 1
        if replace and not self.closed:
            self.prestart()

    def prestart(self) -> None:
        """Start one worker in the background (if there is room), so the next query finds it warm."""
        with self.lock:
            if self.started >= self.size:
                return
            self.started += 1

        def start():
            try:
                worker = _Worker(self.store_path, self.memory)
            except BaseException:  # noqa: BLE001 - the next query starts one and reports
                with self.lock:
                    self.started -= 1
                return
            if self.closed:
                self._drop(worker)
            else:
                self.idle.put(worker)

        threading.Thread(target=start, name="kg-serve-start-worker", daemon=True).start()

    def run(self, text: str, graphs, allow_network: bool, timeout: float):
        # a request waits in line while every worker is busy: busy ones are freed (or killed)
        # within ``timeout``, and a replacement takes a moment to start
        worker = self._take(timeout + QUEUE_GRACE)
        try:
            worker.conn.send((text, graphs, allow_network))
            if not worker.conn.poll(timeout):
                self._drop(worker, replace=True)  # the only way to stop the engine: end its process
                raise _HttpError(503, f"query timed out after {timeout:g} s")
            msg = worker.conn.recv()
        except (EOFError, OSError):
            self._drop(worker, replace=True)
            raise _HttpError(500, "the query ended its worker process (it was restarted)") from None
        if self.closed:
            self._drop(worker)
        else:
            self.idle.put(worker)
        if msg[0] == "ok":
            return msg[1]
        import kg.errors as errors

        cls = getattr(errors, msg[1], None)
        if isinstance(cls, type) and issubclass(cls, KgError):
            raise cls(msg[2])
        raise _HttpError(500, f"internal error: {msg[2]}")

    def close(self) -> None:
        import queue

        self.closed = True
        while True:
            try:
                self._drop(self.idle.get_nowait())
            except queue.Empty:
                break


class SparqlServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that answers read-only SPARQL queries over one store."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, store, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *,
                 timeout: float = DEFAULT_TIMEOUT, allow_network: bool = False,
                 max_workers: int = 4, log: TextIO | None = None,
                 allow_hosts: list[str] | tuple[str, ...] = (),
                 request_read_timeout: float = REQUEST_READ_S,
                 max_connections: int = MAX_CONNECTIONS):
        import math

        if not math.isfinite(float(timeout)) or float(timeout) <= 0:
            raise UsageError(f"the query timeout must be a positive number of seconds, not {timeout}")
        self.store = store
        self.query_timeout = float(timeout)
        self.allow_network = allow_network
        self.log = log
        self.workers = threading.BoundedSemaphore(max_workers)
        self.request_read_timeout = float(request_read_timeout)
        self.connections = threading.BoundedSemaphore(max_connections)
        hosts = {h.lower() for h in LOCAL_HOSTS}
        if host not in ("", "0.0.0.0", "::"):
            hosts.add(_split_host(host if ":" not in host else f"[{host}]"))
        hosts.update(_split_host(h) for h in allow_hosts if h.strip())
        self.allowed_hosts = frozenset(hosts)
        from kg.store import LocalStore

        self.pool = (_ProcessPool(str(store.path), max_workers)
                     if isinstance(store, LocalStore) else None)
        if ":" in host:  # an IPv6 address (--host ::1)
            self.address_family = socket.AF_INET6
        super().__init__((host, port), _Handler)
        if self.pool is not None:
            self.pool.prestart()

    def server_close(self) -> None:
        super().server_close()
        if self.pool is not None:
            self.pool.close()

    def process_request(self, request, client_address) -> None:
        """Serve the connection in a thread of its own, or answer 503 and close it when
        :data:`MAX_CONNECTIONS` are open already (no thread is started for it)."""
        if not self.connections.acquire(blocking=False):
            try:
                request.settimeout(1.0)
                request.sendall(_BUSY)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:  # no thread: the slot is given back here
            self.connections.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.connections.release()

    def handle_error(self, request, client_address) -> None:
        """One line in the log, never a traceback, for an error no handler caught.

        A client that leaves before its answer is sent (a broken pipe, a reset) is not
        an error of the server's and is only logged; anything else also goes to stderr
        as one line. (socketserver printed a traceback to stderr for each, even with
        ``--quiet``: six hundred such clients wrote a megabyte.)
        """
        exc = sys.exc_info()[1]
        gone = isinstance(exc, (BrokenPipeError, ConnectionResetError, ConnectionAbortedError))
        line = (f"{client_address[0]} - {'client left' if gone else 'error'}: "
                f"{type(exc).__name__}: {terminal(str(exc))}\n")
        streams = [self.log] if gone else [self.log, sys.stderr]
        for stream in {id(s): s for s in streams if s is not None}.values():
            try:
                stream.write(line)
                stream.flush()
            except (OSError, ValueError):
                pass

    @property
    def endpoint_url(self) -> str:
        """The query endpoint, ``http://HOST:PORT/query``."""
        host, port = self.server_address[:2]
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}/query"

    def run_query(self, text: str, graphs: list[str] | None):
        """Run a query in a worker process (a thread for remote stores); 503 past the timeout."""
        if self.pool is not None:
            return self.pool.run(text, graphs, self.allow_network, self.query_timeout)
        if not self.workers.acquire(timeout=self.query_timeout):
            raise _HttpError(503, "server busy: all query workers are running; try again later")
        box: dict = {}
        done = threading.Event()

        def work():
            try:
                box["result"] = self.store.query(text, graphs=graphs,
                                                 allow_network=self.allow_network)
            except BaseException as exc:  # handed to the request thread
                box["error"] = exc
            finally:
                self.workers.release()
                done.set()

        threading.Thread(target=work, name="kg-serve-query", daemon=True).start()
        if not done.wait(self.query_timeout):
            raise _HttpError(503, f"query timed out after {self.query_timeout:g} s")
        if "error" in box:
            raise box["error"]
        return box["result"]


class _Handler(BaseHTTPRequestHandler):
    server: SparqlServer
    server_version = f"kg/{__version__}"
    protocol_version = "HTTP/1.1"
    timeout = IDLE_SOCKET_S  # each read or write; the whole request has REQUEST_READ_S
    # the errors http.server sends itself (a garbled request line, an unknown method, a
    # URL or header too long): one line of text, as kg's own, not an HTML page
    error_message_format = "%(code)d %(message)s\n"
    error_content_type = "text/plain; charset=utf-8"

    def handle_one_request(self):
        """One request, read within the server's ``request_read_timeout``: past it the
        connection is shut down, whatever the client is still sending (or not)."""
        self._body_read = False
        self._reading = threading.Timer(self.server.request_read_timeout, self._cut_off)
        self._reading.daemon = True
        self._reading.start()
        try:
            super().handle_one_request()
        finally:
            self._reading.cancel()

    def _cut_off(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        log = self.server.log
        if log is not None:
            # the request line is the client's: its escapes are shown, not obeyed (the base
            # class escapes control characters; this override did not)
            log.write(terminal(f"{self.address_string()} - {format % args}") + "\n")
            log.flush()

    # -- request parsing -------------------------------------------------------
    def _send(self, status: int, body: bytes, ctype: str) -> None:
        self._reading.cancel()
        # after a refusal, or a request whose body was not read, the connection ends: what
        # is left of that request must never be read as the next one
        unread = (self.headers.get("Transfer-Encoding") is not None
                  or (not self._body_read and (self.headers.get("Content-Length") or "0").strip()
                      not in ("", "0")))
        if status >= 400 or unread:
            self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Vary", "Accept")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: int, message: str) -> None:
        self._send(status, (message.replace("\n", " ") + "\n").encode("utf-8"),
                   "text/plain; charset=utf-8")

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding") is not None:
            raise _HttpError(411, "send the body with a Content-Length (no Transfer-Encoding)")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise _HttpError(400, "bad Content-Length") from None
        if length > MAX_BODY:
            raise _HttpError(413, f"request body over {MAX_BODY} bytes")
        body = self.rfile.read(length) if length > 0 else b""
        if len(body) < length:
            raise _HttpError(400, "the request body ended early")
        self._body_read = True
        self._reading.cancel()  # the request is read: the query's own timeout applies now
        return body

    def _params(self) -> tuple[str, dict[str, list[str]]]:
        url = urllib.parse.urlsplit(self.path)
        params = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        if self.command == "POST":
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            body = self._body()
            if ctype == "application/sparql-update":
                raise _HttpError(403, "updates are refused: this endpoint is read-only")
            if ctype == "application/sparql-query":
                try:
                    params.setdefault("query", []).append(body.decode("utf-8"))
                except UnicodeDecodeError:
                    raise _HttpError(400, "the query is not UTF-8") from None
            elif ctype == "application/x-www-form-urlencoded":
                try:
                    form = urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True,
                                                 strict_parsing=False)
                except UnicodeDecodeError:
                    raise _HttpError(400, "the form is not UTF-8") from None
                for k, v in form.items():
                    params.setdefault(k, []).extend(v)
            else:
                raise _HttpError(415, "POST a query as application/sparql-query or "
                                      "application/x-www-form-urlencoded")
        return url.path, params

    # -- methods ------------------------------------------------------------------
    def do_GET(self):  # noqa: N802 - http.server's naming
        self._handle()

    def do_POST(self):  # noqa: N802
        self._handle()

    def do_PUT(self):  # noqa: N802
        self._refuse_write()

    do_DELETE = do_PATCH = do_PUT  # noqa: N815

    def _refuse_write(self):
        try:
            self._body()
        except _HttpError:
            pass
        self._error(403, "this endpoint is read-only")

    def _check_origin(self) -> None:
        """403 unless the Host is ours (DNS rebinding) and the request is not from another site."""
        allowed = self.server.allowed_hosts
        if len(self.headers.get_all("Host") or ()) > 1 or len(self.headers.get_all("Origin") or ()) > 1:
            raise _HttpError(400, "a request names one Host and at most one Origin")
        host = self.headers.get("Host")
        if host is None and self.request_version != "HTTP/1.0":
            # RFC 9112 section 3.2: a server MUST answer 400 to an HTTP/1.1 request without Host
            raise _HttpError(400, "an HTTP/1.1 request names its Host")
        if host is not None and _split_host(host) not in allowed:
            raise _HttpError(403, f"refused: Host {host.strip()[:100]!r} is not this server "
                                  "(start kg serve with --allow-host NAME to answer to that name)")
        origin = self.headers.get("Origin")
        if origin is not None:
            parts = urllib.parse.urlsplit(origin.strip())
            if parts.scheme not in ("http", "https") or _split_host(parts.netloc) not in allowed:
                raise _HttpError(403, "refused: a request from another site "
                                      f"(Origin {origin.strip()[:100]!r})")
        if (self.headers.get("Sec-Fetch-Site") or "").strip().lower() == "cross-site":
            raise _HttpError(403, "refused: a request from another site (Sec-Fetch-Site: cross-site)")

    def _handle(self):
        try:
            self._check_origin()
            path, params = self._params()
            self._reading.cancel()  # read (a GET has no body): the query's timeout applies
            if path.rstrip("/") in ("/update", "/store"):
                raise _HttpError(403, "updates are refused: this endpoint is read-only")
            if path.rstrip("/") not in ("/query", "/sparql", ""):
                raise _HttpError(404, "not found: the SPARQL endpoint is /query")
            if "update" in params:
                raise _HttpError(403, "updates are refused: this endpoint is read-only")
            queries = params.get("query") or []
            if len(queries) != 1 or not queries[0].strip():
                raise _HttpError(400, "give exactly one query (GET ?query=... or POST)")
            text = queries[0]
            graphs = (params.get("default-graph-uri") or []) + \
                [g for g in params.get("named-graph-uri") or []
                 if g not in (params.get("default-graph-uri") or [])]
            self._answer(text, graphs or None, params)
        except _HttpError as exc:
            self._error(exc.status, exc.message)
        except QueryRefused as exc:
            self._error(400, exc.one_line())
        except UsageError as exc:
            self._error(400, exc.one_line())
        except KgError as exc:
            self._error(500, exc.one_line())
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as exc:  # the server keeps running; the client gets one line
            self._error(500, f"internal error: {type(exc).__name__}: {exc}")

    def _answer(self, text: str, graphs: list[str] | None, params: dict) -> None:
        from kg.sparql import check_query_limits, query_form

        check_query_limits(text)  # before anything parses it
        form = query_form(text)
        if form == "UPDATE":
            raise _HttpError(403, "updates are refused: this endpoint is read-only")
        # the network guard (kg.sparql.check_query_safe) parses the query inside store.query,
        # in the worker, so a query that is slow to parse is bound by the timeout too
        fmt = (params.get("format") or params.get("output") or [""])[0].strip().lower()
        accept = _FORMAT_PARAM.get(fmt) or self.headers.get("Accept") or ""
        if form in ("SELECT", "ASK"):
            mime = _negotiate(accept, _RESULT_TYPES, _JSON)
        else:
            mime = _negotiate(accept, _GRAPH_TYPES, _NT)
        if mime is None:
            raise _HttpError(406, f"cannot answer a {form} query in {accept}")
        result = self.server.run_query(text, graphs)
        if form in ("SELECT", "ASK"):
            body = serialize_results(result, mime)
        else:
            body = result if mime == _NT else _turtle(result)
        charset = "" if mime == _NT else "; charset=utf-8"
        self._send(200, body, mime + charset)


def make_server(store, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *,
                timeout: float = DEFAULT_TIMEOUT, allow_network: bool = False,
                log: TextIO | None = None, allow_hosts: list[str] | tuple[str, ...] = (),
                max_workers: int = 4, request_read_timeout: float = REQUEST_READ_S,
                max_connections: int = MAX_CONNECTIONS) -> SparqlServer:
    """Create (but do not start) the read-only endpoint over ``store``.

    :param store: an open store (the local store, opened read-only).
    :param host: address to bind (127.0.0.1 by default: not reachable from other machines).
    :param port: TCP port; 0 picks a free one (see ``server.endpoint_url``).
    :param timeout: seconds a query may run before the client gets HTTP 503.
    :param allow_network: permit SERVICE, LOAD and FROM <file:> (off by default).
    :param log: where to write one line per request (None: silent).
    :param allow_hosts: more names the ``Host`` header may carry (besides 127.0.0.1,
        localhost, [::1] and the bound address).
    :param max_workers: queries that run at once (each in its own worker process).
    :param request_read_timeout: seconds a client has to send one request.
    :param max_connections: connections served at once (more get HTTP 503).
    """
    try:
        return SparqlServer(store, host, port, timeout=timeout, allow_network=allow_network,
                            log=log, allow_hosts=allow_hosts, max_workers=max_workers,
                            request_read_timeout=request_read_timeout,
                            max_connections=max_connections)
    except OSError as exc:
        raise StoreError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def serve(store, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *,
          timeout: float = DEFAULT_TIMEOUT, allow_network: bool = False,
          out: TextIO | None = None, log: TextIO | None = None,
          allow_hosts: list[str] | tuple[str, ...] = ()) -> None:
    """Serve ``store`` until interrupted; print the endpoint URL as the first line of ``out``.

    Example: ``serve(open_store(".kg"), port=7878)`` prints
    ``http://127.0.0.1:7878/query`` and answers queries until Ctrl-C.
    """
    out = out if out is not None else sys.stdout
    import signal

    server = make_server(store, host, port, timeout=timeout, allow_network=allow_network, log=log,
                         allow_hosts=allow_hosts)

    def _terminate(signum, frame):  # SIGTERM stops the server like Ctrl-C: workers are ended
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    if host.lower() not in LOCAL_HOSTS and not host.startswith("127."):
        sys.stderr.write(f"kg: warning: --host {host}: the endpoint is reachable from other "
                         "machines (127.0.0.1, the default, keeps it to this one)\n")
    try:
        out.write(server.endpoint_url + "\n")
        out.flush()
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
