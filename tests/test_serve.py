"""``kg serve``: a read-only SPARQL 1.1 Protocol endpoint, queried by real clients.

A module fixture builds a store and starts ``kg serve --port 0`` in a
subprocess, reads the endpoint URL from its first line of output, and stops it
by its process id. Clients are SPARQLWrapper, plain urllib and ``kg
--endpoint`` itself.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from processes import ROOT, clean_env, kg, stop

SP = "https://w3id.org/secpart/ontology#"


def ok(*args, **env) -> str:
    res = kg(*args, **env)
    assert res.returncode == 0, f"kg {' '.join(map(str, args))} failed: {res.stderr}"
    return res.stdout


def start_serve(store: Path, *extra, log: Path, **env) -> tuple[subprocess.Popen, str]:
    """Start ``kg serve`` on a free port; return the process and the URL it printed first."""
    errf = open(log, "wb")
    proc = subprocess.Popen([sys.executable, "-m", "kg", "--store", str(store), "serve",
                             "--port", "0", *map(str, extra)],
                            stdout=subprocess.PIPE, stderr=errf, env=clean_env(**env),
                            cwd=str(ROOT))
    errf.close()
    line = proc.stdout.readline().decode().strip()
    if not line:
        proc.wait(timeout=10)
        raise RuntimeError(f"kg serve printed nothing: {log.read_text()}")
    return proc, line


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    store = tmp_path_factory.mktemp("serve") / "store"
    ok("--store", store, "build")
    return store


@pytest.fixture(scope="module")
def server(built, tmp_path_factory):
    proc, url = start_serve(built, "--timeout", "20",
                            log=tmp_path_factory.mktemp("serve-log") / "serve.log")
    try:
        yield url
    finally:
        stop(proc)


def _partners_query() -> str:
    """The saved partners query with state=JPN bound, as any client would send it."""
    from kg.namespaces import state_iri
    from kg.queries import load_query
    from kg.sparql import Iri, bind_values

    q = load_query("partners")
    return bind_values(q.text, {"state": Iri(state_iri("JPN"))})


def _local(built: Path, text: str):
    from kg.store import open_store

    with open_store(built) as store:
        return store.query(text)


def _http(url: str, *, data: bytes | None = None, headers: dict | None = None,
          method: str | None = None) -> tuple[int, str, bytes]:
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()


# ---------------------------------------------------------------- it starts right

def test_prints_endpoint_on_loopback_first(server):
    assert server.startswith("http://127.0.0.1:") and server.endswith("/query")
    port = int(server.rsplit(":", 1)[1].split("/")[0])
    assert port > 0


def test_holds_store_read_only(built, server):
    """While serving, a writer cannot take the store (and a reader can)."""
    res = kg("--store", built, "build", KG_LOCK_TIMEOUT="0.3")
    assert res.returncode == 2 and "store in use" in res.stderr
    assert ok("--store", built, "query", "sparql", "ASK { ?s ?p ?o }") == "true\n"


# ---------------------------------------------------------------- SPARQLWrapper gets correct results

@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sparqlwrapper_select_json(built, server, method):
    from SPARQLWrapper import JSON, SPARQLWrapper

    text = _partners_query()
    sw = SPARQLWrapper(server)
    sw.setMethod(method)
    sw.setQuery(text)
    sw.setReturnFormat(JSON)
    doc = sw.queryAndConvert()
    got = [(b["partner"]["value"], int(b["exercises"]["value"])) for b in doc["results"]["bindings"]]
    local = _local(built, text)
    want = [(r["partner"], r["exercises"]) for r in local.dicts()]
    assert got == want
    assert ("USA", want[0][1]) == got[0]
    assert doc["head"]["vars"] == ["partner", "name", "exercises", "first", "last"]
    assert doc["results"]["bindings"][0]["exercises"]["datatype"].endswith("#integer")


def test_sparqlwrapper_xml_csv_tsv(built, server):
    from SPARQLWrapper import CSV, TSV, XML, SPARQLWrapper

    text = _partners_query()
    want = [(r["partner"], str(r["exercises"])) for r in _local(built, text).dicts()]
    sw = SPARQLWrapper(server)
    sw.setQuery(text)
    sw.setReturnFormat(XML)
    dom = sw.queryAndConvert()
    rows = []
    for res in dom.getElementsByTagName("result"):
        vals = {b.getAttribute("name"): b.firstChild.firstChild.data
                for b in res.getElementsByTagName("binding")}
        rows.append((vals["partner"], vals["exercises"]))
    assert rows == want

    sw.setReturnFormat(CSV)
    table = list(csv.reader(io.StringIO(sw.queryAndConvert().decode())))
    assert table[0] == ["partner", "name", "exercises", "first", "last"]
    assert [(r[0], r[2]) for r in table[1:]] == want

    sw.setReturnFormat(TSV)
    lines = sw.queryAndConvert().decode().splitlines()
    assert lines[0] == "?partner\t?name\t?exercises\t?first\t?last"
    first = lines[1].split("\t")
    assert first[0] == '"USA"'
    assert first[2] == f'"{want[0][1]}"^^<http://www.w3.org/2001/XMLSchema#integer>'
    assert len(lines) == len(want) + 1


def test_sparqlwrapper_ask_and_construct(built, server):
    import pyoxigraph as ox
    from SPARQLWrapper import JSON, TURTLE, SPARQLWrapper

    sw = SPARQLWrapper(server)
    sw.setReturnFormat(JSON)
    sw.setQuery(f"ASK {{ ?s a <{SP}Exercise> }}")
    assert sw.queryAndConvert()["boolean"] is True
    sw.setQuery(f"ASK {{ ?s a <{SP}NoSuchClass> }}")
    assert sw.queryAndConvert()["boolean"] is False

    text = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ ?s a <{SP}State> ; ?p ?o }}"
    sw.setQuery(text)
    sw.setReturnFormat(TURTLE)
    body = sw.queryAndConvert()
    got = set(ox.parse(body, format=ox.RdfFormat.TURTLE))
    want = set(ox.parse(_local(built, text), format=ox.RdfFormat.N_TRIPLES))
    assert len(want) > 500 and got == want
    status, ctype, body = _http(server + "?" + urllib.parse.urlencode({"query": text}),
                                headers={"Accept": "application/n-triples"})
    assert status == 200 and ctype.startswith("application/n-triples")
    assert body == _local(built, text)


def test_post_sparql_query_body_and_dataset(server):
    q = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s a <{SP}Exercise> }}"
    status, ctype, body = _http(server, data=q.encode(), method="POST",
                                headers={"Content-Type": "application/sparql-query",
                                         "Accept": "text/csv"})
    assert status == 200 and ctype.startswith("text/csv")
    n = int(body.decode().splitlines()[1])
    assert n > 100
    # default-graph-uri restricts the default graph: the ontology graph holds no exercise
    url = server + "?" + urllib.parse.urlencode(
        {"default-graph-uri": "https://w3id.org/secpart/graph/ontology"})
    status, _, body = _http(url, data=q.encode(), method="POST",
                            headers={"Content-Type": "application/sparql-query",
                                     "Accept": "text/csv"})
    assert status == 200 and body.decode().splitlines()[1] == "0"


def test_kg_endpoint_against_kg_serve_is_identical(built, server):
    args = ["query", "run", "partners", "--param", "state=JPN", "--format", "csv"]
    assert ok("--endpoint", server, *args) == ok("--store", built, *args)
    fp = [ln for ln in ok("--store", built, "info").splitlines() if ln.startswith("fingerprint:")]
    assert fp and fp[0] in ok("--endpoint", server, "info").splitlines()


# ---------------------------------------------------------------- refusals

def test_update_refused(server):
    from SPARQLWrapper import POST, SPARQLWrapper

    triple = "<https://example.org/a> <https://example.org/b> <https://example.org/c>"
    sw = SPARQLWrapper(server, updateEndpoint=server)
    sw.setMethod(POST)
    sw.setQuery(f"INSERT DATA {{ {triple} }}")
    with pytest.raises(urllib.error.HTTPError) as err:
        sw.query()
    assert err.value.code == 403
    assert b"read-only" in err.value.read()
    for data, ctype in ((f"INSERT DATA {{ {triple} }}".encode(), "application/sparql-update"),
                        (urllib.parse.urlencode({"query": f"INSERT DATA {{ {triple} }}"}).encode(),
                         "application/x-www-form-urlencoded")):
        status, _, body = _http(server, data=data, method="POST", headers={"Content-Type": ctype})
        assert status == 403, body
    status, _, _ = _http(server.replace("/query", "/update"), data=b"x", method="POST",
                         headers={"Content-Type": "application/sparql-update"})
    assert status == 403
    # nothing was written
    status, _, body = _http(server + "?" + urllib.parse.urlencode(
        {"query": f"ASK {{ {triple} }}"}))
    assert status == 200 and json.loads(body)["boolean"] is False


def test_service_and_file_refused(server):
    from SPARQLWrapper import JSON, SPARQLWrapper
    from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

    sw = SPARQLWrapper(server)
    sw.setReturnFormat(JSON)
    sw.setQuery("SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }")
    with pytest.raises(QueryBadFormed) as err:
        sw.query()
    assert "SERVICE" in str(err.value)
    status, _, body = _http(server + "?" + urllib.parse.urlencode(
        {"query": "SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }"}))
    assert status == 400 and b"local file" in body


def test_bad_requests(server):
    status, _, body = _http(server + "?" + urllib.parse.urlencode({"query": "SELECT ?x WHERE {"}))
    assert status == 400 and b"syntax" in body.lower()
    status, _, _ = _http(server)
    assert status == 400
    status, _, _ = _http(server.replace("/query", "/elsewhere"))
    assert status == 404
    status, _, _ = _http(server, data=b"query=ASK{}", method="POST",
                         headers={"Content-Type": "application/octet-stream"})
    assert status == 415


def test_push_to_kg_serve_is_refused(built, server):
    """`kg push` stops with one line when the remote refuses the update."""
    res = kg("--store", built, "push", server.replace("/query", "/update"), "--graph", "ontology")
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    last = res.stderr.splitlines()[-1]
    assert last.startswith("kg: error: push of graph ontology stopped after 0 of ")
    assert "HTTP 403" in last


# ---------------------------------------------------------------- timeout

def test_query_timeout_answers_503(built, tmp_path):
    proc, url = start_serve(built, "--timeout", "0.5", log=tmp_path / "serve.log")
    try:
        heavy = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f }"
        t0 = time.monotonic()
        status, _, body = _http(url + "?" + urllib.parse.urlencode({"query": heavy}))
        elapsed = time.monotonic() - t0
        assert status == 503 and b"timed out after 0.5 s" in body
        assert elapsed < 5
        # the server still answers other queries while the runaway one is dropped
        status, _, body = _http(url + "?" + urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"}))
        assert status == 200 and json.loads(body)["boolean"] is True
    finally:
        stop(proc)


# ---------------------------------------------------------------- issue 18: hostile requests

ASK_EMPTY = "?" + urllib.parse.urlencode({"query": "ASK {}"})


def _still_answers(url: str, within: float = 5.0) -> None:
    """``ASK {}`` gets 200 true within ``within`` seconds."""
    t0 = time.monotonic()
    status, _, body = _http(url + ASK_EMPTY)
    assert status == 200 and json.loads(body)["boolean"] is True, (status, body)
    assert time.monotonic() - t0 < within


def test_cross_site_form_post_with_cr_comment_reaches_nobody(server):
    """A form post whose comment ends at CR cannot smuggle SERVICE past the guard."""
    import http.server
    import threading

    seen = []

    class Rec(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            seen.append(self.path)
            self.send_response(500)
            self.end_headers()

        do_POST = do_GET  # noqa: N815

        def log_message(self, *a):
            pass

    srv = http.server.HTTPServer(("127.0.0.1", 0), Rec)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        target = f"http://127.0.0.1:{srv.server_address[1]}/sparql"
        q = f"SELECT * WHERE {{ # c\rSERVICE <{target}> {{ ?s ?p ?o }} }}"
        form = urllib.parse.urlencode({"query": q}).encode()
        ctype = {"Content-Type": "application/x-www-form-urlencoded"}
        status, _, body = _http(server, data=form, method="POST", headers=ctype)
        assert status == 400, body
        # from another site the same post is refused before it is even read
        status, _, body = _http(server, data=form, method="POST",
                                headers={**ctype, "Origin": "http://evil.example"})
        assert status == 403 and b"another site" in body
        assert seen == []
    finally:
        srv.shutdown()
        srv.server_close()
    _still_answers(server)


@pytest.mark.parametrize("depth", [3000, 20000])
def test_deep_nesting_is_400_and_the_server_lives(server, depth):
    q = "SELECT * WHERE " + "{" * depth + "}" * depth
    status, _, body = _http(server + "?" + urllib.parse.urlencode({"query": q}))
    if depth == 3000:  # 18 KB: one GET; the longer one is past the request line's limit (414)
        assert status == 400 and b"levels deep" in body, body
    else:
        assert status == 414
    status, _, body = _http(server, data=q.encode(), method="POST",
                            headers={"Content-Type": "application/sparql-query"})
    assert status == 400 and b"levels deep" in body, body
    _still_answers(server)


@pytest.mark.parametrize("headers,status", [
    ({"Host": "evil.example"}, 403),
    ({"Host": "evil.example:7878"}, 403),
    ({"Host": "localhost"}, 200),
    ({"Origin": "http://evil.example"}, 403),
    ({"Origin": "null"}, 403),
    ({"Sec-Fetch-Site": "cross-site"}, 403),
    ({"Sec-Fetch-Site": "same-origin"}, 200),
])
def test_host_and_origin_checked(server, headers, status):
    got, _, body = _http(server + ASK_EMPTY, headers=headers)
    assert got == status, body


def test_own_origin_and_allowed_host(built, tmp_path):
    proc, url = start_serve(built, "--allow-host", "kg.internal", log=tmp_path / "serve.log")
    try:
        port = url.rsplit(":", 1)[1].split("/")[0]
        for headers in ({"Host": "kg.internal"}, {"Host": f"kg.internal:{port}"},
                        {"Origin": f"http://127.0.0.1:{port}"}, {"Origin": "http://kg.internal"}):
            status, _, body = _http(url + ASK_EMPTY, headers=headers)
            assert status == 200, (headers, body)
        status, _, _ = _http(url + ASK_EMPTY, headers={"Host": "other.internal"})
        assert status == 403
    finally:
        stop(proc)


def test_slow_queries_are_killed_and_the_server_recovers(built, tmp_path):
    """More slow queries than workers: each gets 503, its worker is ended, then ASK {} works."""
    import concurrent.futures

    import psutil

    proc, url = start_serve(built, "--timeout", "1", log=tmp_path / "serve.log")
    try:
        heavy = url + "?" + urllib.parse.urlencode(
            {"query": "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f }"})
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            statuses = [f.result()[0] for f in [pool.submit(_http, heavy) for _ in range(6)]]
        assert statuses == [503] * 6
        _still_answers(url)
        time.sleep(0.5)
        busy = [p for p in psutil.Process(proc.pid).children(recursive=True)
                if p.cpu_percent(interval=0.3) > 50]
        assert busy == [], "a timed-out query still runs"
    finally:
        stop(proc)


def test_two_hundred_simultaneous_requests_all_answered(server):
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(200) as pool:
        results = list(pool.map(lambda _: _http(server + ASK_EMPTY)[0], range(200)))
    assert results.count(200) == 200, sorted(set(results))


# ---------------------------------------------------------------- hostile connections


def _raw(url: str, data: bytes, *, wait: float = 3.0) -> bytes:
    """Send ``data`` on one connection and read until the server closes it (or ``wait``)."""
    import socket

    host, port = urllib.parse.urlsplit(url).netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as conn:
        conn.sendall(data)
        chunks = []
        try:
            while chunk := conn.recv(65536):
                chunks.append(chunk)
        except TimeoutError:
            pass
        return b"".join(chunks)


def test_a_refused_requests_body_is_never_read_as_a_second_request(server):
    """An audit's smuggling: a POST refused for its Origin left its body unread on a kept
    connection, and the body (a GET without Origin) was then answered 200. Now the
    connection ends with the refusal: one response, no second."""
    inner = f"GET /query{ASK_EMPTY} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    for head in (
        b"POST /query HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://evil.example\r\n"
        b"Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(inner),
        # a GET's body, and a chunked body, are not read either
        b"GET /query?query=ASK%%7B%%7D HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n"
        % len(inner),
        b"POST /query HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + b"%x\r\n" % len(inner),
    ):
        reply = _raw(server, head + inner)
        assert reply.count(b"HTTP/1.1 ") == 1, reply
        assert b"Connection: close" in reply
    _still_answers(server)


def test_two_host_headers_are_refused(server):
    reply = _raw(server, f"GET /query{ASK_EMPTY} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         "Host: evil.example\r\n\r\n".encode())
    assert reply.startswith(b"HTTP/1.1 400 ") and b"one Host" in reply, reply


def test_an_http_1_1_request_without_host_is_refused(server):
    """RFC 9112 section 3.2: 400 for HTTP/1.1 without Host; HTTP/1.0 has no Host to send."""
    reply = _raw(server, f"GET /query{ASK_EMPTY} HTTP/1.1\r\n\r\n".encode())
    assert reply.startswith(b"HTTP/1.1 400 ") and b"names its Host" in reply, reply
    reply = _raw(server, f"GET /query{ASK_EMPTY} HTTP/1.0\r\n\r\n".encode())
    assert reply.split(b"\r\n", 1)[0].endswith(b" 200 OK"), reply
    _still_answers(server)


@pytest.fixture
def strict_server(built):
    """kg serve in this process, with a 1 s request deadline and room for 4 connections."""
    import threading

    from kg.serve import make_server
    from kg.store import open_store

    with open_store(built) as store:
        srv = make_server(store, port=0, request_read_timeout=1.0, max_connections=4,
                          max_workers=1)
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        try:
            yield srv.endpoint_url
        finally:
            srv.shutdown()
            srv.server_close()


def test_slow_clients_are_cut_off_and_the_server_recovers(strict_server):
    """Slowloris: connections that send half a request are closed at the deadline; while
    they are held, a connection past the limit gets 503 at once (no thread, no wait);
    once they are cut off, queries are answered again."""
    import socket

    host, port = urllib.parse.urlsplit(strict_server).netloc.split(":")
    slow = [socket.create_connection((host, int(port)), timeout=5) for _ in range(4)]
    try:
        for conn in slow:
            conn.sendall(b"GET /query?query=ASK%7B%7D HTTP/1.1\r\nHost: 127.0.0.1\r\nX-a: ")
        time.sleep(0.3)
        t0 = time.monotonic()
        reply = _raw(strict_server, b"GET /query HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert reply.startswith(b"HTTP/1.1 503 ") and b"too many open connections" in reply
        assert time.monotonic() - t0 < 1.0
        for conn in slow:  # each is closed by the server at its deadline, unanswered
            conn.settimeout(5)
            assert conn.recv(1024) == b""
    finally:
        for conn in slow:
            conn.close()
    deadline = time.monotonic() + 2.0  # the handler threads give their slots back as they end
    while _http(strict_server + ASK_EMPTY)[0] == 503 and time.monotonic() < deadline:
        time.sleep(0.05)
    _still_answers(strict_server)


def test_clients_that_leave_early_leave_no_traceback(built, tmp_path):
    """A client that sends half a body and hangs up: the server's answer meets a closed
    socket. socketserver printed a traceback to stderr for each, even with --quiet."""
    import socket

    err = tmp_path / "serve.err"
    proc, url = start_serve(built, "--quiet", log=err)
    try:
        host, port = urllib.parse.urlsplit(url).netloc.split(":")
        for _ in range(20):
            with socket.create_connection((host, int(port)), timeout=5) as conn:
                conn.sendall(b"POST /query HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                             b"application/sparql-query\r\nContent-Length: 100\r\n\r\nASK")
        _still_answers(url)
        time.sleep(0.5)
    finally:
        stop(proc)
    assert "Traceback" not in err.read_text(errors="replace")


@pytest.mark.parametrize("request_bytes, status", [
    (b"OPTIONS /query HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", b"501"),
    (b"GARBAGE\r\n\r\n", b"400"),
    (b"GET /query?query=" + b"x" * 70_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", b"414"),
])
def test_errors_http_server_sends_itself_are_one_line_of_text(server, request_bytes, status):
    """An unknown method, a garbled request line or a URL too long got Python's HTML error
    page; every answer of kg serve's is one line of text."""
    reply = _raw(server, request_bytes)
    if reply.startswith(b"HTTP/"):
        head, _, body = reply.partition(b"\r\n\r\n")
        assert head.split(b" ")[1] == status, reply[:200]
        assert b"content-type: text/plain" in head.lower()
    else:  # a request line that names no HTTP version is answered as HTTP/0.9: body only
        body = reply
    assert body.startswith(status) and body.count(b"\n") == 1 and b"<" not in body, reply[:200]


