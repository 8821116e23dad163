"""Remote stores against a real Oxigraph server: push, read, ingest, and failures.

A module fixture starts ``oxigraph serve`` (the ``oxigraph`` PyPI package, a
test dependency) on a free 127.0.0.1 port with a temporary folder, and stops
it by its process id. The ``kg`` command runs in subprocesses, so exit codes
and stderr are exactly what a user sees.
"""

from __future__ import annotations

import http.server
import shutil
import socket
import socketserver
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from processes import ROOT, clean_env, stop
from processes import kg as run_kg

WIKIDATA_QUERY = ROOT / "queries" / "remote" / "wikidata-exercises.rq"
SP = "https://w3id.org/secpart/ontology#"
EPOCH = "1700000000"  # 2023-11-14 (UTC)


def _env(**extra) -> dict:
    return clean_env(SOURCE_DATE_EPOCH=EPOCH, **extra)


def kg(*args, timeout: float = 120, **env) -> subprocess.CompletedProcess:
    """Run ``python -m kg ARGS`` with a fixed SOURCE_DATE_EPOCH."""
    return run_kg(*args, timeout=timeout, SOURCE_DATE_EPOCH=EPOCH, **env)


def ok(*args, **env) -> str:
    """Run ``kg ARGS`` in this process (fast) and return its stdout; it must succeed."""
    from click.testing import CliRunner

    from kg.cli import cli

    full_env = {"KG_STORE": None, "KG_ENDPOINT": None, "KG_UPDATE_ENDPOINT": None,
                "SOURCE_DATE_EPOCH": EPOCH, **env}
    res = CliRunner().invoke(cli, [str(a) for a in args], env=full_env, catch_exceptions=False)
    assert res.exit_code == 0, f"kg {' '.join(map(str, args))} failed: {res.stderr}"
    return res.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_listening(port: int, proc: subprocess.Popen, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listening on port {port} after {seconds} s")


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A local store with the ontology and the curated data."""
    store = tmp_path_factory.mktemp("remote") / "store"
    ok("--store", store, "build")
    return store


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory) -> str:
    """Base URL of a fresh ``oxigraph serve`` on a free port (stopped by pid at the end)."""
    binary = Path(sys.executable).parent / "oxigraph"
    if not binary.exists():
        found = shutil.which("oxigraph")
        if not found:
            pytest.skip("the oxigraph server CLI (PyPI package 'oxigraph') is not installed")
        binary = Path(found)
    port = free_port()
    data = tmp_path_factory.mktemp("oxigraph-data")
    log = open(data.parent / "oxigraph.log", "wb")
    proc = subprocess.Popen([str(binary), "serve", "--location", str(data),
                             "--bind", f"127.0.0.1:{port}"], stdout=log, stderr=log)
    try:
        _wait_listening(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)
        log.close()


@pytest.fixture(scope="module")
def pushed(built, oxigraph):
    """The built store pushed to the Oxigraph server; returns (store, query URL, push result)."""
    res = kg("--store", built, "push", f"{oxigraph}/update", "--batch", "4000")
    assert res.returncode == 0, res.stderr
    return built, f"{oxigraph}/query", res


def _fingerprint(info_text: str) -> str:
    lines = [ln for ln in info_text.splitlines() if ln.startswith("fingerprint: ")]
    assert len(lines) == 1, info_text
    return lines[0]


# ---------------------------------------------------------------- push, then read remotely

def test_push_reports_progress_and_counts(pushed):
    store, _url, res = pushed
    import json

    info = json.loads(ok("--store", store, "info", "--format", "json"))
    sizes = {g: d["triples"] for g, d in info["graphs"].items()}
    assert sizes["curated"] > 4000  # so the batch size of 4000 splits it
    for g, n in sizes.items():
        assert f"{g}: pushed {n} triples" in res.stdout
        assert f"{g}: 0/{n} triples" in res.stderr
        assert f"{g}: {n}/{n} triples" in res.stderr
    assert f"curated: 4000/{sizes['curated']} triples" in res.stderr


def test_partners_identical_to_local(pushed):
    store, url, _ = pushed
    local = ok("--store", store, "query", "run", "partners", "--param", "state=JPN", "--format", "csv")
    remote = ok("--endpoint", url, "query", "run", "partners", "--param", "state=JPN",
                "--format", "csv")
    assert local.startswith("partner,name,exercises,first,last\n")
    assert "\nUSA,United States," in local
    assert remote == local


def test_other_query_forms_identical(pushed):
    store, url, _ = pushed
    for q in ("ASK { ?s a <https://w3id.org/secpart/ontology#Exercise> }",
              "ASK { ?s a <https://w3id.org/secpart/ontology#Nothing> }",
              "CONSTRUCT { ?s ?p ?o } WHERE { ?s a <https://w3id.org/secpart/ontology#State> ; ?p ?o }"):
        local = ok("--store", store, "query", "sparql", q)
        assert ok("--endpoint", url, "query", "sparql", q) == local
    local = ok("--store", store, "query", "run", "exercises", "--format", "json")
    assert ok("--endpoint", url, "query", "run", "exercises", "--format", "json") == local
    # the dataset restriction reaches the server: the ontology graph alone holds no exercise
    q = "SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://w3id.org/secpart/ontology#Exercise> }"
    assert ok("--endpoint", url, "query", "sparql", q, "--graph", "ontology",
              "--format", "csv") == "n\n0\n"


def test_metrics_identical_to_local(pushed):
    from kg.cli import cli

    if "metrics" not in cli.commands:
        pytest.skip("the metrics command is not registered in kg.cli yet")
    store, url, _ = pushed
    args = ["metrics", "--relation", "exercise", "--from", "2015", "--to", "2024", "--format", "csv"]
    local = ok("--store", store, *args)
    assert local.strip()
    assert ok("--endpoint", url, *args) == local


def test_info_fingerprint_equals_local(pushed):
    store, url, _ = pushed
    local = ok("--store", store, "info")
    remote = ok("--endpoint", url, "info")
    assert _fingerprint(remote) == _fingerprint(local)
    # per-graph rows (name, triples, version, sha256) too
    rows = [ln for ln in local.splitlines() if ln.startswith(("curated ", "ontology "))]
    assert len(rows) == 2
    for row in rows:
        assert row in remote.splitlines()


def test_push_again_with_replace_and_gsp_keeps_data_identical(pushed, oxigraph):
    store, url, _ = pushed
    before = _fingerprint(ok("--endpoint", url, "info"))
    res = kg("--store", store, "push", f"{oxigraph}/update", "--graph", "ontology", "--replace")
    assert res.returncode == 0, res.stderr
    assert "ontology: pushed" in res.stdout and "curated" not in res.stdout
    res = kg("--store", store, "push", f"{oxigraph}/update", "--graph", "curated", "--replace",
             "--gsp", f"{oxigraph}/store", "--batch", "3000")
    assert res.returncode == 0, res.stderr
    assert _fingerprint(ok("--endpoint", url, "info")) == before
    # with --gsp the update URL is not needed (the README's form)
    res = kg("--store", store, "push", "--graph", "curated", "--replace",
             "--gsp", f"{oxigraph}/store", "--batch", "3000")
    assert res.returncode == 0, res.stderr
    assert _fingerprint(ok("--endpoint", url, "info")) == before
    res = kg("--store", store, "push", "--graph", "curated")
    assert res.returncode == 2 and "--gsp URL" in res.stderr


def test_update_endpoint_is_where_push_sends_and_writes_refuse_it(pushed, oxigraph, tmp_path):
    """--update-endpoint was taken and ignored: `kg ingest` wrote the local store, exit 0,
    and `kg push` still asked for its URL."""
    store, url, _ = pushed
    before = _fingerprint(ok("--endpoint", url, "info"))
    res = kg("--store", store, "--update-endpoint", f"{oxigraph}/update", "push", "--graph",
             "ontology", "--replace")
    assert res.returncode == 0, res.stderr
    assert "ontology: pushed" in res.stdout
    assert _fingerprint(ok("--endpoint", url, "info")) == before
    local = tmp_path / "local"
    shutil.copytree(store, local, ignore=shutil.ignore_patterns("kg.lock"))
    local_before = ok("--store", local, "info")
    ttl = tmp_path / "one.ttl"
    ttl.write_text("<https://w3id.org/secpart/id/state/JPN> "
                   "<http://www.w3.org/2000/01/rdf-schema#comment> \"x\" .\n", encoding="utf-8")
    for cmd in (["ingest", str(ttl), "--graph", "user"], ["build"]):
        res = kg("--store", local, "--update-endpoint", f"{oxigraph}/update", *cmd)
        assert res.returncode == 2, (cmd, res.stdout, res.stderr)
        assert "kg push" in res.stderr
    assert ok("--store", local, "info") == local_before
    assert _fingerprint(ok("--endpoint", url, "info")) == before


def test_push_unknown_graph_is_usage_error(built, oxigraph):
    res = kg("--store", built, "push", f"{oxigraph}/update", "--graph", "nosuch")
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [res.stderr.strip()]
    assert "nosuch" in res.stderr


# ---------------------------------------------------------------- ingest --from-endpoint

EXERCISES_2019 = """\
#+ summary: exercises of 2019, copied from any graph of the endpoint
PREFIX sp: <https://w3id.org/secpart/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dcterms: <http://purl.org/dc/terms/>
CONSTRUCT {
  ?ex a sp:Exercise ; rdfs:label ?l ; sp:year ?y ; sp:participant ?p ; sp:source ?src .
  ?src a sp:Source ; dcterms:title ?t ; dcterms:publisher ?pub .
}
WHERE { GRAPH ?g {
  ?ex a sp:Exercise ; rdfs:label ?l ; sp:year ?y ; sp:participant ?p ; sp:source ?src .
  FILTER(?y = 2019)
  ?src dcterms:title ?t ; dcterms:publisher ?pub .
} }
"""


def _select(store: Path, query: str) -> list[dict]:
    from kg.store import open_store

    with open_store(store) as st:
        return st.select(query).dicts()


def test_ingest_from_endpoint_stores_result_with_provenance(pushed, tmp_path):
    built, url, _ = pushed
    store = tmp_path / "store"
    shutil.copytree(built, store)
    qfile = tmp_path / "ex2019.rq"
    qfile.write_text(EXERCISES_2019, encoding="utf-8")
    # what the CONSTRUCT gives on the same data locally
    expected = ok("--store", built, "query", "sparql", EXERCISES_2019)
    n_result = len(expected.splitlines())
    assert n_result > 50

    res = kg("--store", store, "ingest", "--from-endpoint", url, "--query", qfile,
             "--graph", "fromremote")
    assert res.returncode == 0, res.stderr
    n_prov = 6  # type, label, sp:graph, prov:wasDerivedFrom, dcterms:created, dcterms:description
    assert res.stdout == f"fromremote: added {n_result + n_prov} triples\n"

    g = "https://w3id.org/secpart/graph/fromremote"
    rows = _select(store, f"""
        PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX dcterms: <http://purl.org/dc/terms/>
        SELECT ?d ?from ?date ?query ?name WHERE {{ GRAPH <{g}> {{
          ?d a <{SP}Dataset> ; <{SP}graph> ?name ; prov:wasDerivedFrom ?from ;
             dcterms:created ?date ; dcterms:description ?query }} }}""")
    assert rows == [{"d": "https://w3id.org/secpart/id/dataset/fromremote", "from": url,
                     "date": "2023-11-14", "query": EXERCISES_2019, "name": "fromremote"}]
    # the exercise triples are exactly the CONSTRUCT result
    got = ok("--store", store, "query", "sparql",
             "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o FILTER NOT EXISTS { ?s a <" + SP + "Dataset> } }",
             "--graph", "fromremote")
    assert got == expected

    # --replace swaps the graph for the same content: same fingerprint
    info1 = ok("--store", store, "info")
    res = kg("--store", store, "ingest", "--from-endpoint", url, "--query", qfile,
             "--graph", "fromremote", "--replace")
    assert res.returncode == 0, res.stderr
    assert "fromremote: replaced with" in res.stdout
    assert _fingerprint(ok("--store", store, "info")) == _fingerprint(info1)


def test_ingest_from_endpoint_invalid_result_changes_nothing(pushed, tmp_path):
    built, url, _ = pushed
    store = tmp_path / "store"
    shutil.copytree(built, store)
    before = ok("--store", store, "info")
    bad = tmp_path / "bad.rq"
    # new exercises without a source break the shapes (copies of the stored ones under new
    # IRIs: the stored exercises themselves would take their sources from the store)
    bad.write_text("PREFIX sp: <" + SP + ">\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
                   "CONSTRUCT { ?new a sp:Exercise ; rdfs:label ?l ; sp:year ?y ; sp:participant ?p }\n"
                   "WHERE { GRAPH ?g { ?ex a sp:Exercise ; rdfs:label ?l ; sp:year ?y ; "
                   "sp:participant ?p FILTER(?y = 2019) } BIND(IRI(CONCAT(STR(?ex), \"-copy\")) AS ?new) }\n",
                   encoding="utf-8")
    res = kg("--store", store, "ingest", "--from-endpoint", url, "--query", bad, "--graph", "bad")
    assert res.returncode == 2
    err = res.stderr.strip()
    assert err.startswith("kg: error: ") and "\n" not in err and "Traceback" not in err
    assert "sp:Source" in err and "bad.rq" in err
    sel = tmp_path / "select.rq"
    sel.write_text("SELECT * WHERE { ?s ?p ?o } LIMIT 1\n", encoding="utf-8")
    res = kg("--store", store, "ingest", "--from-endpoint", url, "--query", sel, "--graph", "bad")
    assert res.returncode == 2 and "CONSTRUCT" in res.stderr
    # an empty answer stored a graph of provenance alone (exit 0), where an empty file is refused
    empty = tmp_path / "empty.rq"
    empty.write_text("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o FILTER(false) }\n", encoding="utf-8")
    res = kg("--store", store, "ingest", "--from-endpoint", url, "--query", empty, "--graph", "bad")
    assert res.returncode == 2 and "no triples; nothing stored" in res.stderr, res.stderr
    assert "empty.rq" in res.stderr and res.stderr.count("\n") == 1
    assert ok("--store", store, "info") == before


WIKIDATA_SAMPLE = """\
@prefix wd: <http://www.wikidata.org/entity/> .
@prefix wdt: <http://www.wikidata.org/prop/direct/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
wd:Q17 wdt:P298 "JPN" .  wd:Q30 wdt:P298 "USA" .  wd:Q408 wdt:P298 "AUS" .
wd:Q90001 wdt:P31 wd:Q831663 ; rdfs:label "Exercise Alpha"@en, "Übung Alpha"@de ;
    wdt:P580 "2019-06-01T00:00:00Z"^^xsd:dateTime ; wdt:P710 wd:Q17, wd:Q30 .
wd:Q90009 wdt:P279 wd:Q831663 .
wd:Q90002 wdt:P31 wd:Q90009 ; wdt:P585 "2021-03-01T00:00:00Z"^^xsd:dateTime ; wdt:P710 wd:Q90500 .
wd:Q90500 wdt:P17 wd:Q408 .
wd:Q90003 wdt:P31 wd:Q831663 ; rdfs:label "No date"@en ; wdt:P710 wd:Q17 .
wd:Q90004 wdt:P31 wd:Q5 ; rdfs:label "Not an exercise"@en ;
    wdt:P580 "2019-01-01T00:00:00Z"^^xsd:dateTime ; wdt:P710 wd:Q17 .
wd:Q90005 wdt:P31 wd:Q831663 ; rdfs:label "Two starts"@en ;
    wdt:P580 "2020-05-01T00:00:00Z"^^xsd:dateTime, "2018-05-01T00:00:00Z"^^xsd:dateTime ;
    wdt:P585 "2017-01-01T00:00:00Z"^^xsd:dateTime ; wdt:P710 wd:Q30 .
"""


def test_wikidata_query_maps_exercises(pushed, oxigraph, tmp_path):
    """The shipped Wikidata query, run on Wikidata-shaped data in the server's default graph."""
    from kg.queries import parse_query_text

    text = WIKIDATA_QUERY.read_text(encoding="utf-8")
    q = parse_query_text(text, "wikidata-exercises")
    assert "User-Agent" in q.extra["user-agent"][0] and q.summary
    req = urllib.request.Request(f"{oxigraph}/store?default", data=WIKIDATA_SAMPLE.encode(),
                                 method="POST", headers={"Content-Type": "text/turtle"})
    urllib.request.urlopen(req, timeout=10).read()

    built, url, _ = pushed
    store = tmp_path / "store"
    shutil.copytree(built, store)
    res = kg("--store", store, "ingest", "--from-endpoint", url, "--query", WIKIDATA_QUERY,
             "--graph", "wikidata")
    assert res.returncode == 0, res.stderr
    rows = _select(store, f"""
        PREFIX sp: <{SP}> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?ex ?label ?year (GROUP_CONCAT(?iso; separator=" ") AS ?states) WHERE {{
          GRAPH <https://w3id.org/secpart/graph/wikidata> {{
            ?ex a sp:Exercise ; rdfs:label ?label ; sp:year ?year ; sp:participant ?p }}
          ?p sp:iso3 ?iso }}
        GROUP BY ?ex ?label ?year ORDER BY ?ex""")
    ex = "https://w3id.org/secpart/id/exercise/wikidata-"
    assert [(r["ex"], r["label"], r["year"], sorted(r["states"].split())) for r in rows] == [
        (ex + "Q90001", "Exercise Alpha", 2019, ["JPN", "USA"]),
        (ex + "Q90002", "Q90002", 2021, ["AUS"]),
        (ex + "Q90005", "Two starts", 2018, ["USA"]),
    ]
    # linked to Wikidata without owl:sameAs, so the saved queries count them
    out = ok("--store", store, "query", "sparql",
             "SELECT (COUNT(*) AS ?n) WHERE { ?e <http://www.w3.org/2002/07/owl#sameAs> ?x }",
             "--graph", "wikidata", "--format", "csv")
    assert out == "n\n0\n"


# ---------------------------------------------------------------- failures: one line, exit 2

class _Bad(http.server.BaseHTTPRequestHandler):
    mode = "html"

    def log_message(self, *a):
        pass

    def _reply(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        mode = self.server.mode
        if mode == "slow":
            time.sleep(4)
        if mode in ("html", "slow"):
            body, status, ctype = b"<html><body><h1>Welcome</h1></body></html>", 200, "text/html"
        elif mode == "json-garbage":
            body, status, ctype = b'{"head": {"vars": ["g"]}, "results": 12}', 200, \
                "application/sparql-results+json"
        elif mode == "error500":
            body, status, ctype = b"Internal failure: disk full\nat line 2\n", 500, "text/plain"
        else:  # forbidden
            body, status, ctype = b"Forbidden: read-only replica\n", 403, "text/plain"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:  # the client gave up (the slow case)
            pass

    do_GET = do_POST = _reply


class _RawGarbage(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.recv(65536)
        self.request.sendall(b"\x00\x01 this is not HTTP\r\n\r\n")


@pytest.fixture
def bad_server(request):
    """A tiny local server that misbehaves as ``request.param`` says; yields its URL."""
    mode = request.param
    if mode == "down":
        yield f"http://127.0.0.1:{free_port()}/query"  # nothing listens there
        return
    if mode == "not-http":
        srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _RawGarbage)
    else:
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Bad)
    srv.daemon_threads = True
    srv.mode = mode
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}/query"
    finally:
        srv.shutdown()
        srv.server_close()


