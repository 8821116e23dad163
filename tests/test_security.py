"""Security (issue 9): SERVICE, LOAD and FROM <file:> are refused unless --allow-network, and
query parameters can never change a query's structure.

The SERVICE tests run a tiny SPARQL endpoint on 127.0.0.1 that records every request, so
"refused" means no request left the process, and "--allow-network" really reaches it.
"""

from __future__ import annotations

import csv
import io
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.errors import QueryRefused, UsageError
from kg.sparql import check_query_safe

# ---------------------------------------------------------------- a recording endpoint


class _Recorder(BaseHTTPRequestHandler):
    requests: list[str] = []

    def _answer(self):
        type(self).requests.append(self.path)
        body = json.dumps({"head": {"vars": ["x"]},
                           "results": {"bindings": [{"x": {"type": "literal", "value": "remote"}}]}})
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802 - http.server API
        self._answer()

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self._answer()

    def log_message(self, *args):
        pass


@pytest.fixture
def endpoint():
    _Recorder.requests = []
    srv = HTTPServer(("127.0.0.1", 0), _Recorder)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}/sparql", _Recorder.requests
    finally:
        srv.shutdown()
        srv.server_close()


def _one_line_refusal(res, word, file=None):
    """A one-line refusal; for a query file, the line names it first."""
    assert res.exit_code == 2, res.output
    lines = res.stderr.splitlines()
    start = "kg: error: " + (f"{file}: " if file is not None else "") + "query refused"
    assert len(lines) == 1 and lines[0].startswith(start), res.stderr
    assert word in lines[0] and "--allow-network" in lines[0]
    assert res.stdout == ""


# ---------------------------------------------------------------- SERVICE / LOAD / FROM


def test_service_refused_without_allow_network(cli_runner, endpoint):
    url, seen = endpoint
    q = f"SELECT ?x WHERE {{ SERVICE <{url}> {{ ?x ?p ?o }} }}"
    _one_line_refusal(cli_runner("query", "sparql", q), "SERVICE")
    assert seen == []


def test_service_allowed_with_allow_network(cli_runner, endpoint):
    url, seen = endpoint
    q = f"SELECT ?x WHERE {{ SERVICE <{url}> {{ ?x ?p ?o }} }}"
    res = cli_runner("query", "sparql", q, "--allow-network", "--format", "csv")
    assert res.exit_code == 0, res.output
    assert res.stdout == "x\nremote\n"
    assert len(seen) >= 1


def test_service_lower_case_and_silent(cli_runner, endpoint):
    url, seen = endpoint
    q = f"select ?x where {{ service silent <{url}> {{ ?x ?p ?o }} }}"
    _one_line_refusal(cli_runner("query", "sparql", q), "SERVICE")
    assert seen == []


@pytest.mark.parametrize("query,word", [
    ("SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }", "FROM"),
    ("SELECT * FROM NAMED <file:///etc/passwd> WHERE { GRAPH ?g { ?s ?p ?o } }", "FROM"),
    ("SELECT * FROM <FILE:///etc/passwd> WHERE { ?s ?p ?o }", "FROM"),
    ("SELECT * FROM\n# a comment\n<file:///etc/passwd> WHERE { ?s ?p ?o }", "FROM"),
    (r"SELECT * FROM <\u0066ile:///etc/passwd> WHERE { ?s ?p ?o }", "FROM"),
    ("BASE <file:///etc/> SELECT * FROM <passwd> WHERE { ?s ?p ?o }", "BASE"),
    ("LOAD <http://127.0.0.1:9/data.ttl>", "LOAD"),
    ("LOAD <file:///etc/passwd> INTO GRAPH <urn:x>", "LOAD"),
])
def test_local_files_and_load_refused(cli_runner, query, word):
    _one_line_refusal(cli_runner("query", "sparql", query), word)