def test_serves_on_the_ipv6_loopback(built, tmp_path):
    """--host ::1 failed with "Address family not supported" (an IPv4 server)."""
    import socket

    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("this machine has no IPv6 loopback")
    err = tmp_path / "serve.err"
    proc, url = start_serve(built, "--host", "::1", "--quiet", log=err)
    try:
        assert url.startswith("http://[::1]:")
        with urllib.request.urlopen(url + "?query=ASK%7B%7D", timeout=10) as resp:
            assert json.loads(resp.read())["boolean"] is True
    finally:
        stop(proc)
    assert "warning" not in err.read_text()


def test_a_host_other_than_loopback_is_warned_of(built, tmp_path):
    err = tmp_path / "serve.err"
    proc, url = start_serve(built, "--host", "0.0.0.0", "--quiet", log=err)
    stop(proc)
    assert "kg: warning: --host 0.0.0.0: the endpoint is reachable from other machines" in \
        err.read_text()


def test_xml_results_stay_well_formed_with_control_characters():
    """A literal holding U+0001 or ESC was written raw into the XML results: not XML."""
    import xml.etree.ElementTree as ET

    from kg.results import ResultSet, Term
    from kg.serve import serialize_results

    rs = ResultSet(["x"], [(Term("literal", "a\x01b\x1b[31m"),)])
    doc = ET.fromstring(serialize_results(rs, "application/sparql-results+xml"))
    lit = doc.find(".//{http://www.w3.org/2005/sparql-results#}literal")
    assert lit is not None and lit.text.startswith("a") and "\x01" not in lit.text