PARTNERS = ["query", "run", "partners", "--param", "state=JPN"]


@pytest.mark.parametrize("bad_server, expect, command", [
    ("down", "connection refused (is the server running?)", PARTNERS),
    ("down", "connection refused", ["info"]),
    ("slow", "did not answer within 1 s", PARTNERS),
    ("html", "did not return SPARQL JSON results (got text/html: '<html><body><h1>Welcome",
     PARTNERS),
    ("html", "did not return SPARQL JSON results", ["info"]),
    ("json-garbage", "malformed SPARQL JSON", PARTNERS),
    ("error500", "answered: HTTP 500: Internal failure: disk full", ["info"]),
    ("not-http", "sent an answer that is not HTTP", PARTNERS),
], indirect=["bad_server"])
def test_bad_remote_one_line_exit_2(bad_server, expect, command):
    t0 = time.monotonic()
    res = kg("--endpoint", bad_server, "--timeout", "1", *command, timeout=60)
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("kg: error: ")
    assert expect in lines[0], lines[0]
    assert res.stdout == ""
    assert time.monotonic() - t0 < 30


@pytest.mark.parametrize("bad_server", ["forbidden"], indirect=True)
def test_push_refused_stops_with_one_line(built, bad_server):
    res = kg("--store", built, "push", bad_server)
    assert res.returncode == 2
    last = res.stderr.splitlines()[-1]
    assert "Traceback" not in res.stderr
    assert last.startswith("kg: error: push of graph ")
    assert "refused the update: HTTP 403: Forbidden: read-only replica" in last