def test_sparql_from_stdin_is_checked(cli_runner, endpoint):
    url, seen = endpoint
    res = cli_runner("query", "sparql", "-", input=f"SELECT * {{ SERVICE <{url}> {{ ?s ?p ?o }} }}")
    _one_line_refusal(res, "SERVICE")
    assert seen == []


def test_query_run_file_with_service_refused(cli_runner, endpoint, tmp_path):
    url, seen = endpoint
    rq = tmp_path / "federated.rq"
    rq.write_text(f"#+ summary: federated\nSELECT ?x WHERE {{ SERVICE <{url}> {{ ?x ?p ?o }} }}\n",
                  encoding="utf-8")
    _one_line_refusal(cli_runner("query", "run", rq), "SERVICE", file=rq)
    assert seen == []
    res = cli_runner("query", "run", rq, "--allow-network", "--format", "csv")
    assert res.exit_code == 0, res.output
    assert res.stdout == "x\nremote\n"
    assert seen


def test_query_run_file_with_from_file_refused(cli_runner, tmp_path):
    rq = tmp_path / "local.rq"
    rq.write_text("#+ summary: local\nSELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }\n",
                  encoding="utf-8")
    _one_line_refusal(cli_runner("query", "run", rq), "FROM", file=rq)
    res = cli_runner("query", "run", rq, "--allow-network", "--format", "csv")
    # allowed to reach files, it is still refused: kg's dataset would override the FROM
    assert res.exit_code == 2 and "FROM is not applied" in res.stderr, res.output


@pytest.mark.parametrize("clause", ["FROM <https://w3id.org/secpart/graph/ontology>",
                                    "FROM NAMED <https://w3id.org/secpart/graph/ontology>"])
def test_a_from_clause_is_refused_not_silently_overridden(cli_runner, built_store, clause):
    """A count "FROM" the ontology graph counted every graph: kg gives each query its
    dataset (--graph, or all graphs), which overrides the query's own."""
    res = cli_runner("query", "sparql", f"SELECT (COUNT(*) AS ?n) {clause} WHERE {{ ?s ?p ?o }}",
                     store=built_store)
    assert res.exit_code == 2 and res.stdout == "", res.output
    assert res.stderr.startswith("kg: error: FROM is not applied") and res.stderr.count("\n") == 1
    ok = cli_runner("query", "sparql", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "--graph",
                    "ontology", "--format", "csv", store=built_store)
    assert ok.exit_code == 0 and ok.stdout == "n\n470\n", ok.output


@pytest.mark.parametrize("query", [
    'SELECT ?x WHERE { BIND("SERVICE <http://127.0.0.1:9/> LOAD FROM <file:///etc/passwd>" AS ?x) }',
    "SELECT ?x WHERE { BIND('''multi\nSERVICE\nLOAD''' AS ?x) }",
    "SELECT ?x WHERE { BIND(<http://example.org/SERVICE/LOAD> AS ?x) }",
    "# SERVICE <http://127.0.0.1:9/> LOAD <file:///etc/passwd>\nSELECT ?x WHERE { BIND(1 AS ?x) }",
    "PREFIX ex: <http://example.org/>\nSELECT ?x WHERE { BIND(ex:SERVICE AS ?x) }",
    "SELECT ?service ?load WHERE { BIND(1 AS ?service) BIND(2 AS ?load) }",
    "PREFIX ex: <http://example.org/>\nSELECT ?x WHERE { BIND(ex:FROM AS ?x) }",
    'SELECT ?x WHERE { BIND("FROM <file:///etc/passwd>" AS ?x) }',
])
def test_keywords_inside_strings_iris_comments_do_not_trigger(cli_runner, query):
    check_query_safe(query)  # the library guard passes them
    res = cli_runner("query", "sparql", query, "--format", "csv")
    assert res.exit_code == 0, res.output
    rows = list(csv.reader(io.StringIO(res.stdout)))
    assert len(rows) == 2  # header and one row