def test_the_request_log_shows_a_clients_escapes_not_obeys_them(built, tmp_path):
    """The request line is the client's; its ESC, BEL and CR reached the operator's
    terminal raw (a forged log line, a retitled window)."""
    import socket

    log = tmp_path / "serve.log"
    proc, url = start_serve(built, log=log)
    try:
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET /\x1b]0;PWNED\x07\x1b[2K\r HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            sock.recv(4096)
    finally:
        stop(proc)
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "PWNED" in text
    assert "\x1b" not in text and "\x07" not in text and "\r" not in text


def test_a_query_past_the_workers_memory_ends_it_not_the_machine(built, tmp_path):
    """A 1 KB query doubling a string 31 times grew a worker to 5.3 GB before its deadline
    (four such workers would exhaust the machine); past its limit (here 2 GiB) the worker
    ends at once, the client gets 500, and the next query is answered."""
    binds = " ".join(f"BIND(CONCAT(?a{i}, ?a{i}) AS ?a{i + 1})" for i in range(31))
    text = f'SELECT (STRLEN(?a31) AS ?n) WHERE {{ BIND("x" AS ?a0) {binds} }}'
    proc, url = start_serve(built, "--timeout", "60", log=tmp_path / "serve.log",
                            KG_SERVE_WORKER_MEMORY="2048")
    try:
        status, _ctype, body = _http(url, data=text.encode(),
                                     headers={"Content-Type": "application/sparql-query"})
        assert status == 500, body
        assert b"ended its worker process" in body
        status, _ctype, body = _http(url, data=b"ASK { ?s ?p ?o }",
                                     headers={"Content-Type": "application/sparql-query"})
        assert (status, json.loads(body)["boolean"]) == (200, True)
    finally:
        stop(proc)