@pytest.mark.parametrize("bad_server", ["down"], indirect=True)
def test_ingest_from_down_endpoint(built, bad_server, tmp_path):
    store = tmp_path / "store"
    shutil.copytree(built, store)
    q = tmp_path / "q.rq"
    q.write_text(EXERCISES_2019, encoding="utf-8")
    res = kg("--store", store, "ingest", "--from-endpoint", bad_server, "--query", q, "--graph", "x")
    assert res.returncode == 2
    assert res.stderr.strip().startswith("kg: error: cannot reach the remote endpoint")
    assert len(res.stderr.strip().splitlines()) == 1


def test_remote_store_library_api(pushed):
    """RemoteStore answers like the local store through the BaseStore interface."""
    from kg.remote import USER_AGENT, RemoteStore
    from kg.store import open_store

    store, url, _ = pushed
    remote = RemoteStore(url, timeout=5)
    with open_store(store) as local:
        assert remote.graph_names() == local.graph_names()
        assert remote.graph_sizes() == local.graph_sizes()
        assert remote.fingerprint(["curated"]) == local.fingerprint(["curated"])
        q = "SELECT ?iso WHERE { ?s <" + SP + "iso3> ?iso } ORDER BY ?iso"
        assert remote.select(q).rows == local.select(q).rows
        import pyoxigraph as ox

        for fmt in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TURTLE):
            assert remote.dump(fmt) == local.dump(fmt)
    assert "Oxigraph" in remote.engine_version()
    assert USER_AGENT.startswith("kg/") and "https://w3id.org/secpart" in USER_AGENT