def test_updates_are_refused_and_change_nothing(store_copy, cli_runner, fingerprint):
    before = fingerprint(store_copy)
    for q in ["DROP ALL", "CLEAR DEFAULT",
              "INSERT DATA { <http://x/a> <http://x/b> <http://x/c> }",
              "DELETE WHERE { ?s ?p ?o }"]:
        res = cli_runner("query", "sparql", q, store=store_copy)
        assert res.exit_code == 2, (q, res.output)
        assert len(res.stderr.splitlines()) == 1
    assert fingerprint(store_copy) == before


def test_library_guard_raises_typed_errors():
    with pytest.raises(QueryRefused):
        check_query_safe("SELECT * { SERVICE <http://x/> { ?s ?p ?o } }")
    check_query_safe("SELECT * { SERVICE <http://x/> { ?s ?p ?o } }", allow_network=True)
    assert QueryRefused("x").exit_code == 2


# ---------------------------------------------------------------- parameters never change structure

PROBE_QUERY = """#+ summary: echo the bound parameters
#+ param: label = x  (a free-text label)
#+ param: thing = https://example.org/a  (an IRI)
#+ param: year = 2019  (a year)
#+ param: state = JPN  (ISO3 code of a state)
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?label ?thing ?year ?state ?n
WHERE {
  OPTIONAL { ?state rdfs:label ?stateName }
  BIND(1 AS ?n)
}
"""

NASTY = [
    '"', "'", '"""', "'''", "\\", '\\"', "}", "{", "} ;", "}; DROP ALL ; #", "DROP ALL",
    '" } ; DROP ALL ; SELECT * WHERE { "', "'} UNION { ?s ?p ?o } #", "\n} DROP ALL\n",
    "#", "<http://x/>", "?s ?p ?o", ") . } } }", "\u2028\u2029", "日本", "\U0001F600",
    "\x00", "\r\n", "\t", "SERVICE <http://127.0.0.1:9/> { }", "\\u0022 } DROP ALL",
]


@pytest.fixture(scope="module")
def tiny_store(tmp_path_factory):
    """A store with a handful of triples, and its fingerprint."""
    from kg.store import open_store

    path = tmp_path_factory.mktemp("tiny") / "store"
    label, a = "http://www.w3.org/2000/01/rdf-schema#label", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
    nt = "".join(f'<https://w3id.org/secpart/id/state/{c}> <{label}> "{n}"@en .\n'
                 f'<https://w3id.org/secpart/id/state/{c}> <{a}> '
                 '<https://w3id.org/secpart/ontology#State> .\n'
                 for c, n in [("JPN", "Japan"), ("AUS", "Australia")]).encode()
    with open_store(path, write=True) as store:
        store.write_graphs({"https://w3id.org/secpart/graph/test": nt}, replace=True)
        fp = store.fingerprint()
    return path, fp


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    d = tmp_path_factory.mktemp("probe")
    p = d / "probe.rq"
    p.write_text(PROBE_QUERY, encoding="utf-8")
    return p


def _run_probe(store_path, probe_path, params):
    from kg.queries import run_saved
    from kg.store import open_store

    with open_store(store_path) as store:
        rs = run_saved(store, str(probe_path), params)
        fp = store.fingerprint()
    return rs, fp


def _check_bound(store_path, fp0, probe_path, params):
    """Either a UsageError, or exactly one row echoing each value as one RDF term."""
    try:
        rs, fp = _run_probe(store_path, probe_path, params)
    except UsageError:
        return None
    assert rs.variables == ["label", "thing", "year", "state", "n"]
    assert len(rs.rows) == 1
    row = dict(zip(rs.variables, rs.rows[0], strict=True))
    assert row["n"].value == "1"
    if "label" in params:
        assert row["label"].kind == "literal" and row["label"].value == params["label"]
    if "thing" in params:
        assert row["thing"].kind == "uri" and row["thing"].value == params["thing"]
    assert fp == fp0
    return row


@pytest.mark.parametrize("value", NASTY)
def test_nasty_label_values_are_bound_as_one_literal(tiny_store, probe, value):
    path, fp0 = tiny_store
    row = _check_bound(path, fp0, probe, {"label": value})
    assert row is not None  # a free-text value is always bindable
    assert row["label"].value == value