# ---------------------------------------------------------------- a second engine: Virtuoso

_VIRTUOSO_INI = """\
[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
DirsAllowed = ., {d}
CheckpointInterval = 60

[HTTPServer]
ServerPort = 127.0.0.1:{http}
ServerRoot = {d}
MaxClientConnections = 5
ServerThreads = 5

[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 60
"""


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory) -> str:
    """The SPARQL endpoint of a fresh Virtuoso (Debian's virtuoso-opensource-7-bin), if installed.

    Updates through /sparql are granted to the anonymous SPARQL user, as a
    site that lets ``kg push`` write would configure it.
    """
    server, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt")
    if not server or not isql:
        pytest.skip("Virtuoso is not installed (apt-get install virtuoso-opensource-7-bin)")
    d = tmp_path_factory.mktemp("virtuoso")
    sql, http_port = free_port(), free_port()
    (d / "virtuoso.ini").write_text(_VIRTUOSO_INI.format(d=d, sql=sql, http=http_port))
    log = open(d / "stdout.log", "wb")
    proc = subprocess.Popen([server, "-f", "-c", str(d / "virtuoso.ini")], cwd=str(d),
                            stdout=log, stderr=log)
    url = f"http://127.0.0.1:{http_port}/sparql"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"virtuoso exited: {(d / 'virtuoso.log').read_text()[-2000:]}")
            try:
                urllib.request.urlopen(url + "?query=ASK%7B%7D", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("virtuoso did not start within 60 s")
                time.sleep(0.3)
        grant = subprocess.run(
            [isql, str(sql), "dba", "dba",
             "exec=GRANT SPARQL_UPDATE TO \"SPARQL\"; "
             "DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 7);"],
            capture_output=True, text=True, timeout=60)
        assert grant.returncode == 0 and "Error" not in grant.stdout, grant.stdout + grant.stderr
        yield url
    finally:
        stop(proc)
        log.close()


@pytest.fixture(scope="module")
def pushed_virtuoso(built, virtuoso):
    # Virtuoso's SPARQL parser runs out of memory near 5000 triples per INSERT DATA
    res = kg("--store", built, "push", virtuoso, "--batch", "1000")
    assert res.returncode == 0, res.stderr
    return built, virtuoso


def test_virtuoso_partners_and_fingerprint_identical(pushed_virtuoso):
    store, url = pushed_virtuoso
    args = ["query", "run", "partners", "--param", "state=JPN", "--format", "csv"]
    assert ok("--endpoint", url, *args) == ok("--store", store, *args)
    assert _fingerprint(ok("--endpoint", url, "info")) == _fingerprint(ok("--store", store, "info"))
    q = "ASK { ?s a <" + SP + "Exercise> }"
    assert ok("--endpoint", url, "query", "sparql", q) == "true\n"


def test_virtuoso_metrics_identical(pushed_virtuoso):
    from kg.cli import cli

    if "metrics" not in cli.commands:
        pytest.skip("the metrics command is not registered in kg.cli yet")
    store, url = pushed_virtuoso
    args = ["metrics", "--relation", "exercise", "--from", "2015", "--to", "2024", "--format", "csv"]
    assert ok("--endpoint", url, *args) == ok("--store", store, *args)


def test_map_series_read_in_background_threads_from_a_remote_equal_the_local(pushed):
    """The map's background reads (kg.cache.RunCache.prefetch) work over HTTP: the series
    of a run on the remote store is the local store's, and no query is sent twice."""
    from kg.cache import run_cache
    from kg.map import build_series
    from kg.remote import RemoteStore
    from kg.store import open_store

    store, url, _ = pushed
    remote = RemoteStore(url, timeout=30)
    sent = []
    remote.tracer = lambda text, graphs: sent.append(text)
    run_cache(remote)
    far = build_series(remote, 2015, 2024, relation="all")
    assert len(sent) == len(set(sent)) > 10
    with open_store(store) as local:
        near = build_series(local, 2015, 2024, relation="all")
    for part in ("ties", "members", "attrs", "metrics", "sources"):
        assert getattr(far, part) == getattr(near, part), part
    assert any(near.sources[y] for y in near.sources)


def test_update_endpoint_from_the_environment_does_not_block_local_writes(tmp_path):
    """$KG_UPDATE_ENDPOINT is a default for kg push; it refused every build and ingest."""
    res = kg("--store", tmp_path / "st", "build", KG_UPDATE_ENDPOINT="http://127.0.0.1:9/update")
    assert res.returncode == 0, res.stderr
    res = kg("--store", tmp_path / "st", "--update-endpoint", "http://127.0.0.1:9/update", "build")
    assert res.returncode == 2 and "kg push" in res.stderr