@pytest.mark.parametrize("value", NASTY + ["https://example.org/a> } DROP ALL #", "urn:x y",
                                           "http://x/{a}", "http://x/a\"b"])
def test_nasty_iri_values_are_refused_or_bound(tiny_store, probe, value):
    path, fp0 = tiny_store
    _check_bound(path, fp0, probe, {"thing": value})


@pytest.mark.parametrize("name,value", [
    ("state", 'JPN" } DROP ALL'), ("state", "jpn"), ("state", "JPN "), ("state", "JP"),
    ("year", "2019 } DROP ALL"), ("year", "1e3"), ("year", "twenty"),
    ("thing", "https://example.org/a> } DROP ALL #"), ("thing", "not an iri"),
])
def test_malformed_typed_params_are_usage_errors(tiny_store, probe, name, value):
    path, _ = tiny_store
    with pytest.raises(UsageError):
        _run_probe(path, probe, {name: value})


def test_state_param_binds_the_state_iri(tiny_store, probe):
    path, fp0 = tiny_store
    rs, fp = _run_probe(path, probe, {"state": "AUS"})
    assert rs.dicts()[0]["state"] == "https://w3id.org/secpart/id/state/AUS"
    assert fp == fp0


def test_state_param_the_store_does_not_hold_is_refused(tiny_store, probe):
    """A well-formed code no state bears (a typo) is refused, not answered with no rows."""
    path, fp0 = tiny_store
    with pytest.raises(UsageError, match=r"^--param state KOR: no state with that ISO3 code"):
        _run_probe(path, probe, {"state": "KOR"})
    from kg.store import open_store

    with open_store(path) as store:
        assert store.fingerprint() == fp0


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(list('"\'{}();.#<>?$\\\n\r\t ') + ["DROP ALL", "} ;", "日", "\\u0022"]),
             max_size=20).map("".join),
))
def test_property_label_binding_keeps_structure(tiny_store, probe, value):
    path, fp0 = tiny_store
    row = _check_bound(path, fp0, probe, {"label": value})
    if row is None:  # only values that are not Unicode text (lone surrogates) may be refused
        with pytest.raises(UnicodeEncodeError):
            value.encode("utf-8")


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.one_of(st.text(max_size=40),
                       st.builds(lambda s: "https://example.org/" + s, st.text(max_size=20))))
def test_property_iri_binding_refused_or_exact(tiny_store, probe, value):
    path, fp0 = tiny_store
    _check_bound(path, fp0, probe, {"thing": value})


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(state=st.text(max_size=6), year=st.text(max_size=8))
def test_property_typed_params_refused_or_valid(tiny_store, probe, state, year):
    path, fp0 = tiny_store
    try:
        rs, fp = _run_probe(path, probe, {"state": state, "year": year})
    except UsageError:
        return
    assert len(state) == 3 and state.isascii() and state.isupper()
    assert rs.variables == ["label", "thing", "year", "state", "n"]
    assert len(rs.rows) == 1
    d = rs.dicts()[0]
    assert d["state"] == "https://w3id.org/secpart/id/state/" + state
    assert d["year"] == int(year)
    assert fp == fp0


def test_cli_param_with_drop_all_is_a_literal(store_copy, cli_runner, fingerprint, probe):
    before = fingerprint(store_copy)
    value = '" } ; DROP ALL ; SELECT * WHERE { "'
    res = cli_runner("query", "run", probe, "--param", f"label={value}", "--format", "json",
                     store=store_copy)
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["head"]["vars"] == ["label", "thing", "year", "state", "n"]
    assert [b["label"]["value"] for b in doc["results"]["bindings"]] == [value]
    assert fingerprint(store_copy) == before


def test_cli_state_param_injection_is_exit_2(cli_runner):
    res = cli_runner("query", "run", "partners", "--param", 'state=JPN> } DROP ALL #')
    assert res.exit_code == 2
    assert len(res.stderr.splitlines()) == 1 and "ISO3" in res.stderr


def test_bind_values_refuses_bad_variable_names():
    from kg.sparql import Lit, bind_values

    with pytest.raises(UsageError):
        bind_values("SELECT * WHERE { ?s ?p ?o }", {"x } DROP ALL": Lit("a")})


_ = Path


# ---------------------------------------------------------------- issue 18: the guard reads the parsed query


@pytest.mark.parametrize("sep", ["\r", "\r\r\n", "\x0c\r", "\r\x0b"])
def test_service_after_comment_ended_by_carriage_return(cli_runner, endpoint, sep):
    """The engine ends a comment at CR as at LF: so does the guard; nothing leaves the process."""
    url, seen = endpoint
    for q in (f"SELECT * WHERE {{ # c{sep}SERVICE <{url}> {{ ?s ?p ?o }} }}",
              f"SELECT * WHERE {{ ?a ?b ?c # c{sep}SERVICE <{url}> {{ ?s ?p ?o }}\n }}"):
        res = cli_runner("query", "sparql", q)
        assert res.exit_code == 2, res.output
        assert len(res.stderr.splitlines()) == 1 and "Traceback" not in res.output
    assert seen == []


@pytest.mark.parametrize("how", ["sparql", "file"])
def test_service_after_a_cr_comment_and_a_blank_node_is_refused(cli_runner, endpoint, tmp_path,
                                                                how):
    """An audit's bypass: rdflib's parser read "# c\r..." to the LF as comment, and the
    token scan read "sp:State]SERVICE<http:" as one prefixed name, so the engine sent the
    request. Both readers now follow the grammar; nothing leaves the process."""
    url, seen = endpoint
    q = ("PREFIX sp: <https://w3id.org/secpart/ontology#> SELECT ?s WHERE { # c\r"
         f"[ a sp:State]SERVICE<{url}>{{ ?s ?p ?o }}\n }} LIMIT 3")
    if how == "file":
        path = tmp_path / "innocent.rq"
        path.write_bytes(q.encode("utf-8"))
        res = cli_runner("query", "run", str(path))
    else:
        res = cli_runner("query", "sparql", q)
    _one_line_refusal(res, "SERVICE", file=path if how == "file" else None)
    assert seen == []


def test_deep_nesting_hidden_after_a_cr_comment_is_counted(cli_runner):
    """The same hole hid 16,000 nested blank nodes from the depth limit (the engine's
    parser then overflowed its stack): now the depth is counted and refused, one line."""
    q = "SELECT * WHERE { # c\r?s x:p" + "[x:p" * 16000 + " x:o" + "]" * 16000 + " }"
    for extra in ((), ("--allow-network",)):
        res = cli_runner("query", "sparql", q, *extra)
        assert res.exit_code == 2, res.output
        assert re.search(r"nested 1600[0-2] levels deep", res.stderr), res.stderr


def test_prefixed_names_are_tokens_of_the_grammar():
    """PN_PREFIX ':' PN_LOCAL: dots inside, escapes and percent codes kept, no punctuation."""
    from kg.sparql import tokens

    def words(text):
        return [t[1] for t in tokens(text) if t[0] != "ws"]

    assert words("ex:a.b ex:a. :x e.x:y ex:%41b ex:a\\.b") == [
        "ex:a.b", "ex:a", ".", ":x", "e.x:y", "ex:%41b", "ex:a\\.b"]
    assert words("sp:State]SERVICE<http://x/>") == ["sp:State", "]", "SERVICE", "<http://x/>"]
    assert words("rdf:type[ex:p<u:v>") == ["rdf:type", "[", "ex:p", "<u:v>"]


def test_service_inside_nested_groups_and_subqueries_found_by_the_parse(endpoint):
    url, _ = endpoint
    for q in (f"SELECT * {{ {{ OPTIONAL {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }} }} }}",
              f"SELECT * {{ {{ SELECT * {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }} }}",
              "ASK { MINUS { SERVICE ?svc { ?s ?p ?o } } }"):
        with pytest.raises(QueryRefused, match="SERVICE"):
            check_query_safe(q)


def test_guard_refuses_what_it_cannot_parse():
    """A query the guard's parser cannot read is refused (fail closed), with one line."""
    with pytest.raises(UsageError, match="syntax error"):
        check_query_safe("SELECT * WHERE { ?s ?p }")


@pytest.mark.parametrize("opener,closer", [("{", "}"), ("(", ")"), ("[", "]")])
def test_deep_nesting_refused_before_the_engine_parses(cli_runner, opener, closer):
    """5,000 nested groups crashed the process (stack overflow); now exit 2, one line."""
    if opener == "{":
        q = "SELECT * WHERE " + "{" * 5000 + "}" * 5000
    elif opener == "(":
        q = "SELECT * WHERE { FILTER(" + "(" * 5000 + "1" + ")" * 5000 + ") }"
    else:
        q = "SELECT * WHERE { ?s ?p " + "[ ?p " * 5000 + "1" + " ]" * 5000 + " }"
    for extra in ((), ("--allow-network",)):
        res = cli_runner("query", "sparql", q, *extra)
        assert res.exit_code == 2, res.output
        lines = res.stderr.splitlines()
        assert len(lines) == 1 and re.search(r"nested 500[0-2] levels deep", lines[0]), res.stderr


def test_query_length_limit_and_its_variable(cli_runner, monkeypatch):
    q = "SELECT * WHERE { ?s ?p ?o }" + " " * 200_000
    res = cli_runner("query", "sparql", q)
    assert res.exit_code == 2 and "characters long" in res.stderr, res.output
    monkeypatch.setenv("KG_QUERY_MAX_LENGTH", "300000")
    res = cli_runner("query", "sparql", q, "--format", "csv")
    assert res.exit_code == 0, res.output
    monkeypatch.setenv("KG_QUERY_MAX_DEPTH", "0")
    res = cli_runner("query", "sparql", q)
    assert res.exit_code == 2 and "KG_QUERY_MAX_DEPTH" in res.stderr, res.output


def test_moderate_nesting_still_runs(cli_runner):
    q = "SELECT ?x WHERE " + "{" * 40 + " BIND(" + "(" * 20 + "1" + ")" * 20 + " AS ?x) " + "}" * 40
    res = cli_runner("query", "sparql", q, "--format", "csv")
    assert res.exit_code == 0, res.output
    assert res.stdout == "x\n1\n"


# ---------------------------------------------------------------- issue 18: escaping per format

EVIL_VERSION = '1.0\n\\input{/etc/passwd}\n}, note = {injected}}\n@misc{evil, title={x}\n```\n<img src=x onerror=alert(1)>'


@pytest.fixture
def evil_store(store_copy):
    """The built store plus a graph whose owl:versionInfo tries to break out of every format."""
    from kg.namespaces import graph_iri
    from kg.sparql import escape_string
    from kg.store import open_store

    nt = (f'<urn:evil:ds> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> '
          f'<https://w3id.org/secpart/ontology#Dataset> .\n'
          f'<urn:evil:ds> <http://www.w3.org/2002/07/owl#versionInfo> "{escape_string(EVIL_VERSION)}" .\n')
    with open_store(store_copy, write=True) as store:
        store.write_graphs({graph_iri("evil"): nt.encode()}, replace=True)
    return store_copy


def test_latex_citation_block_stays_comments(cli_runner, evil_store):
    res = cli_runner("metrics", "--format", "latex", store=evil_store)
    assert res.exit_code == 0, res.output
    assert "\\input" in res.stdout  # the text is there, but only inside comments
    tail = res.stdout.split("\\end{tabular}\n", 1)[1]
    assert tail and all(line.startswith("% ") for line in tail.splitlines()), tail


def test_bibtex_fields_cannot_be_closed(cli_runner, evil_store):
    clean = cli_runner("cite", "--format", "bibtex")
    res = cli_runner("cite", "--format", "bibtex", store=evil_store)
    assert res.exit_code == 0, res.output
    def entries(text):
        return [line for line in text.splitlines() if line.startswith("@")]

    assert entries(res.stdout) == entries(clean.stdout)  # no entry added
    for entry in res.stdout.split("\n\n"):
        depth = 0
        for i, ch in enumerate(entry):
            depth += {"{": 1, "}": -1}.get(ch, 0)
            assert depth >= 0, entry
            if depth == 0 and i > entry.index("{"):
                assert entry[i + 1:].strip() == "", entry  # the entry ends only at its end
        assert depth == 0, entry
    assert "injected" in res.stdout and "note = {injected}" not in res.stdout


def test_markdown_citation_fence_cannot_be_closed(cli_runner, evil_store):
    res = cli_runner("metrics", "--format", "md", store=evil_store)
    assert res.exit_code == 0, res.output
    cite = res.stdout[res.stdout.index("Citation:") - 40:]
    fence = re.search(r"^(`{3,})$", cite, re.M).group(1)
    assert len(fence) > 3
    inside = cite.split(fence + "\n", 1)[1].split("\n" + fence + "\n", 1)[0]
    assert "<img" in inside and "Citation:" in inside


def test_report_md_table_and_fence_escape_labels():
    from kg.escape import md_fence
    from kg.results import format_rows

    table = format_rows([{"state": "<script>alert(1)</script> | x\n# head"}], ["state"], "md")
    assert "<script>" not in table and "\\|" in table and "\n# head" not in table
    fenced = md_fence("a\n```\n<b>")
    assert fenced.startswith("````\n") and fenced.endswith("\n````\n")


def test_table_output_shows_terminal_escapes(cli_runner):
    q = 'SELECT ?x WHERE { BIND("red\\u001B[31mX\\u001B]0;title\\u0007\\nnext" AS ?x) }'
    res = cli_runner("query", "sparql", q)
    assert res.exit_code == 0, res.output
    assert "\x1b" not in res.stdout and "\x07" not in res.stdout
    assert "\\x1b[31mX" in res.stdout
    assert len(res.stdout.splitlines()) == 4  # header, rule, one row, count


def test_graphml_and_gexf_stay_xml_with_control_characters():
    import xml.etree.ElementTree as ET

    import networkx as nx

    from kg.export import export_network

    G = nx.Graph(relation="exercise\x0b")
    G.add_node("JPN", label="Japan\x01\x1b<b>")
    G.add_node("USA", label="United States")
    G.add_edge("JPN", "USA", weight=1.0, exercises="A\x02;B")
    for fmt in ("graphml", "gexf"):
        data = export_network(G, fmt)
        root = ET.fromstring(data)  # well-formed
        texts = {el.text for el in root.iter()} | {v for el in root.iter() for v in el.attrib.values()}
        assert "Japan\ufffd\ufffd<b>" in texts, data


def test_long_flat_query_is_checked_not_refused():
    """3,000 triple patterns in one group (deep recursion in the guard's parser) still pass."""
    q = "SELECT * WHERE { " + " ".join(f"?s{i} <http://x/p> ?o{i} ." for i in range(3000)) + " }"
    check_query_safe(q)
    with pytest.raises(QueryRefused):
        check_query_safe(q[:-1] + " SERVICE <http://127.0.0.1:9/> { ?a ?b ?c } }")


def test_own_queries_skip_the_parse_but_not_the_limits(built_store, monkeypatch):
    """``own=True`` (text kg wrote) skips only the guard's parse: the limits still hold,
    the answer is the same, and text without it is still parsed and refused."""
    from kg import sparql
    from kg.store import open_store

    parsed = []
    real = sparql._refuse_parsed
    monkeypatch.setattr(sparql, "_refuse_parsed", lambda text: (parsed.append(text), real(text)))
    q = "SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://w3id.org/secpart/ontology#State> }"
    with open_store(built_store) as store:
        own = store.select(q, own=True).rows
        assert parsed == []
        other = q + " LIMIT 7919"  # a text no other test sends (the guard remembers texts)
        assert store.select(other).rows == own and parsed == [other]
        with pytest.raises(UsageError, match="nested"):
            store.select("SELECT * WHERE " + "{" * 5000 + "}" * 5000, own=True)
        with pytest.raises(QueryRefused, match="SERVICE"):
            store.select("SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }")


def test_text_from_outside_never_runs_as_own():
    """The modules that take query text from users, files and requests pass own= only as a
    saved query's ``shipped`` (read from kg's own folders), and a user's file is not shipped."""
    import ast

    from kg.queries import list_queries, load_query

    root = Path(__file__).resolve().parents[1] / "kg"
    for rel in ("cli.py", "serve.py", "queries.py", "claims/checks.py", "remote.py"):
        tree = ast.parse((root / rel).read_text(encoding="utf-8"))
        owns = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.keyword) and n.arg == "own"
                and not (isinstance(n.value, ast.Attribute) and n.value.attr == "shipped")]
        assert owns == [], f"kg/{rel} passes own= at lines {owns}"
    saved = list_queries()
    assert saved and all(q.shipped for q in saved)
    assert load_query("partners").shipped


def test_a_users_query_file_is_guarded(tmp_path, built_store):
    """A user's .rq file (even a copy of a shipped one) is parsed by the guard: SERVICE refused."""
    from kg.queries import load_query, run_saved
    from kg.store import open_store

    mine = tmp_path / "mine.rq"
    mine.write_text("#+ summary: mine\nSELECT * WHERE { SERVICE <http://127.0.0.1:9/> "
                    "{ ?s ?p ?o } }\n", encoding="utf-8")
    assert not load_query(str(mine)).shipped
    with open_store(built_store) as store, pytest.raises(QueryRefused, match="SERVICE"):
        run_saved(store, str(mine))


def test_csv_cells_a_spreadsheet_would_run_are_text(cli_runner):
    """CSV injection (an audit): a label "=cmd|..." came out as a bare cell. Now a cell
    starting with = + - @ that is not a number is prefixed with ', numbers stay numbers."""
    import csv
    import io

    q = ('SELECT ?x ?n WHERE { VALUES (?x ?n) { ("=cmd|\' /C calc\'!A0" -1.5) '
         '("@SUM(A1)" 2) ("+1" 3) } }')
    res = cli_runner("query", "sparql", q, "--format", "csv")
    assert res.exit_code == 0, res.output
    rows = list(csv.reader(io.StringIO(res.stdout)))
    assert rows[1:] == [["'=cmd|' /C calc'!A0", "-1.5"], ["'@SUM(A1)", "2"], ["+1", "3"]]
    res = cli_runner("query", "sparql", q, "--format", "tsv")
    assert res.stdout.splitlines()[1].startswith("'=cmd")


def test_info_shows_terminal_escapes_from_graph_versions(cli_runner, store_copy, tmp_path):
    """A graph version holding ESC and a line break (from an ingested file) is shown as
    \\x1b, on one line, by ``kg info`` (an audit found the raw bytes)."""
    ttl = tmp_path / "v.ttl"
    ttl.write_text('@prefix owl: <http://www.w3.org/2002/07/owl#> .\n'
                   '<urn:x> a owl:Ontology ; owl:versionInfo "v\\u001B[31mRED\\nnext" .\n',
                   encoding="utf-8")
    res = cli_runner("ingest", "--graph", "evil", str(ttl), store=store_copy)
    assert res.exit_code == 0, res.output
    res = cli_runner("info", store=store_copy)
    assert res.exit_code == 0, res.output
    assert "\x1b" not in res.stdout
    line = next(x for x in res.stdout.splitlines() if x.startswith("evil "))
    assert "\\x1b[31mRED next" in line
